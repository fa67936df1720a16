"""Generated valves that grow the demo tenant to a portfolio of ``fleet_size`` energy valves.

The designed fleet comes first, unchanged (its ids, signals and faults); generated valves
follow in production order, grouped into buildings (buildings.py), one valve per floor and
zone, heating or cooling. Every attribute of generated valve ``i`` is a hash of (seed, i)
(draws.py), so the same seed gives the same devices and a larger fleet starts with the
smaller one.

A generated valve's physics is an archetype's, scaled: power and flow are linear in Vmax and
Pmax together, so a valve ``scale`` times the archetype's size carries ``scale`` times its
power and flow at the same dT, temperatures and relative values. Its counters are then the
archetype's daily integrals times ``scale`` plus its own lifetime offset: thousands of valves
cost no more integration than the few archetypes (the designed valves without a designed
fault or measure, and a few more set points).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.build import Built
from belimo_cloud.emulator.model.buildings import Buildings, floor_name, portfolio
from belimo_cloud.emulator.model.catalog import EV_PROFILE
from belimo_cloud.emulator.model.draws import Draws
from belimo_cloud.emulator.model.layout import SUN, DeviceModel, device_plans, material_number
from belimo_cloud.emulator.model.physics import CP, NOMINAL_FLOW, RHO, ValveParams
from belimo_cloud.emulator.model.types import DATA_START, DeviceSpec, Tenant

IntArray = npt.NDArray[np.int64]

_SALT = 0x5CA1E
#: The most valves a demo tenant may have (at 20,000: 0.7 s to start, 540 MB after a walk
#: over every device page).
MAX_FLEET_SIZE = 20_000

_DNS = {"heating": (15, 20, 25, 25, 32, 40, 50, 65), "cooling": (20, 25, 32, 40, 50, 65, 80)}
_VMAX_SHARES = (0.7, 0.75, 0.8, 0.85, 0.9, 1.0)
#: Set points [K] the designed valves lack (floor heating, radiators, chilled ceilings, AHUs).
_EXTRA_SET_POINTS = {"heating": (6.0, 8.0, 16.0, 20.0), "cooling": (4.0, 5.0, 7.0, 8.0)}
_EXTRA_SUN = (0.15, 0.6, 1.0, 0.3)
# Streams of Draws: one per attribute, so adding one never changes another (buildings.py
# draws from streams of its own).
(
    _V_HEATING,
    _V_ARCHETYPE,
    _V_DN,
    _V_SHARE,
    _V_UTIL,
    _V_JITTER,
    _V_LATE,
    _V_PRODUCED,
    _V_PRODUCED_S,
    _V_IP,
    _V_SERIAL,
    _V_UUID_HI,
    _V_UUID_LO,
    _V_PRODUCTION,
    _V_REMOTE,
    _V_GATEWAY_DEVICES,
    _A_LIMIT,
    _A_PHASE,
) = range(18)


def _extra_archetypes(draws: Draws) -> list[ValveParams]:
    """Valves with the set points the designed ones lack, sized DN32 (scaling sizes them)."""
    extras: list[ValveParams] = []
    for kind in ("heating", "cooling"):
        for j, sp in enumerate(_EXTRA_SET_POINTS[kind]):
            index = np.array([len(extras)], dtype=np.int64)
            heating = kind == "heating"
            vmax = NOMINAL_FLOW[32] * 0.85
            low, high = (13.5, 16.5) if heating else (16.5, 19.5)
            extras.append(
                ValveParams(
                    kind=kind,
                    dn=32,
                    vmax=vmax,
                    pmax=round(vmax * RHO * CP * sp * 0.8, -2),
                    sp_dt=sp,
                    t_limit=float(draws.uniform(_A_LIMIT, index, low, high)[0]),
                    solar_gain=_EXTRA_SUN[j],
                    phase=float(draws.uniform(_A_PHASE, index)[0]),
                )
            )
    return extras


def _archetypes(built: Built, extras: list[ValveParams]) -> dict[str, list[int]]:
    """Rows of the integrated valves a generated valve may scale, by kind.

    The designed valves qualify unless their params carry a designed fault (low dT), a
    measure or a constant load: those stay on their own device.
    """
    rows: dict[str, list[int]] = {"heating": [], "cooling": []}
    for row, valve in enumerate(built.valves):
        if valve.low_dt is None and valve.measure is None and valve.constant_load == 0.0:
            rows[valve.kind].append(row)
    for j, valve in enumerate(extras):
        rows[valve.kind].append(len(built.valves) + j)
    return rows


def _by_sun(valves: list[ValveParams], rows: list[int], sun: float) -> list[int]:
    """The archetype rows whose solar gain is nearest the zone's (within 0.2)."""
    best = min(abs(valves[r].solar_gain - sun) for r in rows)
    return [r for r in rows if abs(valves[r].solar_gain - sun) <= best + 0.2]


