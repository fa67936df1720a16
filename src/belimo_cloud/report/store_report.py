"""The report straight from a store, a batch of whole devices at a time.

What :func:`~belimo_cloud.report.content.analyse` computes from samples in memory, computed
from a store without holding them: the choices that concern the whole selection (the finest
resolution of the counters and of the averaged quantities, which quantities were synced as
``avg`` buckets, the consumption period, where the counters end) are made first from the
store's series summaries; then each batch of whole devices is read (counters as ``last``
buckets, flow, temperatures and power as ``avg`` buckets where synced), analysed into its
:class:`~belimo_cloud.report.parts.Part` and dropped. The fleet's tables, rankings, findings
and the weather comparison are made from the parts' rows.

Two things differ in form, not in content, from an analysis in memory: ``hourly`` per device
is not kept (the heatmaps draw its sum over the fleet, summed batch by batch, so the last
digit of a float may differ), and ``named`` holds only the samples the dT-flow figures draw.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

import pandas as pd

from belimo_cloud.analysis.fleet import named_samples
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.report.content import (
    HOURLY_COLUMNS,
    ReportData,
    fleet_hourly,
    report_bound,
    report_data,
)
from belimo_cloud.report.fleet_reads import Step, quiet, series_names
from belimo_cloud.report.parts import AVERAGED, FleetFacts, Part, analyse_part, auto_freq
from belimo_cloud.report.report_reads import (
    COUNTERS,
    ReportReads,
    no_samples,
    plan_reads,
    sample_batches,
)
from belimo_cloud.report.weather_content import as_daily_temperature, plan_comparison
from belimo_cloud.store import Store

__all__ = ["REPORT_BATCH_ROWS", "analyse_store", "fleet_facts"]

#: Samples per batch of the report: its analysis of a batch (energy by period and by hour,
#: counter findings, valve KPIs) peaks near 600 bytes a sample, twice the energy's.
REPORT_BATCH_ROWS = 500_000

#: The dT-flow figures draw these, for the first few valves with a hydronic finding.
_FIGURE_NAMES = ("DeltaT_K", "RelFlow_Fb_Rel2Vmax", "SpDeltaT_applied_K")
_FIGURES = 3


def _named(
    series: pd.DataFrame, aggregation: str | None, catalogue: pd.DataFrame, devices: pd.DataFrame
) -> pd.DataFrame:
    """A series summary with each series' name (and ``aggregation`` as the samples carry it)."""
    out = series.assign(name=pd.Series(series_names(series, catalogue, devices), dtype=object))
    if aggregation is not None:
        out = out.assign(aggregation=aggregation)
    return out[out["name"].notna()]


def fleet_facts(
    store: Store,
    reads: ReportReads,
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    *,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    freq: str | None,
) -> FleetFacts:
    """The report's whole-selection choices, from series summaries (no samples read)."""
    everything = pd.concat(
        [
            _named(reads.counters.series, "last", catalogue, devices),
            _named(reads.averages, None, catalogue, devices),
        ],
        ignore_index=True,
    )
    counter = everything["name"].isin(list(COUNTERS)) & (everything["aggregation"] != "avg")
    end = everything.loc[counter, "last"].max() if counter.any() else None
    windowed = _windowed(store, reads, everything, lo=lo, hi=hi)
    has_rows = windowed[windowed["rows"] > 0]
    avg = has_rows["aggregation"] == "avg"
    averaged = has_rows["name"].isin(list(AVERAGED)) & avg
    return FleetFacts(
        freq=freq
        or auto_freq(
            lo,
            hi,
            first=has_rows["first"].min() if len(has_rows) else None,
            last=has_rows["last"].max() if len(has_rows) else None,
        ),
        avg_names=frozenset(str(n) for n in has_rows.loc[averaged, "name"]),
        any_avg=bool(avg.any()),
        counters_end=None if end is None or pd.isna(end) else pd.Timestamp(end),
    )


def _windowed(
    store: Store,
    reads: ReportReads,
    everything: pd.DataFrame,
    *,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
) -> pd.DataFrame:
    """The planned series' rows, first and last time within the report's window.

    The window reaches a bucket (of the counters) beyond each bound, as the analysis keeps it.
    """
    if lo is None and hi is None:
        return everything
    bucket = reads.counters.bucket
    pad = pd.Timedelta(bucket) if bucket is not None else pd.Timedelta(hours=1)
    lower = None if lo is None else lo - pad
    upper = None if hi is None else hi + pad + pd.Timedelta(microseconds=1)
    parts = []
    for series, span in (
        (reads.counters.series, reads.counter_span),
        (reads.averages, reads.average_span),
    ):
        if series.empty:
            continue
        summary = store.series_summary(
            device_ids=sorted({str(d) for d in series["device_id"]}),
            datapoint_ids=sorted({str(d) for d in series["datapoint_id"]}),
            start=_later(span[0], lower),
            end=_earlier(span[1], upper),
        )
        keys = ["device_id", "datapoint_id", "resolution", "aggregation"]
        parts.append(summary.merge(series[keys], on=keys, how="inner"))
    if not parts:
        return everything.iloc[:0]
    inside = pd.concat(parts, ignore_index=True)
    named = everything.drop(columns=["rows", "first", "last"])
    keys = ["device_id", "datapoint_id", "resolution"]
    # The counters' aggregation is "last" in both; the averages' is their own.
    return named.merge(inside, on=[*keys, "aggregation"], how="inner")


