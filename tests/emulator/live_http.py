"""Helpers for the live half's tests: write calls, a change-stream reader on its own thread."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
from emulator_http import HTTP, login

WRITE_SCOPES = "public.read public.write offline_access read:dataprofile"


def write_token(url: str) -> str:
    return login(url, scope=WRITE_SCOPES)


def post(url: str, token: str | None, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HTTP.post(f"{url}/api/v3{path}", json=body, headers=headers)


def wait_job(url: str, token: str, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll a job until it is final (or the timeout passes); its last body."""
    deadline = time.monotonic() + timeout
    while True:
        response = HTTP.get(
            f"{url}/api/v3/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["state"] in ("SUCCESS", "FAILURE", "CANCELED") or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


class StreamReader:
    """Reads one change stream on a thread: ``lines`` grows, ``error`` says how it ended."""

    def __init__(self, url: str, token: str) -> None:
        self.lines: list[str] = []
        self.error: BaseException | None = None
        self.ended = threading.Event()
        self._url = f"{url}/api/v3/devices/change-stream/{token}"
        self.status = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with httpx.stream("GET", self._url, timeout=httpx.Timeout(10.0, read=10.0)) as r:
                self.status = r.status_code
                self.content_type = r.headers.get("content-type", "")
                for line in r.iter_lines():
                    self.lines.append(line)
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self.ended.set()

    def events(self) -> list[dict[str, Any]]:
        """The decoded ``data:`` payloads so far."""
        return [json.loads(line[5:]) for line in list(self.lines) if line.startswith("data:")]

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            if self.ended.is_set():
                return bool(predicate(self))
            time.sleep(0.02)
        return False
