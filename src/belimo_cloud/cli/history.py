"""`belimo history`: resampled timeseries of one device's datapoints (the tutorial's step 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from belimo_cloud.cli.devices import find_device, profile_of
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.options import (
    DEFAULT_TZ,
    FormatOption,
    FromOption,
    OutputOption,
    ToOption,
    TzOption,
    check_range,
    parse_resolution,
    parse_when,
    state_of,
)
from belimo_cloud.cli.progress import working
from belimo_cloud.cli.render import OutputFormat, emit, warn
from belimo_cloud.errors import DataError

if TYPE_CHECKING:
    from belimo_cloud.client.models import Datapoint, DataProfile

__all__ = [
    "AGGREGATIONS",
    "LARGE_FETCH",
    "FromOption",
    "ToOption",
    "check_aggregation",
    "register",
    "resolve_datapoints",
]


# How the server reduces the samples of one bucket (counters want `last`).
AGGREGATIONS = ("last", "first", "min", "max", "avg", "mean", "sum", "count")


ResolutionOption = Annotated[
    str, typer.Option("--resolution", "-r", help="Bucket size: 30s, 15m, 1h, 1d, 1h30m ...")
]
# Past this many rows a fetch takes minutes and a table is unreadable: say so before fetching.
LARGE_FETCH = 100_000
AggregationOption = Annotated[
    str,
    typer.Option("--aggregation", "-a", help=f"Value per bucket: {', '.join(AGGREGATIONS)}."),
]


def check_aggregation(value: str) -> str:
    """The aggregation in lower case; a usage error for an unknown one."""
    lowered = value.strip().lower()
    if lowered not in AGGREGATIONS:
        raise CommandError(
            f"--aggregation: unknown aggregation {value!r}; use one of {', '.join(AGGREGATIONS)}"
        )
    return lowered


def resolve_datapoints(definition: DataProfile, names: list[str]) -> list[Datapoint]:
    """Datapoints by id, default.name (Heating_E_J) or semantic name (heating_energy)."""
    from belimo_cloud.client.semantics import resolve

    found: list[Datapoint] = []
    for name in names:
        for part in (p.strip() for p in name.split(",")):
            if not part:
                continue
            try:
                found.append(resolve(definition, part))
            except DataError:
                raise CommandError(
                    f"datapoint {part!r} not found in profile {definition.key}; "
                    f"`belimo profile {definition.key}` lists them",
                    ExitStatus.NOT_FOUND,
                ) from None
    return found


def history(  # noqa: PLR0917
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device id (or exact serial number or name).")],
    datapoints: Annotated[
        list[str],
        typer.Argument(
            metavar="DP...",
            help="Datapoints: ids (evcloud.210), names (Heating_E_J) or semantic names "
            "(heating_energy, power, flow, supply_temperature ...).",
        ),
    ],
    start: FromOption = None,
    end: ToOption = None,
    resolution: ResolutionOption = "15m",
    aggregation: AggregationOption = "last",
    tz: TzOption = DEFAULT_TZ,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Fetch resampled history (long format: device_id, datapoint_id, timestamp, value).

    Default range: the day before --to (default now). Dates without a zone are local time in
    --tz. A table shows at most the first rows; --format csv -o FILE writes all of them.
    """
    st = state_of(ctx)
    now = datetime.now(UTC)
    stop = parse_when(end, "--to", now=now, tz=tz) or now
    begin = parse_when(start, "--from", now=now, tz=tz) or stop - timedelta(days=1)
    check_range(begin, stop)
    step = parse_resolution(resolution)
    how = check_aggregation(aggregation)
    chosen = st.format(fmt)
    with st.client() as client, working("Fetching history") as step_to:
        step_to("finding the device")
        found = find_device(client, device)
        definition = profile_of(client, found)
        points = resolve_datapoints(definition, datapoints)
        expected = ((stop - begin) // step + 1) * len(points)
        if expected > LARGE_FETCH:
            warn(
                f"about {expected:,} rows to fetch ({begin:%Y-%m-%d} to {stop:%Y-%m-%d} at "
                f"{resolution}); this may take minutes. Narrow --from/--to or coarsen "
                "--resolution"
                + (", or use --format csv -o FILE" if chosen is OutputFormat.table else "")
            )
        step_to(f"{len(points)} datapoints of {found.name}")
        frame = client.history.timeseries(
            found.id,
            [dp.id for dp in points],
            begin,
            stop,
            resolution=step,
            aggregation=how,
        )
    emit(frame, chosen, st.out(output))


def register(app: typer.Typer) -> None:
    """Add this family's commands to the app."""
    app.command(rich_help_panel="Devices and data")(history)
