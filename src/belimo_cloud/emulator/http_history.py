"""History routes: resampled timeseries, raw samples, CSV download and download links."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from belimo_cloud.emulator import params
from belimo_cloud.emulator.http_common import (
    API,
    ApiError,
    EmulatorState,
    authorize,
    device_of,
    envelope,
    json_response,
    rate_limit,
    state_of,
)
from belimo_cloud.emulator.model.fleet import DATA_START, DeviceSpec
from belimo_cloud.emulator.model.render import TimeseriesRequest, render_timeseries
from belimo_cloud.emulator.model.resample import iso_seconds, numbers

router = APIRouter()

RAW_SORT_ALIASES = {"timestamp": "time"}
CSV_WINDOW_S = 7 * 86_400  # the CSV is generated and streamed a week at a time
DOWNLOAD_VALID_S = 600


def _span(state: EmulatorState, query: Mapping[str, str]) -> tuple[datetime, datetime, int, int]:
    """``from``/``to`` (defaults: data start, now) and the epoch-second span [start, end)."""
    start, end = params.time_range(query, default_from=DATA_START, default_to=state.now())
    return start, end, params.to_epoch_s(start), math.ceil(end.timestamp())


@router.get(API + "/devices/{device_id}/data/history/timeseries")
def timeseries(request: Request) -> Response:
    """Samples resampled onto a UTC grid: one series per known numeric datapoint."""
    grant, tenant = authorize(request)
    rate_limit(request, grant)
    device = device_of(request, tenant, request.path_params["device_id"])
    query = request.query_params
    wanted = params.datapoint_ids(query, required=True) or []
    state = state_of(request)
    start, end, start_s, end_s = _span(state, query)
    resolution = params.resolution(query, start_s, end_s)
    aggregation = params.aggregation(query)
    fleet = state.fleet
    known = set(fleet.datapoint_ids(device))
    ids = [dp for dp in wanted if dp in known and fleet.numeric(device, dp)]
    now_s = params.to_epoch_s(state.now())
    asked = TimeseriesRequest(
        device_id=device.id,
        datapoint_ids=tuple(ids),
        start_s=start_s,
        end_s=end_s,
        now_s=now_s,
        step_s=resolution.step_s,
        aggregation=aggregation,
        start_text=params.format_time(start),
        end_text=params.format_time(end),
        resolution_text=resolution.text,
    )
    return Response(render_timeseries(fleet, asked), media_type="application/json")


def _raw_samples(
    state: EmulatorState, device: DeviceSpec, dp: str, start_s: int, end_s: int
) -> tuple[Any, Any]:
    """Times and values (arrays) of the samples a device really sent, NaN/None dropped.

    Cached: a client pages through the same range, and the default range is ten years.
    """
    now_s = params.to_epoch_s(state.now())
    key = (device.id, dp, start_s, end_s, now_s, state.fleet.changes.device_revision(device.id))
    found = state.cached(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    history = state.fleet.history(device, [dp], start_s, end_s, now_s)
    raw = history.values[dp]
    if raw.dtype.kind == "f":
        keep = ~np.isnan(raw)
    else:
        keep = np.array([v is not None for v in raw.tolist()], dtype=bool)
    result = (history.times[keep], raw[keep])
    state.remember(key, result)
    return result


def _json_values(values: Any) -> list[Any]:
    return numbers(values) if values.dtype.kind == "f" else list(values.tolist())


@router.get(API + "/devices/{device_id}/data/history/datapoints/{datapoint_id}")
def raw_history(request: Request) -> Response:
    """Raw samples of one datapoint, paged, oldest first by default."""
    grant, tenant = authorize(request)
    rate_limit(request, grant)
    device = device_of(request, tenant, request.path_params["device_id"])
    dp = request.path_params["datapoint_id"]
    state = state_of(request)
    if dp not in state.fleet.datapoint_ids(device):
        raise ApiError(404, "not_found", f"device has no datapoint {dp[:80]!r}")
    query = request.query_params
    start, end, start_s, end_s = _span(state, query)
    params.sort_field(query, ("time",), "time", RAW_SORT_ALIASES)
    direction = params.sort_direction(query)
    limit, offset = params.paging(query)
    times, values = _raw_samples(state, device, dp, start_s, end_s)
    total = len(values)
    if direction == "ASC":
        lo, hi = offset, min(total, offset + limit)
        index = range(lo, hi)
    else:
        hi, lo = total - 1 - offset, max(-1, total - 1 - offset - limit)
        index = range(hi, lo, -1)
    picked = np.fromiter(index, dtype=np.int64)
    stamps = iso_seconds(times[picked])
    chosen = _json_values(values[picked])
    data = [{"timestamp": t, "value": v} for t, v in zip(stamps, chosen, strict=True)]
    filters = {"from": params.format_time(start), "to": params.format_time(end), "datapointId": dp}
    return json_response(
        envelope(
            data,
            total=total,
            offset=offset,
            limit=limit,
            field="time",
            direction=direction,
            filters=filters,
        )
    )


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value)
    if any(c in text for c in ';"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_rows(
    state: EmulatorState, device: DeviceSpec, ids: list[str], start_s: int, end_s: int
) -> Iterator[bytes]:
    """The CSV body: header, then one row per sample time with any value, a week per chunk."""
    yield ("timestamp;" + ";".join(ids) + "\r\n").encode() if ids else b"timestamp\r\n"
    now_s = params.to_epoch_s(state.now())
    window_start = max(start_s, params.to_epoch_s(DATA_START))  # nothing exists before
    while ids and window_start < min(end_s, now_s):
        window_end = min(end_s, window_start + CSV_WINDOW_S)
        history = state.fleet.history(device, ids, window_start, window_end, now_s)
        columns: list[list[str]] = []
        present = np.zeros(history.times.size, dtype=bool)
        for dp in ids:
            raw = history.values[dp]
            if raw.dtype.kind == "f":
                mask = ~np.isnan(raw)
                cells = ["" if not ok else str(v) for ok, v in zip(mask, numbers(raw), strict=True)]
            else:
                mask = np.array([v is not None for v in raw.tolist()], dtype=bool)
                cells = [_csv_cell(v) for v in raw.tolist()]
            present |= mask
            columns.append(cells)
        stamps = iso_seconds(history.times)
        rows = [
            ";".join(row)
            for row, keep in zip(zip(stamps, *columns, strict=True), present, strict=True)
            if keep
        ]
        if rows:
            yield ("\r\n".join(rows) + "\r\n").encode()
        window_start = window_end


def _download_params(
    request: Request, device: DeviceSpec, query: Mapping[str, str]
) -> tuple[list[str], int, int]:
    state = state_of(request)
    known = state.fleet.datapoint_ids(device)
    asked = params.datapoint_ids(query, required=False)
    ids = known if asked is None else [dp for dp in asked if dp in set(known)]
    _, _, start_s, end_s = _span(state, query)
    return ids, start_s, end_s


def _csv_response(state: EmulatorState, device: DeviceSpec, ids: list[str], s: int, e: int) -> Any:
    return StreamingResponse(
        _csv_rows(state, device, ids, s, e),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{device.id}.csv"'},
    )


@router.get(API + "/devices/{device_id}/data/download")
def download(request: Request) -> Response:
    """Samples as ``;``-separated CSV (all datapoints when none are named)."""
    grant, tenant = authorize(request)
    rate_limit(request, grant)
    device = device_of(request, tenant, request.path_params["device_id"])
    ids, start_s, end_s = _download_params(request, device, request.query_params)
    result: Response = _csv_response(state_of(request), device, ids, start_s, end_s)
    return result


@router.get(API + "/devices/{device_id}/data/requestDownload")
def request_download(request: Request) -> Response:
    """A link that serves the same CSV without authentication for ten minutes."""
    grant, tenant = authorize(request)
    rate_limit(request, grant)
    device = device_of(request, tenant, request.path_params["device_id"])
    query = dict(request.query_params)
    _download_params(request, device, query)
    state = state_of(request)
    token = secrets.token_urlsafe(18)
    valid_until = time.time() + DOWNLOAD_VALID_S
    state.add_download(token, (valid_until, tenant.user_id, query, device.id))
    base = str(request.base_url).rstrip("/")
    until = datetime.fromtimestamp(math.floor(valid_until), tz=UTC)
    return json_response(
        {
            "downloadUrl": f"{base}{API}/download/{token}",
            "validUntil": params.format_time_ms(until),
        }
    )


@router.get(API + "/download/{token}")
def fetch_download(request: Request) -> Response:
    """The CSV behind a download link (the token is the credential)."""
    state = state_of(request)
    found = state.download(request.path_params["token"])
    if found is None or found[0] <= time.time():
        raise ApiError(404, "not_found", "unknown or expired download link; request a new one")
    _, user_id, query, device_id = found
    device = state.fleet.device(device_id)
    if device is None or device.owner.user_id != user_id:
        raise ApiError(404, "not_found", "the device of this download link is gone")
    ids, start_s, end_s = _download_params(request, device, query)
    result: Response = _csv_response(state, device, ids, start_s, end_s)
    return result
