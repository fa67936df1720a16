"""A status line for work that may take a while: silent when it is quick, visible when it is not.

    with working("Computing energy") as step:
        step("device 3/34")

Nothing is ever written to stdout (it carries the command's output). Work that ends within
``delay`` seconds (2 s) shows nothing at all. Past that, a terminal gets one spinner line on
stderr, rewritten in place and erased at the end; a pipe or log gets one plain line about every
``every`` seconds (10 s) and a closing line, so that a CI log shows the command is alive.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from belimo_cloud.config import progress_wanted

__all__ = ["Step", "enabled", "set_enabled", "working"]

Step = Callable[[str], None]

_SPINNER = "|/-\\"
_TICK = 0.1  # seconds between spinner frames on a terminal
# A one-element list rather than a global statement: the switch the app flips for --quiet runs.
_switch = [progress_wanted()]


def set_enabled(value: bool) -> None:
    """Turn status lines on or off for this process (BELIMO_PROGRESS=0 sets the default to off)."""
    _switch[0] = value


def enabled() -> bool:
    """Whether status lines are shown."""
    return _switch[0]


class _Status:
    """The shared state of one `working` block; a daemon thread draws it."""

    def __init__(self, label: str, stream: TextIO, delay: float, every: float) -> None:
        self.label = label
        self.stream = stream
        self.delay = delay
        self.every = every
        self.text = ""
        self.started = time.monotonic()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.shown = False
        self.width = 0
        isatty = getattr(stream, "isatty", None)
        try:
            self.tty = bool(callable(isatty) and isatty())
        except (OSError, ValueError):
            self.tty = False

    def update(self, text: str) -> None:
        # Only the first line of a status counts: a line break would break the in-place redraw.
        with self.lock:
            self.text = " ".join(str(text).split())

    def run(self) -> None:
        if self.done.wait(self.delay):
            return
        if self.tty:
            frame = 0
            while not self.done.wait(_TICK):
                self._draw(f"{_SPINNER[frame % len(_SPINNER)]} {self._message()}")
                frame += 1
        else:
            self._line(f"{self._message()} ...")
            while not self.done.wait(self.every):
                self._line(f"{self._message()} ...")

    def finish(self, failed: bool) -> None:
        self.done.set()
        with self.lock:
            if not self.shown:
                return
            if self.tty:
                self._write("\r" + " " * self.width + "\r")
            elif not failed:
                elapsed = time.monotonic() - self.started
                self._write(f"{self.label}: done in {_elapsed(elapsed)}\n")

    def _message(self) -> str:
        with self.lock:
            text = self.text
        elapsed = _elapsed(time.monotonic() - self.started)
        return f"{self.label}: {text} ({elapsed})" if text else f"{self.label} ({elapsed})"

    def _draw(self, text: str) -> None:
        with self.lock:
            if self.done.is_set():
                return
            columns = _columns() - 1
            text = text[:columns]
            pad = max(0, self.width - len(text))
            self.width = len(text)
            self.shown = True
            self._write("\r" + text + " " * pad)

    def _line(self, text: str) -> None:
        with self.lock:
            if self.done.is_set():
                return
            self.shown = True
            self._write(text + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            # A closed or broken stderr must never fail the work it reports on.
            self.done.set()


def _columns() -> int:
    try:
        return max(20, os.get_terminal_size(sys.stderr.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        return 80


def _elapsed(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _ignore(_text: str) -> None:
    return None


@contextmanager
def working(
    label: str, *, stream: TextIO | None = None, delay: float = 2.0, every: float = 10.0
) -> Iterator[Step]:
    """Show ``label`` (and the latest text given to the yielded ``step``) while the block runs.

    Writes to ``stream`` (default: stderr at the time of the call), never to stdout; shows
    nothing when the block ends within ``delay`` seconds or when status lines are disabled.
    """
    if not _switch[0]:
        yield _ignore
        return
    status = _Status(label, stream if stream is not None else sys.stderr, delay, every)
    thread = threading.Thread(target=status.run, name=f"belimo-progress:{label}", daemon=True)
    thread.start()
    failed = True
    try:
        yield status.update
        failed = False
    finally:
        status.finish(failed)
        thread.join(timeout=1.0)
