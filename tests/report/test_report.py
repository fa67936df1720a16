"""The HTML report names every designed fault of a synthetic fleet and is self-contained."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.report import analyse, build_report, write_report

NOW = pd.Timestamp("2026-11-20 12:00Z")
PROFILE = "energyvalve3/1.2"
DP = {
    "Heating_E_J": ("evcloud.210", "joule"),
    "Cooling_E_J": ("evcloud.200", "joule"),
    "RelFlow_Fb_Rel2Vmax": ("evcloud.100", "percent"),
    "AbsFlow_Fb_m3s": ("evcloud.110", "cubicMeterPerSecond"),
    "AbsPower_Fb_W": ("evcloud.140", "watt"),
    "DeltaT_K": ("evcloud.180", "kelvin"),
    "SpDeltaT_applied_K": ("evcloud.190", "kelvin"),
    "T1_remote_K": ("evcloud.160", "kelvin"),
    "T2_embeded_K": ("evcloud.170", "kelvin"),
}
NAMES = {
    "v1": "Energieventil Heizung 3.OG Süd-West",  # meter replacement
    "v2": "Energieventil Heizung 2.OG Nord-Ost",  # gap
    "v3": "Energieventil Heizung 4.OG Süd-Ost",  # glitch
    "v4": "Energieventil Kühlung 2.OG Süd",  # low dT, at Vmax
    "v5": "Energieventil Kühlung 4.OG Ost",  # offline
    "v6": "Energieventil Heizung 1.OG Nord-Ost",  # healthy, with a warning
}
HOURS = pd.date_range("2018-01-01", "2018-03-01", freq="h", tz="UTC", inclusive="left")


def catalogue() -> pd.DataFrame:
    rows = [
        {
            "dataprofile": PROFILE,
            "datapoint_id": dp,
            "name": name,
            "description": name,
            "unit": unit,
            "access": "r",
            "basetype": "real",
        }
        for name, (dp, unit) in DP.items()
    ]
    return pd.DataFrame(rows)


def devices() -> pd.DataFrame:
    seen = [NOW] * 6
    seen[4] = NOW - pd.Timedelta(days=3)
    return pd.DataFrame(
        {
            "device_id": list(NAMES),
            "display_name": list(NAMES.values()),
            "serial_number": [f"s{i}" for i in range(6)],
            "production_id": [f"p{i}" for i in range(6)],
            "device_type": ["1:energyValve3"] * 6,
            "dataprofile": [PROFILE] * 6,
            "health_state": ["OK", "OK", "OK", "OK", "OK", "WARNING"],
            "health_description": ["", "", "", "", "", "Flow_sensor_error"],
            "last_seen": pd.to_datetime(seen, utc=True),
            "online_days": [100] * 6,
            "project_name": ["Limmatpark"] * 6,
            "address_city": ["Zürich"] * 6,
            "address_country": ["CH"] * 6,
        }
    )


def rows(
    device: str, name: str, values: np.ndarray, times: pd.DatetimeIndex = HOURS
) -> pd.DataFrame:
    return pd.DataFrame(
        {"device_id": device, "datapoint_id": DP[name][0], "timestamp": times, "value": values}
    )


def samples() -> pd.DataFrame:
    n = len(HOURS)
    parts = []
    for dev, display_name in NAMES.items():
        cooling = "Kühlung" in display_name
        energy = np.cumsum(np.full(n, 20.0 * 3.6e6)) + 1e12  # 20 kWh per hour
        other = np.zeros(n)
        flow = np.full(n, 60.0)
        dt = np.full(n, 5.5 if cooling else 11.0)
        sp = np.full(n, 6.0 if cooling else 12.0)
        times = HOURS
        if dev == "v1":
            at = HOURS.get_loc(pd.Timestamp("2018-02-14 09:00Z"))
            energy[at:] = energy[at:] - energy[at] + 0.6 * 3.6e6
        if dev == "v3":
            energy[HOURS.get_loc(pd.Timestamp("2018-01-17 23:00Z"))] = 0.0
        if dev == "v4":
            flow[:] = 100.0
            dt[:] = 2.0
        keep = np.ones(n, dtype=bool)
        if dev == "v2":
            keep = (pd.Timestamp("2018-02-05 06:00Z") > HOURS) | (
                pd.Timestamp("2018-02-09 14:00Z") <= HOURS
            )
        heat, cool = (other, energy) if cooling else (energy, other)
        for name, values in (
            ("Heating_E_J", heat),
            ("Cooling_E_J", cool),
            ("RelFlow_Fb_Rel2Vmax", flow),
            ("DeltaT_K", dt),
            ("SpDeltaT_applied_K", sp),
            ("AbsPower_Fb_W", np.full(n, 20_000.0)),
        ):
            parts.append(rows(dev, name, values[keep], times[keep]))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def html() -> str:
    return build_report(
        devices(),
        catalogue(),
        samples(),
        start="2018-01-01",
        end="2018-03-01",
        resolution="1h",
        title="Synthetic fleet",
    )


def kinds_for(html: str, device: str) -> set[str]:
    found = set()
    for match in re.finditer(r'data-kind="([a-z_]+)"[^>]*data-device="([^"]+)"', html):
        if match.group(2) == device:
            found.add(match.group(1))
    return found


def test_report_names_every_designed_fault(html: str) -> None:
    for name in NAMES.values():
        assert name in html
    assert kinds_for(html, "v1") >= {"meter_replacement"}
    assert kinds_for(html, "v2") >= {"gap"}
    assert kinds_for(html, "v3") >= {"glitch"}
    assert kinds_for(html, "v4") >= {"low_delta_t", "at_vmax"}
    assert kinds_for(html, "v5") >= {"offline"}
    assert kinds_for(html, "v6") >= {"problem"}
    assert "Flow_sensor_error" in html
    # Healthy valves are not accused.
    assert "low_delta_t" not in kinds_for(html, "v1")
    assert "meter_replacement" not in kinds_for(html, "v3")
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Meter replacement or counter reset on Energieventil Heizung 3.OG Süd-West" in text
    assert "Gap in the data of Energieventil Heizung 2.OG Nord-Ost" in text
    assert "Glitch (reading ignored) on Energieventil Heizung 4.OG Süd-Ost" in text
    assert "Low ΔT (low-dT syndrome) at Energieventil Kühlung 2.OG Süd" in text
    assert "Offline : Energieventil Kühlung 4.OG Ost" in text


def test_report_is_self_contained(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r'src="(?!data:)', html)
    assert html.count('src="data:image/png;base64,') >= 4
    assert "<h2>Fleet status</h2>" in html
    assert "<h2>Consumption</h2>" in html
    assert "<h2>Data quality findings</h2>" in html
    assert "<h2>Hydronic findings</h2>" in html


def test_report_content_as_frames() -> None:
    data = analyse(
        devices(), catalogue(), samples(), start="2018-01-01", end="2018-03-01", resolution="1h"
    )
    assert data.freq == "D"
    assert data.summary["offline"] == 1
    assert data.summary["problem"] == 1
    assert set(data.events["kind"]) == {"reset", "gap", "glitch"}
    assert list(data.valves.loc[data.valves["low_dt"], "device_id"]) == ["v4"]
    assert (data.energy["consumption"] >= 0).all()
    per_device = data.ranking.set_index("device_id")["total"]
    # 20 kWh per hour over January and February for the undisturbed valves.
    assert per_device["v6"] == pytest.approx(20.0 * len(HOURS), rel=0.01)


def test_write_report_without_figures(tmp_path: Path) -> None:
    path = write_report(
        tmp_path / "out" / "report.html",
        devices(),
        catalogue(),
        samples(),
        start="2018-01-01",
        end="2018-03-01",
        figures=False,
    )
    text = path.read_text(encoding="utf-8")
    assert "data:image/png" not in text
    assert "Energieventil Kühlung 2.OG Süd" in text


def test_empty_samples_still_give_a_report() -> None:
    html = build_report(devices(), catalogue(), samples().iloc[:0], figures=False)
    assert "No energy counters in the selection." in html
    assert "Energieventil Kühlung 4.OG Ost" in html  # offline device still reported
