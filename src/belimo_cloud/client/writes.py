"""Writes checked against the data profile before anything is sent, and the exact request.

A write names datapoints by id ("evcloud.40"), ``default.name`` ("SpDeltaT_K_Write") or
semantic name, with values in the datapoint's own unit or with a unit of their own ("5 K",
"21 degC", ``(50, "%")``). Each value is converted to the raw SI value the API takes, coerced
to the datapoint's base type, and checked against its access (``rw`` or ``w``), its
restrictions (``[a,b]``, ``len:[a,b]``, ``re:(...)``, ``uint8``, ``int32``, ``b32``), its
``enum`` format and the UI's min/max/enumeration. Nothing invalid ever leaves the client:
the result is a :class:`WriteRequest` (method, path and JSON body) that ``dry_run`` returns
as it is and a real write sends unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from belimo_cloud.client.models import Datapoint, DataProfile, Device
from belimo_cloud.client.semantics import resolve
from belimo_cloud.client.timeutil import format_time, parse_time
from belimo_cloud.client.write_checks import (
    ReadOnlyDatapoint,
    ValueOutOfRange,
    WriteRefused,
    coerce_value,
)
from belimo_cloud.errors import APIError, AuthError, DataError

__all__ = [
    "WRITE_SCOPE",
    "Change",
    "ReadOnlyDatapoint",
    "ValueOutOfRange",
    "WriteNotPermitted",
    "WriteRefused",
    "WriteRequest",
    "coerce_value",
    "plan_metadata",
    "plan_write",
    "require_write_scope",
    "resolve_datapoint",
    "write_refusal",
]

WRITE_SCOPE = "public.write"
METADATA_SUBPROFILE = "metadata"


class WriteNotPermitted(AuthError):
    """The token lacks the ``public.write`` scope (or the server refused the write as such).

    ``sent`` says whether the request reached the API (refused there with 403) or was never
    sent (the identity server would not grant the scope).
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        description: str | None = None,
        sent: bool = False,
    ) -> None:
        super().__init__(message, error=error, description=description)
        self.sent = sent


def require_write_scope(session: Any) -> None:
    """Hold a token with ``public.write`` before a write (asked for only now, never cached).

    WriteNotPermitted (nothing sent) when the identity server will not grant it.
    """
    require = getattr(session, "require_scopes", None)
    if require is None:
        require = getattr(getattr(session, "tokens", None), "require_scopes", None)
    if not callable(require):
        return
    try:
        require(WRITE_SCOPE)
    except AuthError as exc:
        raise WriteNotPermitted(
            f"no {WRITE_SCOPE} scope: the identity server refused write rights to this "
            "account; nothing was sent",
            error=exc.error,
            description=exc.description,
        ) from None


def write_refusal(exc: BaseException) -> WriteNotPermitted | None:
    """The WriteNotPermitted an API refusal of a sent write means, or None for other errors."""
    if isinstance(exc, AuthError) and (
        exc.error == "insufficient_scope" or WRITE_SCOPE in str(exc)
    ):
        return WriteNotPermitted(
            f"no {WRITE_SCOPE} scope: the API refused the write; nothing was written",
            error=exc.error,
            description=exc.description,
            sent=True,
        )
    if isinstance(exc, APIError) and exc.status_code == 403:
        return WriteNotPermitted(
            f"no {WRITE_SCOPE} scope: the API refused the write (403: "
            f"{exc.body_preview or 'forbidden'}); nothing was written",
            error="forbidden",
            sent=True,
        )
    return None


