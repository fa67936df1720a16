"""Who owns which devices, what they are called and how they are sized, from a seed.

The demo tenant's building is an office block in Zurich: heating valves per floor and
facade, cooling valves, a server room and two gateways. The designed-in faults sit on
fixed devices at fixed times in 2018 (see faults.py); which device ids they get follows the seed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from belimo_cloud.emulator.model.faults import FaultPlan
from belimo_cloud.emulator.model.physics import CP, NOMINAL_FLOW, RHO, ValveParams

DEMO_EMAIL = "__UserPlaceHolder__"
DEMO_PASSWORD = "__PasswordPlaceHolder__"  # the tutorial's placeholder, public on purpose
SECOND_EMAIL = "facility@example.org"
SECOND_PASSWORD = "Second-Tenant-Password-1"  # documented test tenant


@dataclass(frozen=True)
class Site:
    """A project's address."""

    project: str
    city: str
    country: str
    street: str
    zip: str
    region: str
    lat: float
    lon: float
    building_type: str


DEMO_SITE = Site(
    "Geschäftshaus Limmatpark",
    "Zürich",
    "CH",
    "Limmatstrasse 250",
    "8005",
    "ZH",
    47.38921,
    8.51805,
    "OFFICE",
)
SECOND_SITE = Site(
    "Schulhaus Rosenau",
    "Winterthur",
    "CH",
    "Rosenaustrasse 12",
    "8400",
    "ZH",
    47.49988,
    8.72413,
    "SCHOOL",
)


