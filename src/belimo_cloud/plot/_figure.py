"""Headless matplotlib figures without pyplot: nothing global changes (no backend switch).

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas, so they render on a
server with no display and never open windows, while a notebook still shows them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from belimo_cloud.errors import DataError

__all__ = ["COLORS", "new_figure", "save", "to_png_bytes", "to_svg_text"]

COLORS = {
    "heating": "#d1495b",
    "cooling": "#2e86ab",
    "ok": "#4a7c59",
    "problem": "#edae49",
    "offline": "#8d8d8d",
    "online": "#4a7c59",
    "flagged": "#edae49",
    "gap": "#bdbdbd",
    "neutral": "#3b6ea5",
    "setpoint": "#222222",
}

# Colours for stacked series: distinct, print-friendly (ColorBrewer-like, written out here).
SERIES_COLORS = [
    "#3b6ea5",
    "#d1495b",
    "#edae49",
    "#66a182",
    "#8e6c8a",
    "#00798c",
    "#f08a4b",
    "#2e4057",
    "#a3a380",
    "#c77dff",
    "#9c6644",
    "#5c946e",
]


def new_figure(width: float = 9.0, height: float = 4.5) -> Any:
    """A Figure with an Agg canvas and the house style (grid, no top/right spines)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax: Any) -> None:
    """Light horizontal grid behind the data, no top/right frame."""
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def save(fig: Any, path: str | Path, *, dpi: int = 120) -> Path:
    """Write a figure to ``path``; the suffix picks the format (.png, .svg, .pdf)."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise DataError(f"cannot save a figure as {target.name!r}; use .png, .svg or .pdf")
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format=fmt, dpi=dpi)
    return target


def to_png_bytes(fig: Any, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (for inlining in HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def to_svg_text(fig: Any) -> str:
    """The figure as an SVG document string."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()
