"""The control surface under ``/_emulator/``: faults, clock, reset, designed-in faults.

Tests and demos steer a running instance through it. Only loopback clients may use it, and no
injected fault or rate limit ever applies to it.
"""

from __future__ import annotations

import ipaddress
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
    frozen = state.options.now is not None
    return {"now": params.format_time(state.now()), "frozen": frozen}


@router.get(PREFIX)
async def index(request: Request) -> Response:
    """What the control surface offers."""
    _loopback_only(request)
    return json_response(
        {
            "endpoints": {
                "GET /_emulator/faults": "fault and limit settings with counters",
                "PUT /_emulator/faults": "change settings: error_rate, drop_rate, latency_ms, "
                "rate_limit, rate_burst, token_ttl",
                "GET /_emulator/clock": "the emulator's clock",
                "PUT /_emulator/clock": '{"now": "2018-06-01T00:00:00Z"} freezes, {"now": null} '
                "follows the wall clock",
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
    """Freeze the clock at ``now`` (ISO-8601) or follow the wall clock again (``null``)."""
    _loopback_only(request)
    body = await _json_object(request)
    if body.get("frozen") is False and "now" not in body:
        body["now"] = None
    if "now" not in body:
        raise ApiError(400, "invalid_request", 'give {"now": "<ISO-8601>"} or {"now": null}')
    raw = body["now"]
    state = state_of(request)
    if raw is None:
        state.options.now = None
    elif isinstance(raw, str):
        try:
            state.options.now = params.parse_time("now", raw)
        except params.ParameterError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
    else:
        raise ApiError(400, "invalid_request", "now must be an ISO-8601 string or null")
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
