"""`belimo sync`, `export`, `store info`: the local store of fleet history."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.history import (
    AggregationOption,
    ResolutionOption,
    check_aggregation,
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
    not_in_future,
    parse_resolution,
    parse_when,
    state_of,
)
from belimo_cloud.cli.progress import working
from belimo_cloud.cli.render import emit, emit_record, note, progress_stream
from belimo_cloud.errors import DataError

__all__ = ["StoreOption", "register"]

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Store file (DuckDB); default: belimo/store.duckdb in the user data dir."
    ),
]

SyncFromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Start (inclusive): ISO date or time (local time in --tz if no zone), '30d' "
        "(ago), or 'first' (each device's first data). Default: where the store stops, "
        "else the last 30 days.",
        show_default=False,
    ),
]

store_app = typer.Typer(name="store", help="Inspect the local store.", no_args_is_help=True)


class ExportFormat(StrEnum):
    """File formats of `belimo export`."""

    csv = "csv"
    parquet = "parquet"
    delta = "delta"


def sync(  # noqa: PLR0917
    ctx: typer.Context,
    search: Annotated[
        str | None, typer.Option(help="Devices whose display name or serial contain this.")
    ] = None,
    dataprofile: DataProfileOption = None,
    old_profile: LegacyProfileOption = None,
    state: Annotated[
        str | None, typer.Option(help="registered, unregistered or all (registration state).")
    ] = None,
    device: Annotated[
        list[str] | None, typer.Option("--device", help="A device id (repeatable).")
    ] = None,
    datapoints: Annotated[
        str,
        typer.Option(
            help="Comma-separated ids, names or semantic names (heating_energy, cooling_energy, "
            "power, flow, supply_temperature, return_temperature ...)."
        ),
    ] = "heating_energy",
    start: SyncFromOption = None,
    end: ToOption = None,
    resolution: ResolutionOption = "15m",
    aggregation: AggregationOption = "last",
    tz: TzOption = DEFAULT_TZ,
    store: StoreOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    follow_: Annotated[
        bool,
        typer.Option(
            "--follow", help="Then keep the store current from the change-stream (Ctrl-C stops)."
        ),
    ] = False,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="With --follow: stop after this long (30s, 5m, 1h)."),
    ] = None,
) -> None:
    """Fetch what the store lacks (plus a settled horizon) for the selected devices.

    Without --from, series already stored continue from where they are and new ones get the
    last 30 days; `--from first` fetches each device's whole history. The plan is printed
    before the first request. Dates without a zone are local time in --tz. With --follow
    the store is then kept current from the change-stream: every change, every reconnect and
    a schedule trigger an ordinary incremental sync of complete buckets.
    """
    from belimo_cloud.store import Store
    from belimo_cloud.syncer import DEFAULT_SPAN, auto_progress
    from belimo_cloud.syncer import sync as run_sync

    st = state_of(ctx)
    now = datetime.now(UTC)
    whole = start is not None and start.strip().lower() == "first"
    begin = None if whole else parse_when(start, "--from", now=now, tz=tz)
    stop = parse_when(end, "--to", now=now, tz=tz)
    not_in_future(begin, "--from", now=now)
    not_in_future(stop, "--to", now=now)
    check_range(begin, stop)
    parse_resolution(resolution)
    how = check_aggregation(aggregation)
    chosen_profile = data_profile(dataprofile, old_profile)
    names = tuple(p.strip() for p in datapoints.split(",") if p.strip())
    if duration is not None and not follow_:
        raise CommandError("--duration goes with --follow")
    if follow_ and stop is not None:
        raise CommandError("--follow has no end: leave out --to")
    # What to sync means the same for one sync and for following the change-stream.
    what: dict[str, Any] = {
        "search": search,
        "profile": chosen_profile,
        "state": state.upper() if state else None,
        "device_ids": device or None,
        "datapoints": names,
        "start": begin,
        "resolution": resolution,
        "aggregation": how,
        "default_span": None if whole else DEFAULT_SPAN,
    }
    with st.client() as client, Store(store) as target, _unknown_datapoint_is_not_found():
        if follow_:
            from belimo_cloud.cli.live_cmd import parse_duration
            from belimo_cloud.syncer.follow import follow

            followed = follow(
                client,
                target,
                duration=parse_duration(duration),
                on_sync=lambda r: note(f"synced {r.points} points"),
                **what,
            )
            note(followed.summary())
            return
        report = run_sync(
            client, target, end=stop, progress=auto_progress(progress_stream()), **what
        )
    emit_record(report.to_dict(), st.format(fmt), st.out(output))


def export(  # noqa: PLR0917
    ctx: typer.Context,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Target: a CSV file, or a directory for Parquet (zstd, partitioned by datapoint "
            "and device) or a Delta table.",
        ),
    ],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", case_sensitive=False, help="csv, parquet or delta."),
    ] = ExportFormat.parquet,
    store: StoreOption = None,
    device: Annotated[
        list[str] | None, typer.Option("--device", help="Only this device id (repeatable).")
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    tz: TzOption = DEFAULT_TZ,
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace an existing target, only once the new export is complete "
            "(never the store itself)."
        ),
    ] = False,
) -> None:
    """Export stored samples in long format (device_id, datapoint_id, timestamp, value ...)."""
    from belimo_cloud.store import Store, default_store_path

    begin = parse_when(start, "--from", tz=tz)
    stop = parse_when(end, "--to", tz=tz)
    check_range(begin, stop)
    path = store if store is not None else default_store_path()
    if not path.exists():
        raise CommandError(f"store {path} does not exist; fill it with `belimo sync` first")
    with Store.open(path, read_only=True) as source, working("Exporting") as step:
        step(f"{fmt.value} to {output}")
        rows = source.export(
            output,
            fmt.value,
            device_ids=device or None,
            start=begin,
            end=stop,
            overwrite=overwrite,
        )
    note(f"exported {rows} row{'s' if rows != 1 else ''} ({fmt.value}) to {output}")


@contextlib.contextmanager
def _unknown_datapoint_is_not_found() -> Iterator[None]:
    """The syncer names an unknown datapoint with a DataError; to the user it is not found."""
    try:
        yield
    except DataError as exc:
        if "datapoint" in str(exc):
            raise CommandError(str(exc), ExitStatus.NOT_FOUND) from exc
        raise


@store_app.command("info")
def info(
    ctx: typer.Context,
    store: StoreOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """List the stored series with their ranges, gaps and the file size."""
    from belimo_cloud.store import Store, default_store_path

    st = state_of(ctx)
    path = store if store is not None else default_store_path()
    with Store.open(path, read_only=path.exists()) as source:
        summary = source.info()
    note(
        f"store {summary.path}: {summary.size_mb:.1f} MB, {summary.devices} devices, "
        f"{len(summary.series)} series, {summary.rows} rows"
        + ("" if summary.exists else " (no file yet: run `belimo sync`)")
    )
    emit(summary.series_frame(), st.format(fmt), st.out(output))


@store_app.command("compact")
def compact(store: StoreOption = None) -> None:
    """Rewrite the store in (series, time) order: the smallest file after a large sync.

    The old file stays whole until the new one is complete; the points are the same.
    """
    from belimo_cloud.store import Store, default_store_path

    path = store if store is not None else default_store_path()
    if not path.exists():
        raise CommandError(f"store {path} does not exist; fill it with `belimo sync` first")
    before = path.stat().st_size
    with Store(path) as target, working("Compacting") as step:
        step(str(path))
        points = target.compact()
    after = path.stat().st_size
    note(f"compacted {path}: {points:,} points, {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")


def register(app: typer.Typer) -> None:
    """Add this family's commands to the app."""
    panel = "Local store"
    app.command(rich_help_panel=panel)(sync)
    app.command(rich_help_panel=panel)(export)
    app.add_typer(store_app, rich_help_panel=panel)
