"""End to end against the emulator: the 2018 report names every designed-in fault, dated."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from belimo_cloud.client import Client
from belimo_cloud.client.frames import catalogue_frame, devices_frame
from belimo_cloud.emulator.fleet import designed_faults
from belimo_cloud.report import build_report
from tests.conftest import DEMO, FIXED_NOW

COUNTERS = ["Heating_E_J", "Cooling_E_J"]
AVERAGES = ["RelFlow_Fb_Rel2Vmax", "DeltaT_K", "SpDeltaT_applied_K", "AbsPower_Fb_W"]
# Designed fault -> the finding kinds that name it (a one-reading zero that comes back is a
# glitch, or an outage or spike by the counter policy).
KIND = {
    "meter_replacement": {"meter_replacement"},
    "gap": {"gap"},
    "glitch": {"glitch", "outage", "spike"},
    "low_delta_t": {"low_delta_t"},
    "offline": {"offline"},
}
# How far a finding's start may sit from the designed one: hourly buckets, and a low-dT
# episode starts with the first hot afternoon the valve runs at high flow.
SLACK = {"low_delta_t": pd.Timedelta(days=3)}
FINDING = re.compile(
    r'<li data-kind="([a-z_]+)" data-device="([^"]+)" data-start="([^"]*)" data-end="([^"]*)"'
)


@pytest.mark.slow
def test_report_over_2018_names_the_designed_faults(emulator_url: str) -> None:
    faults = designed_faults(0, now=FIXED_NOW)
    fault_ids = {f["device_id"] for f in faults}
    with Client(
        DEMO["client_id"],
        DEMO["client_secret"],
        DEMO["username"],
        DEMO["password"],
        api_url=emulator_url,
        token_url=emulator_url + "/oauth/token",
    ) as client:
        devices = devices_frame(client.devices.list())
        profile = client.dataprofiles.get("energyvalve3/1.2")
        catalogue = catalogue_frame(profile)

        def ids(names: list[str]) -> list[str]:
            return [profile.by_name(n).id for n in names]  # type: ignore[union-attr]

        parts = []
        healthy = devices[
            (devices["dataprofile"] == "energyvalve3/1.2")
            & (devices["health_state"] == "OK")
            & ~devices["device_id"].isin(fault_ids)
        ]["device_id"].iloc[0]
        for device_id in [*sorted(fault_ids), healthy]:
            for names, aggregation in ((COUNTERS, "last"), (AVERAGES, "avg")):
                part = client.history.timeseries(
                    device_id,
                    ids(names),
                    "2018-01-01T00:00:00Z",
                    "2019-01-01T00:00:00Z",
                    resolution="1h",
                    aggregation=aggregation,
                )
                parts.append(part.assign(aggregation=aggregation))
    samples = pd.concat(parts, ignore_index=True)
    html = build_report(
        devices,
        catalogue,
        samples,
        start="2018-01-01",
        end="2019-01-01",
        resolution="1h",
        figures=False,
    )
    found = FINDING.findall(html)
    for fault in faults:
        assert fault["display_name"] in html
        kinds = KIND[fault["kind"]]
        starts = [
            pd.Timestamp(start)
            for k, dev, start, _end in found
            if k in kinds and dev == fault["device_id"] and start
        ]
        assert starts, fault
        designed = pd.Timestamp(fault["start"])
        slack = SLACK.get(fault["kind"], pd.Timedelta(hours=2))
        assert min(abs(s - designed) for s in starts) <= slack, (fault, starts)
    # The low-dT episode ends where the designed one does, and the page gives its dates.
    low = next(f for f in faults if f["kind"] == "low_delta_t")
    ends = [
        pd.Timestamp(end)
        for k, dev, _s, end in found
        if k == "low_delta_t" and dev == low["device_id"]
    ]
    assert min(abs(e - pd.Timestamp(low["end"])) for e in ends) <= pd.Timedelta(days=3)
    # The healthy valve is named only in the tables, never with a finding.
    assert not re.search(rf'data-kind="[a-z_]+"[^>]*data-device="{healthy}"', html)
