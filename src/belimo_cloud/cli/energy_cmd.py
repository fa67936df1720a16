"""`belimo energy`: heating and cooling kWh per device and local day, week or month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.history import FromOption, ToOption
from belimo_cloud.cli.options import FormatOption, OutputOption, check_range, parse_when, state_of
from belimo_cloud.cli.render import emit
from belimo_cloud.cli.sources import Selection, load, require_samples

__all__ = ["Period", "TzOption", "check_tz", "register"]


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

TzOption = Annotated[
    str, typer.Option("--tz", help="IANA time zone of the calendar (DST-safe local periods).")
]
StoreReadOption = Annotated[
    Path | None,
    typer.Option("--store", help="Read from this store (offline) instead of the API."),
]
SearchOption = Annotated[
    str | None, typer.Option(help="Devices whose display name or serial contain this.")
]
ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="Only devices with this data profile.")
]
DeviceOption = Annotated[
    list[str] | None, typer.Option("--device", help="A device id (repeatable).")
]


def check_tz(tz: str) -> str:
    """The zone name, or a usage error naming a valid one."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError(
            f"--tz: unknown time zone {tz!r}; use an IANA name such as Europe/Zurich or UTC"
        ) from None
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


def energy(  # noqa: PLR0917
    ctx: typer.Context,
    by: Annotated[
        Period, typer.Option("--by", case_sensitive=False, help="Local period.")
    ] = Period.day,
    tz: TzOption = "Europe/Zurich",
    store: StoreReadOption = None,
    search: SearchOption = None,
    profile: ProfileOption = None,
    device: DeviceOption = None,
    start: FromOption = None,
    end: ToOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Heating and cooling energy [kWh] per device and local period, with quality flags."""
    from belimo_cloud.analysis.fleet import energy_by_device, named_samples

    st = state_of(ctx)
    check_tz(tz)
    begin, stop = period_range(
        start, end, DEFAULT_SPAN[by.value], from_store=store is not None, tz=tz
    )
    selection = Selection(
        search=search, profile=profile, device_ids=tuple(device or ()), start=begin, end=stop
    )
    source = load(st, selection, store)
    require_samples(source, ["Heating_E_J", "Cooling_E_J"])
    named = named_samples(source.samples, source.catalogue, source.devices)
    result = energy_by_device(
        named,
        freq=FREQ[by.value],
        tz=tz,
        start=begin,
        end=stop,
        resolution=source.resolution,
    )
    names = source.devices.set_index("device_id")["display_name"]
    result.insert(1, "display_name", result["device_id"].map(names))
    result["period"] = result["period"].dt.strftime(_LABEL.get(by.value, "%Y-%m-%d"))
    result = result.rename(columns={"consumption": "kwh"})
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
