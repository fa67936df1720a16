"""Write routes: datapoint writes that become jobs, jobs and their cancellation, metadata.

Every write needs the ``public.write`` scope; devices and jobs of other tenants are 404.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from belimo_cloud.emulator import params
from belimo_cloud.emulator.http_common import (
    API,
    ApiError,
    authorize,
    device_of,
    json_response,
    state_of,
)
from belimo_cloud.emulator.model.jobs import Job, JobConflict
from belimo_cloud.emulator.model.types import Tenant
from belimo_cloud.emulator.model.validation import WriteRejected

router = APIRouter()
WRITE_SCOPE = "public.write"
_STATUS = {"remote_control_disabled": 403}


def _rejected(exc: WriteRejected) -> ApiError:
    """A refused value as a 400 (403 for remote control), naming code and datapoint."""
    extra: dict[str, Any] = {"errors": [{"code": exc.code, "message": exc.message}]}
    if exc.datapoint:
        extra["datapoint"] = exc.datapoint
    return ApiError(_STATUS.get(exc.code, 400), exc.code, exc.message, **extra)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw) if raw.strip() else None
    except msgspec.DecodeError:
        raise ApiError(400, "invalid_request", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return body


def _datapoints(body: dict[str, Any]) -> dict[str, Any]:
    values = body.get("datapoints")
    if not isinstance(values, dict) or not values:
        raise ApiError(
            400,
            "invalid_request",
            'give "datapoints": {"<datapointId>": <raw value>, ...} with at least one entry',
        )
    for dp, value in values.items():
        if isinstance(value, dict | list) or value is None:
            raise ApiError(
                400,
                "invalid_type",
                f"{dp[:80]}: send the raw value, not {type(value).__name__}",
                errors=[{"code": "invalid_type", "message": f"{dp[:80]}: invalid format"}],
                datapoint=dp,
            )
    return values


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_request", f"{name} must be true or false")
    return value


def job_json(job: Job) -> dict[str, Any]:
    """A job as the spec shows it (the extra keys only once they apply)."""
    owner: Tenant = job.created_by
    body: dict[str, Any] = {
        "id": job.id,
        "mergeable": job.mergeable,
        "cancelable": job.cancelable,
        "createdAt": params.format_time_ms(job.created_at),
        "createdBy": {
            "entityId": owner.user_id,
            "ref": f"/users/{owner.user_id}",
            "displayName": f"{owner.first_name} {owner.last_name}",
            "email": owner.email,
        },
        "state": job.state,
    }
    if job.auto_cancel_after is not None:
        # The spec types it boolean in the job, though the request gives a time.
        body["autoCancelAfter"] = True
    if job.confirmed_at is not None:
        body["confirmedAt"] = params.format_time_ms(job.confirmed_at)
        body["confirmedBy"] = job.confirmed_by
    if job.state == "SUCCESS":
        body["result"] = "ok"
    if job.state == "FAILURE" and job.error is not None:
        body["error"] = dict(job.error)
    return body


@router.post(API + "/devices/{device_id}/data")
async def write_data(request: Request) -> Response:
    """Write raw values to a device: a job that the device executes on its next contact."""
    _, tenant = authorize(request, WRITE_SCOPE)
    device = device_of(request, tenant, request.path_params["device_id"])
    body = await _json_object(request)
    values = _datapoints(body)
    mergeable, cancelable = _flag(body, "mergeable"), _flag(body, "cancelable")
    if mergeable and cancelable:
        raise ApiError(400, "invalid_request", "a write cannot be both mergeable and cancelable")
    raw_after = body.get("autoCancelAfter")
    auto_cancel_after = None
    if raw_after is not None:
        if not cancelable:
            raise ApiError(
                400, "invalid_request", "autoCancelAfter is only allowed when cancelable is true"
            )
        if not isinstance(raw_after, str):
            raise ApiError(400, "invalid_request", "autoCancelAfter must be an ISO-8601 time")
        try:
            auto_cancel_after = params.parse_time("autoCancelAfter", raw_after)
        except params.ParameterError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
    backend = state_of(request).backend
    try:
        job = await run_in_threadpool(
            lambda: backend.write(
                device,
                tenant,
                values,
                mergeable=mergeable,
                cancelable=cancelable,
                auto_cancel_after=auto_cancel_after,
            )
        )
    except WriteRejected as exc:
        raise _rejected(exc) from None
    return json_response(job_json(job))


@router.post(API + "/devices/{device_id}/metadata")
async def write_metadata(request: Request) -> Response:
    """Set metadata datapoints (name, location, address...): stored at once, 204."""
    _, tenant = authorize(request, WRITE_SCOPE)
    device = device_of(request, tenant, request.path_params["device_id"])
    values = _datapoints(await _json_object(request))
    backend = state_of(request).backend
    try:
        await run_in_threadpool(backend.set_metadata, device, values)
    except WriteRejected as exc:
        raise _rejected(exc) from None
    return Response(status_code=204)


def _job_of(request: Request, tenant: Tenant) -> Job:
    job_id = request.path_params["job_id"]
    state = state_of(request)
    state.backend.advance()
    job = state.backend.jobs.get(job_id)
    if job is None or job.created_by.user_id != tenant.user_id:
        raise ApiError(404, "not_found", f"job {job_id[:80]!r} not found")
    return job


@router.get(API + "/jobs/{job_id}")
async def get_job(request: Request) -> Response:
    """A job and its progress."""
    _, tenant = authorize(request)
    return json_response(job_json(_job_of(request, tenant)))


@router.put(API + "/jobs/{job_id}/state")
async def put_job_state(request: Request) -> Response:
    """Cancel a pending cancelable job: text/plain ``CANCELED``; 204."""
    _, tenant = authorize(request, WRITE_SCOPE)
    job = _job_of(request, tenant)
    text = (await request.body()).decode("utf-8", errors="replace").strip().strip('"')
    if text != "CANCELED":
        raise ApiError(
            400, "invalid_request", "the only state a client may set is CANCELED (text/plain)"
        )
    state = state_of(request)
    try:
        state.backend.jobs.cancel(job.id, state.now())
    except JobConflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return Response(status_code=204)
