"""`belimo report`: one self-contained HTML file on a fleet and a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from belimo_cloud.cli.energy_cmd import (
    DEFAULT_SPAN,
    DeviceOption,
    ProfileOption,
    SearchOption,
    StoreReadOption,
    TzOption,
    check_tz,
    period_range,
)
from belimo_cloud.cli.history import FromOption, ToOption
from belimo_cloud.cli.options import state_of
from belimo_cloud.cli.render import note
from belimo_cloud.cli.sources import Selection, load

__all__ = ["REPORT_NAMES", "register"]

# What the report reads of each Energy Valve (by default.name): counters and hydronics.
REPORT_NAMES = (
    "Heating_E_J",
    "Cooling_E_J",
    "AbsFlow_Fb_m3s",
    "RelFlow_Fb_Rel2Vmax",
    "T1_remote_K",
    "T2_embeded_K",
    "DeltaT_K",
    "SpDeltaT_applied_K",
    "AbsPower_Fb_W",
)


def report(  # noqa: PLR0917
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    store: StoreReadOption = None,
    search: SearchOption = None,
    profile: ProfileOption = None,
    device: DeviceOption = None,
    start: FromOption = None,
    end: ToOption = None,
    tz: TzOption = "Europe/Zurich",
    title: Annotated[str | None, typer.Option(help="The report's title.")] = None,
) -> None:
    """Write an HTML report: fleet status, consumption, data quality and hydronic findings."""
    from belimo_cloud.report import write_report

    st = state_of(ctx)
    check_tz(tz)
    begin, stop = period_range(
        start, end, DEFAULT_SPAN["month"], from_store=store is not None, tz=tz
    )
    selection = Selection(
        search=search,
        profile=profile,
        device_ids=tuple(device or ()),
        names=REPORT_NAMES,
        start=begin,
        end=stop,
    )
    source = load(st, selection, store)
    path = write_report(
        output,
        source.devices,
        source.catalogue,
        source.samples,
        start=begin,
        end=stop,
        tz=tz,
        title=title,
        resolution=source.resolution,
    )
    note(f"wrote the report on {len(source.devices)} devices to {path}")


def register(app: typer.Typer) -> None:
    """Add the report command to the app."""
    app.command(rich_help_panel="Analytics")(report)
