"""What the report says, as frames: the analysis step, before any page is laid out.

:func:`analyse` turns the three shared frames (devices, datapoint catalogue, long samples;
CONTRACTS.md) into :class:`ReportData`: fleet status, energy per device and period (heating
and cooling apart), fleet periods with proportional flags, rankings per direction, counter
findings, valve KPIs and every finding as a dated episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.episodes import RECOMMENDATIONS, event_episodes
from belimo_cloud.analysis.fleet import (
    device_status,
    fleet_periods,
    fleet_summary,
    named_samples,
    problem_devices,
    ranking,
    reference_time,
)
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.errors import DataError
from belimo_cloud.report.parts import (
    FleetFacts,
    Part,
    analyse_part,
    auto_freq,
    facts_of,
    keep_window,
    power_basis,
)
from belimo_cloud.report.weather_content import (
    WeatherComparison,
    WeatherPlan,
    as_daily_temperature,
    plan_comparison,
    weather_from_daily,
)

__all__ = [
    "FINDING_COLUMNS",
    "HOURLY_COLUMNS",
    "ReportData",
    "analyse",
    "auto_freq",
    "fleet_hourly",
    "report_bound",
    "report_data",
]

#: Columns of :attr:`ReportData.fleet_hourly`.
HOURLY_COLUMNS = ["direction", "period", "consumption"]

#: Columns of :attr:`ReportData.findings`: one dated row per finding.
FINDING_COLUMNS = [
    "finding",
    "device_id",
    "display_name",
    "direction",
    "start",
    "end",
    "duration_h",
    "detail",
    "recommendation",
]


_NEVER_SEEN = "Check that the device is installed, powered and connected; it has never reported."


@dataclass
class ReportData:
    """Everything the report shows, as frames (UTC times; ``period`` in the local zone).

    ``hourly`` is energy per device and local hour, ``fleet_hourly`` its sum over the
    devices per direction and hour (what the heatmaps draw). ``named`` holds the named
    samples in the report's window. A report analysed batch by batch
    (:func:`~belimo_cloud.report.store_report.analyse_store`) keeps only what its page
    needs of the last two: ``hourly`` is then empty and ``named`` holds the samples of the
    valves its dT-flow figures draw.
    """

    title: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    tz: str | tzinfo
    freq: str
    now: pd.Timestamp
    summary: dict[str, int]
    status: pd.DataFrame
    problems: pd.DataFrame
    energy: pd.DataFrame
    hourly: pd.DataFrame
    periods: pd.DataFrame
    ranking: pd.DataFrame
    events: pd.DataFrame
    valves: pd.DataFrame
    findings: pd.DataFrame
    named: pd.DataFrame
    samples_count: int
    weather: WeatherComparison | None = None
    fleet_hourly: pd.DataFrame | None = None


def report_bound(value: Any, tz: str | tzinfo) -> pd.Timestamp | None:
    """A report bound in UTC; a naive value is a local date/time in ``tz``."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot read the report bound {value!r}; use e.g. 2018-01-01") from exc
    ts = ts.tz_localize(tz) if ts.tz is None else ts
    return ts.tz_convert("UTC")


def _counter_findings(events: pd.DataFrame) -> pd.DataFrame:
    """Counter events as findings; one per device, kind and time (the larger change speaks)."""
    if events.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    eps = event_episodes(events)
    eps = eps.assign(_size=(eps["after"] - eps["before"]).abs().fillna(0.0))
    eps = eps.sort_values(["start", "_size"], ascending=[True, False], kind="stable")
    eps = eps.drop_duplicates(["device_id", "finding", "start"])
    return eps[FINDING_COLUMNS]