def iso(t: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as device and state responses carry it."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def utc(text: str) -> datetime:
    """Parse an ISO-8601 UTC string written in this module."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def epoch(t: datetime) -> int:
    """Epoch seconds of a tz-aware datetime."""
    return int(t.timestamp())


@dataclass
class DeviceModel:
    """Everything about one device the JSON and the data need beyond DeviceSpec."""

    index: int
    kind: str  # heating | cooling | gateway
    location: str
    site: Site
    commissioned: datetime
    production_date: datetime
    jitter_s: int  # [s] how late this device took each software rollout
    client_ip: str
    valve: ValveParams | None
    valve_index: int | None
    heat_e0: float = 0.0  # [J] counter at 2017-01-01
    cool_e0: float = 0.0
    vol0: float = 0.0  # [m3]
    gateway_devices: int = 0
    faults: list[FaultPlan] = field(default_factory=list)
    contact: str = "normal"  # see Plan.contact
    remote_control: bool = True
    # A generated valve's physics is ``archetype``'s scaled by ``scale`` (see generated.py);
    # None: the valve's own (``valve_index`` is then its own row of the daily integrals).
    archetype: ValveParams | None = None
    scale: float = 1.0


_FLOORS = ("EG", "1.OG", "2.OG", "3.OG", "4.OG")
_HEAT_FACADES = ("Nord-West", "Nord-Ost", "Süd-West", "Süd-Ost")
_COOL_FACADES = ("Nord", "Süd", "Ost")
SUN = {  # solar gain [0..1] of a zone by its facade
    "Nord": 0.15,
    "Nord-West": 0.3,
    "Nord-Ost": 0.3,
    "Ost": 0.6,
    "West": 0.6,
    "Süd-Ost": 0.8,
    "Süd-West": 0.8,
    "Süd": 1.0,
}


@dataclass(frozen=True)
class Plan:
    """One device before it gets ids: name, role and sizing hints."""

    name: str
    kind: str
    location: str
    facade: str
    site: Site
    tenant: int  # 0 demo, 1 second
    constant_load: float = 0.0
    contact: str = "normal"  # "never": claimed, never connected; "unregistered": not even set up
    remote_control: bool = True


def device_plans() -> list[Plan]:
    """The fleet in production order (productionId ascending)."""
    plans: list[Plan] = []
    for floor in _FLOORS:
        for facade in _HEAT_FACADES:
            location = f"{floor} {facade}"
            plans.append(
                Plan(f"Energieventil Heizung {location}", "heating", location, facade, DEMO_SITE, 0)
            )
    for floor in _FLOORS[1:]:
        for facade in _COOL_FACADES:
            location = f"{floor} {facade}"
            plans.append(
                Plan(f"Energieventil Kühlung {location}", "cooling", location, facade, DEMO_SITE, 0)
            )
    plans.append(
        Plan(
            "Energieventil Kühlung EG Süd-West", "cooling", "EG Süd-West", "Süd-West", DEMO_SITE, 0
        )
    )
    plans.append(
        Plan(
            "Energieventil Kühlung Serverraum UG",
            "cooling",
            "UG Serverraum",
            "Nord",
            DEMO_SITE,
            0,
            constant_load=0.55,
            remote_control=False,  # the server room's cooling is not to be touched remotely
        )
    )
    plans.append(Plan("Gateway Technikzentrale UG", "gateway", "UG Technik", "Nord", DEMO_SITE, 0))
    plans.append(Plan("Gateway Dachzentrale", "gateway", "Dach", "Süd", DEMO_SITE, 0))
    plans.append(
        Plan("Energieventil Heizung Turnhalle", "heating", "Turnhalle", "Süd-West", SECOND_SITE, 1)
    )
    plans.append(
        Plan("Energieventil Heizung Trakt A", "heating", "Trakt A", "Nord-Ost", SECOND_SITE, 1)
    )
    plans.append(Plan("Energieventil Kühlung Aula", "cooling", "Aula", "Süd", SECOND_SITE, 1))
    # Last, so that every device above keeps its ids and signals: what real accounts contain.
    plans.append(
        Plan(
            "Energieventil Heizung Anbau",
            "heating",
            "Anbau EG",
            "Süd-Ost",
            DEMO_SITE,
            0,
            contact="never",
        )
    )
    plans.append(
        Plan(
            "Energieventil Ersatz Lager",
            "heating",
            "UG Lager",
            "Nord",
            DEMO_SITE,
            0,
            contact="unregistered",
        )
    )
    return plans


_DNS_HEATING = (20, 25, 25, 32, 40)
_DNS_COOLING = (25, 32, 32, 40, 50)


def size_valve(plan: Plan, rng: np.random.Generator, low_dt: tuple[int, int] | None) -> ValveParams:
    """Pick DN, Vmax, setpoint and nominal power of one valve, consistent with each other."""
    heating = plan.kind == "heating"
    dn = int(rng.choice(_DNS_HEATING if heating else _DNS_COOLING))
    if plan.constant_load:
        dn = 32
    vmax = NOMINAL_FLOW[dn] * float(rng.choice((0.7, 0.75, 0.8, 0.85, 0.9, 1.0)))
    sp = float(rng.choice((10.0, 12.0, 12.0, 14.0, 15.0))) if heating else 6.0
    pmax = round(vmax * RHO * CP * sp * 0.8, -2)
    return ValveParams(
        kind=plan.kind,
        dn=dn,
        vmax=vmax,
        pmax=pmax,
        sp_dt=sp,
        t_limit=float(rng.uniform(14.0, 16.0)) if heating else float(rng.uniform(17.0, 19.0)),
        solar_gain=SUN[plan.facade],
        phase=float(rng.random()),
        constant_load=plan.constant_load,
        low_dt=low_dt,
    )


def material_number(kind: str, dn: int) -> str:
    """Belimo-like material number: threaded up to DN50, flanged above."""
    if kind == "gateway":
        return "UK24BAC-EV"
    return f"EV{dn:03d}R2+BAC" if dn <= 50 else f"EV{dn:03d}F+BAC"


def device_uuid(rng: np.random.Generator) -> str:
    """A random-looking version-4 UUID drawn from the fleet's generator."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def short_id(rng: np.random.Generator) -> str:
    """An 8-character BelimoID-style user id."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), 8))


def serial_number(rng: np.random.Generator) -> str:
    """NNNNN-NNNNN-NNN-NNN."""
    d = "".join(str(x) for x in rng.integers(0, 10, 16))
    return f"{d[:5]}-{d[5:10]}-{d[10:13]}-{d[13:16]}"


def random_time(rng: np.random.Generator, start: str, end: str) -> datetime:
    """A time between two ISO dates, on whole seconds."""
    a, b = epoch(utc(start)), epoch(utc(end))
    return datetime.fromtimestamp(int(rng.integers(a, b)), tz=UTC)
