"""The report's templates: page data in, escaped HTML out; a base layout other pages reuse."""

from __future__ import annotations

import ast
from pathlib import Path

import belimo_cloud.report as report_pkg
from belimo_cloud.report.page import Card, Cell, Figure, Finding, Page, Row, Section, Table, Text
from belimo_cloud.report.render import environment, render_page

EVIL = '<img src=x onerror="alert(1)"> & <b>'


def page() -> Page:
    finding = Finding(
        kind="gap",
        device_id='dev"1',
        device=EVIL,
        label="Gap (no data)",
        counter="Heating energy",
        start="2018-02-05 07:00 CET",
        end="2018-02-09 15:00 CET",
        duration="4.3 days",
        start_utc="2018-02-05T06:00:00Z",
        end_utc="2018-02-09T14:00:00Z",
        detail=EVIL,
        recommendation="Check <the> gateway",
    )
    table = Table(
        headings=(Cell("Device"), Cell("Energy [kWh]", numeric=True)),
        rows=(Row((Cell(EVIL), Cell("1,234.5", numeric=True)), attrs=(("device", EVIL),)),),
        name="t",
    )
    return Page(
        title=EVIL,
        lead="lead",
        cards=(Card("1", "findings", "findings"),),
        findings=(finding,),
        sections=(
            Section(
                "s",
                "Section",
                (Text(EVIL), table, Figure(b"\x89PNG-not-really", "caption", EVIL)),
            ),
        ),
        footer="footer",
    )


def test_every_value_is_escaped() -> None:
    html = render_page(page())
    assert "<img src=x" not in html
    assert EVIL not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;" in html
    assert 'data-device="dev&#34;1"' in html
    assert "Check &lt;the&gt; gateway" in html
    assert html.count('<img src="data:image/png;base64,') == 1


def test_the_base_layout_and_partials_serve_another_page() -> None:
    child = environment().from_string(
        '{% extends "base.html.j2" %}{% block content %}'
        '{% with cards = page.cards %}{% include "_cards.html.j2" %}{% endwith %}'
        "{% endblock %}"
    )
    html = child.render(page=page())
    assert html.startswith("<!DOCTYPE html>")
    assert 'data-card="findings"' in html
    assert "<style>" in html


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_build_and_sections_do_not_import_each_other() -> None:
    folder = Path(report_pkg.__file__).parent
    assert "belimo_cloud.report.build" not in imports_of(folder / "sections.py")
    assert "belimo_cloud.report.sections" in imports_of(folder / "build.py")
    for module in ("content", "hydronics", "findings", "page", "render", "format"):
        assert "belimo_cloud.report.build" not in imports_of(folder / f"{module}.py"), module
