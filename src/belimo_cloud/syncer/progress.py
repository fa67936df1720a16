"""Progress of a sync: a rich bar on a terminal, plain log lines otherwise, or nothing.

The syncer never prints: it calls the progress object it was given. ``auto_progress()`` picks
the right one for a stream, which is what the command line passes.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

if TYPE_CHECKING:
    from belimo_cloud.syncer.report import SyncReport


@runtime_checkable
class SyncProgress(Protocol):
    """What a sync reports while it runs."""

    def start(self, *, devices: int, requests: int) -> None:
        """The plan is ready: this many devices and requests."""

    def advance(self, *, device_id: str, points: int, device_done: bool) -> None:
        """One request committed (``device_done`` when it was the device's last)."""

    def message(self, text: str) -> None:
        """A remark worth one line (skipped devices, interruption)."""

    def finish(self, report: SyncReport) -> None:
        """The run ended (also after an interruption or an error)."""


class NullProgress:
    """Reports nothing (the library default)."""

    def start(self, *, devices: int, requests: int) -> None:
        return None

    def advance(self, *, device_id: str, points: int, device_done: bool) -> None:
        return None

    def message(self, text: str) -> None:
        return None

    def finish(self, report: SyncReport) -> None:
        return None


class LogProgress:
    """Plain lines for logs and pipes: one at start, about every ``every`` seconds, one at end."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self._total = self._done = self._points = self._devices = self._devices_done = 0
        self._started = self._last = 0.0

    def start(self, *, devices: int, requests: int) -> None:
        self._total, self._devices = requests, devices
        self._started = self._last = time.monotonic()
        self._line(f"sync: {devices} devices, {requests} requests planned")

    def advance(self, *, device_id: str, points: int, device_done: bool) -> None:
        self._done += 1
        self._points += points
        self._devices_done += int(device_done)
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._line(
                f"sync: {self._done}/{self._total} requests, {self._devices_done}/"
                f"{self._devices} devices, {self._points:,} points, ETA {self._eta(now)}"
            )

    def message(self, text: str) -> None:
        self._line(f"sync: {text}")

    def finish(self, report: SyncReport) -> None:
        self._line(f"sync: {report.summary()}")

    def _eta(self, now: float) -> str:
        if not self._done or self._done >= self._total:
            return "-"
        remaining = (now - self._started) / self._done * (self._total - self._done)
        return time.strftime("%H:%M:%S", time.gmtime(remaining))

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class RichProgress:
    """A rich progress bar: requests with ETA, devices done and points stored."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._console = Console(file=stream if stream is not None else sys.stderr)
        self._progress = Progress(
            TextColumn("[bold]sync[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("requests"),
            TextColumn("{task.fields[devices]} devices"),
            TextColumn("{task.fields[points]:,} points"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._task: Any = None
        self._devices = self._devices_done = self._points = 0

    def start(self, *, devices: int, requests: int) -> None:
        self._devices = devices
        self._progress.start()
        self._task = self._progress.add_task(
            "sync", total=requests, devices=f"0/{devices}", points=0
        )

    def advance(self, *, device_id: str, points: int, device_done: bool) -> None:
        self._points += points
        self._devices_done += int(device_done)
        self._progress.update(
            self._task,
            advance=1,
            points=self._points,
            devices=f"{self._devices_done}/{self._devices}",
        )

    def message(self, text: str) -> None:
        self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def finish(self, report: SyncReport) -> None:
        self._progress.stop()
        self._console.print(report.summary(), markup=False, highlight=False, soft_wrap=True)


def auto_progress(stream: TextIO | None = None) -> SyncProgress:
    """A rich bar when ``stream`` (default stderr) is a terminal, plain log lines otherwise."""
    target = stream if stream is not None else sys.stderr
    isatty = getattr(target, "isatty", None)
    if callable(isatty) and isatty():
        return RichProgress(target)
    return LogProgress(target)
