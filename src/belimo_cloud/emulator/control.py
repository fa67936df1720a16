"""The control surface under ``/_emulator/``: faults, clock, reset, designed-in faults.

Tests and demos steer a running instance through it. Only loopback clients may use it, and no
injected fault or rate limit ever applies to it.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from belimo_cloud.emulator import params
from belimo_cloud.emulator.http_common import ApiError, json_response, state_of
from belimo_cloud.emulator.injected import (
    apply_fault_settings,
    fault_settings,
    validate_fault_settings,
)

PREFIX = "/_emulator"
router = APIRouter()


def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ApiError(
            403, "forbidden", "the /_emulator/ control endpoints answer loopback clients only"
        )


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise ApiError(400, "invalid_request", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return body


def _faults_body(request: Request) -> dict[str, Any]:
    state = state_of(request)
    return {**fault_settings(state.options), "counters": state.faults.counters.as_dict()}


def _clock_body(request: Request) -> dict[str, Any]:
    state = state_of(request)
    now = state.now()
    speed = state.backend.clock.speed
    return {"now": params.format_time(now), "frozen": speed == 0, "speed": speed}


@router.get(PREFIX)
async def index(request: Request) -> Response:
    """What the control surface offers."""
    _loopback_only(request)
    return json_response(
        {
            "endpoints": {
                "GET /_emulator/faults": "fault and limit settings with counters",
                "PUT /_emulator/faults": "change settings: error_rate, drop_rate, latency_ms, "
                "rate_limit, rate_burst, token_ttl, job_delay, heartbeat, subscription_ttl",
                "GET /_emulator/clock": "the fleet clock: now, frozen, speed",
                "PUT /_emulator/clock": '{"now": "2018-06-01T00:00:00Z"} freezes, {"now": null} '
                'follows the wall clock, {"speed": 600} runs 600 times faster from its now',
                "GET /_emulator/streams": "open change streams",
                "POST /_emulator/streams/drop": 'end every open stream ({"abort": false}: '
                "a clean end instead of a cut connection)",
                "POST /_emulator/streams/stall": '{"seconds": 30}: streams send nothing, '
                'not even heartbeats ({"seconds": 0} resumes)',
                "GET /_emulator/jobs": "every job and its state",
                "PUT /_emulator/jobs": '{"failNext": 2}: the next two jobs end in FAILURE',
                "POST /_emulator/reset": "back to the start: settings, tokens, counters, buckets",
                "POST /_emulator/expire-tokens": "expire every access token now",
                "GET /_emulator/designed-faults": "the data faults built into the fleet",
                "GET /_emulator/tenants": "tenants and their device counts",
            }
        }
    )


@router.get(PREFIX + "/faults")
async def get_faults(request: Request) -> Response:
    """Current fault and limit settings and what was injected so far."""
    _loopback_only(request)
    return json_response(_faults_body(request))


@router.put(PREFIX + "/faults")
@router.post(PREFIX + "/faults")
@router.patch(PREFIX + "/faults")
async def put_faults(request: Request) -> Response:
    """Change some fault or limit settings (the others keep their values)."""
    _loopback_only(request)
    body = await _json_object(request)
    try:
        checked = validate_fault_settings(body)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    apply_fault_settings(state_of(request).options, checked)
    return json_response(_faults_body(request))


@router.get(PREFIX + "/clock")
async def get_clock(request: Request) -> Response:
    """The emulator's now and whether it is frozen."""
    _loopback_only(request)
    return json_response(_clock_body(request))


@router.put(PREFIX + "/clock")
@router.post(PREFIX + "/clock")
async def put_clock(request: Request) -> Response:
    """Set the fleet clock: ``now`` (ISO-8601, or null for the wall clock) and/or ``speed``.

    ``{"now": T}`` freezes at T; ``{"speed": S}`` runs from the current fleet time at S times
    real time; both start at T running at S.
    """
    _loopback_only(request)
    body = await _json_object(request)
    if body.get("frozen") is False and "now" not in body:
        body["now"] = None
    if "now" not in body and "speed" not in body:
        raise ApiError(
            400, "invalid_request", 'give {"now": "<ISO-8601>" or null} and/or {"speed": <number>}'
        )
    state = state_of(request)
    options = state.options
    speed = options.speed
    if "speed" in body:
        raw_speed = body["speed"]
        if raw_speed is not None and (
            isinstance(raw_speed, bool)
            or not isinstance(raw_speed, int | float)
            or not 0 <= raw_speed <= 1e7
        ):
            raise ApiError(400, "invalid_request", "speed must be a number from 0 to 1e7, or null")
        speed = None if raw_speed is None else float(raw_speed)
    if "now" in body:
        raw = body["now"]
        if raw is None:
            start = None
        elif isinstance(raw, str):
            try:
                start = params.parse_time("now", raw)
            except params.ParameterError as exc:
                raise ApiError(400, "invalid_request", str(exc)) from None
        else:
            raise ApiError(400, "invalid_request", "now must be an ISO-8601 string or null")
    else:
        start = state.now()  # a new speed runs on from the fleet's current time
    options.now, options.speed = start, speed
    return json_response(_clock_body(request))


