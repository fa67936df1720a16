"""`belimo report`: one self-contained HTML file on a fleet and a period."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from belimo_cloud.cli.baseline_cmd import SiteOption, WeatherUrlOption, weather_temperatures
from belimo_cloud.cli.counter_options import (
    MaxPowerOption,
    ResetChoice,
    ResetPolicyOption,
    RolloverOption,
    SpreadGapsOption,
    policy_from_options,
)
from belimo_cloud.cli.energy_cmd import (
    DEFAULT_SPAN,
    DeviceOption,
    SearchOption,
    StoreReadOption,
    check_tz,
    period_range,
)
from belimo_cloud.cli.options import (
    DEFAULT_TZ,
    DataProfileOption,
    FromOption,
    LegacyProfileOption,
    State,
    ToOption,
    TzOption,
    data_profile,
    state_of,
)
from belimo_cloud.cli.progress import Step, working
from belimo_cloud.cli.render import note
from belimo_cloud.cli.sources import (
    Selection,
    Source,
    from_client,
    select_devices,
    store_exists,
)

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.analysis import CounterPolicy
    from belimo_cloud.client import Client
    from belimo_cloud.report import ReportData

__all__ = [
    "AVERAGED",
    "COUNTERS",
    "REPORT_NAMES",
    "register",
    "report_samples",
    "store_report",
    "store_samples",
]

# What the report reads of each Energy Valve (by default.name). Counters are read as the last
# reading of each bucket; flow, temperatures and power as the bucket's average, so that the
# energy check integrates average power (a last sample per hour is biased where power ramps).
COUNTERS = ("Heating_E_J", "Cooling_E_J")
AVERAGED = (
    "AbsFlow_Fb_m3s",
    "RelFlow_Fb_Rel2Vmax",
    "T1_remote_K",
    "T2_embeded_K",
    "DeltaT_K",
    "SpDeltaT_applied_K",
    "AbsPower_Fb_W",
)
REPORT_NAMES = COUNTERS + AVERAGED


def _quiet(_text: str) -> None:
    return None


def _earlier(selection: Selection, history_from: datetime | None) -> datetime | None:
    if history_from is None or selection.start is None:
        return selection.start
    return min(selection.start, history_from)


def report_samples(
    client: Client,
    selection: Selection,
    *,
    step: Step | None = None,
    last: Sequence[str] = COUNTERS,
    averaged: Sequence[str] = AVERAGED,
    history_from: datetime | None = None,
) -> tuple[Source, pd.DataFrame]:
    """The report's data from the API: ``last`` names as last buckets, ``averaged`` as ``avg``.

    Returns the source of the ``last`` names (devices, catalogue, resolution) and all samples
    with an ``aggregation`` column, ready for :func:`belimo_cloud.report.write_report`.
    ``step`` (e.g. the one `cli.progress.working` yields) hears the progress. ``last`` must
    name at least one datapoint: the catalogue comes with it. ``history_from`` reads the
    ``last`` names from that earlier time on (the baseline year of the weather section).
    """
    import pandas as pd

    from belimo_cloud.report.report_reads import averaged_ids

    tell = step or _quiet
    counters = replace(selection, names=tuple(last), start=_earlier(selection, history_from))
    source = from_client(client, counters, step=tell)
    size, start, end = source.resolution, selection.start, selection.end
    jobs = list(averaged_ids(source.devices, source.catalogue, averaged).items())
    parts = [source.samples.assign(aggregation="last")]
    if jobs and start is not None and end is not None and size is not None:
        done = [0]
        lock = threading.Lock()

        def fetch(job: tuple[str, list[str]]) -> pd.DataFrame:
            part = client.history.timeseries(
                job[0], job[1], start - size, end + size, resolution=size, aggregation="avg"
            )
            with lock:
                done[0] += 1
                tell(f"averages of device {done[0]}/{len(jobs)}")
            return part

        with ThreadPoolExecutor(max_workers=max(1, client.settings.max_workers)) as pool:
            parts += [p.assign(aggregation="avg") for p in pool.map(fetch, jobs)]
    return source, pd.concat(parts, ignore_index=True)


def store_samples(
    path: Path,
    selection: Selection,
    state: State,
    *,
    step: Step | None = None,
    last: Sequence[str] = COUNTERS,
    averaged: Sequence[str] = AVERAGED,
    history_from: datetime | None = None,
    check: Callable[[int], None] | None = None,
) -> tuple[Source, pd.DataFrame]:
    """:func:`report_samples` from a store: ``averaged`` names as ``avg`` where synced.

    All at once, for small selections (one valve's figure); the report itself reads the
    store a batch of devices at a time (:func:`store_report`). The source's samples are all
    the samples read, without their ``aggregation``. ``check`` hears how many devices have
    samples before any is read (and may refuse them).
    """
    from belimo_cloud.report.report_reads import plan_reads, read_samples
    from belimo_cloud.store import Store

    del state  # the store is read, never the API
    store_exists(path)
    (step or _quiet)(f"reading {path}")
    with Store.open(path, read_only=True) as store:
        devices = select_devices(store.devices(), selection)
        catalogue = store.catalogue()
        reads = plan_reads(
            store,
            devices,
            catalogue,
            last=last,
            averaged=averaged,
            start=selection.start,
            end=selection.end,
            history_from=history_from,
        )
        if check is not None:
            check(reads.devices)
        samples = read_samples(store, reads)
    source = Source(
        devices=devices,
        catalogue=catalogue,
        samples=samples.drop(columns="aggregation"),
        resolution=reads.counters.bucket,
        origin=f"store {path}",
    )
    return source, samples


def store_report(
    path: Path,
    selection: Selection,
    *,
    tz: str,
    title: str | None,
    policy: CounterPolicy,
    weather: pd.Series[float] | None,
    history_from: datetime | None,
    step: Step | None = None,
) -> ReportData:
    """The report's content from a store, a batch of whole devices at a time."""
    from belimo_cloud.report import analyse_store
    from belimo_cloud.store import Store

    store_exists(path)
    (step or _quiet)(f"reading {path}")
    with Store.open(path, read_only=True) as store:
        return analyse_store(
            store,
            select_devices(store.devices(), selection),
            start=selection.start,
            end=selection.end,
            tz=tz,
            title=title,
            policy=policy,
            weather=weather,
            history_from=history_from,
            step=step,
        )


def report(  # noqa: PLR0917
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    store: StoreReadOption = None,
    search: SearchOption = None,
    dataprofile: DataProfileOption = None,
    old_profile: LegacyProfileOption = None,
    device: DeviceOption = None,
    start: FromOption = None,
    end: ToOption = None,
    tz: TzOption = DEFAULT_TZ,
    title: Annotated[str | None, typer.Option(help="The report's title.")] = None,
    max_power: MaxPowerOption = None,
    spread_gaps: SpreadGapsOption = False,
    reset_policy: ResetPolicyOption = ResetChoice.rate,
    rollover: RolloverOption = None,
    weather: Annotated[
        str | None,
        typer.Option(
            "--weather",
            help="Weather CSV (site,timestamp,temperature, or a MeteoSwiss open-data file), or "
            "open-meteo:LAT,LON: adds the weather-normalised year over year (the 365 days "
            "before --from against the period; their counters are read too).",
        ),
    ] = None,
    site: SiteOption = None,
    weather_url: WeatherUrlOption = None,
) -> None:
    """Write an HTML report: fleet status, consumption, data quality and hydronic findings.

    Heating and cooling are reported apart; every finding (gap, outage, meter replacement,
    low dT, flow at Vmax, offline) comes with its dates and a recommendation. Dates without a
    zone are local times in --tz. Counters are read as by `belimo energy` (same options).
    With --weather, a section compares the 365 local days before --from (the baseline year)
    with the period, both normalised to a typical year, per device and for the fleet.
    """
    from belimo_cloud.report import write_page, write_report
    from belimo_cloud.report.weather_content import baseline_start

    st = state_of(ctx)
    check_tz(tz)
    policy = policy_from_options(max_power, spread_gaps, reset_policy, rollover)
    begin, stop = period_range(
        start, end, DEFAULT_SPAN["month"], from_store=store is not None, tz=tz
    )
    selection = Selection(
        search=search,
        profile=data_profile(dataprofile, old_profile),
        device_ids=tuple(device or ()),
        names=REPORT_NAMES,
        start=begin,
        end=stop,
    )
    temperature, history_from = None, None
    if weather is not None:
        import pandas as pd

        if begin is not None:  # without a start the section says it needs one
            history_from = baseline_start(pd.Timestamp(begin), tz).to_pydatetime()
        temperature = weather_temperatures(
            weather, tz=tz, site=site, span=(history_from or begin, stop), url=weather_url
        )
    with working("Writing the report") as step:
        if store is not None:
            # A batch of whole devices at a time: memory follows the batch, not the store.
            data = store_report(
                store,
                selection,
                tz=tz,
                title=title,
                policy=policy,
                weather=temperature,
                history_from=history_from,
                step=step,
            )
            path = write_page(output, data)
            devices = len(data.status)
        else:
            with st.client() as client:
                source, samples = report_samples(
                    client, selection, step=step, history_from=history_from
                )
            step("analysing")
            path = write_report(
                output,
                source.devices,
                source.catalogue,
                samples,
                start=begin,
                end=stop,
                tz=tz,
                title=title,
                resolution=source.resolution,
                policy=policy,
                weather=temperature,
            )
            devices = len(source.devices)
    note(f"wrote the report on {devices} devices to {path}")


def register(app: typer.Typer) -> None:
    """Add the report command to the app."""
    app.command(rich_help_panel="Analytics")(report)
