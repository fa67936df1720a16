"""Build the tenants, device specs and device models of a fleet from its seed (no physics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from belimo_cloud.emulator.model import faults as designed
from belimo_cloud.emulator.model.catalog import EV_PROFILE, GATEWAY_PROFILE
from belimo_cloud.emulator.model.layout import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    SECOND_EMAIL,
    SECOND_PASSWORD,
    DeviceModel,
    device_plans,
    device_uuid,
    epoch,
    material_number,
    random_time,
    serial_number,
    short_id,
    size_valve,
    utc,
)
from belimo_cloud.emulator.model.measures import with_measure
from belimo_cloud.emulator.model.physics import ValveParams
from belimo_cloud.emulator.model.types import DeviceSpec, Tenant

#: Firmware releases: (entity id, display name, running modules, rollout date).
EV_RELEASES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    (
        "ev3-114",
        "1.1.4",
        {"csp": "2.11.2-0", "model": "3.21.140-0", "bsp": "8.2.0-0"},
        "2016-01-01",
    ),
    (
        "ev3-120",
        "1.2.0",
        {"csp": "2.13.5-0", "model": "3.30.212-0", "bsp": "9.1.0-0"},
        "2018-09-12",
    ),
    (
        "ev3-126",
        "1.2.6",
        {"csp": "2.15.10-0", "model": "3.35.363-0", "bsp": "9.4.0-0"},
        "2021-03-03",
    ),
    ("ev3-131", "1.3.1", {"csp": "2.17.1-0", "model": "3.41.18-0", "bsp": "9.6.2-0"}, "2024-06-18"),
)
GW_RELEASES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("gw-310", "3.1.0", {"os": "4.9.88-0", "app": "3.1.0-0"}, "2016-01-01"),
    ("gw-324", "3.2.4", {"os": "4.14.98-0", "app": "3.2.4-0"}, "2019-11-05"),
    ("gw-402", "4.0.2", {"os": "5.10.72-0", "app": "4.0.2-0"}, "2023-02-14"),
)


@dataclass(frozen=True)
class Built:
    """A fleet's static facts."""

    tenants: list[Tenant]
    devices: list[DeviceSpec]
    models: dict[str, DeviceModel]
    valves: list[ValveParams]  # indexed by DeviceModel.valve_index


def _fault_window(name: str, kind: str) -> tuple[int, int] | None:
    for plan in designed.FAULT_PLANS:
        if plan.kind == kind and plan.display_name == name and plan.start and plan.end:
            return epoch(utc(plan.start)), epoch(utc(plan.end))
    return None


def software_changes(
    kind: str, commissioned: datetime, jitter_s: int
) -> list[tuple[datetime, int]]:
    """(time, release index) of every software change of a device, oldest first."""
    releases = GW_RELEASES if kind == "gateway" else EV_RELEASES
    changes = [(commissioned + timedelta(minutes=40), 0)]
    for i, release in enumerate(releases[1:], start=1):
        at = utc(release[3] + "T08:00:00Z") + timedelta(seconds=jitter_s)
        if at > commissioned:
            changes.append((at, i))
    return changes


def build(seed: int) -> Built:
    """Everything about a fleet that does not depend on time."""
    rng = np.random.default_rng([seed, 0xF1EE7])
    demo = Tenant(short_id(rng), DEMO_EMAIL, DEMO_PASSWORD, "Demo", "User")
    second = Tenant(short_id(rng), SECOND_EMAIL, SECOND_PASSWORD, "Facility", "Manager")
    tenants = [demo, second]
    devices: list[DeviceSpec] = []
    models: dict[str, DeviceModel] = {}
    valves: list[ValveParams] = []
    production = int(rng.integers(1_200_000_000, 1_300_000_000))
    for index, plan in enumerate(device_plans()):
        production += int(rng.integers(1, 900))
        commissioned = random_time(rng, "2016-04-01T06:00:00Z", "2016-11-30T16:00:00Z")
        if plan.tenant == 1:
            commissioned = random_time(rng, "2016-08-01T06:00:00Z", "2016-10-30T16:00:00Z")
        produced = commissioned - timedelta(
            days=int(rng.integers(30, 200)), seconds=int(rng.integers(0, 86_400))
        )
        produced = produced.replace(microsecond=int(rng.integers(0, 1000)) * 1000)
        valve: ValveParams | None = None
        valve_index: int | None = None
        if plan.kind != "gateway":
            valve = size_valve(plan, rng, _fault_window(plan.name, "low_delta_t"))
            valve = with_measure(plan.name, plan.tenant, valve)
            valve_index = len(valves)
            valves.append(valve)
        device_id = device_uuid(rng)
        years_before = (datetime(2017, 1, 1, tzinfo=UTC) - commissioned).total_seconds()
        model = DeviceModel(
            index=index,
            kind=plan.kind,
            location=plan.location,
            site=plan.site,
            commissioned=commissioned,
            production_date=produced,
            jitter_s=int(rng.integers(0, 30 * 86_400)),
            client_ip="185.{}.{}.{}".format(*(int(x) for x in rng.integers(1, 250, 3))),
            valve=valve,
            valve_index=valve_index,
            gateway_devices=int(rng.integers(12, 19)),
            faults=designed.plans_for(plan.name) if plan.tenant == 0 else [],
            contact=plan.contact,
            remote_control=plan.remote_control and plan.kind != "gateway",
        )
        if valve is not None:
            util = float(rng.uniform(0.12, 0.22))
            lifetime = valve.pmax * util * years_before
            if valve.kind == "heating":
                model.heat_e0 = lifetime
            else:
                model.cool_e0 = lifetime
            model.vol0 = valve.vmax * 0.3 * years_before
        models[device_id] = model
        devices.append(
            DeviceSpec(
                id=device_id,
                production_id=f"MPUID{production:010d}",
                serial_number=serial_number(rng),
                material_number=material_number(plan.kind, valve.dn if valve else 0),
                display_name=plan.name,
                device_type="1:ethernetGateway" if plan.kind == "gateway" else "1:energyValve3",
                dataprofile=GATEWAY_PROFILE if plan.kind == "gateway" else EV_PROFILE,
                owner=tenants[plan.tenant],
                project_name=plan.site.project,
                address_city=plan.site.city,
                address_country=plan.site.country,
                kind=plan.kind,
            )
        )
    return Built(tenants, devices, models, valves)