def _later(a: datetime | None, b: pd.Timestamp | None) -> datetime | None:
    if a is None:
        return None if b is None else b.to_pydatetime()
    return a if b is None else max(pd.Timestamp(a), b).to_pydatetime()


def _earlier(a: datetime | None, b: pd.Timestamp | None) -> datetime | None:
    if a is None:
        return None if b is None else b.to_pydatetime()
    return a if b is None else min(pd.Timestamp(a), b).to_pydatetime()


def analyse_store(
    store: Store,
    devices: pd.DataFrame,
    *,
    catalogue: pd.DataFrame | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: str | tzinfo = "Europe/Zurich",
    title: str | None = None,
    now: datetime | pd.Timestamp | None = None,
    freq: str | None = None,
    stale_after: str = "1h",
    policy: CounterPolicy | None = None,
    weather: pd.Series[float] | pd.DataFrame | None = None,
    weather_site: str | None = None,
    history_from: datetime | None = None,
    max_rows: int = REPORT_BATCH_ROWS,
    step: Step | None = None,
) -> ReportData:
    """The report's content for ``devices`` (rows of the store's devices frame), batch by batch.

    The same content as :func:`~belimo_cloud.report.content.analyse` of the samples a report
    reads from the store (see the module text for what is kept in another form). ``start``,
    ``end`` are UTC instants; ``history_from`` reads the counters from that earlier time on
    (the baseline year of ``weather``); ``max_rows`` bounds a batch's samples (whole
    devices); ``step`` hears the progress.
    """
    tell = step or quiet
    if catalogue is None:
        catalogue = store.catalogue()
    tell("planning the batches")
    reads = plan_reads(
        store,
        devices,
        catalogue,
        start=start,
        end=end,
        history_from=history_from,
        max_rows=max_rows,
    )
    lo, hi = report_bound(start, tz), report_bound(end, tz)
    facts = fleet_facts(store, reads, devices, catalogue, lo=lo, hi=hi, freq=freq)
    plan = None
    if weather is not None:
        temperature = as_daily_temperature(weather, tz=tz, site=weather_site)
        plan = plan_comparison(temperature, start=lo, end=hi, tz=tz, last=facts.counters_end)
    resolution = reads.counters.bucket
    parts: list[Part] = []
    total: pd.DataFrame | None = None
    figures: list[pd.DataFrame] = []
    drawn = 0

    def analysed(batch: pd.DataFrame) -> Part:
        named = named_samples(batch, catalogue, devices)
        return analyse_part(
            named[named["name"].notna()],
            facts,
            devices=devices,
            lo=lo,
            hi=hi,
            tz=tz,
            resolution=resolution,
            policy=policy,
            days=plan.days if plan is not None else None,
            samples=len(batch),
        )

    for batch in sample_batches(store, reads, step=tell):
        part = analysed(batch)
        del batch
        total = _add_hourly(total, fleet_hourly(part.hourly))
        if drawn < _FIGURES:
            chosen, rows = _figure_rows(part, facts, _FIGURES - drawn)
            drawn += chosen
            figures.append(rows)
        parts.append(replace(part, hourly=_empty(part.hourly), named=_empty(part.named)))
    if not parts:
        part = analysed(no_samples())
        parts, total, figures = [part], fleet_hourly(part.hourly), [part.named]
    return report_data(
        parts,
        facts,
        devices,
        lo=lo,
        hi=hi,
        tz=tz,
        title=title,
        now=now,
        stale_after=stale_after,
        weather=plan,
        hourly=parts[0].hourly.iloc[:0],
        fleet_hourly=total if total is not None else fleet_hourly(parts[0].hourly),
        named=pd.concat(figures, ignore_index=True) if len(figures) > 1 else figures[0],
    )


def _figure_rows(part: Part, facts: FleetFacts, room: int) -> tuple[int, pd.DataFrame]:
    """The samples the dT-flow figures draw of this part's first flagged valves (and how
    many valves that is: a figure is drawn even for a valve without such samples)."""
    valves = part.valves
    named = part.named
    if valves.empty:
        return 0, _empty(named)
    flagged = valves[valves["low_dt"].astype(bool) | valves["at_vmax"].astype(bool)]
    chosen = list(flagged["device_id"].head(room))
    rows = named[named["device_id"].isin(chosen) & named["name"].isin(list(_FIGURE_NAMES))]
    if facts.any_avg and "aggregation" in rows.columns:
        rows = rows[rows["aggregation"].astype(str) == "avg"]
    return len(chosen), rows


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's columns and types without its rows, nor a reference to them.

    Built anew: an empty slice of Arrow-backed text (even a "deep" copy of one) still holds
    the whole batch's buffers.
    """
    return pd.DataFrame({c: pd.Series(dtype=frame[c].dtype) for c in frame.columns})


def _add_hourly(total: pd.DataFrame | None, part: pd.DataFrame) -> pd.DataFrame:
    """The fleet's hourly sums so far plus one batch's (a running sum: one day-hour a row)."""
    if total is None or total.empty:
        return part
    if part.empty:
        return total
    joined = pd.concat([total, part], ignore_index=True)
    summed = joined.groupby(["direction", "period"], sort=True)["consumption"].sum()
    return summed.reset_index()[HOURLY_COLUMNS]
