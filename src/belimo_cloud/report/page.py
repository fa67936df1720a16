"""The report page as plain data: cards, findings, sections of tables, figures and text.

Built from the analysis (:mod:`.sections`) and rendered by templates (:mod:`.render`); the
same objects can feed another front end (the web dashboard) without any HTML in them. All
text is plain: escaping is the templates' job (autoescape).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Block",
    "Card",
    "Cell",
    "Details",
    "Figure",
    "Finding",
    "Heading",
    "Page",
    "Row",
    "Section",
    "Table",
    "Text",
]

Level = Literal["", "ok", "warn", "bad"]


@dataclass(frozen=True)
class Card:
    """A headline number: ``value`` over ``label``."""

    value: str
    label: str
    name: str = ""  # stable key for tests and style, e.g. "findings"


@dataclass(frozen=True)
class Cell:
    """A table cell; ``tag`` shows the text as a coloured label of that level."""

    text: str
    numeric: bool = False
    tag: Level = ""


@dataclass(frozen=True)
class Row:
    """A table row; ``attrs`` become ``data-*`` attributes (name without the prefix)."""

    cells: tuple[Cell, ...]
    level: Level = ""
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Table:
    """Headings, rows and the sentence to show when there are no rows."""

    headings: tuple[Cell, ...]
    rows: tuple[Row, ...]
    empty: str = "Nothing to report."
    name: str = ""
    kind: Literal["table"] = "table"


@dataclass(frozen=True)
class Figure:
    """A PNG figure, inlined as a data URI so the page stays one file."""

    png: bytes = field(repr=False)
    caption: str
    alt: str
    kind: Literal["figure"] = "figure"

    @property
    def data_uri(self) -> str:
        """``data:image/png;base64,...``."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Text:
    """A paragraph; ``muted`` for an explanatory or empty note."""

    text: str
    muted: bool = False
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str
    kind: Literal["heading"] = "heading"


@dataclass(frozen=True)
class Details:
    """A folded part: ``summary`` opens ``blocks``."""

    summary: str
    blocks: tuple[Block, ...]
    kind: Literal["details"] = "details"


Block = Table | Figure | Text | Heading | Details


@dataclass(frozen=True)
class Finding:
    """One finding of the key-findings list: what, where, when, and what to do."""

    kind: str  # data-kind: meter_replacement, gap, outage, glitch, low_delta_t, ...
    device_id: str
    device: str
    label: str
    counter: str  # "Heating energy", "Cooling energy" or ""
    start: str  # local time text, "" when undated
    end: str
    duration: str
    start_utc: str  # ISO-8601 UTC, for machines
    end_utc: str
    detail: str
    recommendation: str


@dataclass(frozen=True)
class Section:
    """A titled part of the page."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Page:
    """The whole report."""

    title: str
    lead: str
    cards: tuple[Card, ...]
    findings: tuple[Finding, ...]
    sections: tuple[Section, ...]
    footer: str
    empty_findings: str = "No findings: every counter is clean and every device is well."
