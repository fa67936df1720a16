"""Device routes: stats, the device list, one device, its current data, timeline, networks, user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

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
from belimo_cloud.emulator.model.fleet import DeviceSpec, Tenant

router = APIRouter()

DEVICE_SORT_FIELDS = (
    "id",
    "productionId",
    "displayName",
    "serialNumber",
    "deviceType",
    "owner.displayName",
    "dataprofile.displayName",
    "software.displayName",
    "health.state",
    "health.lastSeen",
    "projectName",
    "addressCity",
    "addressCountry",
)
# The spec's text says the default sort is "name"; we read it as the display name.
DEVICE_SORT_ALIASES = {"name": "displayName"}
DEVICE_STATES = ("REGISTERED", "UNREGISTERED", "ALL")
TIMELINE_SORT_ALIASES = {"time": "timestamp"}


def _owned_by(tenant: Tenant, owner: str | None) -> bool:
    """Whether ``owner`` (email, user id or group id) names this tenant; None means anyone."""
    if owner is None:
        return True
    wanted = owner.strip().casefold()
    return wanted in (tenant.email.casefold(), tenant.user_id.casefold())


def _field(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """Missing values last in ascending order; strings compared without case."""
    if value is None:
        return (1, "")
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


@router.get(API + "/devices/stats")
def device_stats(request: Request) -> Response:
    """Counts of the caller's devices (optionally of one owner)."""
    _, tenant = authorize(request)
    query = request.query_params
    owner = params.nonempty(query, "owner")
    state = state_of(request)
    devices = state.fleet.devices_of(tenant) if _owned_by(tenant, owner) else []
    return json_response(state.fleet.stats(devices, state.now()))


@router.get(API + "/devices")
def list_devices(request: Request) -> Response:
    """The device list with the collection envelope, filters and sorting."""
    _, tenant = authorize(request)
    query = request.query_params
    registration = params.choice(query, "state", DEVICE_STATES, "ALL")
    search = params.nonempty(query, "search")
    owner = params.nonempty(query, "owner")
    field = params.sort_field(query, DEVICE_SORT_FIELDS, "displayName", DEVICE_SORT_ALIASES)
    direction = params.sort_direction(query)
    limit, offset = params.paging(query)
    state = state_of(request)
    now = state.now()
    owned = _owned_by(tenant, owner)
    # The same list at the same clock reading and revision: paging sorts it once.
    revision = state.fleet.changes.revision
    key = (tenant.user_id, owned, registration, search, field, direction, now, revision)
    bodies = state.listing(key)
    if bodies is None:
        bodies = _filtered(state, tenant if owned else None, registration, search, now)
        bodies.sort(key=lambda b: str(b.get("id")))
        bodies.sort(key=lambda b: _sort_key(_field(b, field)), reverse=direction == "DESC")
        state.remember_listing(key, bodies)
    filters = {
        name: value
        for name, value in (("state", query.get("state")), ("search", search), ("owner", owner))
        if value is not None
    }
    if "state" in filters:
        filters["state"] = registration
    fleet = state.fleet
    page = []
    for summary in bodies[offset : offset + limit]:
        device = fleet.device(summary["id"])
        assert device is not None
        page.append(state.device_json(device, now))
    return json_response(
        envelope(
            page,
            total=len(bodies),
            offset=offset,
            limit=limit,
            field=field,
            direction=direction,
            filters=filters,
        )
    )


