"""`belimo emulator serve`: the embedded demo cloud in the foreground, for the CLI and notebooks."""

from __future__ import annotations

import contextlib
import errno
import math
from typing import Annotated

import typer

from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import parse_when, require
from belimo_cloud.cli.render import note

__all__ = ["register"]

emulator_app = typer.Typer(
    name="emulator",
    help="The embedded demo cloud (an emulator of the Belimo Cloud API v3).",
    no_args_is_help=True,
)


@emulator_app.command()
def serve(  # noqa: PLR0917
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option(help="Seed of the generated fleet and its signals.")] = 0,
    fleet_size: Annotated[
        int | None,
        typer.Option(
            help="Give the demo tenant N energy valves: the 36 designed ones first, then "
            "generated buildings (default: the designed fleet alone).",
            metavar="N",
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            help="Start the fleet clock at this UTC time; frozen there unless --speed is given "
            "(default: the wall clock)."
        ),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            help="Run the fleet clock FACTOR times faster than real time (300: a 5-minute "
            "sample every second), from --now or the wall clock.",
            metavar="FACTOR",
        ),
    ] = None,
    job_delay: Annotated[
        float,
        typer.Option(help="Seconds until a device picks up a written job (its next contact)."),
    ] = 1.0,
    heartbeat: Annotated[
        float, typer.Option(help="Seconds between :heartbeat comments of a change stream.")
    ] = 30.0,
    token_ttl: Annotated[float, typer.Option(help="Access token lifetime, in seconds.")] = 3600.0,
    rate_limit: Annotated[
        float, typer.Option(help="Data requests per second per token (0: no limit).")
    ] = 2.0,
    error_rate: Annotated[
        float, typer.Option(help="Fraction of API requests answered 503 (0..1).")
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option(help="Fraction of connections closed without an answer (0..1).")
    ] = 0.0,
    latency_ms: Annotated[
        float, typer.Option(help="Added latency per request, in milliseconds.")
    ] = 0.0,
) -> None:
    """Serve the demo cloud until Ctrl-C (log in with the tutorial's placeholder credentials).

    Stopping it with Ctrl-C is its normal end, so it exits 0 then.
    """
    from belimo_cloud.emulator import EmulatorOptions
    from belimo_cloud.emulator.model.generated import check_fleet_size
    from belimo_cloud.emulator.server import serve as serve_forever

    require(0 <= port <= 65535, f"--port: {port} is not a port number (0..65535)")
    for name, rate in (("--error-rate", error_rate), ("--drop-rate", drop_rate)):
        require(0.0 <= rate <= 1.0, f"{name}: {rate:g} is not a fraction; use 0..1")
    for name, value in (
        ("--token-ttl", token_ttl),
        ("--rate-limit", rate_limit),
        ("--latency-ms", latency_ms),
        ("--job-delay", job_delay),
    ):
        require(math.isfinite(value) and value >= 0, f"{name}: {value:g} must not be negative")
    require(
        speed is None or (math.isfinite(speed) and 0 <= speed <= 1e7),
        f"--speed: {speed} must be a factor from 0 (frozen) to 10000000",
    )
    require(
        math.isfinite(heartbeat) and 0.05 <= heartbeat <= 3600,
        f"--heartbeat: {heartbeat:g} must be between 0.05 and 3600 seconds",
    )
    if fleet_size is not None:
        try:
            check_fleet_size(fleet_size)
        except ValueError as exc:
            raise CommandError(f"--fleet-size: {exc}") from None
    options = EmulatorOptions(
        seed=seed,
        fleet_size=fleet_size,
        now=parse_when(now, "--now"),
        token_ttl=token_ttl,
        rate_limit=rate_limit,
        error_rate=error_rate,
        drop_rate=drop_rate,
        latency_ms=latency_ms,
        speed=speed,
        job_delay=job_delay,
        heartbeat=heartbeat,
    )
    # Ctrl-C is how a foreground server is meant to stop: not a failure.
    with contextlib.suppress(KeyboardInterrupt):
        try:
            serve_forever(options, host=host, port=port)
        except OSError as exc:
            raise CommandError(_listen_failure(exc, host, port)) from None
    note("demo cloud stopped")


def _listen_failure(exc: OSError, host: str, port: int) -> str:
    """One line saying why the server could not listen, and what to do."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use; stop the other server "
            "or choose another port with --port (0 picks a free one)"
        )
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return f"cannot listen on {where}: no such address here; use --host 127.0.0.1"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied; use a port above 1023"
    return f"cannot listen on {where}: {exc.strerror or type(exc).__name__}"


def register(app: typer.Typer) -> None:
    """Add the `emulator` command group to the app."""
    app.add_typer(emulator_app, rich_help_panel="Demo")
