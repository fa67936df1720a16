"""The report's content in parts: what one batch of whole devices contributes.

Energy, counter findings, valve KPIs and hydronic episodes are each computed per device, so a
batch of whole devices yields its own rows of each, and the rows of all batches are the rows of
the whole fleet. A few choices concern the whole selection and come in as :class:`FleetFacts`:
the consumption period, which valve quantities were read as ``avg`` buckets, and where the
counters end. :func:`facts_of` takes them from samples at hand; a batched reader takes them
from the store's series summary before its first batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.fleet import COUNTER_NAMES, energy_by_device, energy_events
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.analysis.valves import NAMES, valve_episodes, valve_kpis

__all__ = [
    "AVERAGED",
    "FleetFacts",
    "Part",
    "analyse_part",
    "auto_freq",
    "counter_rows",
    "facts_of",
    "keep_window",
    "power_basis",
]

#: The valve quantities read as averages where ``avg`` buckets exist (not the counters).
AVERAGED = tuple(n for n in NAMES.values() if n not in COUNTER_NAMES.values())
_POWER = NAMES["power"]


@dataclass(frozen=True)
class FleetFacts:
    """What the report decides for the whole selection before it looks at one device.

    ``freq``: the consumption period. ``avg_names``: the valve quantities with ``avg`` rows
    in the report's window (their other rows are not used), None when the samples carry no
    ``aggregation``. ``any_avg``: whether any sample in the window is an ``avg`` bucket (the
    dT-flow figures then draw those). ``counters_end``: the last counter reading (the end of
    the weather comparison's year when the report has no end), None without counters.
    """

    freq: str
    avg_names: frozenset[str] | None
    any_avg: bool
    counters_end: pd.Timestamp | None


@dataclass(frozen=True)
class Part:
    """The report's rows for one batch of whole devices (UTC times, local ``period``).

    ``power_aggregations``: the bucket kinds of the power rows the valve KPIs used (the
    whole report's ``power_basis`` names them all). ``daily``: daily energy over the weather
    comparison's two years, None without that section. ``named``: the batch's named samples
    in the report's window (kept by the caller only as far as it needs them).
    """

    energy: pd.DataFrame
    hourly: pd.DataFrame
    events: pd.DataFrame
    episodes: pd.DataFrame
    valves: pd.DataFrame
    power_aggregations: frozenset[str] | None
    daily: pd.DataFrame | None
    named: pd.DataFrame
    samples: int


def keep_window(named: pd.DataFrame, lo: Any, hi: Any, resolution: Duration) -> pd.DataFrame:
    """Samples from one bucket before ``lo`` to one after ``hi``: the edge readings count."""
    if lo is None and hi is None:
        return named
    pad = pd.Timedelta(resolution) if resolution is not None else pd.Timedelta(hours=1)
    ts = pd.DatetimeIndex(named["timestamp"])
    keep = np.ones(len(named), dtype=bool)
    if lo is not None:
        keep &= ts >= lo - pad
    if hi is not None:
        keep &= ts <= hi + pad
    return named[keep]


def auto_freq(
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    named: pd.DataFrame | None = None,
    *,
    first: pd.Timestamp | None = None,
    last: pd.Timestamp | None = None,
) -> str:
    """Days up to two months, months up to three years, else years.

    A missing bound is taken from the samples: ``named`` (or their ``first``/``last``
    times when the samples are not at hand); no samples at all mean days.
    """
    if start is None or end is None:
        if named is not None:
            if named.empty:
                return "D"
            times = pd.DatetimeIndex(named["timestamp"])
            first, last = times.min(), times.max()
        if first is None or last is None:
            return "D"
        start = start or first
        end = end or last
    days = (end - start) / pd.Timedelta(days=1)
    if days <= 62:
        return "D"
    if days <= 3 * 366:
        return "MS"
    return "YS"


def counter_rows(named: pd.DataFrame) -> pd.DataFrame:
    """The counter readings of ``named``: ``last`` buckets where buckets are marked."""
    counters = named[named["name"].isin(list(COUNTER_NAMES.values()))]
    if "aggregation" in counters.columns:
        counters = counters[counters["aggregation"].astype(str) != "avg"]
    return counters


def _avg_names(windowed: pd.DataFrame) -> frozenset[str] | None:
    if "aggregation" not in windowed.columns:
        return None
    averaged = windowed["name"].isin(list(AVERAGED)) & (
        windowed["aggregation"].astype(str) == "avg"
    )
    return frozenset(str(n) for n in windowed.loc[averaged, "name"].unique())


def facts_of(
    named: pd.DataFrame,
    windowed: pd.DataFrame,
    *,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    freq: str | None,
) -> FleetFacts:
    """The facts of samples at hand: ``named`` all of them, ``windowed`` the report's window."""
    counters = counter_rows(named)
    end = pd.DatetimeIndex(counters["timestamp"]).max() if len(counters) else None
    any_avg = "aggregation" in windowed.columns and bool(
        (windowed["aggregation"].astype(str) == "avg").any()
    )
    return FleetFacts(
        freq=freq or auto_freq(lo, hi, windowed),
        avg_names=_avg_names(windowed),
        any_avg=any_avg,
        counters_end=None if end is None or pd.isna(end) else pd.Timestamp(end),
    )


def _valve_samples(windowed: pd.DataFrame, facts: FleetFacts) -> pd.DataFrame:
    """The samples the valve KPIs use: only ``avg`` rows of the quantities that have them.

    :func:`~belimo_cloud.analysis.valves.valve_kpis` makes this choice over the samples it
    is given; made here over the whole selection, a batch's choice is the fleet's.
    """
    if facts.avg_names is None or not facts.avg_names:
        return windowed
    names = windowed["name"]
    other = names.isin(list(facts.avg_names)) & (windowed["aggregation"].astype(str) != "avg")
    return windowed[~other.to_numpy()]


def _power_aggregations(valve_samples: pd.DataFrame) -> frozenset[str] | None:
    if "aggregation" not in valve_samples.columns:
        return None
    power = valve_samples[valve_samples["name"] == _POWER]
    return frozenset(str(a) for a in power["aggregation"].astype(str).unique())


def power_basis(parts: Iterable[frozenset[str] | None]) -> str:
    """Which power the energy checks integrated: the aggregations of every part's power rows."""
    found: set[str] = set()
    for aggregations in parts:
        if aggregations is None:
            return "samples"
        found |= aggregations
    ordered = sorted(found)
    return ordered[0] if len(ordered) == 1 else ",".join(ordered) or "samples"


def analyse_part(
    named: pd.DataFrame,
    facts: FleetFacts,
    *,
    devices: pd.DataFrame,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    tz: str | tzinfo,
    resolution: Duration,
    policy: CounterPolicy | None,
    days: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    samples: int = 0,
) -> Part:
    """The report's rows for the devices of ``named`` (named samples with known names).

    ``days`` (the weather comparison's first and last local midnight) adds daily energy.
    """
    daily = None
    if days is not None:
        daily = energy_by_device(
            counter_rows(named),
            freq="D",
            tz=tz,
            start=days[0],
            end=days[1],
            resolution=resolution,
            policy=policy,
        )
    windowed = keep_window(named, lo, hi, resolution)
    counters = counter_rows(windowed)
    energy = energy_by_device(
        counters, freq=facts.freq, tz=tz, start=lo, end=hi, resolution=resolution, policy=policy
    )
    hourly = energy_by_device(
        counters, freq="h", tz=tz, start=lo, end=hi, resolution=resolution, policy=policy
    )
    events = energy_events(counters, start=lo, end=hi, resolution=resolution, policy=policy)
    valve_samples = _valve_samples(windowed, facts)
    return Part(
        energy=energy,
        hourly=hourly,
        events=events,
        episodes=valve_episodes(valve_samples, devices, start=lo, end=hi),
        valves=valve_kpis(valve_samples, devices, start=lo, end=hi, resolution=resolution),
        power_aggregations=_power_aggregations(valve_samples),
        daily=daily,
        named=windowed,
        samples=samples,
    )
