"""Typed models of the API's answers: devices, their state, data profiles and datapoints.

msgspec Structs, decoded straight from the response bytes (client/decode.py). Field names are
the API's camelCase names in snake_case; unknown fields are ignored (the live service adds
fields over time) and optional ones may be null or absent, as on real fleets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec
from msgspec.structs import force_setattr

from belimo_cloud.errors import DataError

__all__ = [
    "ConnectionStats",
    "DataProfile",
    "Datapoint",
    "Device",
    "DeviceData",
    "DeviceStats",
    "DownloadLink",
    "Health",
    "HealthStats",
    "Page",
    "Paging",
    "RawSample",
    "Ref",
    "TimelineEvent",
    "TransferStats",
]

T = TypeVar("T")


class _Model(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """Base of every model: immutable, camelCase on the wire, unknown fields ignored."""


class Ref(_Model, frozen=True):
    """A link to another entity, e.g. a device's data profile or owner."""

    entity_id: str | None = None
    ref: str | None = None
    display_name: str | None = None
    email: str | None = None


class Health(_Model, frozen=True):
    """A device's health: OK, WARNING, ERROR or UNKNOWN, and when it was last online.

    A device that never connected has no ``lastSeen`` (absent or null): ``last_seen`` is None.
    A null ``state`` reads as "UNKNOWN".
    """

    state: str | None = "UNKNOWN"
    description: str | None = None
    last_seen: datetime | None = None
    online_days: int | None = None

    def __post_init__(self) -> None:
        if self.state is None:
            force_setattr(self, "state", "UNKNOWN")


_NO_HEALTH = Health()


def _unwrap(value: Any) -> Any:
    """``{"value": x}`` (the wire form of one state entry) -> ``x``."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


class DeviceData(_Model, frozen=True):
    """A device's state at one time: every datapoint's value under one timestamp.

    On the wire each entry is ``{"<id>": {"value": x}}``; here ``datapoints`` (alias
    ``values``) maps the id to ``x`` directly (number, text or bool).
    """

    timestamp: datetime | None = None
    datapoints: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        force_setattr(self, "datapoints", {k: _unwrap(v) for k, v in self.datapoints.items()})

    @property
    def values(self) -> dict[str, Any]:
        """Datapoint id -> value (the same mapping as ``datapoints``)."""
        return self.datapoints

    def get(self, datapoint_id: str, default: Any = None) -> Any:
        """The value of one datapoint, or ``default`` when the state lacks it."""
        return self.datapoints.get(datapoint_id, default)

    def __getitem__(self, datapoint_id: str) -> Any:
        try:
            return self.datapoints[datapoint_id]
        except KeyError:
            raise DataError(f"datapoint {datapoint_id!r} is not in this device state") from None

    def __contains__(self, datapoint_id: object) -> bool:
        return datapoint_id in self.datapoints

    def __len__(self) -> int:
        return len(self.datapoints)


class Device(_Model, frozen=True):
    """One device as the device list and ``GET /devices/{id}`` describe it.

    ``id`` is the data scope and changes when ownership is transferred; ``production_id`` and
    ``serial_number`` are stable.
    """

    id: str
    production_id: str | None = None
    display_name: str | None = None
    serial_number: str | None = None
    material_number: str | None = None
    device_type: str | None = None
    production_date: datetime | None = None
    purpose: str | None = None
    dataprofile: Ref | None = None
    software: Ref | None = None
    running_software_modules: dict[str, str] | None = None
    # An unregistered device may come with "health": null; ``health`` then reads UNKNOWN.
    health_or_none: Health | None = msgspec.field(default=None, name="health")
    owner: Ref | None = None
    project_name: str | None = None
    address_city: str | None = None
    address_country: str | None = None
    remote_control_enabled: bool | None = None
    claiming_protection_active: bool | None = None
    state: DeviceData | None = None

    @property
    def health(self) -> Health:
        """The device's health; UNKNOWN and never seen when the API sent none."""
        return self.health_or_none if self.health_or_none is not None else _NO_HEALTH

    @property
    def dataprofile_id(self) -> str | None:
        """The profile as "id/version" (e.g. "energyvalve3/1.2"), or None when unknown."""
        if self.dataprofile is None:
            return None
        if self.dataprofile.entity_id:
            return self.dataprofile.entity_id
        ref = self.dataprofile.ref
        return ref.rstrip("/").split("/dataprofiles/")[-1] if ref else None

    @property
    def name(self) -> str:
        """Something to show for the device: its display name, serial or id."""
        return self.display_name or self.serial_number or self.id


class ConnectionStats(_Model, frozen=True):
    """Devices online (seen within 5 minutes) and offline."""

    online: int = 0
    offline: int = 0


class HealthStats(_Model, frozen=True):
    """Devices healthy and with a problem (warning or error)."""

    ok: int = 0
    problem: int = 0


class TransferStats(_Model, frozen=True):
    """Pending device transfers."""

    incoming: int = 0
    outgoing: int = 0


class DeviceStats(_Model, frozen=True):
    """Counts over the visible fleet (``GET /devices/stats``)."""

    total_devices: int = 0
    connection: ConnectionStats = msgspec.field(default_factory=ConnectionStats)
    health: HealthStats = msgspec.field(default_factory=HealthStats)
    transfer: TransferStats = msgspec.field(default_factory=TransferStats)

    @property
    def online(self) -> int:
        """Devices seen within the last 5 minutes."""
        return self.connection.online

    @property
    def offline(self) -> int:
        """Devices not seen within the last 5 minutes."""
        return self.connection.offline

    @property
    def ok(self) -> int:
        """Devices whose health is OK."""
        return self.health.ok

    @property
    def problem(self) -> int:
        """Devices with a warning or an error."""
        return self.health.problem