def designed_valves() -> int:
    """How many energy valves the demo tenant's designed fleet has (the least fleet size)."""
    return sum(1 for plan in device_plans() if plan.tenant == 0 and plan.kind != "gateway")


def check_fleet_size(fleet_size: int) -> None:
    """ValueError (one line, naming the bounds) unless a fleet of this size can be built."""
    least = designed_valves()
    if fleet_size < least:
        raise ValueError(
            f"fleet size {fleet_size} is fewer than the {least} designed valves of the demo "
            f"tenant; give {least} to {MAX_FLEET_SIZE}"
        )
    if fleet_size > MAX_FLEET_SIZE:
        raise ValueError(
            f"fleet size {fleet_size} is more than {MAX_FLEET_SIZE} valves; give {least} "
            f"to {MAX_FLEET_SIZE}"
        )


def with_generated(built: Built, seed: int, fleet_size: int) -> Built:
    """``built`` with generated valves for the demo tenant up to ``fleet_size`` valves.

    ValueError (see check_fleet_size) for a size below the designed fleet or too large.
    """
    check_fleet_size(fleet_size)
    demo = built.tenants[0]
    count = fleet_size - designed_valves()
    if count == 0:
        return built
    draws = Draws(seed, _SALT)
    extras = _extra_archetypes(draws)
    valves = [*built.valves, *extras]
    archetypes = _archetypes(built, extras)
    devices, models = _generate(
        built, demo=demo, draws=draws, count=count, valves=valves, archetypes=archetypes
    )
    return Built(
        tenants=built.tenants,
        devices=[*built.devices, *devices],
        models={**built.models, **models},
        valves=valves,
    )


@dataclass(frozen=True)
class _Picks:
    """Every per-valve draw of the generated valves, as Python lists (cheap to index)."""

    building: list[int]
    heating: list[float]
    archetype: list[float]
    dn: list[float]
    share: list[int]
    util: list[float]
    jitter: list[int]
    late: list[int]
    produced_days: list[int]
    produced_s: list[int]
    ip: list[int]
    serial: list[int]
    uuid: list[int]
    remote: list[bool]
    gateway_devices: list[int]
    production: list[int]


def _picks(draws: Draws, count: int, buildings: Buildings, last_production: int) -> _Picks:
    index = np.arange(count, dtype=np.int64)
    uuid_hi = draws.bits(_V_UUID_HI, index).tolist()
    uuid_lo = draws.bits(_V_UUID_LO, index).tolist()
    productions = np.cumsum(draws.integers(_V_PRODUCTION, index, 1, 900)) + last_production
    return _Picks(
        building=(np.searchsorted(buildings.first, index, side="right") - 1).tolist(),
        heating=draws.uniform(_V_HEATING, index).tolist(),
        archetype=draws.uniform(_V_ARCHETYPE, index).tolist(),
        dn=draws.uniform(_V_DN, index).tolist(),
        share=draws.integers(_V_SHARE, index, 0, len(_VMAX_SHARES)).tolist(),
        util=draws.uniform(_V_UTIL, index, 0.12, 0.22).tolist(),
        jitter=draws.integers(_V_JITTER, index, 0, 30 * 86_400).tolist(),
        late=draws.integers(_V_LATE, index, 0, 21 * 86_400).tolist(),
        produced_days=draws.integers(_V_PRODUCED, index, 30, 200).tolist(),
        produced_s=draws.integers(_V_PRODUCED_S, index, 0, 86_400).tolist(),
        ip=draws.integers(_V_IP, index, 0, 249**3).tolist(),
        serial=draws.integers(_V_SERIAL, index, 0, 10**16).tolist(),
        uuid=[(hi << 64) | lo for hi, lo in zip(uuid_hi, uuid_lo, strict=True)],
        remote=(draws.uniform(_V_REMOTE, index) >= 0.05).tolist(),
        gateway_devices=draws.integers(_V_GATEWAY_DEVICES, index, 12, 19).tolist(),
        production=productions.tolist(),
    )


