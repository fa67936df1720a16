"""The dashboard's pages share the report's templates and look, and escape what they show."""

from __future__ import annotations

import re
from importlib import resources

from fastapi.testclient import TestClient

from tests.web.conftest import FINE_DEVICE


def _style() -> str:
    text = resources.files("belimo_cloud.report").joinpath("templates/_style.css.j2").read_text()
    return text.strip()


def test_every_page_has_the_reports_look(api: TestClient, device_ids: dict[str, str]) -> None:
    device = device_ids[FINE_DEVICE]
    for path in ("/", f"/devices/{device}", f"/compare?ids={device}"):
        html = api.get(path).text
        assert _style() in html, path
        assert html.startswith("<!DOCTYPE html>")
        assert '<meta name="generator" content="belimo-cloud">' in html


def test_the_fleet_page_reuses_the_reports_cards_and_findings(api: TestClient) -> None:
    html = api.get("/").text
    for card in ("devices", "online", "offline", "problem", "findings"):
        assert f'data-card="{card}"' in html
    items = re.findall(r'<li data-kind="([a-z_]+)" data-device="[^"]+" data-start="([^"]*)"', html)
    assert items
    assert any(start for _, start in items)
    assert html.count('class="advice"') == len(items)


def test_no_inline_script_on_any_page(api: TestClient, device_ids: dict[str, str]) -> None:
    device = device_ids[FINE_DEVICE]
    for path in ("/", f"/devices/{device}", "/compare", "/devices/unknown"):
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", api.get(path).text, re.S)
        assert scripts
        for attrs, body in scripts:
            assert 'src="/' in attrs
            assert body.strip() == ""


def test_what_a_page_shows_is_escaped(api: TestClient) -> None:
    answer = api.get("/devices/<img src=x onerror=alert(1)>")
    assert answer.status_code == 404
    assert "<img src=x" not in answer.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in answer.text


def test_the_device_table_has_every_filter_value(api: TestClient) -> None:
    html = api.get("/").text
    rows = api.get("/api/devices").json()
    for kind in {r["kind"] for r in rows}:
        assert f'<option value="{kind}">' in html
    for health in {r["health"] for r in rows}:
        assert f'<option value="{health}">' in html
    assert html.count('<tr data-device="') == len(rows)
