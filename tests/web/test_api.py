"""The dashboard's JSON endpoints over a store synced from the demo cloud."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from belimo_cloud.store import Store
from tests.web.conftest import FINE_DEVICE

YEAR_15MIN = 365 * 96


def test_fleet_status_counts_every_stored_device(api: TestClient, store_path: Path) -> None:
    with Store.open(store_path, read_only=True) as store:
        devices = store.devices()
    fleet = api.get("/api/fleet").json()
    assert fleet["total"] == len(devices)
    assert sum(fleet["connectivity"].values()) == len(devices)
    assert sum(fleet["health"].values()) == len(devices)
    rows = api.get("/api/devices").json()
    assert sorted(r["device_id"] for r in rows) == sorted(devices["device_id"])


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_fleet_energy_keeps_heating_and_cooling_apart(api: TestClient, by: str) -> None:
    energy = api.get(f"/api/fleet/energy?by={by}").json()
    assert set(energy["directions"]) == {"heating", "cooling"}
    rows = api.get("/api/devices").json()
    for direction in ("heating", "cooling"):
        d = energy["directions"][direction]
        assert len(d["period"]) == len(d["consumption"]) == len(d["flagged"]) == len(d["quality"])
        assert all(0 <= f <= c + 1e-6 for f, c in zip(d["flagged"], d["consumption"], strict=True))
        per_device = sum(r[f"{direction}_kwh"] or 0.0 for r in rows)
        assert sum(d["consumption"]) == pytest.approx(per_device, rel=1e-3)
    periods = {"day": 365, "week": 53, "month": 12}[by]
    assert len(energy["directions"]["heating"]["period"]) == periods
    flagged = [q for q in energy["directions"]["heating"]["quality"] if q != "ok"]
    assert flagged, "the demo's designed faults show as flagged periods"


def test_a_year_at_15_minutes_travels_reduced(
    api: TestClient, device_ids: dict[str, str], store_path: Path
) -> None:
    device = device_ids[FINE_DEVICE]
    body = api.get(f"/api/devices/{device}/series?names=AbsPower_Fb_W&width=800").json()
    power = body["series"]["AbsPower_Fb_W"]
    assert power["points"] == YEAR_15MIN
    assert power["resolution"] == "0 days 00:15:00"
    assert power["shown"] == len(power["x"]) == len(power["y"]) <= 4 * 800
    assert power["unit"] == "kW"
    with Store.open(store_path, read_only=True) as store:
        raw = store.read(device_ids=[device], datapoint_ids=["evcloud.140"], resolution="15m")
    full_kw = raw["value"].to_numpy() / 1000.0
    shown = np.array([v for v in power["y"] if v is not None])
    assert shown.max() == pytest.approx(full_kw.max(), abs=1e-4)
    assert shown.min() == pytest.approx(full_kw.min(), abs=1e-4)


def test_zooming_in_fetches_the_window_in_full_detail(
    api: TestClient, device_ids: dict[str, str]
) -> None:
    device = device_ids[FINE_DEVICE]
    url = (
        f"/api/devices/{device}/series?names=AbsPower_Fb_W,DeltaT_K"
        "&start=2018-03-01 00:00&end=2018-03-03 00:00&width=1200"
    )
    body = api.get(url).json()
    for name in ("AbsPower_Fb_W", "DeltaT_K"):
        s = body["series"][name]
        assert s["points"] == s["shown"] == 2 * 96
        assert s["x"][0] == "2018-03-01 00:00:00"
        assert s["x"][-1] == "2018-03-02 23:45:00"


def test_device_energy_per_period_has_quality_flags(
    api: TestClient, device_ids: dict[str, str]
) -> None:
    device = device_ids[FINE_DEVICE]
    by_day = api.get(f"/api/devices/{device}/energy?by=day").json()["directions"]["heating"]
    by_month = api.get(f"/api/devices/{device}/energy?by=month").json()["directions"]["heating"]
    by_hour = api.get(f"/api/devices/{device}/energy?by=hour").json()["directions"]["heating"]
    assert len(by_month["period"]) == 12
    assert len(by_day["period"]) == 365
    assert len(by_hour["period"]) > 8700
    assert sum(by_day["consumption"]) == pytest.approx(sum(by_month["consumption"]), rel=1e-6)
    assert sum(by_hour["consumption"]) == pytest.approx(sum(by_month["consumption"]), rel=1e-6)
    assert set(by_day["quality"]) >= {"ok"}


def test_scatter_pairs_flow_and_dt_coloured_by_time(
    api: TestClient, device_ids: dict[str, str]
) -> None:
    body = api.get(f"/api/devices/{device_ids[FINE_DEVICE]}/scatter").json()
    assert 0 < body["points"] <= 4000
    assert len(body["x"]) == len(body["y"]) == len(body["t"]) == len(body["c"]) == body["points"]
    assert body["c"] == sorted(body["c"])
    assert body["x_unit"] == "m³/h"
    assert body["y_unit"] == "K"


def test_timeline_items_have_dates_and_advice(api: TestClient, device_ids: dict[str, str]) -> None:
    dated = []
    for device in device_ids.values():
        items = api.get(f"/api/devices/{device}/timeline").json()["items"]
        dated += [i for i in items if i["start"]]
    assert dated
    kinds = {i["finding"] for i in dated}
    assert {"gap", "meter_replacement"} <= kinds
    for item in dated:
        assert item["end"] >= item["start"]
        assert item["recommendation"]
        assert item["label"]
        assert "_" not in item["label"]


def test_live_state_falls_back_to_the_store_with_units(
    api: TestClient, device_ids: dict[str, str]
) -> None:
    body = api.get(f"/api/devices/{device_ids[FINE_DEVICE]}/live").json()
    assert body["source"] == "store"
    units = {v["name"]: v["unit"] for v in body["values"]}
    assert units["AbsPower_Fb_W"] == "kW"
    assert units["T1_remote_K"] == "°C"
    assert units["DeltaT_K"] == "K"
    assert units["Heating_E_J"] == "kWh"
    assert body["timestamp"].startswith("2018-12-31")


def test_compare_normalises_by_peak_power(api: TestClient, device_ids: dict[str, str]) -> None:
    heat = [d for n, d in device_ids.items() if "Heizung" in n][:2]
    cool = [d for n, d in device_ids.items() if "Kühlung" in n][:1]
    query = "&".join(f"ids={d}" for d in heat + cool)
    body = api.get(f"/api/compare?{query}").json()
    assert [d["device_id"] for d in body["devices"]] == heat + cool
    assert {s["device_id"] for s in body["directions"]["heating"]} == set(heat)
    assert {s["device_id"] for s in body["directions"]["cooling"]} == set(cool)
    for series in body["directions"]["heating"] + body["directions"]["cooling"]:
        assert series["full_load_hours"] == pytest.approx(
            series["energy_kwh"] / series["peak_kw"], rel=1e-2
        )
        assert sum(series["kwh_per_kw"]) == pytest.approx(series["full_load_hours"], rel=1e-2)
        assert 0 < series["full_load_hours"] < 8760


def test_errors_are_one_line_and_typed(api: TestClient) -> None:
    assert api.get("/api/devices/no-such-device/series").status_code == 404
    assert api.get("/devices/no-such-device").status_code == 404
    bad = api.get("/api/fleet/energy?by=fortnight")
    assert bad.status_code == 400
    assert "by must be one of" in bad.json()["error"]
    first = api.get("/api/devices").json()[0]["device_id"]
    bad_time = api.get(f"/api/devices/{first}/series?start=yesterday-ish")
    assert bad_time.status_code == 400
    assert "cannot read the time" in bad_time.json()["error"]


def test_plotly_comes_from_the_installed_package(api: TestClient) -> None:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    for encoding in ("gzip", "identity"):
        answer = api.get("/assets/plotly.min.js", headers={"Accept-Encoding": encoding})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/javascript")
        assert answer.headers.get("content-encoding", "identity") == encoding
        assert answer.content == path.read_bytes()  # decoded by the client when gzip


def test_pages_name_no_outside_address(api: TestClient, device_ids: dict[str, str]) -> None:
    import plotly

    device = device_ids[FINE_DEVICE]
    for path in ("/", f"/devices/{device}", f"/compare?ids={device}"):
        html = api.get(path).text
        assert "http://" not in html
        assert "https://" not in html
        assert f'src="/assets/plotly.min.js?v={plotly.__version__}"' in html


def test_the_store_is_opened_read_only_and_released(store_path: Path, api: TestClient) -> None:
    api.get("/api/fleet")
    # Nothing holds the file between loads: a writer may open it beside the dashboard.
    with Store(store_path) as writer:
        assert not writer.read_only
        assert len(writer.devices()) == len(api.get("/api/devices").json())


def test_the_period_text_is_local_time(api: TestClient) -> None:
    months = api.get("/api/fleet/energy?by=month").json()["directions"]["heating"]["period"]
    assert months[0] == "2018-01-01 00:00:00"
    assert pd.Timestamp(months[3]).month == 4
