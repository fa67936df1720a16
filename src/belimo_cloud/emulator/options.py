"""Options of one emulator instance: the fleet's seed, its clock, its limits and its faults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class EmulatorOptions:
    """Everything `belimo emulator serve` and `running_emulator()` can set.

    Mutable on purpose: the `/_emulator/` control endpoints change faults and the clock of a
    running instance.

    The fleet clock: ``now`` alone freezes it; ``speed`` alone runs it from the wall clock's
    now at ``speed`` times real time; both start it at ``now`` and run it at ``speed``.
    """

    seed: int = 0
    # None: the designed fleet (38 demo devices); N: the demo tenant has N energy valves, the
    # designed ones first, then generated ones (model/generated.py), plus its two gateways.
    fleet_size: int | None = None
    now: datetime | None = None  # start of the fleet clock (tz-aware UTC); None: the wall clock
    speed: float | None = None  # fleet seconds per real second; None: 0 with `now`, else 1
    token_ttl: float = 3600.0  # [s] access token lifetime
    rate_limit: float = 2.0  # [requests/s] per token on data endpoints; 0 turns it off
    rate_burst: int = 2
    error_rate: float = 0.0  # fraction of API requests answered 503
    drop_rate: float = 0.0  # fraction of connections closed without an answer
    latency_ms: float = 0.0
    job_delay: float = 1.0  # [s, real] until a device's next contact picks up a pending job
    heartbeat: float = 30.0  # [s, real] between `:heartbeat` comments of a change stream
    subscription_ttl: float = 600.0  # [s, real] a change-stream offer (and its stream) lasts
