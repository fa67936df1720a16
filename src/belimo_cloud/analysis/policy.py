"""How counters are read: one frozen value carrying every counter option.

A cumulative counter (energy in J, volume in m3) is cleaned before it is differenced; the
choices that cleaning makes (what is implausible, what a gap is, what a drop means) travel
together as a :class:`CounterPolicy`, so that the CLI, the report and the Python API read
the same counter the same way.

The policy in a few lines:

- zero or missing readings followed by a return to at least the level before are an
  *outage*: they are ignored and the energy across them is attributed like a gap's;
- an increase faster than the plausibility bound is a *spike*: excluded. The bound is on by
  default, derived from the series' own steps (``spike_factor`` x a high quantile of its
  rates); ``max_power`` [W] (nominal power) replaces it;
- a lasting drop is a *reset* (a meter fitted, an offset): a new segment starts and the
  interval of the drop contributes only what the surrounding rate implies
  (``reset_policy="rate"``), nothing (``"first"``) or the new reading (``"zero"``, capped
  by the bound);
- decreases within the counter's jitter are noise: the curve stays flat, nothing is flagged;
- a *gap* is an interval clearly longer than the series' own cadence (``gap_factor`` x its
  typical interval, or ``gap``); coverage is the share of a period not in gaps;
- ``rollover`` (the counter's range, e.g. ``2**32``) is opt-in.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any, Literal, get_args

import pandas as pd

from belimo_cloud.errors import DataError

__all__ = ["RESET_POLICIES", "CounterPolicy", "Duration", "ResetPolicy", "make_policy", "to_ns"]

Duration = str | timedelta | pd.Timedelta | None
ResetPolicy = Literal["rate", "zero", "first"]
RESET_POLICIES: tuple[str, ...] = get_args(ResetPolicy)


def to_ns(value: Duration, what: str) -> int | None:
    """A positive duration in nanoseconds (None stays None); DataError otherwise."""
    if value is None:
        return None
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{what} must be a duration such as '1h' or '15min', got {value!r}"
        ) from exc
    if td <= pd.Timedelta(0):
        raise DataError(f"{what} must be positive, got {value!r}")
    return int(td.value)


@dataclass(frozen=True)
class CounterPolicy:
    """Every option of the counter scan, as one immutable value.

    Attributes
    ----------
    max_power
        Nominal power [W] (one value, or a mapping from the first grouping key, e.g. the
        device id): increases above ``max_power * dt * margin`` are spikes. Replaces the
        bound derived from the series. For non-energy counters it is a rate [unit/s].
    margin
        Head-room on ``max_power`` (1.5 = 50 % above nominal is still plausible).
    plausibility
        Derive a bound from the series itself when ``max_power`` is not given.
    spike_factor
        The derived bound is this many times the series' 90th-percentile rate.
    spread_gaps
        Spread the increase across a gap evenly over it instead of giving it to the period
        where the gap ends.
    reset_policy
        What the interval of a lasting drop contributes: ``rate`` (the surrounding rate x
        its length), ``first`` (nothing) or ``zero`` (the new meter counted from zero,
        capped by the plausibility bound).
    rollover
        The counter's range [counter unit] (e.g. ``2**32``); a drop from its top quarter
        wraps. None: no rollover detection.
    glitch_max
        Longest run of readings below the level (not zero) that still counts as a spike when
        the counter comes back.
    jitter
        Decreases up to this size [counter unit] are noise; None: judged from the series.
    gap
        Longest interval without readings that is not a gap; None: ``gap_factor`` x the
        series' typical interval (its 90th percentile, robust to irregular and lossy series).
    gap_factor
        See ``gap``.
    """

    max_power: float | Mapping[Hashable, float] | None = field(default=None, hash=False)
    margin: float = 1.5
    plausibility: bool = True
    spike_factor: float = 10.0
    spread_gaps: bool = False
    reset_policy: ResetPolicy = "rate"
    rollover: float | None = None
    glitch_max: int = 3
    jitter: float | None = None
    gap: Duration = None
    gap_factor: float = 3.0

    def __post_init__(self) -> None:
        if self.reset_policy not in RESET_POLICIES:
            raise DataError(
                f"reset policy must be one of {', '.join(RESET_POLICIES)}, "
                f"got {self.reset_policy!r}"
            )
        for name in ("margin", "spike_factor", "gap_factor"):
            if not float(getattr(self, name)) > 0:
                raise DataError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.glitch_max < 0:
            raise DataError(f"glitch_max must not be negative, got {self.glitch_max!r}")
        if self.rollover is not None and not float(self.rollover) > 0:
            raise DataError(f"rollover must be positive, got {self.rollover!r}")
        if self.jitter is not None and float(self.jitter) < 0:
            raise DataError(f"jitter must not be negative, got {self.jitter!r}")
        if isinstance(self.max_power, int | float) and not float(self.max_power) > 0:
            raise DataError(f"max_power must be positive, got {self.max_power!r}")
        to_ns(self.gap, "gap")

    @property
    def gap_ns(self) -> int | None:
        """``gap`` in nanoseconds (None: judged from the cadence)."""
        return to_ns(self.gap, "gap")

    def replace(self, **changes: Any) -> CounterPolicy:
        """A copy with some options changed (validated again)."""
        return replace(self, **changes)


_LEGACY = {"reset": "reset_policy"}
_NAMES = {f.name for f in fields(CounterPolicy)}


def make_policy(policy: CounterPolicy | None = None, **options: Any) -> CounterPolicy:
    """``policy`` (or the default) with the keyword options that were given (not None).

    The functions of the analysis keep their keyword options (``max_power=``, ``reset=``,
    ``spread_gaps=`` ...) for callers that predate the policy; each one given overrides the
    same field of ``policy``.
    """
    base = policy if policy is not None else CounterPolicy()
    if not isinstance(base, CounterPolicy):
        raise DataError(f"policy must be a CounterPolicy, got {type(base).__name__}")
    changes: dict[str, Any] = {}
    for key, value in options.items():
        name = _LEGACY.get(key, key)
        if name not in _NAMES:
            raise DataError(f"unknown counter option {key!r}")
        if value is not None:
            changes[name] = value
    return base.replace(**changes) if changes else base
