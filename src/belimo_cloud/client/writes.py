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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from belimo_cloud import units
from belimo_cloud.client.models import Datapoint, DataProfile, Device
from belimo_cloud.client.semantics import resolve
from belimo_cloud.client.timeutil import format_time, parse_time
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

# Limits of the integer and float restrictions seen in profiles.
_INT_LIMITS = {
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
_FLOAT32_MAX = 3.4028234663852886e38
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# A number followed by an optional unit: "21", "21.5 degC", "-3e2K", "50 %".
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")
# Restrictions are joined by ';' - but a regex may contain one, so split only before a start.
_RESTRICTION_SPLIT = re.compile(r";(?=\s*(?:len:|re:|[\[(]|u?int\d+\b|b\d+\b))")
_RANGE = re.compile(r"^([\[(])\s*([^,]*)\s*,\s*([^\])]*)\s*([\])])$")


class WriteRefused(DataError):
    """The write cannot be sent: unknown datapoint, wrong type, remote control disabled, ...

    ``device_id`` and ``datapoint_id`` say where (None when not about one datapoint).
    """

    def __init__(
        self, message: str, *, device_id: str | None = None, datapoint_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.device_id = device_id
        self.datapoint_id = datapoint_id


class ReadOnlyDatapoint(WriteRefused):
    """The datapoint's access is ``r``: it can be read, never written."""


class ValueOutOfRange(WriteRefused):
    """The value is outside the datapoint's range, length, pattern or enumeration."""


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


def _is_delta(dp: Datapoint) -> bool:
    """A temperature difference (dT setpoints): converted without the kelvin offset."""
    text = f"{dp.name or ''} {dp.description or ''}".casefold()
    return "delta" in text or "dt_" in text or text.startswith("dt")


def _split_unit(given: Any) -> tuple[Any, str | None]:
    """(number or text, unit) from ``(50, "%")``, ``"21 degC"`` or a plain value."""
    if isinstance(given, tuple) and len(given) == 2 and isinstance(given[1], str):
        return given[0], given[1]
    if isinstance(given, str):
        match = _NUMBER_UNIT.match(given)
        if match and match.group(2):
            return match.group(1), match.group(2).strip()
    return given, None


def coerce_value(dp: Datapoint, given: Any, *, device_id: str | None = None) -> Any:
    """The raw value to send for ``given``: unit converted, base type coerced, restrictions met.

    Raises ValueOutOfRange for a value outside the datapoint's limits and WriteRefused for one
    that cannot be read as its base type.
    """
    where = {"device_id": device_id, "datapoint_id": dp.id}
    basetype = dp.basetype or "text"
    value, unit = _split_unit(given)
    if unit is not None:
        if basetype not in ("real", "int"):
            raise WriteRefused(
                f"{dp.id} is {basetype}; a unit ({unit}) makes no sense for it", **where
            )
        if not dp.unit:
            raise WriteRefused(
                f"{dp.id} has no unit in its profile; give the value without {unit!r}", **where
            )
        number = _number(dp, value, where)
        try:
            value = units.convert(number, unit, dp.unit, delta=_is_delta(dp))
        except DataError as exc:
            raise WriteRefused(f"{dp.id}: {exc}", **where) from None
    raw = _coerce_basetype(dp, basetype, value, where)
    _check_restrictions(dp, raw, where)
    return raw


def _number(dp: Datapoint, value: Any, where: dict[str, Any]) -> float:
    if isinstance(value, bool):
        raise WriteRefused(f"{dp.id} takes a number, not {value!r}", **where)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WriteRefused(f"{dp.id} takes a number, got {value!r}", **where) from None
    if not math.isfinite(number):
        raise ValueOutOfRange(f"{dp.id} takes a finite number, got {value!r}", **where)
    return number


def _coerce_basetype(dp: Datapoint, basetype: str, value: Any, where: dict[str, Any]) -> Any:
    if basetype == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise WriteRefused(f"{dp.id} takes true or false, got {value!r}", **where)
    if basetype == "int":
        number = _number(dp, value, where)
        if not number.is_integer():
            raise ValueOutOfRange(f"{dp.id} takes a whole number, got {value!r}", **where)
        return int(number)
    if basetype == "real":
        return _number(dp, value, where)
    if not isinstance(value, str):
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    return value


def _bound(text: str) -> float | None:
    text = text.strip()
    if not text or text in ("*", "inf", "+inf", "-inf"):
        return None
    return float(text)


def _in_range(spec: str, x: float) -> bool | None:
    """Whether x lies in "[a,b]"/"(a,b)"; None when ``spec`` is not a range."""
    match = _RANGE.match(spec.strip())
    if not match:
        return None
    try:
        lo, hi = _bound(match.group(2)), _bound(match.group(3))
    except ValueError:
        return None
    if lo is not None and (x < lo if match.group(1) == "[" else x <= lo):
        return False
    return not (hi is not None and (x > hi if match.group(4) == "]" else x >= hi))


def _enumeration(dp: Datapoint) -> list[str]:
    """Allowed raw values from the ``enum;0|1`` format or the UI's enumeration, as text."""
    allowed: list[str] = []
    fmt = dp.format or ""
    if "enum;" in fmt:
        allowed += [part.strip() for part in fmt.split("enum;", 1)[1].split("|") if part.strip()]
    gui = dp.feature("bMg3Fgui.enumeration")
    if gui and not allowed:
        for part in re.split(r"[|,]", gui):
            key = re.split(r"[:=]", part, maxsplit=1)[0].strip()
            if key:
                allowed.append(key)
    return allowed


def _check_restrictions(dp: Datapoint, raw: Any, where: dict[str, Any]) -> None:
    numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
    for part in _RESTRICTION_SPLIT.split(dp.restriction or ""):
        spec = part.strip()
        if not spec:
            continue
        if spec.startswith("len:") and isinstance(raw, str):
            inside = _in_range(spec[4:], float(len(raw)))
            if inside is False:
                raise ValueOutOfRange(
                    f"{dp.id} takes text of length {spec[4:]}, got {len(raw)} characters", **where
                )
        elif spec.startswith("re:") and isinstance(raw, str):
            if re.fullmatch(spec[3:], raw) is None:
                raise ValueOutOfRange(
                    f"{dp.id} takes text matching {spec[3:]}, got {raw!r}", **where
                )
        elif numeric and spec in _INT_LIMITS:
            lo, hi = _INT_LIMITS[spec]
            if not lo <= raw <= hi:
                raise ValueOutOfRange(
                    f"{dp.id} takes {spec} values [{lo},{hi}], got {raw}", **where
                )
        elif numeric and spec == "b32":
            if abs(raw) > _FLOAT32_MAX:
                raise ValueOutOfRange(f"{dp.id} takes 32-bit values, got {raw}", **where)
        elif numeric and _in_range(spec, float(raw)) is False:
            raise ValueOutOfRange(f"{dp.id} takes values in {spec}, got {raw:g}", **where)
    if numeric:
        _check_gui_limits(dp, float(raw), where)
    iso = "iso3166" in (dp.format or "") and isinstance(raw, str) and bool(raw)
    if iso and re.fullmatch(r"[A-Z]{2}", raw) is None:
        raise ValueOutOfRange(
            f"{dp.id} takes an ISO 3166 alpha-2 country code such as CH, got {raw!r}", **where
        )
    allowed = _enumeration(dp)
    if allowed:
        text = ("true" if raw else "false") if isinstance(raw, bool) else _enum_text(raw)
        if text not in allowed:
            raise ValueOutOfRange(f"{dp.id} takes one of {', '.join(allowed)}, got {text}", **where)


def _check_gui_limits(dp: Datapoint, x: float, where: dict[str, Any]) -> None:
    """The UI's min and max (raw units), when the profile gives them."""
    lo_text, hi_text = dp.feature("bMg3Fgui.min"), dp.feature("bMg3Fgui.max")
    try:
        lo = float(lo_text) if lo_text else None
        hi = float(hi_text) if hi_text else None
    except ValueError:
        return
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        shown = f"[{lo_text or '-inf'},{hi_text or 'inf'}]"
        raise ValueOutOfRange(f"{dp.id} takes values in {shown}, got {x:g}", **where)


def _enum_text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


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
