"""`belimo energy`: heating and cooling kWh per device and local period, with counter options."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from belimo_cloud.cli.counter_options import (
    MaxPowerOption,
    ResetChoice,
    ResetPolicyOption,
    RolloverOption,
    SpreadGapsOption,
    policy_from_options,
)
from belimo_cloud.cli.options import (
    DEFAULT_TZ,
    DataProfileOption,
    FormatOption,
    FromOption,
    LegacyProfileOption,
    OutputOption,
    ToOption,
    TzOption,
    check_range,
    data_profile,
    parse_when,
    state_of,
    tz_of,
)
from belimo_cloud.cli.progress import working
from belimo_cloud.cli.render import emit
from belimo_cloud.cli.sources import Selection, load, require_samples, store_energy_rows

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_SPAN",
    "FREQ",
    "Direction",
    "Period",
    "ResetChoice",
    "TzOption",
    "check_tz",
    "counter_rows",
    "register",
]


class Period(StrEnum):
    """Local calendar periods of `belimo energy --by`."""

    hour = "hour"
    day = "day"
    week = "week"
    month = "month"
    year = "year"


FREQ = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS", "year": "YS"}
# Without --from, the API is asked for about this much history before --to.
DEFAULT_SPAN = {
    "hour": timedelta(days=2),
    "day": timedelta(days=31),
    "week": timedelta(weeks=13),
    "month": timedelta(days=366),
    "year": timedelta(days=3 * 366),
}
_LABEL = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}

StoreReadOption = Annotated[
    Path | None,
    typer.Option("--store", help="Read from this store (offline) instead of the API."),
]
SearchOption = Annotated[
    str | None, typer.Option(help="Devices whose display name or serial contain this.")
]
DeviceOption = Annotated[
    list[str] | None, typer.Option("--device", help="A device id (repeatable).")
]


def check_tz(tz: str) -> str:
    """The zone name, or a usage error naming a valid one (the shared grammar's check)."""
    tz_of(tz)
    return tz


def period_range(
    start: str | None, end: str | None, span: timedelta, *, from_store: bool, tz: str
) -> tuple[datetime | None, datetime | None]:
    """--from/--to (dates are local to ``tz``); without them, the API covers ``span`` before
    now, a store all it holds."""
    now = datetime.now(UTC)
    stop = parse_when(end, "--to", now=now, tz=tz)
    begin = parse_when(start, "--from", now=now, tz=tz)
    if not from_store:
        stop = stop or now
        begin = begin or stop - span
    check_range(begin, stop)
    return begin, stop


class Direction(StrEnum):
    """Which counters `belimo energy --direction` reports."""

    heating = "heating"
    cooling = "cooling"
    both = "both"


DirectionOption = Annotated[
    Direction,
    typer.Option("--direction", case_sensitive=False, help="heating, cooling or both."),
]


def counter_rows(named: pd.DataFrame, directions: Sequence[str]) -> pd.DataFrame:
    """The energy counters of the chosen directions, without counters a device never uses.

    A counter whose readings are all zero (or missing) belongs to a direction the valve does
    not serve (the cooling counter of a heating valve): it gets no rows.
    """
    from belimo_cloud.analysis.fleet import COUNTER_NAMES

    by_name = {COUNTER_NAMES[d]: d for d in directions}
    rows = named[named["name"].isin(list(by_name))].copy()
    rows["direction"] = rows["name"].map(by_name)
    used = (
        rows["value"]
        .fillna(0.0)
        .ne(0.0)
        .groupby([rows["device_id"], rows["direction"]], observed=True)
        .transform("any")
    )
    return rows[used.astype(bool)]


def energy(  # noqa: PLR0917
    ctx: typer.Context,
    by: Annotated[
        Period, typer.Option("--by", case_sensitive=False, help="Local period.")
    ] = Period.day,
    direction: DirectionOption = Direction.both,
    tz: TzOption = DEFAULT_TZ,
    store: StoreReadOption = None,
    search: SearchOption = None,
    dataprofile: DataProfileOption = None,
    old_profile: LegacyProfileOption = None,
    device: DeviceOption = None,
    start: FromOption = None,
    end: ToOption = None,
    max_power: MaxPowerOption = None,
    spread_gaps: SpreadGapsOption = False,
    reset_policy: ResetPolicyOption = ResetChoice.rate,
    rollover: RolloverOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Heating and cooling energy (kWh) per device and local period, flagged.

    Calendar: a date or time without a zone is local time in --tz
    (default Europe/Zurich): --from 2018-01-01 is local midnight.

    Counters: zero or missing readings that come back to their level are an
    outage (the energy across is kept); readings beyond a plausibility bound
    (from each counter's own steps, or --max-power) are spikes, excluded; a
    lasting drop is a reset (a new segment, no invented energy); jitter is
    noise. quality: ok, or reset, rollover, spike, outage, gap, partial.
    coverage: share of the period with readings. Unused counters get no rows.
    """
    from belimo_cloud.analysis import consumption_frame
    from belimo_cloud.analysis.fleet import named_samples

    st = state_of(ctx)
    check_tz(tz)
    policy = policy_from_options(max_power, spread_gaps, reset_policy, rollover)
    profile = data_profile(dataprofile, old_profile)
    begin, stop = period_range(
        start, end, DEFAULT_SPAN[by.value], from_store=store is not None, tz=tz
    )
    selection = Selection(
        search=search, profile=profile, device_ids=tuple(device or ()), start=begin, end=stop
    )
    chosen = ["heating", "cooling"] if direction is Direction.both else [direction.value]
    with working("Computing energy") as step:
        if store is not None:
            # A batch of whole devices at a time: memory follows the batch, not the store.
            devices, result = store_energy_rows(
                store, selection, chosen, freq=FREQ[by.value], tz=tz, policy=policy, step=step
            )
        else:
            source = load(st, selection, store, step=step)
            require_samples(source, ["Heating_E_J", "Cooling_E_J"])
            step("reading the counters")
            named = named_samples(source.samples, source.catalogue, source.devices)
            result = consumption_frame(
                counter_rows(named, chosen),
                by=("device_id", "direction"),
                freq=FREQ[by.value],
                tz=tz,
                unit="joule",
                to="kWh",
                policy=policy,
                resolution=source.resolution,
            )
            if begin is not None:
                result = result[result["period"] >= begin]
            if stop is not None:
                result = result[result["period"] < stop]
            devices = source.devices
    names = devices.drop_duplicates("device_id").set_index("device_id")["display_name"]
    result.insert(1, "display_name", result["device_id"].map(names).fillna(result["device_id"]))
    result = result.sort_values(["display_name", "direction", "period"], kind="stable")
    result["period"] = result["period"].dt.strftime(_LABEL.get(by.value, "%Y-%m-%d"))
    result = result.rename(columns={"consumption": "kwh"}).reset_index(drop=True)
    result["kwh"] = result["kwh"].round(3)
    result["coverage"] = result["coverage"].round(3)
    emit(
        result,
        st.format(fmt),
        st.out(output),
        table_columns=("display_name", "direction", "period", "kwh", "coverage", "quality"),
    )


def register(app: typer.Typer) -> None:
    """Add the analytics commands to the app."""
    app.command(rich_help_panel="Analytics")(energy)