def _pick(options: tuple[int, ...] | list[int], draw: float) -> int:
    return options[min(int(draw * len(options)), len(options) - 1)]


def _generate(
    built: Built,
    *,
    demo: Tenant,
    draws: Draws,
    count: int,
    valves: list[ValveParams],
    archetypes: dict[str, list[int]],
) -> tuple[list[DeviceSpec], dict[str, DeviceModel]]:
    buildings = portfolio(draws, count)
    last_production = max(int(d.production_id[5:]) for d in built.devices)
    picks = _picks(draws, count, buildings, last_production)
    firsts = buildings.first.tolist()
    commissionings = buildings.commissioned.tolist()
    data_start = DATA_START.timestamp()
    candidates = {
        (kind, zone): _by_sun(valves, rows, sun)
        for kind, rows in archetypes.items()
        for zone, sun in SUN.items()
    }
    devices: list[DeviceSpec] = []
    models: dict[str, DeviceModel] = {}
    for i in range(count):
        b = picks.building[i]
        site = buildings.sites[b]
        zones = buildings.zones[b]
        k = i - firsts[b]
        zone = zones[k % len(zones)]
        location = f"{floor_name(k // len(zones))} {zone}"
        kind = "heating" if picks.heating[i] < buildings.heating_share[b] else "cooling"
        row = _pick(candidates[kind, zone], picks.archetype[i])
        archetype = valves[row]
        dn = _pick(_DNS[kind], picks.dn[i])
        vmax = NOMINAL_FLOW[dn] * _VMAX_SHARES[picks.share[i]]
        scale = vmax / archetype.vmax
        own = replace(archetype, dn=dn, vmax=vmax, pmax=archetype.pmax * scale)
        commissioned = datetime.fromtimestamp(commissionings[b] + picks.late[i], tz=UTC)
        before_data = data_start - commissioned.timestamp()
        lifetime = own.pmax * picks.util[i] * before_data
        ip = picks.ip[i]
        device_id = str(uuid.UUID(int=picks.uuid[i], version=4))
        models[device_id] = DeviceModel(
            index=len(built.devices) + i,
            kind=kind,
            location=location,
            site=site,
            commissioned=commissioned,
            production_date=commissioned
            - timedelta(days=picks.produced_days[i], seconds=picks.produced_s[i]),
            jitter_s=picks.jitter[i],
            client_ip=f"185.{ip // 249**2 + 1}.{ip // 249 % 249 + 1}.{ip % 249 + 1}",
            valve=own,
            valve_index=row,
            heat_e0=lifetime if kind == "heating" else 0.0,
            cool_e0=lifetime if kind == "cooling" else 0.0,
            vol0=own.vmax * 0.3 * before_data,
            gateway_devices=picks.gateway_devices[i],
            remote_control=picks.remote[i],
            archetype=archetype,
            scale=scale,
        )
        digits = f"{picks.serial[i]:016d}"
        name = "Heizung" if kind == "heating" else "Kühlung"
        devices.append(
            DeviceSpec(
                id=device_id,
                production_id=f"MPUID{picks.production[i]:010d}",
                serial_number=f"{digits[:5]}-{digits[5:10]}-{digits[10:13]}-{digits[13:]}",
                material_number=material_number(kind, dn),
                display_name=f"Energieventil {name} {site.street} {location}",
                device_type="1:energyValve3",
                dataprofile=EV_PROFILE,
                owner=demo,
                project_name=site.project,
                address_city=site.city,
                address_country=site.country,
                kind=kind,
            )
        )
    return devices, models
