"""The dashboard's HTML pages: the report's base layout and partials, plus the dashboard's own.

One template environment searches the dashboard's templates first, then the report's, so the
two share the shell, the style, the cards and the findings list (one look). Pages carry no
data for charts and no inline script: the browser fetches the JSON endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jinja2
import pandas as pd

from belimo_cloud.report.findings import finding_items
from belimo_cloud.report.format import local_time
from belimo_cloud.report.page import Card
from belimo_cloud.report.sections import build_page
from belimo_cloud.web.assets import plotly_version
from belimo_cloud.web.data import Snapshot
from belimo_cloud.web.fleet_views import device_rows

__all__ = ["PageRenderer", "Shell"]

FOOTER = "belimo-cloud dashboard, an unofficial toolkit for the Belimo Cloud API · times in {tz}"


@dataclass(frozen=True)
class Shell:
    """What the base layout needs of any page."""

    title: str
    footer: str
    lead: str = ""


class PageRenderer:
    """Renders the fleet, device and compare pages of a snapshot."""

    def __init__(self, tz: str) -> None:
        self.tz = tz

    @cached_property
    def env(self) -> jinja2.Environment:
        """Dashboard templates first, then the report's (base layout, style, partials)."""
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PackageLoader("belimo_cloud.web", "templates"),
                    jinja2.PackageLoader("belimo_cloud.report", "templates"),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        env.globals["plotly_version"] = plotly_version()
        return env

    def _render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def _shell(self, title: str, lead: str = "") -> Shell:
        return Shell(title=title, footer=FOOTER.format(tz=self.tz), lead=lead)

    def fleet(self, snap: Snapshot, problem: str, live: str) -> str:
        """Cards, connectivity and health, fleet energy, the device table and findings."""
        report = build_page(snap.fleet, figures=False)
        rows = device_rows(snap, self.tz)
        loaded = local_time(snap.loaded_at, self.tz)
        lead = (
            f"{len(rows)} devices · {snap.rows:,} stored samples · read {loaded} · "
            f"times in {self.tz}"
        )
        return self._render(
            "fleet.html.j2",
            page=self._shell("Fleet", lead),
            kind="fleet",
            cards=report.cards,
            findings=report.findings,
            empty=report.empty_findings,
            link_devices=True,
            rows=rows,
            kinds=sorted({r["kind"] for r in rows}),
            healths=sorted({r["health"] for r in rows}),
            profiles=sorted({r["profile"] for r in rows if r["profile"]}),
            problem=problem,
            live=live,
            device_id="",
        )

    def device(self, snap: Snapshot, device_id: str, live: str) -> str:
        """Live state, energy, hydronic charts, dT-flow, timeline and findings of one device."""
        row = next((r for r in device_rows(snap, self.tz) if r["device_id"] == device_id), None)
        info = row or {"name": device_id}
        findings = tuple(f for f in finding_items(snap.fleet) if f.device_id == device_id)
        frame = snap.device(device_id)
        res = frame.resolution("Heating_E_J") or frame.resolution("AbsPower_Fb_W")
        cards = (
            Card(str(info.get("status", "")), "status", "status"),
            Card(str(info.get("health", "")), "health", "health"),
            Card(str(info.get("kind", "")), "kind", "kind"),
            Card(f"{len(frame.samples):,}", "stored samples", "samples"),
            Card(_resolution_text(res), "finest resolution", "resolution"),
        )
        return self._render(
            "device.html.j2",
            page=self._shell(str(info["name"]), str(info.get("profile", ""))),
            kind="device",
            cards=cards,
            info=info,
            findings=findings,
            empty="No findings for this device.",
            live=live,
            device_id=device_id,
        )

    def compare(self, snap: Snapshot, ids: list[str]) -> str:
        """The valve picker and, for the picked ones, normalised energy side by side."""
        rows = device_rows(snap, self.tz)
        return self._render(
            "compare.html.j2",
            page=self._shell("Compare valves"),
            kind="compare",
            rows=rows,
            selected=set(ids),
            live="",
            device_id="",
        )

    def missing(self, device_id: str) -> str:
        """The page for an unknown device."""
        return self._render(
            "missing.html.j2",
            page=self._shell("Not found"),
            kind="missing",
            device_id=device_id,
            live="",
        )


def _resolution_text(res: pd.Timedelta | None) -> str:
    if res is None:
        return "none"
    minutes = int(res.total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
