"""Ctrl-C during a DuckDB write: noticed even when DuckDB swallows it, without taking over SIGINT.

Python's default SIGINT handler raises KeyboardInterrupt; DuckDB, running a statement, may turn
that into "Query interrupted", an aborted transaction, a failed commit, or nothing at all. For
the length of one write the default handler is wrapped by one that also records the signal,
so the write ends as a KeyboardInterrupt whatever DuckDB made of it.

Any other disposition is left exactly as found: an inherited SIG_IGN (a background job started
by a script) stays ignored, SIG_DFL stays the default, and an application's own handler keeps
running alone. Only the main thread may install handlers, so other threads watch nothing.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType


class SigintWatch:
    """``with SigintWatch() as watch:`` ... ``watch.fired`` tells whether Ctrl-C came.

    The handler it replaced is put back on exit (and by ``restore()``), unless someone else
    installed a handler meanwhile, which is then left alone.
    """

    def __init__(self) -> None:
        self.fired = False
        self._installed = False

    def __enter__(self) -> SigintWatch:
        if threading.current_thread() is not threading.main_thread():
            return self
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return self
        signal.signal(signal.SIGINT, self._record)
        self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()

    @property
    def active(self) -> bool:
        """Whether this watch's handler is installed now."""
        return self._installed

    def restore(self) -> None:
        """Put back the handler this watch replaced (idempotent)."""
        if not self._installed or threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers; the writer's own exit restores
        self._installed = False
        if signal.getsignal(signal.SIGINT) == self._record:
            # Only Python's default handler is ever replaced, so that is what goes back.
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.fired = True
        signal.default_int_handler(signum, frame)