def _device_findings(problems: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for _, row in problems.iterrows():
        name = row["display_name"] or row["device_id"]
        seen = row["last_seen"]
        if "offline" in row["status"]:
            known = seen is not None and seen is not pd.NaT and pd.notna(seen)
            start = pd.Timestamp(seen) if known else now
            rows.append(
                {
                    "finding": "offline",
                    "device_id": row["device_id"],
                    "display_name": name,
                    "direction": "",
                    "start": start if known else pd.NaT,
                    "end": now,
                    "duration_h": (now - start) / pd.Timedelta(hours=1) if known else np.nan,
                    "detail": "nothing reported since it was last seen" if known else "never seen",
                    "recommendation": RECOMMENDATIONS["offline"] if known else _NEVER_SEEN,
                }
            )
        if "problem" in row["status"]:
            desc = row["health_description"] or ""
            rows.append(
                {
                    "finding": "problem",
                    "device_id": row["device_id"],
                    "display_name": name,
                    "direction": "",
                    "start": pd.NaT,
                    "end": pd.NaT,
                    "duration_h": np.nan,
                    "detail": f"reports {row['health_state']}" + (f" ({desc})" if desc else ""),
                    "recommendation": RECOMMENDATIONS["problem"],
                }
            )
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def _hydronic_findings(episodes: pd.DataFrame) -> pd.DataFrame:
    if episodes.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    what = {"low_delta_t": "dT under 80 % of its setpoint", "at_vmax": "flow at Vmax"}
    out = episodes.assign(
        direction="",
        detail=[
            f"{what.get(f, f)} for {h:,.0f} h of the episode"
            for f, h in zip(episodes["finding"], episodes["hours"], strict=True)
        ],
    )
    return out[FINDING_COLUMNS]


def _findings(parts: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [p for p in parts if not p.empty]
    if not kept:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    out = pd.concat(kept, ignore_index=True)
    for col in ("start", "end"):
        out[col] = pd.to_datetime(out[col], utc=True)
    # Dated findings first, in time order; the undated (health state) at the end.
    return out.sort_values(["start", "display_name"], na_position="last", kind="stable")[
        FINDING_COLUMNS
    ].reset_index(drop=True)


def analyse(
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    tz: str | tzinfo = "Europe/Zurich",
    title: str | None = None,
    now: datetime | pd.Timestamp | None = None,
    freq: str | None = None,
    resolution: Duration = None,
    stale_after: str = "1h",
    policy: CounterPolicy | None = None,
    weather: pd.Series[float] | pd.DataFrame | None = None,
    weather_site: str | None = None,
) -> ReportData:
    """Compute the report's content: fleet status, energy, findings and valve KPIs.

    ``resolution`` is the bucket length when ``samples`` are server buckets stamped at their
    start (counters as ``last``); None when timestamps are the readings themselves. An
    optional ``aggregation`` column in ``samples`` lets counters come from ``last`` buckets
    and power, flow and temperatures from ``avg`` buckets (the energy check integrates
    average power). ``now`` defaults to the fleet's latest lastSeen. ``policy`` reads the
    counters (default: ``CounterPolicy()``, as `belimo energy` does).

    ``weather`` (daily mean temperatures indexed by day, or a frame of
    :func:`~belimo_cloud.analysis.weather.read_weather`; ``weather_site`` names its site)
    adds the weather-normalised year over year: the counters must then reach back over the
    365 local days before ``start`` (:mod:`.weather_content`).
    """
    lo, hi = report_bound(start, tz), report_bound(end, tz)
    named = named_samples(samples, catalogue, devices)
    named = named[named["name"].notna()]
    windowed = keep_window(named, lo, hi, resolution)
    facts = facts_of(named, windowed, lo=lo, hi=hi, freq=freq)
    plan = None
    if weather is not None:
        temperature = as_daily_temperature(weather, tz=tz, site=weather_site)
        plan = plan_comparison(temperature, start=lo, end=hi, tz=tz, last=facts.counters_end)
    part = analyse_part(
        named,
        facts,
        devices=devices,
        lo=lo,
        hi=hi,
        tz=tz,
        resolution=resolution,
        policy=policy,
        days=plan.days if plan is not None else None,
        samples=len(samples),
    )
    return report_data(
        [part],
        facts,
        devices,
        lo=lo,
        hi=hi,
        tz=tz,
        title=title,
        now=now,
        stale_after=stale_after,
        weather=plan,
        hourly=part.hourly,
        fleet_hourly=fleet_hourly(part.hourly),
        named=part.named,
    )


def fleet_hourly(hourly: pd.DataFrame) -> pd.DataFrame:
    """Energy per device and hour summed over the devices: direction, period, consumption."""
    if hourly.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in HOURLY_COLUMNS})
    total = hourly.groupby(["direction", "period"], sort=True)["consumption"].sum()
    return total.reset_index()[HOURLY_COLUMNS]


def _concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    kept = [f for f in frames if not f.empty]
    if not kept:
        # A part without any input gives untyped (object) columns; a part that had samples
        # but found nothing gives typed ones, as the whole selection would.
        return min(frames, key=lambda f: sum(dtype == np.dtype(object) for dtype in f.dtypes))
    return pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]


def report_data(
    parts: Sequence[Part],
    facts: FleetFacts,
    devices: pd.DataFrame,
    *,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    tz: str | tzinfo,
    title: str | None,
    now: datetime | pd.Timestamp | None,
    stale_after: str,
    weather: WeatherPlan | None,
    hourly: pd.DataFrame,
    fleet_hourly: pd.DataFrame,
    named: pd.DataFrame,
) -> ReportData:
    """The report's content from the parts of its devices (in device order) and the fleet.

    Fleet status, rankings, fleet periods, findings and the weather comparison are made
    here, from the parts' rows; ``hourly``, ``fleet_hourly`` and ``named`` as the caller
    kept them.
    """
    energy = _concat([p.energy for p in parts])
    events = _concat([p.events for p in parts])
    valves = _concat([p.valves for p in parts])
    if len(parts) > 1:
        valves = valves.reset_index(drop=True)
    if not valves.empty:
        basis = power_basis(p.power_aggregations for p in parts)
        valves["power_basis"] = valves["power_basis"].where(valves["power_basis"] == "", basis)
    episodes = _concat([p.episodes for p in parts])
    if len(parts) > 1 and not episodes.empty:
        episodes = episodes.sort_values(["start", "device_id"], kind="stable")
        episodes = episodes.reset_index(drop=True)
    ref = reference_time(devices, now)
    names = devices.drop_duplicates("device_id").set_index("device_id")["display_name"]
    events.insert(1, "display_name", events["device_id"].map(names).fillna(events["device_id"]))
    problems = problem_devices(devices, now=ref, stale_after=stale_after)
    findings = _findings(
        [
            _counter_findings(events),
            _hydronic_findings(episodes),
            _device_findings(problems, ref),
        ]
    )
    comparison = None
    if weather is not None:
        daily = [p.daily for p in parts if p.daily is not None]
        comparison = weather_from_daily(weather, _concat(daily) if daily else None, devices, tz)
    return ReportData(
        title=title or "Energy valve report",
        start=lo,
        end=hi,
        tz=tz,
        freq=facts.freq,
        now=ref,
        summary=fleet_summary(devices, now=ref, stale_after=stale_after),
        status=device_status(devices, now=ref, stale_after=stale_after),
        problems=problems,
        energy=energy,
        hourly=hourly,
        periods=fleet_periods(energy),
        ranking=ranking(energy, devices),
        events=events,
        valves=valves,
        findings=findings,
        named=named,
        samples_count=sum(p.samples for p in parts),
        weather=comparison,
        fleet_hourly=fleet_hourly,
    )
