"""The dashboard in headless Chromium: pages load clean, charts draw, search and links work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import inked, keep_screenshot, near, open_page, wait_drawn, wait_until
from tests.web.conftest import FINE_DEVICE

pytestmark = pytest.mark.slow

HEATING = "#c05621"
TIME_CHARTS = ("power", "flow", "temperatures", "dt")


def test_fleet_page_draws_its_charts(browser: Any, dashboard: str, tmp_path: Path) -> None:
    with open_page(browser, dashboard + "/") as page:
        wait_drawn(page, "connectivity", "health", "energy-heating", "energy-cooling")
        share, colours = inked(page, "energy-heating")
        assert share > 0.03
        assert near(colours, HEATING)
        assert page.locator("[data-card='devices'] .value").inner_text() == str(
            page.locator("#device-table tbody tr").count()
        )
        assert page.locator("ul.findings li[data-start]").count() > 0
        assert "→" in page.locator("ul.findings li").first.inner_text()
        keep_screenshot(page, "dashboard-fleet.png", tmp_path)


def test_fleet_search_filters_sort_and_navigate(browser: Any, dashboard: str) -> None:
    with open_page(browser, dashboard + "/") as page:
        rows = page.locator("#device-table tbody tr")
        total = rows.count()
        page.fill("#device-search", "Kühlung")
        visible = page.locator("#device-table tbody tr:not([hidden])")
        assert 0 < visible.count() < total
        for name in visible.evaluate_all("rows => rows.map(r => r.dataset.name)"):
            assert "Kühlung" in name
        page.fill("#device-search", "")
        page.select_option("#filter-kind", "heating")
        kinds = visible.evaluate_all("rows => rows.map(r => r.dataset.kind)")
        assert kinds
        assert set(kinds) == {"heating"}
        page.select_option("#filter-kind", "")
        page.fill("#device-search", "no such valve anywhere")
        assert visible.count() == 0
        assert page.locator("#device-none").is_visible()
        page.fill("#device-search", "")
        page.click("th[data-sort='heating']")
        page.click("th[data-sort='heating']")
        values = visible.evaluate_all(
            "rows => rows.map(r => r.dataset.heating === '' ? -1 : parseFloat(r.dataset.heating))"
        )
        assert values == sorted(values, reverse=True)
        page.fill("#device-search", FINE_DEVICE)
        page.click(f"#device-table a:text-is('{FINE_DEVICE}')")
        page.wait_for_url("**/devices/*")
        assert page.locator("h1").inner_text() == FINE_DEVICE
        wait_drawn(page, "power")


def test_device_page_shows_a_year_at_15_minutes(
    browser: Any, dashboard: str, device_ids: dict[str, str], tmp_path: Path
) -> None:
    device = device_ids[FINE_DEVICE]
    with open_page(browser, f"{dashboard}/devices/{device}") as page:
        wait_drawn(page, "energy", *TIME_CHARTS, "timeline", "scatter")
        assert page.locator("#chart-power").get_attribute("data-points").endswith(f"of {365 * 96}")
        for chart in (*TIME_CHARTS, "energy", "scatter"):
            share, _ = inked(page, chart)
            assert share > 0.02, chart
        page.wait_for_selector("#live-table tbody tr")
        units = page.locator("#live-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.cells[2].textContent)"
        )
        assert {"kW", "°C", "K", "kWh"} <= set(units)
        keep_screenshot(page, "dashboard-device.png", tmp_path)


def test_zoom_on_one_chart_moves_the_others_and_fetches_detail(
    browser: Any, dashboard: str, device_ids: dict[str, str]
) -> None:
    device = device_ids[FINE_DEVICE]
    with open_page(browser, f"{dashboard}/devices/{device}") as page:
        wait_drawn(page, *TIME_CHARTS, "timeline")
        with page.expect_response(lambda r: "/series?" in r.url and "start=" in r.url):
            page.evaluate(
                "Plotly.relayout(document.getElementById('chart-power'),"
                " {'xaxis.range': ['2018-03-01 00:00:00', '2018-03-03 00:00:00']})"
            )
        wait_until(page, "document.getElementById('chart-power').data[0].x.length === 192")
        for chart in ("flow", "temperatures", "dt", "timeline"):
            rng = page.evaluate(f"document.getElementById('chart-{chart}').layout.xaxis.range")
            assert str(rng[0]).startswith("2018-03-01")
            assert str(rng[1]).startswith("2018-03-03")


def test_device_energy_period_switch_and_exports(
    browser: Any, dashboard: str, device_ids: dict[str, str]
) -> None:
    device = device_ids[FINE_DEVICE]
    with open_page(browser, f"{dashboard}/devices/{device}") as page:
        wait_drawn(page, "energy", "power")
        bars = "document.getElementById('chart-energy').data[0].x.length"
        assert page.evaluate(bars) == 365
        page.select_option("#energy-by", "month")
        wait_until(page, f"{bars} === 12")
        with page.expect_download() as csv_download:
            page.click("button[data-export='csv'][data-chart='energy']")
        text = Path(csv_download.value.path()).read_text(encoding="utf-8")
        lines = text.strip().splitlines()
        assert lines[0] == "series,x,y"
        assert any(line.startswith("heating,2018-01-01") for line in lines)
        with page.expect_download() as png_download:
            page.click("button[data-export='png'][data-chart='power']")
        assert Path(png_download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_page_puts_valves_side_by_side(
    browser: Any, dashboard: str, device_ids: dict[str, str]
) -> None:
    with open_page(browser, dashboard + "/compare") as page:
        page.fill("#device-search", "Kühlung")
        page.locator(".picker label:not([hidden]) input").nth(0).check()
        page.fill("#device-search", "Heizung 1.OG")
        page.locator(".picker label:not([hidden]) input").nth(0).check()
        page.locator(".picker label:not([hidden]) input").nth(1).check()
        page.click("#compare-form button[type=submit]")
        page.wait_for_url("**/compare?ids=*")
        wait_drawn(page, "norm-heating", "flh-heating", "norm-cooling", "flh-cooling")
        assert page.locator("#compare-table tbody tr").count() == 3
        for chart in ("norm-heating", "flh-cooling"):
            share, _ = inked(page, chart)
            assert share > 0.02


@pytest.mark.parametrize("path", ["/", "/devices/{fine}", "/compare?ids={fine}"])
def test_pages_fit_a_narrow_screen(
    browser: Any, dashboard: str, device_ids: dict[str, str], path: str
) -> None:
    url = dashboard + path.format(fine=device_ids[FINE_DEVICE])
    with open_page(browser, url, width=390, height=844) as page:
        page.wait_for_selector("[data-drawn='1']", state="attached")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1
        width = page.evaluate("document.querySelector('.plot').getBoundingClientRect().width")
        assert 200 < width <= 390


def test_a_devices_findings_are_on_its_time_axis(browser: Any, dashboard: str, api: Any) -> None:
    rows = api.get("/api/devices").json()
    device = next(r["device_id"] for r in rows if r["findings"] and r["online"])
    items = [i for i in api.get(f"/api/devices/{device}/timeline").json()["items"] if i["start"]]
    assert items
    with open_page(browser, f"{dashboard}/devices/{device}") as page:
        wait_drawn(page, "timeline", "power")
        assert page.evaluate("document.getElementById('chart-timeline').data.length") == len(items)
        share, colours = inked(page, "timeline")
        assert share > 0.002
        assert near(colours, "#c53030")  # the findings' markers
        assert page.locator("#findings ul.findings li").count() >= len(items)
        assert "→" in page.inner_text("#findings")


def test_with_a_token_the_printed_address_opens_the_dashboard(
    browser: Any, store_path: Path, store_data: Any
) -> None:
    from belimo_cloud.web import ServeConfig, create_app
    from tests.web.server import serving

    token = "a-long-enough-dashboard-token"
    app = create_app(ServeConfig(store=store_path, token=token), data=store_data)
    with serving(app) as base:
        context = browser.new_context()
        try:
            page = context.new_page()
            assert page.goto(base + "/").status == 401
            page.goto(f"{base}/?token={token}")
            assert page.url == base + "/"
            wait_drawn(page, "connectivity", "energy-heating")
            assert token not in page.content()
        finally:
            context.close()
