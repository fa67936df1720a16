"""Options of one emulator instance: the fleet's seed, its clock, its limits and its faults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class EmulatorOptions:
    """Everything `belimo emulator serve` and `running_emulator()` can set.

    Mutable on purpose: the `/_emulator/` control endpoints change faults and the clock of a
    running instance.
    """

    seed: int = 0
    now: datetime | None = None  # frozen clock (tz-aware UTC); None follows the wall clock
    token_ttl: float = 3600.0  # [s] access token lifetime
    rate_limit: float = 2.0  # [requests/s] per token on data endpoints; 0 turns it off
    rate_burst: int = 2
    error_rate: float = 0.0  # fraction of API requests answered 503
    drop_rate: float = 0.0  # fraction of connections closed without an answer
    latency_ms: float = 0.0