@router.post(PREFIX + "/reset")
async def reset(request: Request) -> Response:
    """Forget tokens, counters, rate buckets and setting changes."""
    _loopback_only(request)
    state_of(request).reset()
    return json_response({"reset": True, **_faults_body(request), "clock": _clock_body(request)})


@router.post(PREFIX + "/expire-tokens")
async def expire_tokens(request: Request) -> Response:
    """Make every issued access token expired (refresh tokens keep working)."""
    _loopback_only(request)
    return json_response({"expired": state_of(request).auth.expire_all()})


@router.get(PREFIX + "/designed-faults")
async def designed_faults(request: Request) -> Response:
    """The designed-in data faults analytics must find (meter replacement, gap, glitch, ...)."""
    _loopback_only(request)
    state = state_of(request)
    return json_response(state.fleet.designed_faults(state.now()))


@router.get(PREFIX + "/tenants")
async def tenants(request: Request) -> Response:
    """The tenants (users) of this instance and how many devices each owns."""
    _loopback_only(request)
    fleet = state_of(request).fleet
    return json_response(
        [
            {"userId": t.user_id, "email": t.email, "devices": len(fleet.devices_of(t))}
            for t in fleet.tenants
        ]
    )


def _streams_body(request: Request) -> dict[str, Any]:
    streams = state_of(request).backend.streams
    stalled = max(0.0, streams.stalled_until - time.time())
    return {"open": streams.open_streams, "opened": streams.opened, "stalledFor": stalled}


@router.get(PREFIX + "/streams")
async def get_streams(request: Request) -> Response:
    """How many change streams are open, were opened, and how long they stay stalled."""
    _loopback_only(request)
    return json_response(_streams_body(request))


@router.post(PREFIX + "/streams/drop")
async def drop_streams(request: Request) -> Response:
    """End every open change stream: cut (default) or, with ``{"abort": false}``, cleanly."""
    _loopback_only(request)
    body = await _json_object(request)
    abort = body.get("abort", True)
    if not isinstance(abort, bool):
        raise ApiError(400, "invalid_request", "abort must be true or false")
    dropped = state_of(request).backend.streams.drop(abort=abort)
    return json_response({"dropped": dropped, **_streams_body(request)})


@router.post(PREFIX + "/streams/stall")
async def stall_streams(request: Request) -> Response:
    """Silence every open stream (no events, no heartbeats) for ``seconds``; 0 resumes."""
    _loopback_only(request)
    body = await _json_object(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 1e6:
        raise ApiError(400, "invalid_request", 'give {"seconds": <0..1e6>}')
    state_of(request).backend.streams.stall(float(seconds))
    return json_response(_streams_body(request))


@router.get(PREFIX + "/jobs")
async def list_jobs(request: Request) -> Response:
    """Every job of this instance with its device and values."""
    _loopback_only(request)
    backend = state_of(request).backend
    backend.advance()
    return json_response(
        {
            "failNext": backend.jobs.fail_next,
            "jobs": [
                {"id": j.id, "deviceId": j.device_id, "state": j.state, "values": j.values}
                for j in backend.jobs.all()
            ],
        }
    )


@router.put(PREFIX + "/jobs")
@router.post(PREFIX + "/jobs")
async def put_jobs(request: Request) -> Response:
    """``{"failNext": N}``: the next N jobs to execute end in FAILURE."""
    _loopback_only(request)
    body = await _json_object(request)
    count = body.get("failNext")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1_000_000:
        raise ApiError(400, "invalid_request", 'give {"failNext": <0..1000000>}')
    state_of(request).backend.jobs.fail_next = count
    return json_response({"failNext": count})
