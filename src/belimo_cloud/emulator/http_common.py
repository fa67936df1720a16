"""State of one running emulator and the helpers every route shares (auth, errors, JSON)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from secrets import compare_digest
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from belimo_cloud.emulator.auth import Grant, OAuthError, TokenAuthority, require_scope
from belimo_cloud.emulator.injected import FaultInjector, RateLimiter, retry_after_header
from belimo_cloud.emulator.model.backend import CloudBackend
from belimo_cloud.emulator.model.fleet import DeviceSpec, Fleet, Tenant
from belimo_cloud.emulator.options import EmulatorOptions

API = "/api/v3"
DEMO_USER = "__UserPlaceHolder__"
_ENCODER = msgspec.json.Encoder()


class ApiError(Exception):
    """Any non-2xx JSON answer of the API (404, 429, ...)."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body: dict[str, Any] = {"error": error, "error_description": description, **extra}
        self.headers = dict(headers or {})


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response encoded with msgspec (no pydantic on the way out)."""
    return Response(
        _ENCODER.encode(content), status_code=status, headers=headers, media_type="application/json"
    )


def envelope(
    items: Sequence[Any],
    *,
    total: int,
    offset: int,
    limit: int,
    field: str,
    direction: str,
    filters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The collection envelope: data, paging, sorting and (on filterable lists) filter."""
    body: dict[str, Any] = {
        "data": list(items),
        "paging": {"total": total, "offset": offset, "limit": limit},
        "sorting": {"field": field, "direction": direction},
    }
    if filters is not None:
        body["filter"] = dict(filters)
    return body


class EmulatorState:
    """One emulator instance: the model's backend plus tokens, injected faults and caches."""

    def __init__(self, options: EmulatorOptions, fleet: Fleet) -> None:
        self.options = options
        self.initial = replace(options)
        self.backend = CloudBackend(options, fleet)
        self.fleet = fleet
        self.demo_tenant: Tenant = fleet.tenant_by_email(DEMO_USER) or fleet.tenants[0]
        self.auth = TokenAuthority(
            self._check_user, self.demo_tenant.email, lambda: options.token_ttl
        )
        self.faults = FaultInjector(options)
        self.limiter = RateLimiter(options)
        self.downloads: dict[str, tuple[float, str, dict[str, str], str]] = {}
        self._lock = threading.Lock()
        self._device_json: dict[tuple[str, datetime, int], dict[str, Any]] = {}
        # Room for every device's object at one clock reading: paging a big fleet reuses them.
        self._device_room = max(4096, 2 * len(fleet.devices))
        self._summaries: dict[tuple[str, datetime, int], dict[str, Any]] = {}
        self._history: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._listings: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()

    def _check_user(self, username: str, password: str) -> bool:
        tenant = self.fleet.tenant_by_email(username)
        return tenant is not None and compare_digest(tenant.password.encode(), password.encode())

    def now(self) -> datetime:
        """The fleet clock (whole seconds); open jobs progress first, so reads see them."""
        self.backend.advance()
        return self.backend.now()

    def reset(self) -> None:
        """Back to the state at start: options, tokens, fault counters, rate buckets, caches."""
        for name, value in vars(self.initial).items():
            setattr(self.options, name, value)
        self.auth.reset()
        self.faults.reset()
        self.limiter.reset()
        self.backend.reset()
        with self._lock:
            self.downloads.clear()
            self._device_json.clear()
            self._summaries.clear()
            self._history.clear()
            self._listings.clear()

    def device_json(self, device: DeviceSpec, now: datetime) -> dict[str, Any]:
        """The full device object, cached per clock reading (pages and streams ask again)."""
        key = (device.id, now, self.fleet.changes.device_revision(device.id))
        with self._lock:
            found = self._device_json.get(key)
        if found is not None:
            return found
        body = self.fleet.with_state(self.device_summary(device, now), device, now)
        with self._lock:
            if len(self._device_json) > self._device_room:
                self._device_json.clear()
            self._device_json[key] = body
        return body

    def device_summary(self, device: DeviceSpec, now: datetime) -> dict[str, Any]:
        """The device object without ``state``, cached per clock reading."""
        key = (device.id, now, self.fleet.changes.device_revision(device.id))
        with self._lock:
            found = self._summaries.get(key)
        if found is not None:
            return found
        body = self.fleet.device_summary(device, now)
        with self._lock:
            if len(self._summaries) > self._device_room:
                self._summaries.clear()
            self._summaries[key] = body
        return body

    def listing(self, key: tuple[Any, ...]) -> list[dict[str, Any]] | None:
        """A filtered, sorted device list kept by :meth:`remember_listing`, or None."""
        with self._lock:
            found = self._listings.get(key)
            if found is not None:
                self._listings.move_to_end(key)
            return found

    def remember_listing(self, key: tuple[Any, ...], bodies: list[dict[str, Any]]) -> None:
        """Keep a few device lists, so that paging through one sorts it once."""
        with self._lock:
            self._listings[key] = bodies
            while len(self._listings) > 8:
                self._listings.popitem(last=False)

    def add_download(self, token: str, entry: tuple[float, str, dict[str, str], str]) -> None:
        """Remember a download link ``(valid_until, user_id, query, device_id)``."""
        with self._lock:
            now = time.time()
            self.downloads = {k: v for k, v in self.downloads.items() if v[0] > now}
            self.downloads[token] = entry

    def download(self, token: str) -> tuple[float, str, dict[str, str], str] | None:
        with self._lock:
            return self.downloads.get(token)

    def count_rate_limited(self) -> None:
        with self._lock:
            self.faults.counters.rate_limited += 1

    def cached(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            value = self._history.get(key)
            if value is not None:
                self._history.move_to_end(key)
            return value

    def remember(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._history[key] = value
            while len(self._history) > 4:
                self._history.popitem(last=False)


def state_of(request: Request) -> EmulatorState:
    """The EmulatorState of the app serving ``request``."""
    found: EmulatorState = request.app.state.emulator
    return found


def authorize(request: Request, scope: str | None = "public.read") -> tuple[Grant, Tenant]:
    """The bearer's grant and tenant; 401 invalid_token / 403 insufficient_scope otherwise."""
    state = state_of(request)
    grant = state.auth.validate(request.headers.get("authorization"))
    if scope is not None:
        require_scope(grant, scope)
    tenant = state.fleet.tenant_by_email(grant.subject)
    if tenant is None:
        raise OAuthError(401, "invalid_token", "the token's user no longer exists; log in again")
    return grant, tenant


def rate_limit(request: Request, grant: Grant) -> None:
    """429 with Retry-After when this token exceeds the data endpoints' rate."""
    state = state_of(request)
    wait = state.limiter.acquire(grant.token)
    if wait is not None:
        state.count_rate_limited()
        rate = state.options.rate_limit
        raise ApiError(
            429,
            "too_many_requests",
            f"rate limit of {rate:g} requests/s per token on data endpoints exceeded; "
            f"retry after {wait:.2f} s",
            {"Retry-After": retry_after_header(wait)},
        )


def device_of(request: Request, tenant: Tenant, device_id: str) -> DeviceSpec:
    """The tenant's device ``device_id``; 404 for unknown ids and for other tenants' devices."""
    device = state_of(request).fleet.device(device_id)
    if device is None or device.owner.user_id != tenant.user_id:
        raise ApiError(404, "not_found", f"device {device_id[:80]!r} not found")
    return device
