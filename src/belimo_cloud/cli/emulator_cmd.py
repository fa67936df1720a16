"""`belimo emulator serve`: the embedded demo cloud in the foreground, for the CLI and notebooks."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

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
    now: Annotated[
        str | None,
        typer.Option(help="Freeze the emulator's clock at this UTC time (default: wall clock)."),
    ] = None,
    token_ttl: Annotated[float, typer.Option(help="Access token lifetime [s].")] = 3600.0,
    rate_limit: Annotated[
        float, typer.Option(help="Data requests per second per token (0: no limit).")
    ] = 2.0,
    error_rate: Annotated[
        float, typer.Option(help="Fraction of API requests answered 503 (0..1).")
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option(help="Fraction of connections closed without an answer (0..1).")
    ] = 0.0,
    latency_ms: Annotated[float, typer.Option(help="Added latency per request [ms].")] = 0.0,
) -> None:
    """Serve the demo cloud until Ctrl-C (log in with the tutorial's placeholder credentials).

    Stopping it with Ctrl-C is its normal end, so it exits 0 then.
    """
    from belimo_cloud.emulator import EmulatorOptions
    from belimo_cloud.emulator.server import serve as serve_forever

    require(0 <= port <= 65535, f"--port: {port} is not a port number (0..65535)")
    for name, rate in (("--error-rate", error_rate), ("--drop-rate", drop_rate)):
        require(0.0 <= rate <= 1.0, f"{name}: {rate:g} is not a fraction; use 0..1")
    for name, value in (
        ("--token-ttl", token_ttl),
        ("--rate-limit", rate_limit),
        ("--latency-ms", latency_ms),
    ):
        require(value >= 0, f"{name}: {value:g} must not be negative")
    options = EmulatorOptions(
        seed=seed,
        now=parse_when(now, "--now"),
        token_ttl=token_ttl,
        rate_limit=rate_limit,
        error_rate=error_rate,
        drop_rate=drop_rate,
        latency_ms=latency_ms,
    )
    # Ctrl-C is how a foreground server is meant to stop: not a failure.
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(options, host=host, port=port)
    note("demo cloud stopped")


def register(app: typer.Typer) -> None:
    """Add the `emulator` command group to the app."""
    app.add_typer(emulator_app, rich_help_panel="Demo")