def _filtered(
    state: EmulatorState,
    tenant: Tenant | None,
    registration: str,
    search: str | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Device objects without state (what lists filter and sort on) of ``tenant``'s devices."""
    devices = state.fleet.devices_of(tenant) if tenant is not None else []
    bodies = [state.device_summary(device, now) for device in devices]
    if registration != "ALL":
        wanted = registration == "REGISTERED"
        bodies = [b for b in bodies if (_field(b, "health.lastSeen") is not None) == wanted]
    if search is not None:
        needle = search.casefold()
        bodies = [
            b
            for b in bodies
            if needle in str(b.get("displayName") or "").casefold()
            or needle in str(b.get("serialNumber") or "").casefold()
        ]
    return bodies


@router.get(API + "/devices/{device_id}")
def get_device(request: Request) -> Response:
    """One device, with its current state."""
    _, tenant = authorize(request)
    device = device_of(request, tenant, request.path_params["device_id"])
    state = state_of(request)
    return json_response(state.device_json(device, state.now()))


@router.get(API + "/devices/{device_id}/data")
def device_data(request: Request) -> Response:
    """The device's state at ``at`` (ISO-8601 or epoch ms; default now)."""
    grant, tenant = authorize(request)
    rate_limit(request, grant)
    device = device_of(request, tenant, request.path_params["device_id"])
    state = state_of(request)
    now = state.now()
    at = params.optional_time(request.query_params, "at", epoch_ms=True)
    moment = now if at is None or at > now else at
    body = state.fleet.state(device, moment, now)
    if body.get("timestamp") is None:
        # Before the device's first sample: an empty state, valid at the time asked for.
        body = {**body, "timestamp": params.format_time_ms(moment)}
    return json_response(body)


def _event_time(event: dict[str, Any]) -> datetime:
    return params.parse_time("timestamp", str(event["timestamp"]))


@router.get(API + "/devices/{device_id}/timeline")
def device_timeline(request: Request) -> Response:
    """Timeline events, newest first by default (no filter object, as the spec shows)."""
    _, tenant = authorize(request)
    device = device_of(request, tenant, request.path_params["device_id"])
    query = request.query_params
    start = params.optional_time(query, "from")
    end = params.optional_time(query, "to")
    if start is not None and end is not None and end <= start:
        raise params.ParameterError("to", "'to' must be after 'from'")
    params.sort_field(query, ("timestamp",), "timestamp", TIMELINE_SORT_ALIASES)
    direction = params.sort_direction(query, "DESC")
    limit, offset = params.paging(query)
    state = state_of(request)
    events = [
        e
        for e in state.fleet.timeline(device, state.now())
        if (start is None or _event_time(e) >= start) and (end is None or _event_time(e) < end)
    ]
    events.sort(key=_event_time, reverse=direction == "DESC")
    return json_response(
        envelope(
            events[offset : offset + limit],
            total=len(events),
            offset=offset,
            limit=limit,
            field="timestamp",
            direction=direction,
        )
    )


def _is_gateway(device: DeviceSpec) -> bool:
    return device.kind == "gateway"


def _network_members(request: Request, tenant: Tenant, gateway: DeviceSpec) -> list[dict[str, Any]]:
    """The valves behind a gateway: the tenant's other devices of the same project."""
    fleet = state_of(request).fleet
    members = [
        d
        for d in fleet.devices_of(tenant)
        if d.id != gateway.id and d.project_name == gateway.project_name and not _is_gateway(d)
    ]
    return [
        {
            "address": f"192.168.10.{index + 10}",
            "serialNumber": d.serial_number,
            "properties": {"kind": d.kind},
            "entityId": d.id,
            "ref": f"/devices/{d.id}",
            "displayName": d.display_name,
        }
        for index, d in enumerate(members)
    ]


@router.get(API + "/devices/{device_id}/networks")
def device_networks(request: Request) -> Response:
    """The networks a device has: gateways carry one Ethernet network with valves behind it."""
    _, tenant = authorize(request)
    device = device_of(request, tenant, request.path_params["device_id"])
    networks = [{"name": "ipv4", "type": "ethernet"}] if _is_gateway(device) else []
    return json_response({"networks": networks})


@router.get(API + "/devices/{device_id}/networks/{name}")
def device_network(request: Request) -> Response:
    """One network of a gateway and the devices in it."""
    _, tenant = authorize(request)
    device = device_of(request, tenant, request.path_params["device_id"])
    name = request.path_params["name"]
    if not _is_gateway(device) or name != "ipv4":
        raise ApiError(404, "not_found", f"device has no network {name[:40]!r}")
    state = state_of(request)
    return json_response(
        {
            "name": "ipv4",
            "type": "ethernet",
            "displayName": f"{device.project_name} Ethernet",
            "timestamp": params.format_time(state.now()),
            "devices": _network_members(request, tenant, device),
        }
    )


@router.get(API + "/user")
def current_user(request: Request) -> Response:
    """The logged-in user (any valid token, no particular scope)."""
    _, tenant = authorize(request, scope=None)
    return json_response(
        {
            "id": tenant.user_id,
            "email": tenant.email,
            "accountActivated": True,
            "locale": "de_CH",
            "roles": [],
            "firstName": tenant.first_name,
            "lastName": tenant.last_name,
        }
    )
