"""The emulator's definitions: shapes as the spec's examples, string feature values, EV ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from belimo_cloud.emulator.model.profiles import Definitions

EV = ("energyvalve3", "1.2")
#: default.name -> (id, unit) the contracts fix for the Energy Valve profile.
EV_NAMES = {
    "Heating_E_J": ("evcloud.210", "joule"),
    "Cooling_E_J": ("evcloud.200", "joule"),
    "AbsPower_Fb_W": ("evcloud.140", "watt"),
    "RelFlow_Fb_Rel2Vmax": ("evcloud.100", "percent"),
    "AbsFlow_Fb_m3s": (None, "cubicMeterPerSecond"),
    "T1_remote_K": (None, "kelvin"),
    "T2_embeded_K": (None, "kelvin"),
    "DeltaT_K": (None, "kelvin"),
    "SpDeltaT_applied_K": (None, "kelvin"),
    "SpDeltaT_K_Write": (None, "kelvin"),
    "RelPower_Fb_Rel2Pmax": (None, "percent"),
    "Flow_Volume_total_m3": (None, "cubicMeter"),
    "DN_Size": ("evcloud.10", None),
    "ValveType": ("evcloud.00009", None),
}
KNOWN_IDS = {
    "evcloud.30",
    "evcloud.00009",
    "evcloud.10",
    "evcloud.100",
    "evcloud.140",
    "evcloud.200",
    "evcloud.210",
}


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return Definitions()


def _example(spec: dict[str, Any], path: str) -> Any:
    return json.loads(
        spec["paths"][path]["get"]["responses"]["200"]["examples"]["application/json"]
    )


def _all_datapoints(definitions: Definitions) -> list[dict[str, Any]]:
    return [dp for profile in definitions.dataprofiles() for dp in profile["datapoints"]]


def test_every_feature_value_is_a_string(definitions: Definitions) -> None:
    datapoints = _all_datapoints(definitions)
    assert len(datapoints) > 40
    for dp in datapoints:
        assert dp["featureValues"], dp["id"]
        for key, value in dp["featureValues"].items():
            assert isinstance(value, str), (dp["id"], key)
            assert key.split(".", 1)[0] in {"default", "bMg3Fgui"}


def test_energy_valve_profile_layout(definitions: Definitions) -> None:
    profile = definitions.dataprofile(*EV)
    assert profile is not None
    assert profile["ref"] == "energyvalve3/1.2"
    assert profile["subprofileRefs"] == ["evcloud/1.2", "default/0.1", "metadata/0.3"]
    ids = [dp["id"] for dp in profile["datapoints"]]
    aspect_refs = {a["ref"] for a in profile["aspects"]}
    assert aspect_refs == set(profile["aggregatedSupportedAspects"]) >= {"default/0.3"}
    for sub in profile["subprofiles"]:
        assert all(isinstance(i, str) for i in sub["datapoints"])
        assert set(sub["datapoints"]) <= set(ids)
        assert set(sub["supportedAspects"]) <= aspect_refs
    for dp in profile["datapoints"]:
        assert dp["definedBy"] in profile["subprofileRefs"]
        assert dp["id"].split(".")[0] == dp["definedBy"].split("/")[0]
    assert {"default.1", "default.2", "default.3", "metadata.1001", "metadata.1011"} <= set(ids)


def test_energy_valve_names_units_and_known_ids(definitions: Definitions) -> None:
    profile = definitions.dataprofile(*EV)
    assert profile is not None
    by_name = {dp["featureValues"]["default.name"]: dp for dp in profile["datapoints"]}
    for name, (known_id, unit) in EV_NAMES.items():
        dp = by_name[name]
        if known_id is not None:
            assert dp["id"] == known_id
        assert dp["featureValues"].get("default.unit") == unit, name
        assert dp["featureValues"]["default.description"]
    heating = by_name["Heating_E_J"]["featureValues"]
    assert heating["default.description"] == "Heating Energy in J"
    assert heating["default.basetype"] == "real"
    assert by_name["Cooling_E_J"]["featureValues"]["default.description"] == "Cooling Energy in J"
    assert by_name["SpDeltaT_K_Write"]["featureValues"]["default.access"] == "rw"
    assert by_name["DN_Size"]["featureValues"]["default.basetype"] == "int"


def test_invented_ids_are_marked_synthetic(definitions: Definitions) -> None:
    profile = definitions.dataprofile(*EV)
    assert profile is not None
    synthetic = set(profile["properties"]["syntheticDatapoints"].split(","))
    evcloud = {dp["id"] for dp in profile["datapoints"] if dp["id"].startswith("evcloud.")}
    assert synthetic == evcloud - KNOWN_IDS
    assert all(isinstance(v, str) for v in profile["properties"].values())


def test_versions_last_and_unknown(definitions: Definitions) -> None:
    assert definitions.dataprofile("energyvalve3", "last") == definitions.dataprofile(*EV)
    assert definitions.dataprofile("energyvalve3", "9.9") is None
    assert definitions.dataprofile("nope", "last") is None
    assert definitions.subprofile("evcloud", "last") == definitions.subprofile("evcloud", "1.2")
    assert definitions.subprofile("evcloud", "0.1") is None
    assert definitions.aspect("default", "last") == definitions.aspect("default", "0.3")
    assert definitions.aspect("nope", "0.3") is None
    assert definitions.datapoint("evcloud.210", "1.2") == definitions.datapoint(
        "evcloud.210", "last"
    )
    assert definitions.datapoint("evcloud.210", "0.9") is None
    assert definitions.datapoint("evcloud.999", "last") is None


def test_unexpanded_profile_lacks_expansions(definitions: Definitions) -> None:
    profile = definitions.dataprofile(*EV, expanded=False)
    assert profile is not None
    assert not {"aspects", "subprofiles", "datapoints"} & set(profile)
    assert profile["subprofileRefs"] == ["evcloud/1.2", "default/0.1", "metadata/0.3"]


def test_results_are_copies(definitions: Definitions) -> None:
    profile = definitions.dataprofile(*EV)
    assert profile is not None
    profile["datapoints"].clear()
    again = definitions.dataprofile(*EV)
    assert again is not None and again["datapoints"]


def test_list_is_sorted_by_name_and_has_gateway_profile(definitions: Definitions) -> None:
    profiles = definitions.dataprofiles()
    names = [p["name"] for p in profiles]
    assert names == sorted(names)
    gateway = next(p for p in profiles if p["id"] == "ethernetgateway")
    assert gateway["subprofileRefs"][1:] == ["default/0.1", "metadata/0.3"]
    assert any(dp["id"].startswith("gwcloud.") for dp in gateway["datapoints"])


def test_aspect_default_features(definitions: Definitions) -> None:
    aspect = definitions.aspect("default", "0.3")
    assert aspect is not None
    features = {f["name"]: f["optional"] for f in aspect["features"]}
    assert features == {
        "unit": True,
        "access": False,
        "format": True,
        "name": False,
        "restriction": True,
        "basetype": False,
        "description": True,
        "privacy": True,
    }


@pytest.mark.spec
def test_shapes_carry_every_key_of_the_spec_examples(
    definitions: Definitions, spec: dict[str, Any]
) -> None:
    base = "/api/v3/definitions/"
    profile_ex = _example(spec, base + "dataprofiles/{dataprofileId}/{dataprofileVersion}")
    profile = definitions.dataprofile(*EV)
    assert profile is not None
    assert set(profile_ex) <= set(profile)
    assert set(profile_ex["subprofiles"][0]) <= set(profile["subprofiles"][0])
    assert set(profile_ex["aspects"][0]) <= set(profile["aspects"][0])
    assert set(profile_ex["datapoints"][0]) <= set(profile["datapoints"][0])

    sub_ex = _example(spec, base + "subprofiles/{subprofileId}/{subprofileVersion}")
    sub = definitions.subprofile("evcloud", "1.2")
    assert sub is not None
    assert set(sub_ex) <= set(sub)
    assert set(sub_ex["supportedAspects"][0]) <= set(sub["supportedAspects"][0])
    assert set(sub_ex["datapoints"][0]) <= set(sub["datapoints"][0])

    dp_ex = _example(spec, base + "datapoints/{datapointId}/{datapointVersion}")
    assert set(dp_ex) <= set(definitions.datapoint("evcloud.210", "1.2") or {})
    aspect_ex = _example(spec, base + "aspects/{aspectId}/{aspectVersion}")
    assert set(aspect_ex) <= set(definitions.aspect("default", "0.3") or {})

    list_ex = _example(spec, base + "dataprofiles")
    assert set(list_ex["data"][0]) <= set(definitions.dataprofiles()[0])


@pytest.mark.spec
def test_metadata_and_default_ids_match_the_spec(
    definitions: Definitions, spec: dict[str, Any]
) -> None:
    list_ex = _example(spec, "/api/v3/definitions/dataprofiles")
    theirs = {
        dp["id"]: dp["featureValues"]
        for p in list_ex["data"]
        for dp in p["datapoints"]
        if dp["id"].startswith(("metadata.", "default."))
    }
    ours = {dp["id"]: dp["featureValues"] for dp in _all_datapoints(definitions)}
    assert set(theirs) <= set(ours)
    for dp_id, features in theirs.items():
        for key in ("default.access", "default.basetype", "default.name", "default.unit"):
            assert ours[dp_id].get(key) == features.get(key), (dp_id, key)
