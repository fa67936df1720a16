"""Small HTML building blocks for the report: escaped tables, inlined figures, the page shell.

Everything is inline (CSS in a style element, figures as base64 PNG data URIs), so the report
is one file that opens anywhere, offline, and can be mailed.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CSS", "esc", "figure", "page", "table"]

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --accent:#3b6ea5; --warn:#b7791f;
        --bad:#c53030; --ok:#2f855a; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13.5px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fff5f5; }
tr.warn td { background: #fffaf0; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px;
       font-weight: 600; }
.tag.bad { background: #fed7d7; color: var(--bad); }
.tag.warn { background: #feebc8; color: var(--warn); }
.tag.ok { background: #c6f6d5; color: var(--ok); }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
details summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; }
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value (None and NaN become an empty string)."""
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def figure(png: bytes, caption: str, alt: str) -> str:
    """A figure element with the PNG inlined as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


Formatter = Callable[[Any], str]


def table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str]],
    *,
    formats: dict[str, Formatter] | None = None,
    numeric: Sequence[str] = (),
    row_class: Callable[[pd.Series[Any]], str] | None = None,
    row_attrs: Callable[[pd.Series[Any]], dict[str, str]] | None = None,
    empty: str = "Nothing to report.",
) -> str:
    """An HTML table of ``frame``'s ``columns`` (pairs of column name and heading).

    Cells are escaped after formatting; ``formats`` maps a column to a function giving the
    cell's text, ``numeric`` columns are right-aligned.
    """
    if frame.empty:
        return f'<p class="empty">{esc(empty)}</p>'
    formats = formats or {}
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if c in numeric else f"<th>{esc(h)}</th>"
        for c, h in columns
    )
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col, _heading in columns:
            value = row.get(col)
            text = formats[col](value) if col in formats else esc(value)
            cls = ' class="num"' if col in numeric else ""
            cells.append(f"<td{cls}>{text}</td>")
        cls = row_class(row) if row_class else ""
        attrs = row_attrs(row) if row_attrs else {}
        attr_text = "".join(f' {k}="{esc(v)}"' for k, v in attrs.items())
        class_text = f' class="{esc(cls)}"' if cls else ""
        rows.append(f"<tr{class_text}{attr_text}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page(title: str, body: str) -> str:
    """The complete document: doctype, UTF-8, inline CSS, body."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="belimo-cloud">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
