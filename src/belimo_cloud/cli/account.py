"""`belimo config`, `login`, `logout`, `stats`: the account and the fleet at a glance."""

from __future__ import annotations

import typer

from belimo_cloud.cli.convert import as_record
from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import FormatOption, OutputOption, state_of
from belimo_cloud.cli.render import emit_record, redact, say

__all__ = ["register"]


def config(ctx: typer.Context, fmt: FormatOption = None, output: OutputOption = None) -> None:
    """Show the effective settings (options > BELIMO_* variables > config file), secrets masked."""
    from belimo_cloud.config import config_path

    state = state_of(ctx)
    settings = state.settings()
    # masked() hides secrets and URL user info; redact() again in case a value holds a URL.
    shown = {key: redact(value) for key, value in settings.masked().items()}
    record: dict[str, object] = {**shown, "config_file": str(config_path())}
    emit_record(record, state.format(fmt), state.out(output))


def login(ctx: typer.Context) -> None:
    """Log in now and cache the token for this profile (later commands reuse it)."""
    state = state_of(ctx)
    with state.client() as client:
        saved = client.session.login()
        settings = client.settings
        who = settings.username or settings.client_id or "(client credentials)"
        where = f"logged in to {redact(settings.api_url)} as {who} (profile '{settings.profile}')"
        if saved.failed:
            say(f"{where}; the token was NOT cached")
            raise CommandError(
                f"could not cache the token ({saved.error}); later commands will log in again. "
                "Check the cache directory's permissions or set BELIMO_TOKEN_CACHE_DIR"
            )
        if saved.done:
            say(
                f"{where}; token cached in {saved.path}" if saved.path else f"{where}; token cached"
            )
        else:
            say(f"{where}; token caching is off, so each command logs in again")


def logout(ctx: typer.Context) -> None:
    """Forget this profile's cached token (in memory and on disk)."""
    state = state_of(ctx)
    with state.client() as client:
        removed = client.session.logout()
        name = client.settings.profile
    if removed.failed:
        raise CommandError(
            f"the cached token of profile '{name}' could not be removed ({removed.error}); "
            "delete the file by hand"
        )
    if removed.done:
        say(f"logged out: removed the cached token of profile '{name}'")
    else:
        say(f"logged out: profile '{name}' had no cached token")


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
