"""`belimo config`, `login`, `logout`, `stats`: the account and the fleet at a glance."""

from __future__ import annotations

import typer

from belimo_cloud.cli.convert import as_record
from belimo_cloud.cli.options import FormatOption, OutputOption, state_of
from belimo_cloud.cli.render import emit_record, say

__all__ = ["register"]


def config(ctx: typer.Context, fmt: FormatOption = None, output: OutputOption = None) -> None:
    """Show the effective settings (options > BELIMO_* variables > config file), secrets masked."""
    from belimo_cloud.config import config_path

    state = state_of(ctx)
    settings = state.settings()
    record: dict[str, object] = {**settings.masked(), "config_file": str(config_path())}
    emit_record(record, state.format(fmt), state.out(output))


def login(ctx: typer.Context) -> None:
    """Log in now and cache the token for this profile (later commands reuse it)."""
    state = state_of(ctx)
    with state.client() as client:
        client.login()
        who = client.settings.username or client.settings.client_id or "(client credentials)"
        say(
            f"logged in to {client.settings.api_url} as {who} "
            f"(profile '{client.settings.profile}'; token cached)"
        )


def logout(ctx: typer.Context) -> None:
    """Forget this profile's cached token."""
    state = state_of(ctx)
    with state.client() as client:
        client.logout()
        say(f"logged out: the token of profile '{client.settings.profile}' is forgotten")


def stats(ctx: typer.Context, fmt: FormatOption = None, output: OutputOption = None) -> None:
    """Fleet counts: devices, online/offline, ok/problem (the tutorial's first look)."""
    state = state_of(ctx)
    with state.client() as client:
        record = as_record(client.devices.stats())
    emit_record(record, state.format(fmt), state.out(output))


def register(app: typer.Typer) -> None:
    """Add this family's commands to the app."""
    app.command(rich_help_panel="Account")(config)
    app.command(rich_help_panel="Account")(login)
    app.command(rich_help_panel="Account")(logout)
    app.command(rich_help_panel="Devices and data")(stats)
