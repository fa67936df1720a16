"""`belimo serve`: the web dashboard over a store, with live values when an account is set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import TzOption, state_of
from belimo_cloud.cli.render import note, say

if TYPE_CHECKING:
    from belimo_cloud.cli.options import State
    from belimo_cloud.client import Client
    from belimo_cloud.web import LiveFeed

__all__ = [
    "dashboard_url",
    "demo_store",
    "open_hint",
    "register",
    "serve",
]


def dashboard_url(host: str, port: int, token: bool = False) -> str:
    """The address to open; with a token, where it goes (the token itself never prints)."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}/" + ("?token=<your --token>" if token else "")


def demo_store(
    client: Client,
    path: Path,
    *,
    start: str,
    end: str,
    resolution: str = "1h",
    profile: str = "energyvalve3",
) -> Path:
    """Sync what the dashboard shows into the store at ``path`` (for `belimo demo`).

    Every valve of ``profile`` between ``start`` and ``end`` (local dates): counters as
    ``last`` and hydronic quantities as ``avg`` buckets of ``resolution``.
    """
    from belimo_cloud.store import Store
    from belimo_cloud.syncer import NullProgress, sync
    from belimo_cloud.web.data import AVERAGED, COUNTERS

    with Store(path) as store:
        for names, aggregation in ((COUNTERS, "last"), (AVERAGED, "avg")):
            sync(
                client,
                store,
                profile=profile,
                datapoints=names,
                start=start,
                end=end,
                resolution=resolution,
                aggregation=aggregation,
                progress=NullProgress(),
            )
    return path


def open_hint(path: Path, port: int = 8050) -> str:
    """How to open the dashboard on a store (the line `belimo demo` prints)."""
    return (
        f"dashboard: belimo serve --store {path}  then open http://127.0.0.1:{port}/ "
        "(Ctrl-C stops it)"
    )


def _live_feed(state: State, enabled: bool | None) -> tuple[LiveFeed | None, str]:
    """A feed when an account is configured (and not turned off), else why there is none."""
    from belimo_cloud.errors import ConfigError
    from belimo_cloud.web import LiveFeed

    if enabled is False:
        return None, "live values off (--no-live)"
    try:
        settings = state.settings()
    except ConfigError as exc:
        if enabled:
            raise
        return None, f"live values off ({exc})"
    if not (settings.client_id and settings.client_secret):
        if enabled:
            raise CommandError("--live needs an account: run `belimo login` or set BELIMO_*")
        return None, "live values off (no account configured)"

    def connect() -> Client:
        client = state.client()
        client.login()
        return client

    return LiveFeed(connect), f"live values from {settings.api_url}"


def serve(  # noqa: PLR0917
    ctx: typer.Context,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="The store to show (opened read-only). Default: the user's."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond loopback it needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8050,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="BELIMO_SERVE_TOKEN",
            show_envvar=True,
            help="Token every request must carry (needed to listen beyond loopback).",
        ),
    ] = None,
    tz: TzOption = "Europe/Zurich",
    live: Annotated[
        bool | None,
        typer.Option(
            "--live/--no-live",
            help="Live values from the change-stream (default: when an account is configured).",
        ),
    ] = None,
) -> None:
    """Serve the web dashboard: fleet, device and compare pages over the store.

    The store is opened read-only, only while it is read, so `belimo sync` can run beside it;
    the pages follow the file when it changes. Charts work offline (Plotly is served from its
    installed package). Listening beyond loopback needs --token.
    """
    import uvicorn

    from belimo_cloud.cli.energy_cmd import check_tz
    from belimo_cloud.store import default_store_path
    from belimo_cloud.web import ServeConfig, StoreData, check_binding, create_app
    from belimo_cloud.web.assets import plotly_js

    check_tz(tz)
    check_binding(host, token)
    plotly_js()
    path = (store or default_store_path()).expanduser()
    if not path.is_file():
        raise CommandError(f"no store at {path}; fill one first with `belimo sync --store {path}`")
    state = state_of(ctx)
    config = ServeConfig(store=path, host=host, port=port, token=token, tz=tz)
    data = StoreData(path, tz=tz)
    note(f"reading {path} (a year of a fleet takes a few seconds)")
    data.snapshot()  # a broken store fails here, in one line, before anything listens
    feed, live_note = _live_feed(state, live)
    app = create_app(config, live=feed, data=data)
    note(live_note)
    say(f"dashboard on {dashboard_url(host, port, token is not None)} (Ctrl-C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    """Add the serve command to the app."""
    app.command(rich_help_panel="Analytics")(serve)
