"""Writes are checked against the profile before sending: access, type, unit, range, enum."""

from __future__ import annotations

from typing import Any

import pytest

from belimo_cloud.client.models import Datapoint, DataProfile, Device, DeviceData
from belimo_cloud.client.writes import (
    ReadOnlyDatapoint,
    ValueOutOfRange,
    WriteRefused,
    coerce_value,
    plan_metadata,
    plan_write,
)
from belimo_cloud.errors import DataError


def dp(id_: str, access: str, basetype: str, **features: str) -> Datapoint:
    values = {"default.access": access, "default.basetype": basetype, "default.name": id_}
    values.update({k.replace("__", "."): v for k, v in features.items()})
    return Datapoint(id=id_, feature_values=values)


PROFILE = DataProfile(
    id="hlk",
    version="1.0",
    datapoints=[
        dp(
            "772bpRFm.1",
            "rw",
            "real",
            default__unit="kelvin",
            default__restriction="b32;[1.0,30.0]",
            default__description="Delta T setpoint",
        ),
        dp("772bpRFm.2", "r", "int"),
        dp("772bpRFm.3", "rw", "text", default__format="application/vnd.belimo.enum;OPEN|CLOSE"),
        dp("772bpRFm.4", "w", "bool"),
        dp(
            "772bpRFm.5",
            "rw",
            "int",
            default__restriction="uint8",
            default__format="application/vnd.belimo.enum;1|2|3",
        ),
        dp(
            "772bpRFm.6",
            "rw",
            "real",
            default__unit="percent",
            bMg3Fgui__min="10",
            bMg3Fgui__max="100",
        ),
        dp("772bpRFm.7", "rw", "real", default__unit="kelvin"),
        dp("metadata.1001", "rw", "text", default__restriction="len:[0,5]"),
        dp("metadata.1011", "rw", "text", default__format="application/vnd.belimo.iso3166;alpha2"),
        dp("metadata.1014", "rw", "text", default__restriction="re:(user:.*|gps|ip);len:[0,255]"),
        dp("metadata.2", "r", "text"),
    ],
)
DEVICE = Device(
    id="dev-1",
    remote_control_enabled=True,
    state=DeviceData(datapoints={"772bpRFm.1": {"value": 5.0}, "772bpRFm.3": {"value": "OPEN"}}),
)


def write(values: dict[str, Any], **options: Any) -> Any:
    return plan_write(DEVICE, PROFILE, values, **options)


def test_the_request_is_the_specs_shape_with_raw_values_and_old_values() -> None:
    request = write(
        {"772bpRFm.1": 27.5, "772bpRFm.3": "CLOSE", "772bpRFm.4": "true"}, cancelable=True
    )
    assert request.method == "POST"
    assert request.path == "/devices/dev-1/data"
    assert request.body == {
        "datapoints": {"772bpRFm.1": 27.5, "772bpRFm.3": "CLOSE", "772bpRFm.4": True},
        "mergeable": False,
        "cancelable": True,
    }
    old = {c.datapoint_id: c.old_value for c in request.changes}
    assert old == {"772bpRFm.1": 5.0, "772bpRFm.3": "OPEN", "772bpRFm.4": None}
    text = request.describe("http://x/api/v3")
    assert text.startswith("POST http://x/api/v3/devices/dev-1/data")
    assert '"772bpRFm.4": true' in text


def test_read_only_is_refused_before_anything_else() -> None:
    with pytest.raises(ReadOnlyDatapoint, match=r"772bpRFm\.2.*read-only") as info:
        write({"772bpRFm.2": 3})
    assert info.value.datapoint_id == "772bpRFm.2"
    assert isinstance(info.value, DataError)


