"""Writes, jobs and metadata against the demo cloud: checked, sent once, confirmed by the device."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from belimo_cloud.client import Client
from belimo_cloud.client.jobs import JobTimeout
from belimo_cloud.client.models import Device
from belimo_cloud.client.writes import ReadOnlyDatapoint, ValueOutOfRange, WriteNotPermitted
from tests.conftest import DEMO


class Recording(httpx.HTTPTransport):
    """The real transport, remembering every request's method and path."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        return super().handle_request(request)

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.seen if m != "GET" and p.startswith("/api/")]


@pytest.fixture
def cloud(make_emulator: Callable[..., str]) -> str:
    return make_emulator(seed=0, speed=60.0, rate_limit=0, job_delay=0.2)


@pytest.fixture
def recorder() -> Recording:
    return Recording()


@pytest.fixture
def client(cloud: str, recorder: Recording) -> Iterator[Client]:
    with Client(**DEMO, api_url=cloud, rate_limit=0, cache_tokens=False, transport=recorder) as c:
        yield c


def online_valve(client: Client) -> Device:
    valves = [
        d
        for d in client.devices.list()
        if (d.dataprofile_id or "").startswith("energyvalve") and d.remote_control_enabled
    ]
    return max(valves, key=lambda d: d.health.last_seen or d.production_date or 0)


def test_write_waits_for_success_and_the_state_shows_the_value(
    client: Client, recorder: Recording
) -> None:
    device = online_valve(client)
    before = client.devices.data(device).get("evcloud.40")
    target = 7.0 if before != 7.0 else 8.0
    job = client.devices.write(device, {"SpDeltaT_K_Write": f"{target} K"})
    assert job.state == "PENDING" and job.device_id == device.id
    assert recorder.writes() == [("POST", f"/api/v3/devices/{device.id}/data")]
    job.wait(30, poll=0.2)
    assert job.state == "SUCCESS" and job.succeeded and job.done
    assert job.info.confirmed_by == "DEVICE"
    assert client.devices.data(device).get("evcloud.40") == pytest.approx(target)
    assert client.jobs.get(job.id).state == "SUCCESS"


def test_dry_run_sends_nothing_and_creates_no_job(client: Client, recorder: Recording) -> None:
    device = online_valve(client)
    request = client.devices.write(device, {"evcloud.40": 9.5}, dry_run=True)
    assert request.body == {
        "datapoints": {"evcloud.40": 9.5},
        "mergeable": False,
        "cancelable": False,
    }
    assert request.changes[0].old_value == client.devices.data(device).get("evcloud.40")
    meta = client.devices.set_metadata(device, {"deviceName": "B14"}, dry_run=True)
    assert meta.body == {"datapoints": {"metadata.1001": "B14"}}
    assert recorder.writes() == []


def test_invalid_writes_never_leave_the_client(client: Client, recorder: Recording) -> None:
    device = online_valve(client)
    with pytest.raises(ReadOnlyDatapoint):
        client.devices.write(device, {"evcloud.140": 1.0})
    with pytest.raises(ValueOutOfRange):
        client.devices.write(device, {"evcloud.40": 1000.0})
    assert recorder.writes() == []


def test_a_cancelable_job_can_be_canceled(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(seed=0, speed=60.0, rate_limit=0, job_delay=30.0)
    with Client(**DEMO, api_url=url, rate_limit=0, cache_tokens=False) as client:
        device = online_valve(client)
        job = client.devices.write(device, {"evcloud.40": 6.5}, cancelable=True)
        with pytest.raises(JobTimeout) as info:
            job.wait(0.3, poll=0.1)
        assert info.value.job is job and not job.done
        job.cancel()
        assert job.state == "CANCELED"


def test_metadata_shows_in_the_state(client: Client) -> None:
    device = online_valve(client)
    assert client.devices.set_metadata(device, {"metadata.1009": "Zurich"}) is None
    assert client.devices.data(device).get("metadata.1009") == "Zurich"


def test_no_write_scope_is_its_own_error(cloud: str) -> None:
    transport = Recording()
    # An identity that cannot be granted public.write: the demo cloud's read-only client.
    with Client(
        **DEMO, api_url=cloud, rate_limit=0, cache_tokens=False, transport=transport
    ) as client:
        device = online_valve(client)
        client.session.tokens.require_scopes = _refuse  # type: ignore[method-assign]
        with pytest.raises(WriteNotPermitted, match=r"public\.write"):
            client.devices.write(device, {"evcloud.40": 6.0})
    assert transport.writes() == []


def _refuse(*scopes: str) -> None:
    from belimo_cloud.errors import AuthError

    raise AuthError("the identity server did not grant the scope", error="insufficient_scope")


def test_the_apis_403_without_write_scope_is_the_same_error(cloud: str) -> None:
    transport = Recording()
    with Client(
        **DEMO, api_url=cloud, rate_limit=0, cache_tokens=False, transport=transport
    ) as client:
        device = online_valve(client)
        # A session that never asks for more scope: the token stays read-only.
        client.session.require_scopes = None  # type: ignore[attr-defined]
        client.session.tokens.require_scopes = None  # type: ignore[method-assign,assignment]
        with pytest.raises(WriteNotPermitted, match=r"public\.write") as info:
            client.devices.write(device, {"evcloud.40": 6.0})
    assert info.value.error == "insufficient_scope"
    assert transport.writes() == [("POST", f"/api/v3/devices/{device.id}/data")]
