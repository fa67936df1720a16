"""Outdoor temperature from the Open-Meteo historical weather archive (no key), cached on disk.

The archive answers ``GET /v1/archive`` with ``latitude``, ``longitude``, ``start_date`` and
``end_date`` (ISO dates, inclusive), ``daily=temperature_2m_mean`` or
``hourly=temperature_2m`` and ``timezone``; the JSON body carries parallel arrays,
``{"daily": {"time": [...], "temperature_2m_mean": [...]}}`` (or ``hourly``), and an error
is ``{"error": true, "reason": "..."}`` with status 400. Daily values are asked for in the
site's zone, so that a day is a local day; hourly values in GMT, so that no local hour is
ambiguous.

Each answer is kept as a JSON file under ``cache_dir``, named by a hash of the request: the
archive's past never changes, and a second run works offline. Results are weather frames
as :func:`belimo_cloud.analysis.weather.read_weather` gives (the client layer cannot import
analysis, so the four columns are written out here too).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx
import pandas as pd

from belimo_cloud.errors import APIError, DataError, TransportError

__all__ = ["ARCHIVE_URL", "OpenMeteo"]

ARCHIVE_URL = "https://archive-api.open-meteo.com/v1/archive"
_VARIABLE = {"daily": "temperature_2m_mean", "hourly": "temperature_2m"}


class OpenMeteo:
    """Client of the Open-Meteo archive: ``daily()`` and ``hourly()`` temperatures of a site.

    ``cache_dir`` holds the answers; ``base_url`` points elsewhere (a mirror, a test server);
    ``transport`` is the httpx seam the rest of the client uses too.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        *,
        base_url: str = ARCHIVE_URL,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.base_url = base_url
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> OpenMeteo:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def daily(
        self,
        latitude: float,
        longitude: float,
        start: date,
        end: date,
        *,
        tz: str = "Europe/Zurich",
        site: str = "",
    ) -> pd.DataFrame:
        """Daily mean temperature [degC] of the local days ``start``..``end`` (inclusive)."""
        body = self._get("daily", (latitude, longitude), (start, end), tz)
        times, values = _arrays(body, "daily")
        days = pd.DatetimeIndex(pd.to_datetime(times, format="%Y-%m-%d")).tz_localize(tz)
        return _frame(site, days.tz_convert("UTC"), values, daily=True)

    def hourly(
        self, latitude: float, longitude: float, start: date, end: date, *, site: str = ""
    ) -> pd.DataFrame:
        """Hourly temperature [degC] from ``start`` 00:00 to ``end`` 23:00 UTC; rows stamped
        at the hour."""
        body = self._get("hourly", (latitude, longitude), (start, end), "GMT")
        times, values = _arrays(body, "hourly")
        stamps = pd.DatetimeIndex(pd.to_datetime(times, format="%Y-%m-%dT%H:%M")).tz_localize("UTC")
        return _frame(site, stamps, values, daily=False)

    def _get(
        self,
        kind: Literal["daily", "hourly"],
        place: tuple[float, float],
        days: tuple[date, date],
        tz: str,
    ) -> dict[str, Any]:
        (latitude, longitude), (start, end) = place, days
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            raise DataError(f"no place at latitude {latitude}, longitude {longitude}")
        if end < start:
            raise DataError(f"end date {end} is before start date {start}")
        params = {
            "latitude": f"{latitude:.4f}",
            "longitude": f"{longitude:.4f}",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            kind: _VARIABLE[kind],
            "timezone": tz,
        }
        key = hashlib.sha256(
            json.dumps([self.base_url, params], sort_keys=True).encode()
        ).hexdigest()[:24]
        cached = self.cache_dir / f"openmeteo-{key}.json"
        if cached.is_file():
            try:
                loaded: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
                return loaded
            except (OSError, ValueError):
                pass  # a damaged cache entry is fetched again
        body = self._fetch(params)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".tmp")
        partial.write_text(json.dumps(body), encoding="utf-8")
        partial.replace(cached)
        return body

    def _fetch(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._http.get(self.base_url, params=params)
        except httpx.HTTPError as exc:
            raise TransportError(f"Open-Meteo archive not reachable: {exc}") from None
        url = str(response.request.url)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("error"):
            reason = body.get("reason") if isinstance(body, dict) else None
            raise APIError(
                f"Open-Meteo archive refused the request: {reason or response.reason_phrase}",
                status_code=response.status_code,
                method="GET",
                url=url,
                body=response.text[:500],
            )
        return body


def _arrays(body: dict[str, Any], kind: str) -> tuple[list[str], list[float]]:
    block = body.get(kind)
    variable = _VARIABLE[kind]
    if not isinstance(block, dict) or "time" not in block or variable not in block:
        raise DataError(f"Open-Meteo answer has no {kind}.time and {kind}.{variable}")
    times, values = block["time"], block[variable]
    if not isinstance(times, list) or not isinstance(values, list) or len(times) != len(values):
        raise DataError(f"Open-Meteo answer: {kind} arrays differ in length")
    return [str(t) for t in times], [math.nan if v is None else float(v) for v in values]


def _frame(
    site: str, stamps: pd.DatetimeIndex, values: list[float], *, daily: bool
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "site": site,
            "timestamp": stamps.as_unit("ns"),
            "temperature": pd.Series(values, dtype="float64").to_numpy(),
            "daily": daily,
        }
    )
    return frame.dropna(subset=["temperature"]).reset_index(drop=True)
