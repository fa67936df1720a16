"""No request blocks the server: heavy work runs off the event loop, every search is bounded."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from emulator_http import HTTP, get, login, ok

HEAVY = "evcloud.210,evcloud.140,evcloud.110,evcloud.160"


def test_the_range_from_before_1970_answers(emulator_url: str) -> None:
    """The request that once looped forever: a range across epoch 0 in one point."""
    token = login(emulator_url)
    device = ok(get(emulator_url, token, "/devices", search="Heizung", state="REGISTERED"))
    query = {
        "datapointIds": "evcloud.210",
        "from": "1969-12-31T23:59:59Z",
        "to": "2018-01-01T00:00:00Z",
        "resolution": "1",
    }
    body = ok(
        get(
            emulator_url,
            token,
            f"/devices/{device['data'][0]['id']}/data/history/timeseries",
            **query,
        )
    )
    values = body["series"][0]["values"]
    # A bucket border (epoch 0) inside the range can't be avoided: at most two buckets.
    assert 1 <= len(values) <= 2
    assert body["from"] == "1969-12-31T23:59:59Z"


@pytest.mark.slow
def test_api_info_answers_while_heavy_requests_run(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0)
    token = login(url)
    valves = ok(get(url, token, "/devices", search="Heizung", state="REGISTERED", limit=100))
    ids = [d["id"] for d in valves["data"]][:3]
    done: list[threading.Event] = []

    def heavy(device: str, finished: threading.Event) -> None:
        with httpx.Client(timeout=120) as client:
            client.get(
                f"{url}/api/v3/devices/{device}/data/history/timeseries",
                params={"datapointIds": HEAVY, "resolution": "10000"},
                headers={"Authorization": f"Bearer {token}"},
            )
        finished.set()

    threads = []
    for device in ids:
        finished = threading.Event()
        done.append(finished)
        threads.append(threading.Thread(target=heavy, args=(device, finished), daemon=True))
    for thread in threads:
        thread.start()
    answered_during = 0
    for _ in range(5):
        # The Done-when of issue 10: api-info within a second while anything else runs.
        response = HTTP.get(f"{url}/api/v3/api-info", timeout=1.0)
        assert response.json() == {"version": "3.5.0"}
        answered_during += not all(event.is_set() for event in done)
    for thread in threads:
        thread.join(timeout=120)
    assert all(event.is_set() for event in done)
    assert answered_during >= 1, "the heavy requests ended before api-info was asked"