class TimelineEvent(_Model, frozen=True):
    """One entry of a device timeline, e.g. METADATA_CHANGE with its changed values."""

    timestamp: datetime
    type: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class RawSample(_Model, frozen=True):
    """One stored sample of one datapoint (raw history); value may be number, text or bool."""

    timestamp: datetime
    value: Any = None


class DownloadLink(_Model, frozen=True):
    """A pre-authorised CSV download (``requestDownload``); the URL needs no token."""

    download_url: str
    valid_until: datetime | None = None


class Datapoint(_Model, frozen=True):
    """One datapoint definition; its meaning lives in string feature values such as default.name."""

    id: str
    feature_values: dict[str, str] = msgspec.field(default_factory=dict)
    defined_by: str | None = None

    def feature(self, key: str, default: str | None = None) -> str | None:
        """A feature value by its full key, e.g. "default.unit" or "bMg3Fgui.displayname"."""
        return self.feature_values.get(key, default)

    @property
    def name(self) -> str | None:
        """The ``default.name`` feature, e.g. "Heating_E_J"."""
        return self.feature_values.get("default.name")

    @property
    def description(self) -> str | None:
        """The ``default.description`` feature, e.g. "Heating Energy in J"."""
        return self.feature_values.get("default.description")

    @property
    def unit(self) -> str | None:
        """The SI unit of raw values, e.g. "joule", "kelvin" (None for unitless data)."""
        return self.feature_values.get("default.unit")

    @property
    def access(self) -> str | None:
        """ "r", "rw" or "w"."""
        return self.feature_values.get("default.access")

    @property
    def basetype(self) -> str | None:
        """ "real", "int", "text" or "bool"."""
        return self.feature_values.get("default.basetype")

    @property
    def format(self) -> str | None:
        """The ``default.format`` feature, e.g. "text/plain"."""
        return self.feature_values.get("default.format")

    @property
    def restriction(self) -> str | None:
        """The ``default.restriction`` feature, e.g. "b32" or "len:[0,255]"."""
        return self.feature_values.get("default.restriction")

    @property
    def display_name(self) -> str | None:
        """The UI label (``bMg3Fgui.displayname``), falling back to the description."""
        return self.feature_values.get("bMg3Fgui.displayname") or self.description

    @property
    def display_unit(self) -> str | None:
        """The UI's unit hint (``bMg3Fgui.displayunit``); raw values stay in ``unit``."""
        return self.feature_values.get("bMg3Fgui.displayunit")

    @property
    def readable(self) -> bool:
        """Whether the datapoint can be read (access r or rw)."""
        return "r" in (self.access or "")

    @property
    def writable(self) -> bool:
        """Whether the datapoint can be written (access w or rw)."""
        return "w" in (self.access or "")

    @property
    def numeric(self) -> bool:
        """Whether values are numbers (basetype real or int)."""
        return self.basetype in ("real", "int")

    def convert(self, values: Any, to: str, *, delta: bool = False) -> Any:
        """Convert raw values of this datapoint from its unit to ``to`` (e.g. "kWh", "degC").

        ``delta=True`` converts differences (1 K of dT is 1 degC, not -272.15 degC).
        """
        from belimo_cloud import units

        if not self.unit:
            raise DataError(f"datapoint {self.id} has no unit; cannot convert to {to!r}")
        return units.convert(values, self.unit, to, delta=delta)


class DataProfile(_Model, frozen=True):
    """A data profile ("id/version") with its datapoint definitions (expanded form)."""

    id: str
    version: str
    ref: str | None = None
    name: str | None = None
    state: str | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    datapoints: list[Datapoint] = msgspec.field(default_factory=list)
    subprofile_refs: list[str] = msgspec.field(default_factory=list)

    @property
    def key(self) -> str:
        """ "id/version", the form devices reference."""
        return self.ref or f"{self.id}/{self.version}"

    @property
    def ids(self) -> list[str]:
        """Every datapoint id of the profile, in profile order."""
        return [dp.id for dp in self.datapoints]

    def find(self, text: str) -> list[Datapoint]:
        """Datapoints whose description or ``default.name`` contains ``text`` (any case)."""
        needle = text.casefold()
        return [
            dp
            for dp in self.datapoints
            if needle in (dp.description or "").casefold() or needle in (dp.name or "").casefold()
        ]

    def get(self, datapoint_id: str) -> Datapoint:
        """The datapoint with this id; DataError when the profile has none."""
        for dp in self.datapoints:
            if dp.id == datapoint_id:
                return dp
        raise DataError(
            f"profile {self.key} has no datapoint {datapoint_id!r}; "
            "list them with profile.datapoints or search with profile.find(text)"
        )

    def by_name(self, default_name: str) -> Datapoint | None:
        """The datapoint whose ``default.name`` is ``default_name`` (e.g. "Heating_E_J")."""
        for dp in self.datapoints:
            if dp.name == default_name:
                return dp
        lowered = default_name.casefold()
        for dp in self.datapoints:
            if dp.name and dp.name.casefold() == lowered:
                return dp
        return None

    def __contains__(self, datapoint_id: object) -> bool:
        return any(dp.id == datapoint_id for dp in self.datapoints)

    def __iter__(self) -> Any:
        return iter(self.datapoints)

    def __len__(self) -> int:
        return len(self.datapoints)


class Paging(msgspec.Struct, kw_only=True):
    """Offset paging of a collection."""

    total: int | None = None
    offset: int | None = None
    limit: int | None = None


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a collection: ``data`` plus ``paging`` (null data bodies happen)."""

    data: list[T] | None = None
    paging: Paging | None = None
