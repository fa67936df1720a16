"""Run the emulator app under uvicorn: in the foreground (CLI) or on a background thread (tests, demo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from belimo_cloud.emulator.options import EmulatorOptions


@contextmanager
def running_emulator(
    options: EmulatorOptions | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Start the emulator on a free loopback port in a background thread; yield its base URL.

    The base URL (e.g. ``http://127.0.0.1:53211``) serves both ``/oauth/token`` and ``/api/v3``.
    The server is stopped when the block exits.
    """
    raise NotImplementedError  # filled in by the emulator-app work
    yield ""  # pragma: no cover


def serve(options: EmulatorOptions, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve in the foreground until interrupted; prints the base URL once listening."""
    raise NotImplementedError
