"""The demo's story: the tutorial's four steps on the embedded demo cloud, narrated on stdout.

The year shown is 2018 in local days (Europe/Zurich): it has a whole winter at both ends and
a summer in between, and the demo cloud's designed-in faults (a meter replacement, a gap, a
zero glitch) are in it, so the consumption's quality flags have something to show. Local
days need readings at least hourly: a `1d` bucket is a UTC day, which starts at 01:00 or
02:00 in Zurich. A year of hourly readings is 8,760 buckets, still one request under the
server's 10,000-bucket cap, so the demo fetches both: `1d` as the tutorial does, and `1h`
for the DST-correct daily kWh.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from belimo_cloud.cli.devices import state_rows
from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.render import OutputFormat, emit, say

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.client import Client
    from belimo_cloud.client.models import Datapoint, Device

__all__ = ["DEMO_PROFILE", "DEMO_TZ", "YEAR", "run"]

DEMO_PROFILE = "energyvalve3/1.2"
DEMO_TZ = "Europe/Zurich"
YEAR = 2018
# The state rows worth showing: what a valve measures right now.
_STATE_NAMES = (
    "Heating_E_J",
    "Cooling_E_J",
    "AbsPower_Fb_W",
    "AbsFlow_Fb_m3s",
    "RelFlow_Fb_Rel2Vmax",
    "T1_remote_K",
    "T2_embeded_K",
    "DeltaT_K",
)


def _step(title: str) -> None:
    say()
    say(f"== {title}")


def run(out: Path) -> None:
    """Tell the whole story and write the figure (and the report) into ``out``."""
    from belimo_cloud.emulator import EmulatorOptions, running_emulator

    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    say("belimo demo: Belimo's 'first graph in Python' tutorial, on the embedded demo cloud")
    # The demo cloud runs unthrottled; the client still spaces its own requests.
    with running_emulator(EmulatorOptions(seed=0, rate_limit=0)) as url:
        say(f"demo cloud (an emulator of the Belimo Cloud API v3) listening on {url}")
        with _demo_client(url) as client:
            files = _story(client, out)
    say()
    for label, path in files:
        say(f"{label}: {path.resolve()}")
    say(f"done in {time.perf_counter() - began:.1f} s")


def _demo_client(url: str) -> Client:
    """A client for the demo tenant that leaves no token in the user's cache."""
    from belimo_cloud.client import Client
    from belimo_cloud.config import demo_settings

    return Client.from_settings(demo_settings(url, rate_limit=20.0))


def _story(client: Client, out: Path) -> list[tuple[str, Path]]:
    table = OutputFormat.table

    _step("Step 1: get access (OAuth2 password grant with the tutorial's placeholders)")
    client.login()
    say(f"logged in as {client.settings.username}")
    stats = client.devices.stats()
    say(
        f"fleet: {stats.total_devices} devices, {stats.connection.online} online, "
        f"{stats.connection.offline} offline; {stats.health.ok} ok, "
        f"{stats.health.problem} with problems"
    )

    _step("Step 2: select data")
    heating = [d for d in client.devices.list(search="Heizung") if "Heizung" in (d.name or "")]
    if not heating:
        raise CommandError("the demo cloud has no heating valve ('Heizung'); this is a bug")
    say(f"{len(heating)} heating valves (display name contains 'Heizung'):")
    emit(
        [{"id": d.id, "name": d.name, "data profile": d.dataprofile_id} for d in heating],
        table,
    )
    profile = client.dataprofiles.get(DEMO_PROFILE)
    energy_points = profile.find("Energy")
    say(f"energy datapoints of {profile.key} (description or name contains 'Energy'):")
    emit(
        [
            {"id": dp.id, "name": dp.name, "description": dp.description, "unit": dp.unit}
            for dp in energy_points
        ],
        table,
    )
    valve = _pick_valve(heating)
    data = client.devices.data(valve.id)
    say(f"current state of '{valve.name}' at {_iso(data.timestamp)}:")
    rows = state_rows(valve, data.values, data.timestamp, profile)
    rows = [r for r in rows if r["name"] in _STATE_NAMES]
    emit(rows, table, table_columns=("datapoint_id", "name", "value", "unit", "display"))

    _step(f"Step 3: acquire data (Heating_E_J of '{valve.name}', the year {YEAR})")
    counter = profile.by_name("Heating_E_J")
    if counter is None:
        raise CommandError(f"{profile.key} has no Heating_E_J datapoint; this is a bug")
    daily, hourly, requests = _fetch(client, valve, counter)
    _check_readings(hourly)
    say(
        f"1d buckets (the tutorial's resolution): {len(daily)} readings; "
        f"1h buckets: {len(hourly)} readings; {requests} requests in all"
    )
    say(
        "a 1d bucket is a UTC day, which starts at 01:00 or 02:00 in Zurich: local days "
        "need the hourly readings (still one request, under the 10,000-bucket cap)"
    )

    _step(f"Step 4: data ready to plot (daily kWh in local days, {DEMO_TZ})")
    kwh = _daily_kwh(hourly, counter)
    _summarise(kwh)
    files = [("figure", _plot(kwh, valve, out / "heating_energy.png"))]

    _step(f"And a report on the whole fleet for {YEAR}")
    files.append(("report", _report(client, out / "report.html")))

    _step(f"And a local store of the fleet's {YEAR} for the dashboard")
    from belimo_cloud.cli.serve_cmd import demo_store, open_hint

    store = demo_store(client, out / "demo.duckdb", start=f"{YEAR}-01-01", end=f"{YEAR + 1}-01-01")
    files.append(("store", store))
    say(open_hint(store))
    return files


