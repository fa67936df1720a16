"""The emulated fleet: tenants, devices and their data, deterministic from a seed.

INTERFACE STUB: the emulator-physics work fills in the bodies (with physics.py and
profiles.py); the emulator-app work (app.py and friends) codes against exactly these names.
All times are tz-aware UTC datetimes or int64 epoch seconds, as stated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.profiles import Definitions

SAMPLE_PERIOD_S = 300  # raw samples every 5 minutes, on the UTC 5-minute grid
DATA_START = datetime.fromisoformat("2017-01-01T00:00:00+00:00")


@dataclass(frozen=True)
class Tenant:
    """A BelimoID user and what it owns."""

    user_id: str
    email: str  # also the OAuth username
    password: str = field(repr=False)
    first_name: str
    last_name: str


@dataclass(frozen=True)
class DeviceSpec:
    """Static facts of one device; its data comes from Fleet.history()/state()."""

    id: str
    production_id: str
    serial_number: str
    material_number: str
    display_name: str
    device_type: str
    dataprofile: str  # "energyvalve3/1.2" (id/version, no slash)
    owner: Tenant
    project_name: str
    address_city: str
    address_country: str
    kind: str  # "heating" | "cooling" | "gateway"


@dataclass(frozen=True)
class History:
    """Raw samples of some datapoints of one device over [start, end).

    ``times`` are epoch seconds (int64, ascending, on the 5-minute grid). ``values[dp]`` has
    one entry per time: float64 with NaN where the device sent nothing (offline, gap), or an
    object array of str/bool/None for non-numeric datapoints.
    """

    times: npt.NDArray[np.int64]
    values: dict[str, npt.NDArray[Any]]


class Fleet:
    """All tenants and devices of one emulator instance."""

    def __init__(self, seed: int = 0) -> None:
        raise NotImplementedError

    tenants: list[Tenant]
    devices: list[DeviceSpec]
    definitions: Definitions  # from profiles.py: the catalogue the definitions routes serve

    def device(self, device_id: str) -> DeviceSpec | None:
        raise NotImplementedError

    def tenant_by_email(self, email: str) -> Tenant | None:
        raise NotImplementedError

    def devices_of(self, tenant: Tenant) -> list[DeviceSpec]:
        raise NotImplementedError

    def device_json(self, device: DeviceSpec, now: datetime) -> dict[str, Any]:
        """The full device object of the spec (GET /devices/{id}), including ``state``."""
        raise NotImplementedError

    def state(self, device: DeviceSpec, at: datetime, now: datetime) -> dict[str, Any]:
        """``{"timestamp": ..., "datapoints": {id: {"value": v}}}``: the latest sample <= at."""
        raise NotImplementedError

    def history(
        self, device: DeviceSpec, datapoint_ids: list[str], start: int, end: int, now: int
    ) -> History:
        """Raw samples of ``datapoint_ids`` (known ids only) in [start, min(end, now)), epoch s."""
        raise NotImplementedError

    def datapoint_ids(self, device: DeviceSpec) -> list[str]:
        """Every datapoint id of the device's profile, in profile order."""
        raise NotImplementedError

    def numeric(self, device: DeviceSpec, datapoint_id: str) -> bool:
        """True when the datapoint's basetype is real or int (timeseries can aggregate it)."""
        raise NotImplementedError

    def timeline(self, device: DeviceSpec, now: datetime) -> list[dict[str, Any]]:
        """Timeline events ``{timestamp, type, details}``, newest first."""
        raise NotImplementedError

    def stats(self, devices: list[DeviceSpec], now: datetime) -> dict[str, Any]:
        """The /devices/stats body for these devices."""
        raise NotImplementedError

