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
    "v1": "Energieventil Heizung 3.OG Süd-West",  # meter replacement, at Vmax
    "v2": "Energieventil Heizung 2.OG Nord-Ost",  # gap
    "v3": "Energieventil Heizung 4.OG Süd-Ost",  # glitch
    "v4": "Energieventil Kühlung 2.OG Süd",  # low dT, at Vmax
    "v5": "Energieventil Kühlung 4.OG Ost",  # offline
    "v6": "Energieventil Heizung 1.OG Nord-Ost",  # healthy, with a warning
}
BAD_READING = {"glitch", "outage", "spike"}
# Local January and February (Europe/Zurich) and the bucket before (a last bucket holds the
# reading at its end): whole months, so no period is partial.
HOURS = pd.date_range(
    "2017-12-31 22:00Z", "2018-02-28 23:00Z", freq="h", tz="UTC", inclusive="left"
)


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
        if dev == "v1":
            flow[:] = 99.0  # pinned at Vmax, but the coil still makes its dT
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


FINDING = re.compile(
    r'<li data-kind="([a-z_]+)" data-device="([^"]+)" data-start="([^"]*)" data-end="([^"]*)"'
)


def findings(html: str) -> list[tuple[str, str, str, str]]:
    return FINDING.findall(html)


def plain(html: str) -> str:
    inline = re.sub(r"</?(b|span)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


def test_report_names_every_designed_fault(html: str) -> None:
    for name in NAMES.values():
        assert name in html
    assert kinds_for(html, "v1") >= {"meter_replacement", "at_vmax"}
    assert kinds_for(html, "v2") >= {"gap"}
    # One zero reading that comes back: a glitch (or, by the counter policy, an outage/spike).
    assert kinds_for(html, "v3") & BAD_READING
    assert kinds_for(html, "v4") >= {"low_delta_t", "at_vmax"}
    assert kinds_for(html, "v5") >= {"offline"}
    assert kinds_for(html, "v6") >= {"problem"}
    assert "Flow_sensor_error" in html
    # Healthy valves are not accused.
    assert "low_delta_t" not in kinds_for(html, "v1")
    assert "meter_replacement" not in kinds_for(html, "v3")
    text = plain(html)
    assert "Meter replacement or counter reset at Energieventil Heizung 3.OG Süd-West" in text
    assert "Gap (no data) at Energieventil Heizung 2.OG Nord-Ost" in text
    assert re.search(
        r"(Glitch|Outage|Spike) \([^)]*\) at Energieventil Heizung 4\.OG Süd-Ost", text
    )
    assert "Low ΔT (low-dT syndrome) at Energieventil Kühlung 2.OG Süd" in text
    assert "Offline: Energieventil Kühlung 4.OG Ost" in text


def test_findings_carry_their_dates_and_a_recommendation(html: str) -> None:
    dated = {(k, d): (pd.Timestamp(s), pd.Timestamp(e)) for k, d, s, e in findings(html) if s}
    assert dated[("meter_replacement", "v1")][0] == pd.Timestamp("2018-02-14 09:00Z")
    bad = [v for (k, d), v in dated.items() if d == "v3" and k in BAD_READING]
    assert bad and bad[0][0] == pd.Timestamp("2018-01-17 23:00Z")
    gap_start, gap_end = dated[("gap", "v2")]
    # The gap runs from the last reading before it to the first after it.
    assert gap_start <= pd.Timestamp("2018-02-05 06:00Z") < gap_end
    assert pd.Timestamp("2018-02-09 13:00Z") <= gap_end <= pd.Timestamp("2018-02-09 14:00Z")
    low_start, low_end = dated[("low_delta_t", "v4")]
    assert low_start == pd.Timestamp("2018-01-01", tz="Europe/Zurich")  # the report's start
    assert low_end == pd.Timestamp("2018-03-01", tz="Europe/Zurich")  # the report's end
    # Local dates in the text, with the duration: 4 days and 8 hours for the gap.
    text = plain(html)
    assert "from 2018-02-05 07:00 CET to 2018-02-09 15:00 CET (4.3 days)" in text
    items = re.findall(r"<li [^>]*>(.*?)</li>", html, re.S)
    assert items and all('class="advice"' in item for item in items)


def test_counts_on_the_cards_agree_with_the_lists(html: str) -> None:
    cards = dict(re.findall(r'data-card="(\w+)"><div class="value">([^<]*)<', html))
    assert int(cards["findings"]) == len(findings(html))
    quality = re.search(r'<table data-table="quality">(.*?)</table>', html, re.S)
    assert quality is not None
    assert int(cards["quality"]) == quality.group(1).count("<tr ")
    assert int(cards["offline"]) == len([f for f in findings(html) if f[0] == "offline"])


def table_devices(html: str, name: str) -> set[str]:
    part = re.search(rf'<table data-table="{name}">(.*?)</table>', html, re.S)
    assert part is not None, name
    return set(re.findall(r'data-device="([^"]+)"', part.group(1)))


def test_low_dt_and_vmax_tables_show_their_own_rows(html: str) -> None:
    assert table_devices(html, "low-dt") == {"v4"}
    assert table_devices(html, "vmax") == {"v1", "v4"}
    low = re.search(r'<table data-table="low-dt">(.*?)</table>', html, re.S)
    vmax = re.search(r'<table data-table="vmax">(.*?)</table>', html, re.S)
    assert low is not None and vmax is not None
    assert low.group(1) != vmax.group(1)
    assert "Low-ΔT hours" in low.group(1) and "Hours at Vmax" in vmax.group(1)


def test_heating_and_cooling_are_never_summed(html: str) -> None:
    data = analyse(
        devices(), catalogue(), samples(), start="2018-01-01", end="2018-03-01", resolution="1h"
    )
    heat = data.energy.loc[data.energy["direction"] == "heating", "consumption"].sum()
    cool = data.energy.loc[data.energy["direction"] == "cooling", "consumption"].sum()
    assert heat > 0 and cool > 0
    text = plain(html)
    assert f"{heat:,.0f} kWh heating energy" in text
    assert f"{cool:,.0f} kWh cooling energy" in text
    assert f"{heat + cool:,.0f}" not in text
    assert "Total [kWh]" not in html
    # Each ranking holds only the valves of its direction.
    heating = table_devices(html, "ranking-heating")
    cooling = table_devices(html, "ranking-cooling")
    assert all("Heizung" in NAMES[d] for d in heating)
    assert all("Kühlung" in NAMES[d] for d in cooling)
    assert "total" not in data.ranking.columns
    # No rows for the counter a valve never uses (a heating valve's cooling counter).
    used = set(zip(data.energy["device_id"], data.energy["direction"], strict=True))
    assert ("v1", "cooling") not in used and ("v4", "heating") not in used


def test_months_are_named() -> None:
    html = build_report(
        devices(),
        catalogue(),
        samples(),
        start="2018-01-01",
        end="2018-03-01",
        resolution="1h",
        freq="MS",
        figures=False,
    )
    assert "January 2018" in html
    assert "February 2018" in html
    # One valve's glitch is that valve's share of the month, not the whole fleet's month.
    periods = re.search(r'<table data-table="periods-heating">(.*?)</table>', html, re.S)
    assert periods is not None
    january = re.search(r"January 2018.*?</tr>", periods.group(1), re.S)
    assert january is not None
    assert re.search(r"(glitch|outage|spike) 1/4", january.group(0))
    assert "partial" not in january.group(0)
    assert "% of the energy" in january.group(0)


def test_text_from_the_data_is_escaped() -> None:
    evil = devices()
    evil.loc[evil["device_id"] == "v4", "display_name"] = '<script>alert("x")</script> & Co'
    html = build_report(
        evil,
        catalogue(),
        samples(),
        start="2018-01-01",
        end="2018-03-01",
        resolution="1h",
        title="<b>Bold</b> title",
        figures=False,
    )
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in html


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
    kinds = set(data.events["kind"])
    assert {"reset", "gap"} <= kinds and kinds & BAD_READING
    assert kinds <= {"reset", "gap"} | BAD_READING
    assert list(data.valves.loc[data.valves["low_dt"], "device_id"]) == ["v4"]
    assert (data.energy["consumption"] >= 0).all()
    heating = data.ranking[data.ranking["direction"] == "heating"].set_index("device_id")
    # 20 kWh per hour over January and February for the undisturbed valves.
    assert heating.loc["v6", "consumption"] == pytest.approx(20.0 * len(HOURS), rel=0.01)
    assert set(data.findings["finding"]) & BAD_READING
    assert set(data.findings["finding"]) >= {
        "meter_replacement",
        "gap",
        "low_delta_t",
        "at_vmax",
        "offline",
        "problem",
    }


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
    assert 'data-card="findings"><div class="value">2<' in html  # offline and problem
    assert "Energieventil Kühlung 4.OG Ost" in html  # offline device still reported
