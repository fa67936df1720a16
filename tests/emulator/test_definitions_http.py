"""Definition routes over HTTP: the paged profile list, expanded or not, and single definitions."""

from __future__ import annotations

import pytest
from emulator_http import error, get, login, ok


@pytest.fixture(scope="module")
def token(emulator_url: str) -> str:
    return login(emulator_url)


def test_profile_list_pages_and_sorts(emulator_url: str, token: str) -> None:
    everything = ok(get(emulator_url, token, "/definitions/dataprofiles", limit=2000))
    assert "filter" not in everything
    assert everything["sorting"] == {"field": "name", "direction": "ASC"}
    names = [p["name"] for p in everything["data"]]
    assert names == sorted(names)
    assert "energyvalve3/1.2" in [p["ref"] for p in everything["data"]]
    total = everything["paging"]["total"]
    assert total == len(everything["data"])
    second = ok(get(emulator_url, token, "/definitions/dataprofiles", limit=1, offset=1))
    assert second["data"][0]["ref"] == everything["data"][1]["ref"]
    backwards = ok(get(emulator_url, token, "/definitions/dataprofiles", sortDirection="DESC"))
    assert [p["name"] for p in backwards["data"]] == names[::-1][:20]


def test_expanded_false_leaves_out_the_expansion(emulator_url: str, token: str) -> None:
    expanded = ok(get(emulator_url, token, "/definitions/dataprofiles", expanded="true"))
    collapsed = ok(get(emulator_url, token, "/definitions/dataprofiles", expanded="false"))
    assert all("datapoints" in p for p in expanded["data"])
    for profile in collapsed["data"]:
        assert not {"aspects", "subprofiles", "datapoints"} & set(profile)
        assert {"id", "version", "ref", "name", "state"} <= set(profile)


def test_single_definitions_and_last(emulator_url: str, token: str) -> None:
    fixed = ok(get(emulator_url, token, "/definitions/dataprofiles/energyvalve3/1.2"))
    assert ok(get(emulator_url, token, "/definitions/dataprofiles/energyvalve3/last")) == fixed
    datapoint = ok(get(emulator_url, token, "/definitions/datapoints/evcloud.210/last"))
    assert datapoint["featureValues"]["default.unit"] == "joule"
    assert all(isinstance(v, str) for v in datapoint["featureValues"].values())
    assert ok(get(emulator_url, token, "/definitions/subprofiles/evcloud/last"))["id"] == "evcloud"
    assert ok(get(emulator_url, token, "/definitions/aspects/default/last"))["id"] == "default"


@pytest.mark.parametrize(
    "path",
    [
        "/definitions/dataprofiles/nope/1.0",
        "/definitions/dataprofiles/energyvalve3/9.9",
        "/definitions/subprofiles/nope/last",
        "/definitions/datapoints/nope.1/last",
        "/definitions/aspects/nope/last",
    ],
)
def test_unknown_definitions_are_404(emulator_url: str, token: str, path: str) -> None:
    error(get(emulator_url, token, path), 404, "not_found")
