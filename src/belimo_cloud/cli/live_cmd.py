"""`belimo watch`: live values from the change-stream, as a live table or as JSON lines.

On a terminal (and ``--format table``) the latest value of every watched datapoint is shown in
a table that updates in place; otherwise each event is one JSON line on stdout (or appended to
``-o FILE``), flushed at once, so that ``belimo watch | jq`` sees events as they happen:
``{"device_id", "display_name", "timestamp", "kind", "datapoints": {id: raw value}}``, where
``kind`` is "update", "backfill" (filled in from history after a reconnect) or "removed".
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from belimo_cloud.cli.devices import find_device
from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import FormatOption, OutputOption, parse_resolution, state_of
from belimo_cloud.cli.render import OutputFormat, note, say

if TYPE_CHECKING:
    from belimo_cloud.client.live import DeviceEvent, Subscription

__all__ = ["parse_duration", "register", "watch"]


def parse_duration(text: str | None) -> float | None:
    """Seconds from "90", "30s", "5m", "1h" (None stays None)."""
    if text is None:
        return None
    stripped = text.strip()
    try:
        seconds = float(stripped)
    except ValueError:
        seconds = parse_resolution(stripped, "--duration").total_seconds()
    if seconds <= 0:
        raise CommandError(f"--duration: {text!r} must be positive, e.g. 30s or 5m")
    return seconds


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out += [part.strip() for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(out))


class _Lines:
    """JSON lines (or CSV rows, one per sample) to stdout or appended to a file, flushed."""

    def __init__(self, fmt: OutputFormat, output: Path | None) -> None:
        self._csv = fmt is OutputFormat.csv
        self._file: TextIO | None = None
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            self._file = output.open("a", encoding="utf-8")
        self._header = False

    def _write(self, text: str) -> None:
        if self._file is None:
            say(text.rstrip("\n"))
            return
        self._file.write(text)
        self._file.flush()

    def event(self, event: DeviceEvent) -> None:
        doc = event.as_dict()
        if not self._csv:
            self._write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not self._header:
            writer.writerow(["device_id", "timestamp", "kind", "datapoint_id", "value"])
            self._header = True
        items = doc["datapoints"].items() or [("", "")]
        for dp, value in items:
            writer.writerow([doc["device_id"], doc["timestamp"] or "", doc["kind"], dp, value])
        self._write(buffer.getvalue())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class _Table:
    """The latest value per device and datapoint, redrawn in place on a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._latest: dict[tuple[str, str], tuple[str, Any, str, str]] = {}
        self._names: dict[str, str] = {}
        self._live = Live(self._render(), console=Console(), auto_refresh=False, transient=False)
        self._live.start()

    def _render(self) -> Any:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, show_edge=False)
        for name in ("device", "datapoint", "value", "timestamp", "source"):
            table.add_column(name)
        for (_device, dp), (name, value, stamp, kind) in sorted(self._latest.items()):
            table.add_row(name, dp, str(value), stamp, kind)
        return table

    def event(self, event: DeviceEvent) -> None:
        doc = event.as_dict()
        name = doc["display_name"] or self._names.get(event.device_id) or event.device_id
        self._names[event.device_id] = name
        if event.removed:
            for key in [k for k in self._latest if k[0] == event.device_id]:
                del self._latest[key]
        for dp, value in doc["datapoints"].items():
            self._latest[(event.device_id, dp)] = (name, value, doc["timestamp"] or "", doc["kind"])
        self._live.update(self._render(), refresh=True)

    def close(self) -> None:
        self._live.stop()


def watch(  # noqa: PLR0917 - the command's documented arguments and options
    ctx: typer.Context,
    devices: Annotated[
        list[str] | None,
        typer.Argument(help="Devices (id, serial number or name); none: every visible device."),
    ] = None,
    datapoints: Annotated[
        list[str] | None,
        typer.Option(
            "--datapoints",
            "-d",
            help="Datapoint ids or names, comma-separated or repeated; default: all.",
        ),
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="Stop after N events.")
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="Stop after this long, e.g. 30s, 5m, 1h or seconds."),
    ] = None,
    heartbeat_timeout: Annotated[
        float,
        typer.Option(
            "--heartbeat-timeout",
            min=0.1,
            help="Reconnect after this many seconds without a heartbeat.",
        ),
    ] = 120.0,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Watch live values: a table on a terminal, JSON lines otherwise (Ctrl-C stops)."""
    state = state_of(ctx)
    seconds = parse_duration(duration)
    out_fmt = state.format(fmt)
    out = state.out(output)
    with state.client() as client:
        device_ids = [find_device(client, ref).id for ref in _split(devices)]
        names = _split(datapoints)
        subscription = client.live.subscribe(
            device_ids or None, names or None, heartbeat_timeout=heartbeat_timeout
        )
        table_view = out_fmt is OutputFormat.table and out is None and sys.stdout.isatty()
        sink: _Lines | _Table = _Table() if table_view else _Lines(out_fmt, out)
        seen = 0
        try:
            seen = _pump(subscription, sink, count, seconds)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a watch without --count or --duration ends
        finally:
            subscription.close()
            sink.close()
        stats = subscription.stats
        note(
            f"{seen} event{'s' if seen != 1 else ''} ({stats.backfilled} from history after "
            f"{stats.reconnects} reconnect{'s' if stats.reconnects != 1 else ''}, "
            f"{stats.duplicates} repeat{'s' if stats.duplicates != 1 else ''} dropped)"
        )


def _pump(
    subscription: Subscription, sink: _Lines | _Table, count: int | None, seconds: float | None
) -> int:
    """Hand events to the sink until the count, the duration or the end of the stream."""
    deadline = None if seconds is None else time.monotonic() + seconds
    seen = 0
    while count is None or seen < count:
        wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
        if wait <= 0:
            break
        event = subscription.get(timeout=wait)
        if event is None:
            if subscription.closed:
                break
            continue
        sink.event(event)
        seen += 1
    return seen


PANEL = "Live values and writes"


def register(app: typer.Typer) -> None:
    """Add `belimo watch` to the app."""
    app.command("watch", rich_help_panel=PANEL)(watch)
