"""The emulator's FastAPI app: token endpoint, /api/v3 read routes, control routes, faults.

Routes parse their query strings themselves (params.py) and answer raw JSON bytes, so that a
bad parameter is a 400 naming it (never FastAPI's 422) and hot paths skip pydantic. Injected
faults (latency, 503, dropped connections) apply to ``/api/v3`` except ``api-info``; latency
also applies to ``/oauth/token``; nothing applies to ``/_emulator/``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from belimo_cloud.emulator import (
    control,
    http_definitions,
    http_devices,
    http_history,
    http_live,
    http_writes,
)
from belimo_cloud.emulator.auth import OAuthError
from belimo_cloud.emulator.http_common import API, ApiError, EmulatorState, json_response, state_of
from belimo_cloud.emulator.model.fleet import Fleet
from belimo_cloud.emulator.options import EmulatorOptions
from belimo_cloud.emulator.params import ParameterError

API_VERSION = "3.5.0"
logger = logging.getLogger(__name__)


def _faultable(path: str) -> bool:
    return path.startswith(API + "/") and path != API + "/api-info"


class EmulatorApp(FastAPI):
    """FastAPI with fault injection at the outermost ASGI layer.

    Only there does ``send`` still belong to uvicorn's request cycle, whose transport we close
    to drop a connection without any answer.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            faultable = _faultable(path)
            if faultable or path == "/oauth/token":
                state: EmulatorState = self.state.emulator
                delay = state.faults.latency_s()
                if delay:
                    await asyncio.sleep(delay)
                if faultable:
                    decision = state.faults.decide()
                    if decision == "drop":
                        await _drop(send)
                        return
                    if decision == "error":
                        await _service_unavailable(send)
                        return
        await super().__call__(scope, receive, send)


async def _drop(send: Send) -> None:
    """Close the connection without a byte of answer, so the client sees a connection error."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        # Let uvicorn notice the disconnect before the app returns, so it sends nothing.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    # Another server: promise a body and never send it; the client sees a broken response.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"1024"), (b"content-type", b"application/json")],
        }
    )
    raise ConnectionAbortedError("injected connection drop")


async def _service_unavailable(send: Send) -> None:
    body = msgspec.json.encode(
        {
            "error": "service_unavailable",
            "error_description": "injected fault: the service is temporarily unavailable; retry",
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _form(request: Request) -> dict[str, str]:
    """The token request's fields: form-encoded (the standard) or JSON (Auth0 takes both)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            raise OAuthError(400, "invalid_request", "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise OAuthError(400, "invalid_request", "the body must be a JSON object")
        return {str(k): str(v) for k, v in body.items() if v is not None}
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise OAuthError(
            400, "invalid_request", "send the token request form-encoded (x-www-form-urlencoded)"
        )
    # Parsed by hand: starlette's form parser needs python-multipart, which we do not ship.
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request", "the form body is not valid UTF-8") from None
    return dict(pairs)


async def token_endpoint(request: Request) -> Response:
    """POST /oauth/token: password, refresh_token and client_credentials grants."""
    state = state_of(request)
    form = await _form(request)
    body = state.auth.token(form, request.headers.get("authorization"))
    return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def api_info(request: Request) -> Response:
    """GET /api/v3/api-info: the API version; needs no token."""
    return json_response({"version": API_VERSION})


def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return json_response(exc.body(), exc.status, exc.headers)


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body, exc.status, exc.headers)


def _bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParameterError)
    return json_response(
        {
            "error": "invalid_parameter",
            "error_description": f"{exc.parameter}: {exc.reason}",
            "parameter": exc.parameter,
            "reason": exc.reason,
        },
        400,
    )


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: Any = exc.errors()
    first = errors[0] if errors else {}
    location = [str(p) for p in first.get("loc", ())]
    name = location[-1] if location else "request"
    reason = str(first.get("msg", "invalid value"))
    return json_response(
        {
            "error": "invalid_parameter",
            "error_description": f"{name}: {reason}",
            "parameter": name,
            "reason": reason,
        },
        400,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error, text = "not_found", f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        error, text = "method_not_allowed", f"{request.method} is not allowed on {request.url.path}"
    else:
        error, text = "http_error", str(exc.detail)
    return json_response({"error": error, "error_description": text}, exc.status_code, exc.headers)


def _unexpected(request: Request, exc: Exception) -> Response:
    logger.error("emulator bug serving %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(
        {"error": "server_error", "error_description": f"emulator bug: {type(exc).__name__}"}, 500
    )


def create_app(options: EmulatorOptions | None = None, *, fleet: Fleet | None = None) -> FastAPI:
    """The emulator app for ``options`` (a fleet is built from ``options.seed`` and
    ``options.fleet_size`` unless given)."""
    options = options or EmulatorOptions()
    app = EmulatorApp(
        title="Belimo Cloud emulator",
        version=API_VERSION,
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
        swagger_ui_oauth2_redirect_url="/_emulator/docs/oauth2-redirect",
    )
    if fleet is None:
        fleet = Fleet(options.seed, options.fleet_size)
    app.state.emulator = EmulatorState(options, fleet)
    app.add_api_route("/oauth/token", token_endpoint, methods=["POST"])
    app.add_api_route(API + "/api-info", api_info, methods=["GET"])
    for module in (http_live, http_writes, http_devices, http_history, http_definitions, control):
        app.include_router(module.router)
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ParameterError, _bad_parameter)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    return app
