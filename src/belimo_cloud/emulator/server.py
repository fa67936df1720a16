"""Run the emulator under uvicorn: in the foreground (CLI) or on a background thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from belimo_cloud.emulator.options import EmulatorOptions

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from belimo_cloud.emulator.http_common import EmulatorState

_START_TIMEOUT_S = 30.0


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound before uvicorn starts so that port 0 yields a known port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without it, a response written as headers + body
        # waits for the client's delayed ACK (~40 ms) on keep-alive connections.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _base_url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(app: FastAPI, *, foreground: bool) -> uvicorn.Server:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_config=None,  # leave the host program's logging alone
        log_level="info" if foreground else "warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


@contextmanager
def running_emulator(
    options: EmulatorOptions | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Start the emulator on a free loopback port in a background thread; yield its base URL.

    The base URL (e.g. ``http://127.0.0.1:53211``) serves both ``/oauth/token`` and ``/api/v3``.
    The server is stopped when the block exits.
    """
    from belimo_cloud.emulator.app import create_app

    app = create_app(options or EmulatorOptions())
    server = _server(app, foreground=False)
    sock = _bind(host, port)
    # uvicorn installs signal handlers only on the main thread; this one must not touch them.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="belimo-emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the emulator stopped while starting; see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start within {_START_TIMEOUT_S:g} s")
            time.sleep(0.002)
        yield _base_url(host, sock)
    finally:
        # Open change streams never end by themselves: end them, or shutdown waits for them.
        state: EmulatorState = app.state.emulator
        state.backend.streams.drop(abort=False)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(options: EmulatorOptions, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve in the foreground until interrupted; prints the base URL once listening."""
    from belimo_cloud.emulator.app import create_app

    app = create_app(options)
    state: EmulatorState = app.state.emulator
    warm = getattr(state.fleet, "warm", None)
    if callable(warm):
        # Integrate the counters up to now before listening, so the first request is fast.
        warm(state.now())
    # The fleet clock starts when the server listens, not before the warm-up above.
    state.backend.clock.restart()
    server = _server(app, foreground=True)
    sock = _bind(host, port)
    url = _base_url(host, sock)
    clock = state.backend.clock
    moving = "frozen" if clock.speed == 0 else f"running at {clock.speed:g}x real time"
    valves = sum(1 for d in state.fleet.devices_of(state.demo_tenant) if d.kind != "gateway")
    print(
        f"Belimo Cloud emulator listening on {url}\n"
        f"  token URL  {url}/oauth/token\n"
        f"  API        {url}/api/v3\n"
        f"  fleet clock {state.now().isoformat().replace('+00:00', 'Z')} ({moving})\n"
        f"  fleet      {valves} energy valves for the demo login (seed {options.seed})\n"
        "  demo login: client __ClientIDPlaceHolder__ / __ClientSecretPlaceHolder__, "
        "user __UserPlaceHolder__ / __PasswordPlaceHolder__ "
        "(ask for scope public.write to write)\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
