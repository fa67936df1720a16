"""`belimo devices`, `profile`, `datapoints`, `state`: select devices and datapoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from belimo_cloud.cli.convert import snake
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.options import (
    DEFAULT_TZ,
    DataProfileOption,
    FormatOption,
    LegacyProfileOption,
    OutputOption,
    TzOption,
    data_profile,
    parse_when,
    state_of,
)
from belimo_cloud.cli.render import emit, records
from belimo_cloud.client.devices import DEVICE_STATES, SORT_FIELDS
from belimo_cloud.client.frames import catalogue_rows
from belimo_cloud.errors import NotFound

if TYPE_CHECKING:
    from belimo_cloud.client import Client
    from belimo_cloud.client.models import Datapoint, DataProfile, Device

__all__ = ["DEVICE_TABLE", "datapoint_rows", "find_device", "profile_of", "register"]

DEVICE_TABLE = ("device_id", "display_name", "dataprofile", "health_state", "last_seen")
_DATAPOINT_COLUMNS = ("datapoint_id", "name", "description", "unit", "access", "basetype")
HEALTH_STATES = ("OK", "WARNING", "ERROR", "UNKNOWN")
# Users may also give the API's sortBy fields in snake_case or by a short alias.
_SORT_ALIASES = {
    "name": "displayName",
    "device_id": "id",
    "profile": "dataprofile.displayName",
    "dataprofile": "dataprofile.displayName",
    "health": "health.state",
    "health_state": "health.state",
    "state": "health.state",
    "last_seen": "health.lastSeen",
    "city": "addressCity",
    "country": "addressCountry",
    "project": "projectName",
    "owner": "owner.displayName",
}


def sort_field(text: str) -> tuple[str, str]:
    """(sortBy, direction) from 'displayName', 'display_name', 'name' or '-name' (descending)."""
    direction = "DESC" if text.startswith("-") else "ASC"
    key = text.lstrip("-+")
    known = {f.casefold(): f for f in SORT_FIELDS}
    known.update({snake(f).replace(".", "_").casefold(): f for f in SORT_FIELDS})
    known.update(_SORT_ALIASES)
    field = known.get(key.casefold())
    if field is None:
        raise CommandError(
            f"--sort: unknown field {key!r}; use one of name, last_seen, health, profile, "
            f"{', '.join(SORT_FIELDS)} (prefix '-' for descending)"
        )
    return field, direction


def device_filters(state: str | None) -> tuple[str | None, str | None]:
    """(API registration state, health state) from one --state value; either may be None."""
    if state is None:
        return None, None
    upper = state.upper()
    if upper in DEVICE_STATES:
        return upper, None
    if upper in HEALTH_STATES or upper == "PROBLEM":
        return None, upper
    raise CommandError(
        f"--state: unknown state {state!r}; use registered, unregistered or all (registration) "
        "or ok, warning, error, unknown, problem (health)"
    )


def find_device(client: Client, ref: str) -> Device:
    """A device by id, or else by exact serial number, production id or display name."""
    try:
        return client.devices.get(ref)
    except NotFound:
        pass
    if ref.strip():
        matches = [
            d
            for d in client.devices.list(search=ref)
            if ref in (d.serial_number, d.production_id, d.display_name)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CommandError(
                f"{ref!r} names {len(matches)} devices; give the device id "
                "(`belimo devices --search` shows them)"
            )
    raise CommandError(
        f"device {ref!r} not found: no device you can see has this id, serial number or name; "
        "`belimo devices` lists them",
        ExitStatus.NOT_FOUND,
    )


def profile_of(client: Client, device: Device) -> DataProfile:
    """The device's data profile; a not-found error when it has none."""
    profile = client.dataprofiles.for_device(device)
    if profile is None:
        raise CommandError(
            f"device {device.id} ({device.name}) has no data profile, so it has no datapoints",
            ExitStatus.NOT_FOUND,
        )
    return profile


def datapoint_rows(points: list[Datapoint], profile: DataProfile) -> list[dict[str, Any]]:
    """One row per datapoint definition."""
    return list(catalogue_rows(points, profile))


