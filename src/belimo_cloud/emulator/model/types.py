"""The static types of the emulated fleet: tenants, device specs, raw sample histories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

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
    """Raw samples of some datapoints of one device over [start, end), up to and including now.

    ``times`` are epoch seconds (int64, ascending, on the 5-minute grid). ``values[dp]`` has
    one entry per time: float64 with NaN where the device sent nothing (offline, gap), or an
    object array of str/bool/None for non-numeric datapoints.
    """

    times: npt.NDArray[np.int64]
    values: dict[str, npt.NDArray[Any]]