@dataclass(frozen=True)
class Change:
    """One datapoint of a write: what the user gave and the raw value that is sent."""

    datapoint_id: str
    name: str | None
    unit: str | None
    given: Any
    value: Any
    old_value: Any = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, for the audit log and ``--format json``."""
        return {
            "datapoint_id": self.datapoint_id,
            "name": self.name,
            "unit": self.unit,
            "given": self.given if _plain(self.given) else str(self.given),
            "old_value": self.old_value,
            "new_value": self.value,
        }


def _path(device_id: str, leaf: str) -> str:
    return f"/devices/{quote(device_id, safe='')}/{leaf}"


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


@dataclass(frozen=True)
class WriteRequest:
    """The exact request a write sends: ``method``, ``path`` (under /api/v3) and ``body``.

    ``dry_run=True`` returns this instead of sending it; ``changes`` carries, per datapoint,
    the value given, the raw value sent and the value the device held before.
    """

    device_id: str
    method: str
    path: str
    body: dict[str, Any]
    changes: tuple[Change, ...] = field(default_factory=tuple)
    kind: str = "data"  # "data" (a job) or "metadata" (204, no job)

    def as_dict(self) -> dict[str, Any]:
        """method, path, body and the changes, as plain JSON-ready values."""
        return {
            "device_id": self.device_id,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "changes": [change.as_dict() for change in self.changes],
        }

    def describe(self, base_url: str = "") -> str:
        """``POST <url>`` and the JSON body on the next lines, as it would go over the wire."""
        import json

        body = json.dumps(self.body, indent=2, ensure_ascii=False)
        return f"{self.method} {base_url}{self.path}\nContent-Type: application/json\n\n{body}"


def resolve_datapoint(profile: DataProfile, key: str, *, device_id: str | None = None) -> Datapoint:
    """The datapoint meant by an id, a ``default.name``, a semantic name or (metadata) the last
    part of its name ("deviceName" for "/metadata/deviceName"); WriteRefused when none."""
    text = str(key).strip()
    try:
        return resolve(profile, text)
    except DataError:
        pass
    lowered = text.casefold()
    for dp in profile.datapoints:
        name = (dp.name or "").casefold()
        if name.rsplit("/", 1)[-1] == lowered and lowered:
            return dp
    for dp in profile.datapoints:
        if (dp.description or "").casefold() == lowered and lowered:
            return dp
    raise WriteRefused(
        f"profile {profile.key} has no datapoint {key!r}; "
        "`belimo datapoints DEVICE` lists the ids and names",
        device_id=device_id,
        datapoint_id=text,
    )


def _changes(
    device: Device,
    profile: DataProfile,
    values: Mapping[str, Any],
    *,
    metadata: bool,
) -> tuple[Change, ...]:
    if not values:
        raise WriteRefused(
            "nothing to write: give at least one datapoint and value", device_id=device.id
        )
    state = device.state.datapoints if device.state is not None else {}
    changes: dict[str, Change] = {}
    for key, given in values.items():
        dp = resolve_datapoint(profile, key, device_id=device.id)
        where = {"device_id": device.id, "datapoint_id": dp.id}
        in_metadata = dp.id.split(".", 1)[0] == METADATA_SUBPROFILE
        if metadata and not in_metadata:
            raise WriteRefused(
                f"{dp.id} is not device metadata; write it with devices.write", **where
            )
        if not metadata and in_metadata:
            raise WriteRefused(
                f"{dp.id} is device metadata; change it with devices.set_metadata "
                "(`belimo write` does so by itself)",
                **where,
            )
        if not dp.writable:
            raise ReadOnlyDatapoint(
                f"{dp.id} ({dp.name or dp.description or 'unnamed'}) is read-only "
                f"(access {dp.access or 'unknown'}); nothing was sent",
                **where,
            )
        if dp.id in changes:
            raise WriteRefused(f"{dp.id} is given twice ({key!r})", **where)
        raw = coerce_value(dp, given, device_id=device.id)
        changes[dp.id] = Change(
            datapoint_id=dp.id,
            name=dp.name,
            unit=dp.unit,
            given=given,
            value=raw,
            old_value=state.get(dp.id),
        )
    return tuple(changes.values())


def plan_write(
    device: Device,
    profile: DataProfile,
    values: Mapping[str, Any],
    *,
    mergeable: bool = False,
    cancelable: bool = False,
    auto_cancel_after: Any = None,
) -> WriteRequest:
    """The checked ``POST /devices/{id}/data`` for ``values`` ({datapoint: value}).

    ``mergeable`` and ``cancelable`` cannot both be true; ``auto_cancel_after`` (a time)
    needs ``cancelable``. Raises ReadOnlyDatapoint, ValueOutOfRange or WriteRefused.
    """
    if mergeable and cancelable:
        raise WriteRefused(
            "a write cannot be both mergeable and cancelable; choose one", device_id=device.id
        )
    if auto_cancel_after is not None and not cancelable:
        raise WriteRefused("auto_cancel_after needs cancelable=True", device_id=device.id)
    if device.remote_control_enabled is False:
        raise WriteRefused(
            f"device {device.id} ({device.name}) has remote control disabled; "
            "enable it on the device before writing",
            device_id=device.id,
        )
    changes = _changes(device, profile, values, metadata=False)
    body: dict[str, Any] = {
        "datapoints": {c.datapoint_id: c.value for c in changes},
        "mergeable": bool(mergeable),
        "cancelable": bool(cancelable),
    }
    if auto_cancel_after is not None:
        moment = auto_cancel_after
        if not isinstance(moment, datetime):
            moment = parse_time(moment)
        body["autoCancelAfter"] = format_time(moment)
    return WriteRequest(
        device_id=device.id,
        method="POST",
        path=_path(device.id, "data"),
        body=body,
        changes=changes,
        kind="data",
    )


def plan_metadata(device: Device, profile: DataProfile, values: Mapping[str, Any]) -> WriteRequest:
    """The checked ``POST /devices/{id}/metadata`` (writable ``metadata.*`` entries only)."""
    changes = _changes(device, profile, values, metadata=True)
    return WriteRequest(
        device_id=device.id,
        method="POST",
        path=_path(device.id, "metadata"),
        body={"datapoints": {c.datapoint_id: c.value for c in changes}},
        changes=changes,
        kind="metadata",
    )
