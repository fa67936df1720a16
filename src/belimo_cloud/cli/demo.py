"""`belimo demo`: the tutorial's whole story on the embedded demo cloud, in under a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the figure and the report.")
    ] = Path("belimo-demo"),
) -> None:
    """Run the tutorial against the embedded demo cloud: log in, select, fetch, plot."""
    from belimo_cloud.cli.demo_story import run

    run(out)


def register(app: typer.Typer) -> None:
    """Add the demo command to the app."""
    app.command(rich_help_panel="Demo")(demo)
