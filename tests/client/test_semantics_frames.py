"""Semantic names resolve against a profile; models become the shared DataFrames."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.client.decode import decode
from belimo_cloud.client.frames import (
    CATALOGUE_COLUMNS,
    DEVICE_COLUMNS,
    catalogue_frame,
    convert_frame,
    devices_frame,
)
from belimo_cloud.client.models import DataProfile, Device
from belimo_cloud.client.semantics import SEMANTIC_NAMES, resolve, resolve_many, semantic_name
from belimo_cloud.errors import DataError


def _dp(dp_id: str, name: str, description: str, unit: str | None) -> dict[str, object]:
    features = {
        "default.name": name,
        "default.description": description,
        "default.access": "r",
        "default.basetype": "real",
    }
    if unit:
        features["default.unit"] = unit
    return {"id": dp_id, "featureValues": features, "definedBy": "evcloud/1.2"}


PROFILE = decode(
    json.dumps(
        {
            "id": "energyvalve3",
            "version": "1.2",
            "ref": "energyvalve3/1.2",
            "name": "ev3",
            "datapoints": [
                _dp("evcloud.210", "Heating_E_J", "Heating Energy in J", "joule"),
                _dp("evcloud.200", "Cooling_E_J", "Cooling Energy in J", "joule"),
                _dp("evcloud.140", "AbsPower_Fb_W", "Absolute Power", "watt"),
                _dp("evcloud.9001", "T1_remote_K", "Temperature 1 remote", "kelvin"),
                _dp("default.1", "/device/info/health/status", "Aggregated health status", None),
            ],
        }
    ).encode(),
    DataProfile,
    "profile",
)


@pytest.mark.parametrize("name", ["evcloud.210", "Heating_E_J", "heating_energy", "heating-energy"])
def test_resolve_by_id_default_name_or_semantic_name(name: str) -> None:
    assert resolve(PROFILE, name).id == "evcloud.210"


def test_resolve_unknown_is_a_data_error_listing_names() -> None:
    with pytest.raises(DataError, match="heating_energy"):
        resolve(PROFILE, "volume")


def test_resolve_many_and_semantic_name() -> None:
    found = resolve_many(PROFILE, ["heating_energy", "evcloud.210", "supply_temperature"])
    assert [dp.id for dp in found] == ["evcloud.210", "evcloud.9001"]
    assert semantic_name(found[1]) == "supply_temperature"
    assert semantic_name(PROFILE.get("default.1")) is None
    assert SEMANTIC_NAMES["cooling_energy"] == "Cooling_E_J"


def test_find_energy() -> None:
    assert {dp.id for dp in PROFILE.find("energy")} == {"evcloud.200", "evcloud.210"}


def test_datapoint_convert_uses_units() -> None:
    heating = PROFILE.get("evcloud.210")
    assert heating.convert(3.6e6, "kWh") == pytest.approx(1.0)
    t1 = PROFILE.get("evcloud.9001")
    assert t1.convert(293.15, "degC") == pytest.approx(20.0)
    assert t1.convert(5.0, "degC", delta=True) == pytest.approx(5.0)
    with pytest.raises(DataError):
        PROFILE.get("default.1").convert(1.0, "kWh")


def test_devices_frame_columns_and_types() -> None:
    devices = [
        decode(
            json.dumps(
                {
                    "id": "a",
                    "displayName": "Valve A",
                    "dataprofile": {
                        "entityId": "energyvalve3/1.2",
                        "ref": "/definitions/dataprofiles/energyvalve3/1.2",
                    },
                    "health": {
                        "state": "OK",
                        "lastSeen": "2026-11-20T11:59:00.000Z",
                        "onlineDays": 3,
                    },
                    "addressCity": "Hinwil",
                }
            ).encode(),
            Device,
            "d",
        ),
        decode(b'{"id": "b", "health": {"state": "UNKNOWN"}}', Device, "d"),
    ]
    frame = devices_frame(devices)
    assert list(frame.columns) == DEVICE_COLUMNS
    assert frame["dataprofile"].tolist()[0] == "energyvalve3/1.2"
    assert pd.isna(frame["dataprofile"].iloc[1])
    assert frame["last_seen"].iloc[0] == pd.Timestamp(datetime(2026, 11, 20, 11, 59, tzinfo=UTC))
    assert pd.isna(frame["last_seen"].iloc[1])
    assert str(frame["last_seen"].dtype).startswith("datetime64") and "UTC" in str(
        frame["last_seen"].dtype
    )
    assert frame["health_state"].tolist() == ["OK", "UNKNOWN"]
    assert list(devices_frame([]).columns) == DEVICE_COLUMNS


def test_catalogue_frame() -> None:
    frame = catalogue_frame(PROFILE)
    assert list(frame.columns) == CATALOGUE_COLUMNS
    row = frame.set_index("datapoint_id").loc["evcloud.210"]
    assert (row["dataprofile"], row["name"], row["unit"]) == (
        "energyvalve3/1.2",
        "Heating_E_J",
        "joule",
    )


def test_convert_frame() -> None:
    frame = pd.DataFrame(
        {
            "device_id": ["d"] * 2,
            "datapoint_id": ["evcloud.210", "evcloud.140"],
            "timestamp": pd.to_datetime(["2025-01-01", "2025-01-01"], utc=True),
            "value": [7.2e6, 1500.0],
        }
    )
    out = convert_frame(frame, PROFILE, {"evcloud.210": "kWh"})
    assert out["value"].tolist() == pytest.approx([2.0, 1500.0])
    assert out["unit"].tolist() == ["kWh", "watt"]
    assert np.isclose(frame["value"].iloc[0], 7.2e6)  # the input is untouched
