"""Fleet status overview: online/offline and health (ok/problem) as two donuts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from belimo_cloud.analysis.fleet import fleet_summary
from belimo_cloud.plot._figure import COLORS, new_figure

__all__ = ["fleet_status"]


def _donut(ax: Any, parts: list[tuple[str, int, str]], center: str, heading: str) -> None:
    shown = [(label, n, color) for label, n, color in parts if n > 0]
    if not shown:
        shown = [("none", 1, "#eeeeee")]
    wedges, _ = ax.pie(
        [n for _, n, _ in shown],
        colors=[c for _, _, c in shown],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white", "linewidth": 2},
    )
    ax.text(0, 0, center, ha="center", va="center", fontsize=15, fontweight="bold")
    ax.set_title(heading, fontsize=11)
    ax.legend(
        wedges,
        [f"{label}: {n}" for label, n, _ in shown],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.02),
        ncol=len(shown),
        frameon=False,
        fontsize=9,
    )
    ax.set_aspect("equal")


def fleet_status(
    devices: pd.DataFrame | Mapping[str, int],
    *,
    now: datetime | pd.Timestamp | None = None,
    title: str | None = None,
    width: float = 8.0,
    height: float = 4.2,
) -> Any:
    """Two donuts: connectivity (online/offline) and health (ok/problem/unknown).

    ``devices`` is the devices frame (online means lastSeen within the last hour of ``now``)
    or a ready summary from :func:`belimo_cloud.analysis.fleet_summary`.
    """
    summary = dict(devices) if isinstance(devices, Mapping) else fleet_summary(devices, now=now)
    fig = new_figure(width, height)
    left, right = fig.subplots(1, 2)
    total = int(summary.get("total", 0))
    _donut(
        left,
        [
            ("online", int(summary.get("online", 0)), COLORS["online"]),
            ("offline", int(summary.get("offline", 0)), COLORS["offline"]),
        ],
        f"{summary.get('online', 0)}/{total}",
        "Connectivity (seen in the last hour)",
    )
    _donut(
        right,
        [
            ("ok", int(summary.get("ok", 0)), COLORS["ok"]),
            ("problem", int(summary.get("problem", 0)), COLORS["problem"]),
            ("unknown", int(summary.get("unknown", 0)), "#c8c8c8"),
        ],
        f"{summary.get('ok', 0)}/{total}",
        "Health (device state)",
    )
    fig.suptitle(title or f"Fleet status: {total} devices", fontsize=13)
    return fig
