"""`belimo report`: one self-contained HTML file on a fleet and a period."""

from __future__ import annotations

import threading
from collections.abc import Sequence
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
from belimo_cloud.cli.sources import Selection, Source, from_client, load

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.client import Client

__all__ = [
    "AVERAGED",
    "COUNTERS",
    "REPORT_NAMES",
    "register",
    "report_samples",
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


def _no_rows() -> pd.DataFrame:
    import pandas as pd

    from belimo_cloud.client.frames import empty_long_frame

    return empty_long_frame().assign(aggregation=pd.Series(dtype="object"))


def _earlier(selection: Selection, history_from: datetime | None) -> datetime | None:
    if history_from is None or selection.start is None:
        return selection.start
    return min(selection.start, history_from)


def _averaged_ids(source: Source, names: Sequence[str]) -> dict[str, list[str]]:
    """Per device, the datapoint ids of the averaged quantities ``names`` in its profile."""
    cat = source.catalogue
    wanted = cat[cat["name"].isin(list(names))]
    if wanted.empty or source.devices.empty:
        return {}
    profiles = source.devices.set_index("device_id")["dataprofile"].to_dict()
    out = {}
    for device_id, profile in profiles.items():
        ids = sorted(set(wanted.loc[wanted["dataprofile"] == profile, "datapoint_id"]))
        if ids:
            out[str(device_id)] = ids
    return out


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

    tell = step or _quiet
    counters = replace(selection, names=tuple(last), start=_earlier(selection, history_from))
    source = from_client(client, counters, step=tell)
    size, start, end = source.resolution, selection.start, selection.end
    jobs = list(_averaged_ids(source, averaged).items())
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
) -> tuple[Source, pd.DataFrame]:
    """:func:`report_samples` from a store: ``averaged`` names as ``avg`` where synced."""
    import pandas as pd

    counters = replace(selection, names=tuple(last), start=_earlier(selection, history_from))
    source = load(state, counters, path, step=step)
    ids = _averaged_ids(source, averaged)
    datapoints = sorted({d for dps in ids.values() for d in dps})
    averages = _averages_from_store(path, list(ids), datapoints, selection) if ids else _no_rows()
    samples = pd.concat([source.samples.assign(aggregation="last"), averages], ignore_index=True)
    return source, samples


def _averages_from_store(
    path: Path, devices: list[str], datapoints: list[str], selection: Selection
) -> pd.DataFrame:
    import pandas as pd

    from belimo_cloud.store import Store

    # A day more on each side, like the counters: local periods and their edge buckets.
    day = pd.Timedelta(days=1)
    with Store(path) as store:
        frame = store.read(
            device_ids=devices,
            datapoint_ids=datapoints,
            start=None if selection.start is None else selection.start - day,
            end=None if selection.end is None else selection.end + day,
        )
    columns = ["device_id", "datapoint_id", "timestamp", "value", "aggregation"]
    if frame.empty:  # nothing averaged was synced
        return pd.DataFrame(frame[columns])
    # Per datapoint, the finest resolution, and avg buckets where they were synced.
    frame = frame[frame["resolution"] == min(frame["resolution"], key=_seconds)]
    has_avg = frame.groupby("datapoint_id")["aggregation"].transform(lambda a: (a == "avg").any())
    frame = frame[(frame["aggregation"] == "avg") | ~has_avg.astype(bool)]
    frame = frame.drop_duplicates(["device_id", "datapoint_id", "timestamp"], keep="first")
    return pd.DataFrame(frame[columns])


def _seconds(text: str) -> float:
    from belimo_cloud.cli.options import parse_resolution

    return parse_resolution(text).total_seconds()


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
    from belimo_cloud.report import write_report
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
            source, samples = store_samples(
                store, selection, st, step=step, history_from=history_from
            )
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
    note(f"wrote the report on {len(source.devices)} devices to {path}")


def register(app: typer.Typer) -> None:
    """Add the report command to the app."""
    app.command(rich_help_panel="Analytics")(report)