@pytest.mark.parametrize(
    ("datapoint", "given"),
    [
        ("772bpRFm.1", 31),
        ("772bpRFm.1", "0.5"),
        ("772bpRFm.1", float("inf")),
        ("772bpRFm.3", "HALF"),
        ("772bpRFm.5", 4),
        ("772bpRFm.5", 2.5),
        ("772bpRFm.6", 5),
    ],
)
def test_out_of_range_values_are_refused(datapoint: str, given: Any) -> None:
    with pytest.raises(ValueOutOfRange):
        write({datapoint: given})


@pytest.mark.parametrize(("datapoint", "given"), [("772bpRFm.1", "warm"), ("772bpRFm.4", "maybe")])
def test_values_of_the_wrong_type_are_refused(datapoint: str, given: Any) -> None:
    with pytest.raises(WriteRefused, match="takes"):
        write({datapoint: given})


def test_units_are_converted_to_the_raw_unit() -> None:
    delta = PROFILE.get("772bpRFm.1")
    absolute = PROFILE.get("772bpRFm.7")
    # A setpoint difference: 5 degC of difference is 5 K, not 278.15 K.
    assert coerce_value(delta, "5 degC") == pytest.approx(5.0)
    assert coerce_value(delta, (6, "K")) == pytest.approx(6.0)
    assert coerce_value(absolute, "21 degC") == pytest.approx(294.15)
    assert coerce_value(PROFILE.get("772bpRFm.6"), "0.5 ratio") == pytest.approx(50.0)
    with pytest.raises(WriteRefused):
        coerce_value(delta, "5 kWh")
    with pytest.raises(WriteRefused, match="unit"):
        coerce_value(PROFILE.get("772bpRFm.3"), "5 K")


def test_names_resolve_and_the_same_datapoint_twice_is_refused() -> None:
    request = write({"772bpRFm.5": "2"})
    assert request.body["datapoints"] == {"772bpRFm.5": 2}
    with pytest.raises(WriteRefused, match="no datapoint"):
        write({"nope": 1})


def test_write_options_are_checked() -> None:
    with pytest.raises(WriteRefused, match="both"):
        write({"772bpRFm.1": 5}, mergeable=True, cancelable=True)
    with pytest.raises(WriteRefused, match="cancelable"):
        write({"772bpRFm.1": 5}, auto_cancel_after="2026-01-01T00:00:00Z")
    request = write({"772bpRFm.1": 5}, cancelable=True, auto_cancel_after="2026-01-01T00:00:00Z")
    assert request.body["autoCancelAfter"] == "2026-01-01T00:00:00Z"


def test_remote_control_disabled_refuses_writes() -> None:
    device = Device(id="dev-2", remote_control_enabled=False)
    with pytest.raises(WriteRefused, match="remote control"):
        plan_write(device, PROFILE, {"772bpRFm.1": 5})


def test_metadata_goes_its_own_way_and_is_checked() -> None:
    request = plan_metadata(DEVICE, PROFILE, {"metadata.1001": "B14", "metadata.1011": "CH"})
    assert request.path == "/devices/dev-1/metadata"
    assert request.body == {"datapoints": {"metadata.1001": "B14", "metadata.1011": "CH"}}
    assert request.kind == "metadata"
    with pytest.raises(ValueOutOfRange, match="length"):
        plan_metadata(DEVICE, PROFILE, {"metadata.1001": "Basement"})
    with pytest.raises(ValueOutOfRange, match="ISO 3166"):
        plan_metadata(DEVICE, PROFILE, {"metadata.1011": "Swiss"})
    with pytest.raises(ValueOutOfRange, match="matching"):
        plan_metadata(DEVICE, PROFILE, {"metadata.1014": "satellite"})
    assert plan_metadata(DEVICE, PROFILE, {"metadata.1014": "user:me"}).body
    with pytest.raises(ReadOnlyDatapoint):
        plan_metadata(DEVICE, PROFILE, {"metadata.2": "x"})
    with pytest.raises(WriteRefused, match="metadata"):
        write({"metadata.1001": "B14"})
    with pytest.raises(WriteRefused, match="not device metadata"):
        plan_metadata(DEVICE, PROFILE, {"772bpRFm.1": 5})
