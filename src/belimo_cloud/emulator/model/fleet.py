"""The emulated fleet: tenants, devices and their data, deterministic from a seed.

The HTTP app codes against exactly these names. All times are tz-aware UTC datetimes or
int64 epoch seconds, as stated. A device has a sample at every 5-minute grid time from
2017-01-01 up to and including ``now``, except where a designed-in fault removes it.

Default fleet (seed 0): the demo tenant owns 38 devices in an office block in Zurich (22
heating valves, 14 cooling valves, 2 gateways); 35 are online and 3 offline; 35 healthy, 1
with a warning ("Energieventil Heizung 3.OG Nord-West", ``Flow_sensor_error`` since 2 days
before now) and 2 that never sent anything (one never connected, ``lastSeen`` null; one
unregistered, no ``lastSeen``). The second tenant (facility@example.org) owns 3 valves in
Winterthur. Written values (``changes``) overlay the generated data from their effective
sample on; the valve physics follows written setpoints, Vmax and overrides.

Counters (Heating_E_J, Cooling_E_J [J], Flow_Volume_total_m3 [m3]) read, at sample t, their
2017-01-01 offset plus 300 s times the sum of power (flow) over the samples before t: power
is held over each 5-minute interval, so consumption between two readings is exact.

Designed-in faults (DESIGNED_FAULTS, all on the demo tenant; defined in faults.py): a
meter replacement (2018-03-14, "Heizung 3.OG Süd-West"), a gap (2018-02-05..09, "Heizung
2.OG Nord-Ost"), a zero glitch of Heating_E_J (2018-01-17T23:55Z, "Heizung 4.OG Süd-Ost"),
low-dT syndrome (summer 2018, "Kühlung 2.OG Süd") and the offline device ("Kühlung 4.OG
Ost").
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from belimo_cloud.emulator.model import faults as designed
from belimo_cloud.emulator.model.build import Built, build, software_changes
from belimo_cloud.emulator.model.changes import ChangeLog
from belimo_cloud.emulator.model.counters import DailyBases
from belimo_cloud.emulator.model.data import (
    Sampler,
    last_sample,
    online_days,
    releases_of,
    software_at,
)
from belimo_cloud.emulator.model.faults import FAULT_PLANS, PROBLEM_DESCRIPTION
from belimo_cloud.emulator.model.generated import with_generated
from belimo_cloud.emulator.model.layout import DeviceModel, epoch, iso
from belimo_cloud.emulator.model.physics import grid
from belimo_cloud.emulator.model.profiles import Definitions
from belimo_cloud.emulator.model.types import (
    DATA_START,
    SAMPLE_PERIOD_S,
    DeviceSpec,
    History,
    Tenant,
)
from belimo_cloud.emulator.model.weather import DAY_S, EPOCH0, Climate

__all__ = [
    "DATA_START",
    "DESIGNED_FAULTS",
    "SAMPLE_PERIOD_S",
    "DeviceSpec",
    "Fleet",
    "History",
    "Tenant",
]

ONLINE_WITHIN = timedelta(minutes=5)
_shared_lock = threading.Lock()
_shared: dict[tuple[int, int], tuple[Climate, DailyBases]] = {}


def _physics_of(seed: int, built: Built) -> tuple[Climate, DailyBases]:
    """Weather and counter bases, shared by every Fleet of one seed in this process.

    A fleet with generated valves integrates a few more archetypes than the designed one
    (``built.valves``), so the two keep separate bases.
    """
    key = (seed, len(built.valves))
    with _shared_lock:
        if key not in _shared:
            same_seed = [pair[0] for k, pair in _shared.items() if k[0] == seed]
            climate = same_seed[0] if same_seed else Climate(seed)
            _shared[key] = (climate, DailyBases(climate, built.valves))
        return _shared[key]


def designed_faults(seed: int = 0, now: datetime | None = None) -> list[dict[str, Any]]:
    """The designed-in faults of a fleet; "offline" has times only when ``now`` is given."""
    built = build(seed)
    by_name = {d.display_name: d for d in built.devices if d.owner is built.tenants[0]}
    faults: list[dict[str, Any]] = []
    for plan in FAULT_PLANS:
        start = plan.start
        if plan.kind == "offline" and now is not None:
            last = designed.offline_last_sample(epoch(now))
            start = iso(datetime.fromtimestamp(last + SAMPLE_PERIOD_S, tz=UTC))[:-5] + "Z"
        faults.append(
            {
                "kind": plan.kind,
                "device_id": by_name[plan.display_name].id,
                "display_name": plan.display_name,
                "datapoint_id": plan.datapoint_id,
                "start": start,
                "end": plan.end,
                "description": plan.description,
            }
        )
    return faults


#: The designed-in faults of the default fleet (seed 0). Times are ISO-8601 UTC; the
#: "offline" entry is relative to now (its last sample is 3 days before now), so its
#: start is None here: ``Fleet.designed_faults(now)`` fills it in.
DESIGNED_FAULTS: list[dict[str, Any]] = designed_faults(0)


def _text(value: Any) -> str:
    """A value as timeline details carry it (strings, booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Fleet:
    """All tenants and devices of one emulator instance.

    ``fleet_size`` None is the designed fleet; a number gives the demo tenant that many
    energy valves: the designed ones, then generated ones (see generated.py).
    """

    def __init__(self, seed: int = 0, fleet_size: int | None = None) -> None:
        self.seed = seed
        self.fleet_size = fleet_size
        built = build(seed)
        if fleet_size is not None:
            built = with_generated(built, seed, fleet_size)
        self._built = built
        self.tenants: list[Tenant] = built.tenants
        self.devices: list[DeviceSpec] = built.devices
        self.definitions: Definitions = Definitions()
        self._by_id = {d.id: d for d in built.devices}
        self._of_tenant: dict[str, list[DeviceSpec]] = {}
        for device in built.devices:
            self._of_tenant.setdefault(device.owner.user_id, []).append(device)
        self._datapoints: dict[str, list[dict[str, Any]]] = {
            ref: self.definitions.profile_datapoints(ref)
            for ref in {d.dataprofile for d in built.devices}
        }
        self._numeric = {
            ref: {
                dp["id"]: dp["featureValues"]["default.basetype"] in ("real", "int") for dp in dps
            }
            for ref, dps in self._datapoints.items()
        }
        self._ints = {
            ref: {dp["id"] for dp in dps if dp["featureValues"]["default.basetype"] == "int"}
            for ref, dps in self._datapoints.items()
        }
        self._profile_names = {
            ref: "{name}/{version}".format(**self.definitions.profile_summary(ref))
            for ref in self._datapoints
        }
        climate, bases = _physics_of(seed, built)
        self._climate = climate
        self._bases = bases
        self.changes = ChangeLog()
        self._sampler = Sampler(built, climate, bases, self.changes)
        self._state_cache: dict[tuple[str, int, int, int], dict[str, Any]] = {}
        # Room for every device's current state, so that paging a big fleet reuses them.
        self._state_room = max(4096, 2 * len(built.devices))

    def model(self, device: DeviceSpec) -> DeviceModel:
        """The device's physical and behavioural facts."""
        return self._built.models[device.id]

    def remote_control(self, device: DeviceSpec) -> bool:
        """Whether the device takes parametrizations from the cloud."""
        return self._built.models[device.id].remote_control

    def in_contact(self, device_id: str, now: datetime) -> bool:
        """Whether the device is talking to the cloud at ``now`` (it sent its latest sample)."""
        device = self._by_id.get(device_id)
        if device is None:
            return False
        seen = self.last_seen(device, now)
        return seen is not None and now - seen <= ONLINE_WITHIN

    def datapoint_definitions(self, device: DeviceSpec) -> dict[str, dict[str, Any]]:
        """The device profile's datapoint definitions by id."""
        return {dp["id"]: dp for dp in self._datapoints[device.dataprofile]}

    def device(self, device_id: str) -> DeviceSpec | None:
        """The device with this id, or None."""
        return self._by_id.get(device_id)

    def tenant_by_email(self, email: str) -> Tenant | None:
        """The tenant whose OAuth username this is (case-insensitive), or None."""
        return next((t for t in self.tenants if t.email.lower() == email.lower()), None)

    def devices_of(self, tenant: Tenant) -> list[DeviceSpec]:
        """The devices a tenant owns, in production order (a copy)."""
        return list(self._of_tenant.get(tenant.user_id, ()))

    def designed_faults(self, now: datetime) -> list[dict[str, Any]]:
        """DESIGNED_FAULTS of this fleet's seed, with the offline device's times filled in."""
        placed = datetime.fromtimestamp(self._sampler.fault_now(epoch(now)), tz=UTC)
        return designed_faults(self.seed, placed)

    def anchor_faults(self, start: datetime | None) -> None:
        """Place the faults relative to now at ``start`` (a running clock's start), or at
        every reading of a frozen clock (None)."""
        self._sampler.anchor = None if start is None else epoch(start)

    def warm(self, until: datetime) -> None:
        """Integrate every counter up to ``until`` now, so that later requests are fast."""
        self._bases.ensure((epoch(until) - EPOCH0) // DAY_S + 1)

    def last_seen(self, device: DeviceSpec, now: datetime) -> datetime | None:
        """When the device last sent data (its latest sample), or None if never."""
        now_s = epoch(now)
        model = self._built.models[device.id]
        t = last_sample(model, now_s, now_s, self._sampler.fault_now(now_s))
        return None if t is None else datetime.fromtimestamp(t, tz=UTC)

    def health(self, device: DeviceSpec, now: datetime) -> dict[str, Any]:
        """``{lastSeen, onlineDays, state, description}`` as the device object carries it."""
        model = self._built.models[device.id]
        if model.contact == "unregistered":
            # Never set up: the key is missing, as the spec says of devices never online.
            return {"onlineDays": 0, "state": "UNKNOWN", "description": None}
        seen = self.last_seen(device, now)
        if seen is None:
            return {"lastSeen": None, "onlineDays": 0, "state": "UNKNOWN", "description": None}
        problem = designed.warning_since(model.faults, epoch(now)) is not None
        return {
            "lastSeen": iso(seen),
            "onlineDays": online_days(model, seen),
            "state": "WARNING" if problem else "OK",
            "description": PROBLEM_DESCRIPTION if problem else "",
        }

    def device_json(self, device: DeviceSpec, now: datetime) -> dict[str, Any]:
        """The full device object of the spec (GET /devices/{id}), including ``state``."""
        return self.with_state(self.device_summary(device, now), device, now)

    def with_state(
        self, summary: dict[str, Any], device: DeviceSpec, now: datetime
    ) -> dict[str, Any]:
        """The device object ``summary`` (from :meth:`device_summary`) with its ``state``."""
        state = self.state(device, now, now)
        if state["timestamp"] is not None:
            datapoints = dict(state["datapoints"])
            name = summary["displayName"]
            datapoints["timeline.1"] = {"value": f'1:{{"metadata.1001":"{name}"}}'}
            state = {"timestamp": state["timestamp"], "datapoints": datapoints}
        return {**summary, "state": state}

    def device_summary(self, device: DeviceSpec, now: datetime) -> dict[str, Any]:
        """The device object without ``state``: what lists filter and sort on, cheaply."""
        model = self._built.models[device.id]
        release = releases_of(model)[software_at(model, now)]
        owner = device.owner
        written = self.changes.applied_values(device.id, epoch(now))
        name = str(written.get("metadata.1001", device.display_name))
        return {
            "id": device.id,
            "productionId": device.production_id,
            "displayName": name,
            "serialNumber": device.serial_number,
            "materialNumber": device.material_number,
            "deviceType": device.device_type,
            "productionDate": iso(model.production_date),
            "purpose": "PRODUCT",
            "dataprofile": {
                "entityId": device.dataprofile,
                "ref": f"/definitions/dataprofiles/{device.dataprofile}",
                "displayName": self._profile_names[device.dataprofile],
            },
            "software": {
                "entityId": release[0],
                "ref": f"/software/versions/{release[0]}",
                "displayName": release[1],
            },
            "runningSoftwareModules": dict(release[2]),
            "health": self.health(device, now),
            "owner": {
                "entityId": owner.user_id,
                "ref": f"/users/{owner.user_id}",
                "displayName": f"{owner.first_name} {owner.last_name}",
                "email": owner.email,
            },
            "projectName": str(written.get("metadata.1002", device.project_name)),
            "addressCity": str(written.get("metadata.1009", device.address_city)),
            "addressCountry": str(written.get("metadata.1011", device.address_country)),
            "remoteControlEnabled": model.remote_control,
            "claimingProtectionActive": False,
        }

    def state(self, device: DeviceSpec, at: datetime, now: datetime) -> dict[str, Any]:
        """``{"timestamp": ..., "datapoints": {id: {"value": v}}}``: the latest sample <= at.

        Before the device's first sample: ``{"timestamp": None, "datapoints": {}}``.
        """
        now_s = epoch(now)
        fault_now = self._sampler.fault_now(now_s)
        t = last_sample(self._built.models[device.id], epoch(at), now_s, fault_now)
        if t is None:
            return {"timestamp": None, "datapoints": {}}
        model = self._built.models[device.id]
        problem_since = fault_now if designed.of_kind(model.faults, "sensor_error") else 0
        revision = self.changes.device_revision(device.id)
        key = (device.id, t, problem_since, revision)
        cached = self._state_cache.get(key)
        if cached is None:
            ids = self.datapoint_ids(device)
            history = self.history(device, ids, t, t + 1, now_s)
            ints = self._ints[device.dataprofile]
            datapoints: dict[str, Any] = {}
            for dp in ids:
                value = history.values[dp][0]
                if isinstance(value, np.floating):
                    value = int(value) if dp in ints else float(value)
                datapoints[dp] = {"value": value}
            ts = iso(datetime.fromtimestamp(t, tz=UTC))
            cached = {"timestamp": ts, "datapoints": datapoints}
            if len(self._state_cache) > self._state_room:
                self._state_cache.clear()
            self._state_cache[key] = cached
        datapoints = dict(cached["datapoints"])
        if revision:
            # The cloud shows an applied write at once; samples carry it from the next one on.
            for dp, value in self.changes.applied_values(device.id, epoch(at)).items():
                if dp in datapoints:
                    datapoints[dp] = {"value": value}
        return {"timestamp": cached["timestamp"], "datapoints": datapoints}

    def history(
        self, device: DeviceSpec, datapoint_ids: list[str], start: int, end: int, now: int
    ) -> History:
        """Raw samples of ``datapoint_ids`` (known ids only, others dropped) at grid times
        in [start, end) that are also <= now (a sample exactly at ``now`` exists)."""
        numeric = self._numeric[device.dataprofile]
        known = [dp for dp in dict.fromkeys(datapoint_ids) if dp in numeric]
        limit = EPOCH0 + (self._climate.n_days - 1) * DAY_S
        times = grid(start, min(end, now + 1, limit))
        values = self._sampler.values(device, known, numeric, times, now)
        return History(times=times, values=values)

    def datapoint_ids(self, device: DeviceSpec) -> list[str]:
        """Every datapoint id of the device's profile, in profile order."""
        return [dp["id"] for dp in self._datapoints[device.dataprofile]]

    def numeric(self, device: DeviceSpec, datapoint_id: str) -> bool:
        """True when the datapoint's basetype is real or int (timeseries can aggregate it)."""
        return self._numeric[device.dataprofile].get(datapoint_id, False)

    def timeline(self, device: DeviceSpec, now: datetime) -> list[dict[str, Any]]:
        """Timeline events ``{timestamp, type, details}``, newest first."""
        model = self._built.models[device.id]
        events: list[tuple[datetime, str, dict[str, Any]]] = [
            (
                model.commissioned,
                "METADATA_CHANGE",
                {
                    "values": {
                        "metadata.1001": device.display_name,
                        "metadata.1002": device.project_name,
                        "metadata.1004": model.location,
                    }
                },
            )
        ]
        if model.contact == "normal":
            # A device that never connected took no software update.
            for at, _ in software_changes(model.kind, model.commissioned, model.jitter_s):
                events.append((at, "SOFTWARE_CHANGE", {}))
        events.extend(designed.timeline_events(model.faults))
        for change in self.changes.of(device.id):
            values = {dp: _text(v) for dp, v in change.values.items()}
            at = datetime.fromtimestamp(change.applied, tz=UTC)
            events.append((at, change.kind, {"values": values}))
        shown = [e for e in events if e[0] <= now]
        shown.sort(key=lambda e: e[0], reverse=True)
        return [{"timestamp": iso(at), "type": kind, "details": d} for at, kind, d in shown]

    def stats(self, devices: list[DeviceSpec], now: datetime) -> dict[str, Any]:
        """The /devices/stats body for these devices."""
        online = 0
        ok = 0
        problem = 0
        for device in devices:
            seen = self.last_seen(device, now)
            online += seen is not None and now - seen <= ONLINE_WITHIN
            health = self.health(device, now)["state"]
            ok += health == "OK"
            problem += health in ("WARNING", "ERROR")
        total = len(devices)
        return {
            "totalDevices": total,
            "connection": {"offline": total - online, "online": online},
            "health": {"problem": problem, "ok": ok},
            "transfer": {"incoming": 0, "outgoing": 0},
        }
