"""Every bad parameter answers 400 JSON naming it; no input reaches a 500."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_http import error, first_valve, get, login, ok


@pytest.fixture(scope="module")
def ctx(emulator_url: str) -> dict[str, str]:
    token = login(emulator_url)
    return {"token": token, "device": first_valve(emulator_url, token)["id"]}


TS = "/devices/{device}/data/history/timeseries"
RAW = "/devices/{device}/data/history/datapoints/evcloud.210"
CASES: list[tuple[str, dict[str, Any], str]] = [
    # timeseries
    (TS, {"datapointIds": "evcloud.210", "from": "yesterday"}, "from"),
    (TS, {"datapointIds": "evcloud.210", "to": "2018-02-30T00:00:00Z"}, "to"),
    (
        TS,
        {
            "datapointIds": "evcloud.210",
            "from": "2018-06-02T00:00:00Z",
            "to": "2018-06-01T00:00:00Z",
        },
        "to",
    ),
    (
        TS,
        {
            "datapointIds": "evcloud.210",
            "from": "2018-06-01T00:00:00Z",
            "to": "2018-06-01T00:00:00Z",
        },
        "to",
    ),
    (TS, {"datapointIds": "evcloud.210", "resolution": "fortnightly"}, "resolution"),
    (TS, {"datapointIds": "evcloud.210", "resolution": "0s"}, "resolution"),
    (TS, {"datapointIds": "evcloud.210", "resolution": "8d"}, "resolution"),
    (TS, {"datapointIds": "evcloud.210", "resolution": "10001"}, "resolution"),
    (
        TS,
        {
            "datapointIds": "evcloud.210",
            "resolution": "1s",
            "from": "2018-06-01T00:00:00Z",
            "to": "2018-06-02T00:00:00Z",
        },
        "resolution",
    ),
    (TS, {"datapointIds": "evcloud.210", "aggregation": "median"}, "aggregation"),
    (TS, {}, "datapointIds"),
    (TS, {"datapointIds": ""}, "datapointIds"),
    # raw history
    (RAW, {"limit": "2001"}, "limit"),
    (RAW, {"limit": "0"}, "limit"),
    (RAW, {"offset": "-1"}, "offset"),
    (RAW, {"sortDirection": "sideways"}, "sortDirection"),
    (RAW, {"sortBy": "value"}, "sortBy"),
    (RAW, {"from": "not a date"}, "from"),
    (RAW, {"from": "2018-06-02T00:00:00Z", "to": "2018-06-01T00:00:00Z"}, "to"),
    # device list
    ("/devices", {"limit": "2001"}, "limit"),
    ("/devices", {"limit": "-3"}, "limit"),
    ("/devices", {"limit": "many"}, "limit"),
    ("/devices", {"offset": "-1"}, "offset"),
    ("/devices", {"search": ""}, "search"),
    ("/devices", {"state": "ONLINE"}, "state"),
    ("/devices", {"sortBy": "colour"}, "sortBy"),
    ("/devices", {"sortDirection": "up"}, "sortDirection"),
    ("/devices/stats", {"owner": ""}, "owner"),
    # current data, timeline, download, definitions
    ("/devices/{device}/data", {"at": "noon"}, "at"),
    ("/devices/{device}/timeline", {"limit": "5000"}, "limit"),
    ("/devices/{device}/timeline", {"from": "x"}, "from"),
    ("/devices/{device}/data/download", {"from": "x"}, "from"),
    (
        "/devices/{device}/data/download",
        {"from": "2018-06-02T00:00:00Z", "to": "2018-06-01T00:00:00Z"},
        "to",
    ),
    ("/devices/{device}/data/requestDownload", {"to": "x"}, "to"),
    ("/definitions/dataprofiles", {"expanded": "maybe"}, "expanded"),
    ("/definitions/dataprofiles", {"sortBy": "date"}, "sortBy"),
    ("/definitions/dataprofiles", {"limit": "2001"}, "limit"),
]


@pytest.mark.parametrize(("path", "query", "parameter"), CASES)
def test_bad_parameter_is_400_naming_it(
    emulator_url: str, ctx: dict[str, str], path: str, query: dict[str, Any], parameter: str
) -> None:
    response = get(emulator_url, ctx["token"], path.format(device=ctx["device"]), **query)
    body = error(response, 400, "invalid_parameter")
    assert body["parameter"] == parameter
    assert body["error_description"].startswith(f"{parameter}: ")


def test_unknown_query_parameters_are_ignored(emulator_url: str, ctx: dict[str, str]) -> None:
    ok(get(emulator_url, ctx["token"], "/devices", parts="ALL", colour="blue"))


GARBAGE = ["", " ", "%", "\u00e9\u00e8", "9" * 40, "-1", "1e309", "NaN", "null", "[]", "x" * 500]


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (TS, ("datapointIds", "from", "to", "resolution", "aggregation")),
        (RAW, ("from", "to", "limit", "offset", "sortBy", "sortDirection")),
        ("/devices", ("state", "search", "owner", "limit", "offset", "sortBy", "sortDirection")),
        ("/devices/{device}/data", ("at",)),
        ("/devices/{device}/timeline", ("from", "to", "limit", "offset", "sortDirection")),
        ("/definitions/dataprofiles", ("expanded", "limit", "offset", "sortBy")),
    ],
)
def test_garbage_never_answers_500(
    emulator_url: str, ctx: dict[str, str], path: str, names: tuple[str, ...]
) -> None:
    for name in names:
        for value in GARBAGE:
            query = (
                {
                    "datapointIds": "evcloud.210",
                    "from": "2018-06-20T00:00:00Z",
                    "to": "2018-06-21T00:00:00Z",
                }
                if path == TS
                else {}
            )
            query[name] = value
            response = get(emulator_url, ctx["token"], path.format(device=ctx["device"]), **query)
            assert response.status_code in (200, 400), (name, value, response.text[:200])
            assert response.headers["content-type"].startswith("application/json")
