"""Models decode Belimo's own examples, tolerate what real fleets omit, and fail clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from belimo_cloud.client.decode import decode
from belimo_cloud.client.frames import devices_frame
from belimo_cloud.client.models import (
    DataProfile,
    Device,
    DeviceData,
    DeviceStats,
    DownloadLink,
    Page,
    TimelineEvent,
)
from belimo_cloud.errors import DataError
from tests.client.spec_examples import example

pytestmark = pytest.mark.spec


def test_device_list_example(spec: dict[str, Any]) -> None:
    page = decode(example(spec, "/devices"), Page[Device], "device list")
    assert page.paging is not None and page.paging.total == 1
    device = page.data[0] if page.data else None
    assert device is not None
    assert device.id == "0d37415c-5e13-4480-a822-4dc29b782c0f"
    assert device.display_name == "M30"
    assert device.production_id == "DEV_cn-1000000"
    assert device.serial_number == "serial-1000000"
    assert device.material_number == "GR24A-EV-100"
    assert device.device_type == "1:testDevice"
    assert device.dataprofile is not None
    assert device.dataprofile.entity_id == "2uTRMlbK/1.0"
    assert device.dataprofile.display_name == "restdoc.device.hlk/1.0"
    assert device.dataprofile_id == "2uTRMlbK/1.0"
    assert device.health.state == "WARNING"
    assert device.health.description == "Flow too low"
    assert device.health.last_seen is None  # the list example lacks lastSeen
    assert device.health.online_days == 0
    assert device.owner is not None and device.owner.email == "john@belimo.local"
    assert (device.project_name, device.address_city, device.address_country) == (
        "Demo",
        "Hinwil",
        "CH",
    )
    assert device.software is None
    assert device.state is not None
    assert device.state.timestamp == datetime(2018, 6, 20, 11, 4, 6, tzinfo=UTC)
    assert device.state["metadata.1001"] == "M30"
    assert device.state.values["metadata.5"] is False
    assert device.state.datapoints["metadata.1001"] == "M30"


def test_single_device_example(spec: dict[str, Any]) -> None:
    device = decode(example(spec, "/devices/{deviceId}"), Device, "device")
    assert device.display_name == "Heating Zone 1"
    assert device.health.last_seen == datetime(2018, 6, 20, 11, 4, 6, tzinfo=UTC)
    assert device.software is not None and device.software.entity_id == "mp-generic-fw/234"
    assert device.running_software_modules == {
        "csp": "2.15.10-0",
        "model": "3.35.363-0",
        "bsp": "9.4.0-0",
    }


def test_device_data_example(spec: dict[str, Any]) -> None:
    data = decode(example(spec, "/devices/{deviceId}/data"), DeviceData, "device data")
    assert data.timestamp == datetime(2018, 6, 20, 11, 4, 6, tzinfo=UTC)
    assert data.values["772bpRFm.1"] == pytest.approx(49.845815134146164)
    assert data["772bpRFm.3"] == "CLOSE"
    assert data.get("772bpRFm.4") is True
    assert data.get("nope", 7) == 7
    assert "772bpRFm.2" in data and len(data) == 12
    with pytest.raises(DataError):
        data["nope"]


def test_stats_example(spec: dict[str, Any]) -> None:
    stats = decode(example(spec, "/devices/stats"), DeviceStats, "stats")
    assert stats.total_devices == 4
    assert (stats.online, stats.offline, stats.ok, stats.problem) == (0, 4, 0, 4)


def test_timeline_example(spec: dict[str, Any]) -> None:
    page = decode(example(spec, "/devices/{deviceId}/timeline"), Page[TimelineEvent], "t")
    events = page.data or []
    assert [e.type for e in events][:2] == ["METADATA_CHANGE", "SOFTWARE_CHANGE"]
    assert events[0].details == {"values": {"metadata.1004": "Shanghai"}}
    assert events[1].details == {}


def test_dataprofile_example(spec: dict[str, Any]) -> None:
    path = "/definitions/dataprofiles/{dataprofileId}/{dataprofileVersion}"
    profile = decode(example(spec, path), DataProfile, "profile")
    assert profile.key == "2uTRMlbK/1.0"
    assert profile.name == "restdoc.device.hlk"
    assert len(profile.datapoints) == 9
    setpoint = profile.get("772bpRFm.1")
    assert setpoint.name == "/hlk/temp_setpoint"
    assert setpoint.description == "Temperature setpoint"
    assert (setpoint.access, setpoint.basetype) == ("rw", "real")
    assert setpoint.writable and setpoint.readable and setpoint.numeric
    assert setpoint.unit is None
    assert setpoint.feature("ohNBB283.mp_addr") == "mp5"
    assert [dp.id for dp in profile.find("TEMPERATURE")] == ["772bpRFm.1", "zwk892PP.1"]
    assert profile.by_name("temperature") is not None
    assert profile.by_name("no such name") is None
    assert "default.1" in profile
    with pytest.raises(DataError, match="no datapoint"):
        profile.get("evcloud.999")


def test_dataprofile_list_example(spec: dict[str, Any]) -> None:
    page = decode(example(spec, "/definitions/dataprofiles"), Page[DataProfile], "profiles")
    assert [p.key for p in page.data or []] == [
        "server/0.2",
        "default/0.1",
        "2uTRMlbK/1.0",
        "rgKmfzlB/0.1",
    ]


def test_download_link_example(spec: dict[str, Any]) -> None:
    link = decode(example(spec, "/devices/{deviceId}/data/requestDownload"), DownloadLink, "l")
    assert link.download_url.endswith("/api/v3/download/2sgyUf7Mp3LByw44lpcj4bzm")


def test_minimal_device_without_optional_fields() -> None:
    body = json.dumps(
        {
            "id": "d1",
            "dataprofile": None,
            "health": {"state": "UNKNOWN", "description": None},
            "brandNewField": {"x": 1},
        }
    ).encode()
    device = decode(body, Device, "device")
    assert device.dataprofile is None and device.dataprofile_id is None
    assert device.software is None and device.state is None
    assert device.health.last_seen is None and device.name == "d1"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"{not json", "malformed JSON"),
        (b'{"displayName": "no id"}', "unexpected device"),
        (b'{"id": 5}', "unexpected device"),
        (b'{"id": "x", "health": {"lastSeen": "yesterday"}}', "unexpected device"),
        (b"null", "unexpected device"),
        (b"", "malformed JSON"),
    ],
)
def test_malformed_bodies_raise_data_error(body: bytes, match: str) -> None:
    with pytest.raises(DataError, match=match):
        decode(body, Device, "device")


def test_models_are_immutable() -> None:
    device = decode(b'{"id": "d1"}', Device, "device")
    with pytest.raises(AttributeError):
        device.id = "other"  # type: ignore[misc]


NEVER_CONNECTED = [
    b'{"id": "n1", "health": {"state": "UNKNOWN", "lastSeen": null}}',
    b'{"id": "n2", "health": {"state": null, "lastSeen": null, "onlineDays": null}}',
    b'{"id": "n3", "health": null, "dataprofile": null, "software": null}',
    b'{"id": "n4"}',
]


@pytest.mark.parametrize("body", NEVER_CONNECTED)
def test_never_connected_and_unregistered_devices_decode(body: bytes) -> None:
    device = decode(body, Device, "device")
    assert device.health.state == "UNKNOWN"
    assert device.health.last_seen is None
    assert device.dataprofile_id is None


def test_devices_frame_holds_never_seen_devices_as_nat() -> None:
    seen = b'{"id": "s", "health": {"state": "OK", "lastSeen": "2018-06-20T11:04:06.000Z"}}'
    devices = [decode(b, Device, "device") for b in [*NEVER_CONNECTED, seen]]
    frame = devices_frame(devices)
    assert str(frame["last_seen"].dtype).startswith("datetime64") and "UTC" in str(
        frame["last_seen"].dtype
    )
    assert frame["last_seen"].isna().sum() == len(NEVER_CONNECTED)
    assert frame["last_seen"].iloc[-1] == pd.Timestamp("2018-06-20T11:04:06Z")
    only_never = devices_frame(devices[:1])
    assert only_never["last_seen"].isna().all()
    assert "UTC" in str(only_never["last_seen"].dtype)