def devices(  # noqa: PLR0917
    ctx: typer.Context,
    search: Annotated[
        str | None, typer.Option(help="Substring of the display name or serial number.")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            help="registered, unregistered or all (registration); or ok, warning, error, "
            "unknown, problem (health)."
        ),
    ] = None,
    dataprofile: DataProfileOption = None,
    old_profile: LegacyProfileOption = None,
    sort: Annotated[
        str | None, typer.Option(help="Sort field, e.g. name, last_seen, -health (descending).")
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """List the devices you can see (every page), with their data profile and health."""
    from belimo_cloud.client.frames import devices_frame

    st = state_of(ctx)
    profile = data_profile(dataprofile, old_profile)
    api_state, health = device_filters(state)
    sort_by, direction = sort_field(sort) if sort else (None, None)
    if search is not None and not search.strip():
        raise CommandError("--search must not be empty; leave it out to list every device")
    with st.client() as client:
        items = list(
            client.devices.list(
                state=api_state, search=search, sort_by=sort_by, sort_direction=direction
            )
        )
    frame = devices_frame(items)
    if profile:
        wanted = profile.strip("/").casefold()
        keep = frame["dataprofile"].map(
            lambda p: (
                isinstance(p, str)
                and (p.casefold() == wanted or p.casefold().startswith(wanted + "/"))
            )
        )
        frame = frame[keep.astype(bool)]
    if health == "PROBLEM":
        frame = frame[frame["health_state"].isin(["WARNING", "ERROR"])]
    elif health:
        frame = frame[frame["health_state"] == health]
    emit(frame, st.format(fmt), st.out(output), table_columns=DEVICE_TABLE)


def profile(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="Data profile, e.g. energyvalve3/1.2.")],
    search: Annotated[
        str | None, typer.Option(help="Only datapoints whose description or name contain this.")
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Show a data profile's datapoints (find energy datapoints with --search Energy)."""
    st = state_of(ctx)
    with st.client() as client:
        definition = client.dataprofiles.get(ref)
    points = definition.find(search) if search else list(definition.datapoints)
    emit(datapoint_rows(points, definition), st.format(fmt), st.out(output), columns=None)


def datapoints(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device id (or exact serial number or name).")],
    search: Annotated[
        str | None, typer.Option(help="Only datapoints whose description or name contain this.")
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """List a device's datapoints with their latest values."""
    st = state_of(ctx)
    with st.client() as client:
        found = find_device(client, device)
        definition = profile_of(client, found)
    latest = found.state.values if found.state is not None else {}
    points = definition.find(search) if search else list(definition.datapoints)
    rows = datapoint_rows(points, definition)
    for row in rows:
        row["value"] = latest.get(row["datapoint_id"])
    emit(
        rows,
        st.format(fmt),
        st.out(output),
        table_columns=("datapoint_id", "name", "description", "unit", "access", "value"),
    )


def state(  # noqa: PLR0917
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device id (or exact serial number or name).")],
    at: Annotated[
        str | None,
        typer.Option(
            help="The state at this time (ISO 8601, local time in --tz if no zone, or '2h' "
            "ago); default: the latest."
        ),
    ] = None,
    tz: TzOption = DEFAULT_TZ,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Show a device's state: every datapoint's value, with names and units."""
    st = state_of(ctx)
    when = parse_when(at, "--at", tz=tz)
    with st.client() as client:
        found = find_device(client, device)
        data = client.devices.data(found.id, at=when)
        definition = client.dataprofiles.for_device(found)
    rows = state_rows(found, data.values, data.timestamp, definition)
    moment = records([{"t": data.timestamp}])[0]["t"] or "(no timestamp)"
    emit(
        rows,
        st.format(fmt),
        st.out(output),
        table_columns=("datapoint_id", "name", "value", "unit", "display"),
        title=f"{found.name} at {moment}",
    )


def state_rows(
    device: Device, values: dict[str, Any], timestamp: Any, definition: DataProfile | None
) -> list[dict[str, Any]]:
    """One row per datapoint of a state, with its name, unit and a human-readable value."""
    from belimo_cloud import units

    known = {dp.id: dp for dp in definition.datapoints} if definition is not None else {}
    rows: list[dict[str, Any]] = []
    for datapoint_id, value in values.items():
        dp = known.get(datapoint_id)
        unit = dp.unit if dp is not None else None
        rows.append(
            {
                "device_id": device.id,
                "timestamp": timestamp,
                "datapoint_id": datapoint_id,
                "name": dp.name if dp is not None else None,
                "value": value,
                "unit": unit,
                "display": _display(value, unit, dp.name if dp is not None else None, units),
            }
        )
    return rows


def _display(value: Any, unit: str | None, name: str | None, units: Any) -> str | None:
    """The value in its usual unit (J as kWh, K as degC), for reading; None if not numeric."""
    if unit is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # A temperature difference has no offset: 5 K of dT is 5 degC, not -268 degC.
    delta = bool(name) and "delta" in str(name).casefold()
    if delta and unit == "kelvin":
        return f"{float(value):,.2f} K"
    try:
        target = units.default_target(unit)
        shown = float(units.convert(float(value), unit, target, delta=delta))
    except Exception:
        return None
    label = units.display_unit(target)
    return f"{shown:,.2f} {label}".strip()


def register(app: typer.Typer) -> None:
    """Add this family's commands to the app."""
    panel = "Devices and data"
    app.command(rich_help_panel=panel)(devices)
    app.command(rich_help_panel=panel)(profile)
    app.command(rich_help_panel=panel)(datapoints)
    app.command(rich_help_panel=panel)(state)
