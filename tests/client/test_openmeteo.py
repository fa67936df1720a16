"""The Open-Meteo archive client against a loopback server that speaks the archive's format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from belimo_cloud.client.openmeteo import OpenMeteo
from belimo_cloud.errors import APIError, DataError, TransportError
from tests.client.loopback import serving


def _temperature(day: date, hour: int = 12) -> float:
    return round(day.toordinal() % 17 - 3 + hour / 10.0, 1)


class _Archive(BaseHTTPRequestHandler):
    """Just enough of GET /v1/archive: daily means in the asked zone, hourly in GMT."""

    requests: ClassVar[list[dict[str, str]]] = []
    broken: ClassVar[bool] = False

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).requests.append(query)
        if url.path != "/v1/archive":
            return self._send(404, {"error": True, "reason": "Not Found"})
        try:
            start = date.fromisoformat(query["start_date"])
            end = date.fromisoformat(query["end_date"])
        except (KeyError, ValueError):
            return self._send(400, {"error": True, "reason": "Parameter start_date is missing"})
        if end < start:
            return self._send(
                400, {"error": True, "reason": "End-date must be larger or equal than start-date"}
            )
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        body: dict[str, Any] = {
            "latitude": float(query["latitude"]),
            "longitude": float(query["longitude"]),
            "generationtime_ms": 0.2,
            "utc_offset_seconds": 0,
            "timezone": query.get("timezone", "GMT"),
            "elevation": 408.0,
        }
        if type(self).broken:
            body["daily"] = {"time": ["2018-01-01"]}
        elif "daily" in query:
            assert query["daily"] == "temperature_2m_mean"
            values: list[float | None] = [_temperature(d) for d in days]
            values[1] = None  # the archive leaves unknown values null
            body["daily_units"] = {"time": "iso8601", "temperature_2m_mean": "°C"}
            body["daily"] = {"time": [d.isoformat() for d in days], "temperature_2m_mean": values}
        else:
            assert query["hourly"] == "temperature_2m"
            assert query["timezone"] == "GMT"
            times = [f"{d.isoformat()}T{h:02d}:00" for d in days for h in range(24)]
            temps = [_temperature(d, h) for d in days for h in range(24)]
            body["hourly"] = {"time": times, "temperature_2m": temps}
        return self._send(200, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def serve_archive() -> Iterator[str]:
    """A loopback archive; yields its /v1/archive URL."""
    _Archive.requests = []
    _Archive.broken = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Archive)
    with serving(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/archive"


@pytest.fixture
def archive() -> Iterator[str]:
    with serve_archive() as url:
        yield url


def test_daily_means_are_local_days_and_cached(archive: str, tmp_path: Path) -> None:
    with OpenMeteo(tmp_path / "cache", base_url=archive) as client:
        frame = client.daily(47.3769, 8.5417, date(2018, 1, 1), date(2018, 1, 5), site="zrh")
    assert _Archive.requests[0]["timezone"] == "Europe/Zurich"
    assert _Archive.requests[0]["start_date"] == "2018-01-01"
    assert _Archive.requests[0]["end_date"] == "2018-01-05"
    assert len(frame) == 4  # the null of 2 January is left out
    assert frame["daily"].all()
    assert set(frame["site"]) == {"zrh"}
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2017-12-31T23:00Z")
    assert frame["temperature"].iloc[0] == _temperature(date(2018, 1, 1))
    with OpenMeteo(tmp_path / "cache", base_url=archive) as again:
        second = again.daily(47.3769, 8.5417, date(2018, 1, 1), date(2018, 1, 5), site="zrh")
    assert len(_Archive.requests) == 1  # answered from the cache
    pd.testing.assert_frame_equal(frame, second)


def test_hourly_in_gmt(archive: str, tmp_path: Path) -> None:
    with OpenMeteo(tmp_path, base_url=archive) as client:
        frame = client.hourly(47.4, 8.5, date(2018, 3, 25), date(2018, 3, 25))
    assert len(frame) == 24
    assert not frame["daily"].any()
    assert frame["timestamp"].iloc[5] == pd.Timestamp("2018-03-25T05:00Z")
    assert frame["temperature"].iloc[5] == _temperature(date(2018, 3, 25), 5)


def test_refusal_carries_the_archive_reason(archive: str, tmp_path: Path) -> None:
    bad = archive.replace("/v1/archive", "/v1/elsewhere")
    with OpenMeteo(tmp_path, base_url=bad) as client, pytest.raises(APIError) as info:
        client.daily(47.4, 8.5, date(2018, 1, 1), date(2018, 1, 2))
    assert info.value.status_code == 404
    assert "Not Found" in str(info.value)
    assert not list(tmp_path.glob("*.json"))  # a refusal is never cached


def test_malformed_answer(archive: str, tmp_path: Path) -> None:
    _Archive.broken = True
    with (
        OpenMeteo(tmp_path, base_url=archive) as client,
        pytest.raises(DataError, match="temperature_2m_mean"),
    ):
        client.daily(47.4, 8.5, date(2018, 1, 1), date(2018, 1, 2))


def test_unreachable_server(tmp_path: Path) -> None:
    with (
        socket_free_port() as port,
        OpenMeteo(tmp_path, base_url=f"http://127.0.0.1:{port}/v1/archive", timeout=2.0) as client,
        pytest.raises(TransportError, match="not reachable"),
    ):
        client.daily(47.4, 8.5, date(2018, 1, 1), date(2018, 1, 2))


class socket_free_port:  # noqa: N801 - used like a function in a with statement
    """A loopback port that nothing listens on (bound, never listening, then released)."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        port: int = self._sock.getsockname()[1]
        return port

    def __exit__(self, *_exc: object) -> None:
        self._sock.close()