def _pick_valve(heating: list[Device]) -> Device:
    """The first healthy heating valve by name, so the story does not start on a fault."""
    ordered = sorted(heating, key=lambda d: d.name or d.id)
    healthy = [d for d in ordered if d.health.state == "OK"]
    return (healthy or ordered)[0]


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return "(no timestamp)"
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local_year() -> tuple[pd.Timestamp, pd.Timestamp]:
    import pandas as pd

    start = pd.Timestamp(f"{YEAR}-01-01", tz=DEMO_TZ).tz_convert("UTC")
    end = pd.Timestamp(f"{YEAR + 1}-01-01", tz=DEMO_TZ).tz_convert("UTC")
    return start, end


def _fetch(
    client: Client, valve: Device, counter: Datapoint
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The year at 1d (as the tutorial) and at 1h (for local days), one request each."""
    import pandas as pd

    start, end = _local_year()
    sent = client.requests_sent
    day_start = start.floor("D")
    daily = client.history.timeseries(
        valve.id, [counter.id], day_start, end.ceil("D"), resolution="1d"
    )
    # One extra hour at each end: the readings at the year's first and last moments.
    hour = pd.Timedelta(hours=1)
    hourly = client.history.timeseries(
        valve.id, [counter.id], start - hour, end + hour, resolution="1h"
    )
    return daily, hourly, client.requests_sent - sent


def _check_readings(hourly: pd.DataFrame) -> None:
    if hourly.empty:
        raise CommandError(f"the demo cloud returned no readings for {YEAR}; this is a bug")


def _daily_kwh(hourly: pd.DataFrame, counter: Datapoint) -> pd.DataFrame:
    """Consumption per local day [kWh] from the hourly counter, with coverage and quality."""
    from belimo_cloud.analysis import consumption

    series = hourly.set_index("timestamp")["value"].sort_index()
    result: pd.DataFrame = consumption(
        series,
        freq="D",
        tz=DEMO_TZ,
        unit=counter.unit or "joule",
        to="kWh",
        # A `last` bucket holds the reading near its end: place it there, not at its start.
        resolution="1h",
    )
    start, end = _local_year()
    local = result.index
    keep = (local >= start.tz_convert(DEMO_TZ)) & (local < end.tz_convert(DEMO_TZ))
    return result[keep]


def _summarise(kwh: pd.DataFrame) -> None:
    import pandas as pd

    values = kwh["consumption"]
    monthly = values.groupby(pd.DatetimeIndex(values.index).month).sum()
    flagged = kwh[kwh["quality"] != "ok"]
    say(
        f"{len(kwh)} local days, {values.sum():,.0f} kWh in {YEAR}; "
        f"January {monthly.get(1, 0.0):,.0f} kWh, July {monthly.get(7, 0.0):,.0f} kWh; "
        f"peak {values.max():,.0f} kWh on {values.idxmax():%Y-%m-%d}"
    )
    if len(flagged):
        rows: list[dict[str, Any]] = [
            {
                "day": f"{day:%Y-%m-%d}",
                "kWh": row["consumption"],
                "coverage": row["coverage"],
                "quality": row["quality"],
            }
            for day, row in flagged.iterrows()
        ]
        days = "day carries" if len(flagged) == 1 else "days carry"
        say(f"{len(flagged)} {days} a quality flag (never a negative or spiked bar):")
        emit(rows[:10], OutputFormat.table)


def _plot(kwh: pd.DataFrame, valve: Device, path: Path) -> Path:
    """The tutorial's plot done right: bars of kWh per local day, flagged days marked."""
    from belimo_cloud.plot import consumption_bars, save

    figure = consumption_bars(kwh, title=f"Heating energy per day, {valve.name}, {YEAR}")
    return save(figure, path)


def _report(client: Client, path: Path) -> Path:
    """The fleet report for the year: status, consumption, data quality, hydronics.

    Counters come as hourly ``last`` buckets, power, flow and temperatures as hourly
    averages (as `belimo report` reads them): the energy check integrates average power.
    """
    from belimo_cloud.cli.progress import working
    from belimo_cloud.cli.report_cmd import REPORT_NAMES, report_samples
    from belimo_cloud.cli.sources import Selection
    from belimo_cloud.report import write_report

    start, end = _local_year()
    selection = Selection(names=REPORT_NAMES, start=start.to_pydatetime(), end=end.to_pydatetime())
    with working("Fetching the fleet's year") as step:
        source, samples = report_samples(client, selection, step=step)
    say(
        f"{len(source.devices)} devices, {len(samples):,} hourly readings "
        f"(up to {len(REPORT_NAMES)} datapoints per valve)"
    )
    with working("Writing the report"):
        return write_report(
            path,
            source.devices,
            source.catalogue,
            samples,
            start=start,
            end=end,
            tz=DEMO_TZ,
            title=f"Demo fleet, {YEAR}",
            resolution=source.resolution,
        )
