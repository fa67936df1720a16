"""The devices resource: fleet statistics, the device list, one device, its state and timeline;
writes of datapoints (a job) and of metadata, each checked against the profile first."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import quote

from belimo_cloud.client.decode import decode
from belimo_cloud.client.models import Device, DeviceData, DeviceStats, Page, TimelineEvent
from belimo_cloud.client.pagination import MAX_PAGE_SIZE, PageResult, walk_pages
from belimo_cloud.client.timeutil import format_time, parse_time
from belimo_cloud.errors import APIError, AuthError, DataError

if TYPE_CHECKING:
    from belimo_cloud.client.dataprofiles import DataProfiles
    from belimo_cloud.client.jobs import Job
    from belimo_cloud.client.models import DataProfile
    from belimo_cloud.client.session import Session
    from belimo_cloud.client.writes import WriteRequest

__all__ = ["DEVICE_STATES", "SORT_FIELDS", "Devices", "device_path", "id_of"]

DEVICE_STATES = ("REGISTERED", "UNREGISTERED", "ALL")
SORT_FIELDS = (
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
_SORT_ALIASES = {
    "production_id": "productionId",
    "display_name": "displayName",
    "name": "displayName",
    "serial_number": "serialNumber",
    "device_type": "deviceType",
    "health_state": "health.state",
    "last_seen": "health.lastSeen",
    "project_name": "projectName",
    "address_city": "addressCity",
    "address_country": "addressCountry",
}


def id_of(item: Any, what: str = "device") -> str:
    """The id of a model or a plain id string (users pass either)."""
    value = getattr(item, "id", item)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"not a {what} id: {item!r}")
    return value.strip()


def device_path(device: Any, *rest: str) -> str:
    """``/devices/<id>/...`` with the id escaped (ids are opaque strings)."""
    parts = [quote(id_of(device), safe=""), *(quote(part, safe="") for part in rest)]
    return "/devices/" + "/".join(parts)


def _sort_params(sort_by: str | None, sort_direction: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if sort_by:
        params["sortBy"] = _SORT_ALIASES.get(sort_by, sort_by)
    if sort_direction:
        direction = sort_direction.upper()
        if direction not in ("ASC", "DESC"):
            raise DataError(f"sort_direction must be ASC or DESC, got {sort_direction!r}")
        params["sortDirection"] = direction
    return params


class Devices:
    """``client.devices``: every read on devices; lists walk all pages by themselves."""

    def __init__(self, session: Session, profiles: DataProfiles | None = None) -> None:
        self._session = session
        self._profiles = profiles

    def stats(self, owner: str | None = None) -> DeviceStats:
        """Counts of devices, online/offline, ok/problem and pending transfers."""
        params = {"owner": owner} if owner else None
        body = self._session.get_bytes("/devices/stats", params)
        return decode(body, DeviceStats, "device statistics")

    def list(  # noqa: PLR0917 - the contract's positional filters
        self,
        state: str | None = None,
        search: str | None = None,
        owner: str | None = None,
        sort_by: str | None = None,
        sort_direction: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Device]:
        """Every visible device, page after page (up to 2000 a page), each exactly once.

        ``state`` is REGISTERED, UNREGISTERED or ALL; ``search`` matches display name or serial
        number (case-insensitive substring); ``owner`` an email, user or group id.
        """
        params: dict[str, str] = {}
        if state:
            if state.upper() not in DEVICE_STATES:
                raise DataError(f"state must be one of {', '.join(DEVICE_STATES)}, got {state!r}")
            params["state"] = state.upper()
        if search:
            params["search"] = search
        if owner:
            params["owner"] = owner
        params.update(_sort_params(sort_by, sort_direction))

        def fetch(offset: int, limit: int) -> PageResult[Device]:
            body = self._session.get_bytes(
                "/devices", {**params, "limit": str(limit), "offset": str(offset)}
            )
            page: Page[Device] | None = decode(body, Page[Device] | None, "device list")
            if page is None:
                return PageResult([], None)
            return PageResult(page.data or [], page.paging.total if page.paging else None)

        return walk_pages(fetch, page_size=page_size, key=lambda device: device.id)

    def all(self, **filters: Any) -> builtins.list[Device]:
        """:meth:`list` as a list."""
        return list(self.list(**filters))

    def get(self, device_id: Any) -> Device:
        """One device with its current state; NotFound when it is unknown or not yours."""
        body = self._session.get_bytes(device_path(device_id))
        return decode(body, Device, "device")

    def find(self, text: str) -> builtins.list[Device]:
        """Devices whose display name or serial number contains ``text``."""
        return list(self.list(search=text))

    def data(self, device_id: Any, at: Any = None) -> DeviceData:
        """The device's state (every datapoint's value) now or at a past time.

        ``at`` is a datetime, ISO string, pandas Timestamp or epoch milliseconds. A null body
        (which the API sometimes sends) gives an empty state.
        """
        params = {"at": format_time(parse_time(at))} if at is not None else None
        body = self._session.get_bytes(device_path(device_id, "data"), params, data_endpoint=True)
        if len(body) < 16 and not body.strip():
            return DeviceData()
        data: DeviceData | None = decode(body, DeviceData | None, "device data")
        return data if data is not None else DeviceData()

    def timeline(
        self,
        device_id: Any,
        start: Any = None,
        end: Any = None,
        *,
        sort_direction: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[TimelineEvent]:
        """The device's events (metadata, software, profile, owner changes), every page.

        Newest first, as the API sorts by default; ``sort_direction="ASC"`` for oldest first.
        """
        params: dict[str, str] = {}
        if start is not None:
            params["from"] = format_time(start)
        if end is not None:
            params["to"] = format_time(end)
        if sort_direction:
            params.update(_sort_params(None, sort_direction))
        path = device_path(device_id, "timeline")

        def fetch(offset: int, limit: int) -> PageResult[TimelineEvent]:
            body = self._session.get_bytes(
                path, {**params, "limit": str(limit), "offset": str(offset)}
            )
            page: Page[TimelineEvent] | None = decode(
                body, Page[TimelineEvent] | None, "device timeline"
            )
            if page is None:
                return PageResult([], None)
            return PageResult(page.data or [], page.paging.total if page.paging else None)

        return walk_pages(fetch, page_size=page_size)

    # -- writes -----------------------------------------------------------------------------

    def _device_and_profile(self, device: Any) -> tuple[Device, DataProfile]:
        """The device (fresh, with its state) and its profile, to check a write against."""
        from belimo_cloud.client.dataprofiles import DataProfiles
        from belimo_cloud.client.writes import WriteRefused

        current = self.get(device)
        profiles = self._profiles or DataProfiles(self._session)
        profile = profiles.for_device(current)
        if profile is None:
            raise WriteRefused(
                f"device {current.id} has no data profile, so nothing on it can be written",
                device_id=current.id,
            )
        return current, profile

    @overload
    def write(
        self,
        device: Any,
        values: Mapping[str, Any],
        *,
        mergeable: bool = ...,
        cancelable: bool = ...,
        auto_cancel_after: Any = ...,
        dry_run: Literal[False] = ...,
    ) -> Job: ...
    @overload
    def write(
        self,
        device: Any,
        values: Mapping[str, Any],
        *,
        mergeable: bool = ...,
        cancelable: bool = ...,
        auto_cancel_after: Any = ...,
        dry_run: Literal[True],
    ) -> WriteRequest: ...
    @overload
    def write(
        self,
        device: Any,
        values: Mapping[str, Any],
        *,
        mergeable: bool = ...,
        cancelable: bool = ...,
        auto_cancel_after: Any = ...,
        dry_run: bool,
    ) -> Job | WriteRequest: ...

    def write(
        self,
        device: Any,
        values: Mapping[str, Any],
        *,
        mergeable: bool = False,
        cancelable: bool = False,
        auto_cancel_after: Any = None,
        dry_run: bool = False,
    ) -> Job | WriteRequest:
        """Write datapoints ``{datapoint: value}``; returns the Job the device will confirm.

        Datapoints are ids, default.names or semantic names; values are in the datapoint's
        unit, or carry their own ("5 K", "21 degC", ``(50, "%")``) and are converted to the raw
        value. Everything is checked against the profile before sending: ReadOnlyDatapoint,
        ValueOutOfRange or WriteRefused leave the device untouched. ``dry_run=True`` returns
        the exact WriteRequest and sends nothing. Needs the ``public.write`` scope
        (WriteNotPermitted otherwise). ``job.wait(timeout)`` waits for the device.
        """
        from belimo_cloud.client.jobs import Job, JobInfo
        from belimo_cloud.client.writes import plan_write

        current, profile = self._device_and_profile(device)
        request = plan_write(
            current,
            profile,
            values,
            mergeable=mergeable,
            cancelable=cancelable,
            auto_cancel_after=auto_cancel_after,
        )
        if dry_run:
            return request
        response = self._send(request)
        info = decode(response, JobInfo, "write job")
        return Job(self._session, info, device_id=current.id)

    @overload
    def set_metadata(
        self, device: Any, values: Mapping[str, Any], *, dry_run: Literal[False] = ...
    ) -> None: ...
    @overload
    def set_metadata(
        self, device: Any, values: Mapping[str, Any], *, dry_run: Literal[True]
    ) -> WriteRequest: ...
    @overload
    def set_metadata(
        self, device: Any, values: Mapping[str, Any], *, dry_run: bool
    ) -> WriteRequest | None: ...

    def set_metadata(
        self, device: Any, values: Mapping[str, Any], *, dry_run: bool = False
    ) -> WriteRequest | None:
        """Change device metadata ``{"metadata.1001": "Basement B14.22", ...}`` (204, no job).

        Keys are metadata ids, their default.name or its last part ("deviceName"); only the
        writable (``rw``) entries are accepted. ``dry_run=True`` returns the request unsent.
        """
        from belimo_cloud.client.writes import plan_metadata

        current, profile = self._device_and_profile(device)
        request = plan_metadata(current, profile, values)
        if dry_run:
            return request
        self._send(request)
        return None

    def _send(self, request: WriteRequest) -> bytes:
        """Send a checked write once (never retried: a write is not idempotent)."""
        from belimo_cloud.client.writes import require_write_scope, write_refusal

        require_write_scope(self._session)
        try:
            response = self._session.request(request.method, request.path, json=request.body)
        except (AuthError, APIError) as exc:
            refusal = write_refusal(exc)
            if refusal is not None:
                raise refusal from None
            raise
        return response.content
