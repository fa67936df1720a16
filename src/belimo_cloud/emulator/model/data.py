"""Datapoint values of one device at sample times: physics, counters, texts and faults."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model import faults as designed
from belimo_cloud.emulator.model.build import EV_RELEASES, GW_RELEASES, Built, software_changes
from belimo_cloud.emulator.model.changes import ChangeLog
from belimo_cloud.emulator.model.counters import DailyBases, day_counters
from belimo_cloud.emulator.model.faults import (
    PROBLEM_DESCRIPTION,
    REPLACED_ENERGY_J,
    REPLACED_VOLUME_M3,
)
from belimo_cloud.emulator.model.layout import DeviceModel, epoch
from belimo_cloud.emulator.model.physics import (
    SAMPLE_S,
    Signals,
    ValveParams,
    valve_power_flow,
    valve_signals,
)
from belimo_cloud.emulator.model.types import DeviceSpec
from belimo_cloud.emulator.model.weather import DAY_S, EPOCH0, Climate
from belimo_cloud.emulator.model.written import SETTING_READERS, apply_changes, segments_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HEATING_E, COOLING_E, VOLUME = "evcloud.210", "evcloud.200", "evcloud.220"
COUNTERS = frozenset({HEATING_E, COOLING_E, VOLUME})

#: Signals that grow with a valve's size (the others are temperatures or relative).
_EXTENSIVE = frozenset({"flow", "power"})

_SIGNALS = {
    "evcloud.100": "rel_flow",
    "evcloud.110": "flow",
    "evcloud.130": "rel_power",
    "evcloud.140": "power",
    "evcloud.160": "t1",
    "evcloud.170": "t2",
    "evcloud.180": "dt",
}


def metadata_values(spec: DeviceSpec, model: DeviceModel) -> dict[str, Any]:
    """The constant metadata datapoints of a device (metadata.4 changes; see software_at)."""
    site = model.site
    jitter = ((model.index * 37) % 23 - 11) * 1e-5
    floor = model.location.split(" ")[0]
    application = {"heating": "HEATING", "cooling": "COOLING"}.get(model.kind, "GATEWAY")
    return {
        "metadata.1": model.client_ip,
        "metadata.2": spec.owner.user_id,
        "metadata.3": spec.dataprofile,
        "metadata.5": model.remote_control,
        "metadata.6": True,
        "metadata.7": "DEVICE_CONTROLLED",
        "metadata.1001": spec.display_name,
        "metadata.1002": site.project,
        "metadata.1003": site.building_type,
        "metadata.1004": model.location,
        "metadata.1005": site.project,
        "metadata.1006": site.street,
        "metadata.1007": floor,
        "metadata.1008": site.zip,
        "metadata.1009": site.city,
        "metadata.1010": site.region,
        "metadata.1011": site.country,
        "metadata.1012": round(site.lat + jitter, 6),
        "metadata.1013": round(site.lon - jitter, 6),
        "metadata.1014": "gps",
        "metadata.1015": application,
        "metadata.1016": round(site.lat, 2),
        "metadata.1017": round(site.lon, 2),
        "default.3": "[]",
        "gwcloud.1": float(model.gateway_devices),
        "gwcloud.4": f"10.20.{model.index}.1",
    }


def _in_archetype(params: ValveParams, archetype: ValveParams, scale: float) -> ValveParams:
    """A generated valve's written parameters in its archetype's size (see generated.py)."""
    return replace(params, dn=archetype.dn, vmax=params.vmax / scale, pmax=archetype.pmax)


def releases_of(model: DeviceModel) -> tuple[tuple[str, str, dict[str, str], str], ...]:
    """The firmware releases a device of this kind goes through."""
    return GW_RELEASES if model.kind == "gateway" else EV_RELEASES


class Sampler:
    """Computes the values of any datapoints of any device at sample times."""

    def __init__(
        self, built: Built, climate: Climate, bases: DailyBases, changes: ChangeLog
    ) -> None:
        self._built = built
        self._changes = changes
        self.anchor: int | None = None
        self._climate = climate
        self._bases = bases
        self._at_replacement: dict[str, dict[str, float]] = {}
        # Built on first use: a fleet of thousands starts without them.
        self._meta: dict[str, dict[str, Any]] = {}

    def values(
        self,
        spec: DeviceSpec,
        datapoint_ids: list[str],
        numeric: dict[str, bool],
        times: IntArray,
        now: int,
    ) -> dict[str, npt.NDArray[Any]]:
        """Values of ``datapoint_ids`` (known ids, ``numeric`` tells float or object) at times."""
        if not len(times):
            return {dp: np.empty(0, dtype=float if numeric[dp] else object) for dp in datapoint_ids}
        model = self._built.models[spec.id]
        changes = self._changes.of(spec.id)
        out: dict[str, npt.NDArray[Any]] = {}
        if model.valve is not None:
            wanted = [dp for dp in datapoint_ids if dp.startswith("evcloud.")]
            if wanted:
                segments = segments_of(model.valve, changes)
                out.update(self._valve(spec.id, model, wanted, times, segments))
        elif any(dp.startswith("gwcloud.") for dp in datapoint_ids):
            out.update(self._gateway(model, times))
        meta = self._meta.get(spec.id)
        if meta is None:
            meta = self._meta[spec.id] = metadata_values(spec, model)
        n = len(times)
        for dp in datapoint_ids:
            if dp in out:
                continue
            if dp in {"default.1", "default.2"}:
                out[dp] = self._health_text(model, dp, times, self.fault_now(now))
            elif dp == "metadata.4":
                out[dp] = self._software_text(model, times)
            elif numeric[dp]:
                out[dp] = np.full(n, float(meta[dp]))
            else:
                column = np.empty(n, dtype=object)
                column[:] = [meta[dp]] * n
                out[dp] = column
        apply_changes(changes, times, out)
        self._mask_unavailable(spec, model, times, now, out)
        return {dp: out[dp] for dp in datapoint_ids}

    def _signals(
        self, valve: ValveParams, segments: list[tuple[int, ValveParams]], samples: IntArray
    ) -> Signals:
        """The valve's signals, each sample under the parameters in force at its time."""
        base = valve_signals(valve, samples, self._climate.on_grid(samples))
        if not segments or not len(samples) or samples[-1] < segments[0][0]:
            return base
        columns = {f.name: getattr(base, f.name).copy() for f in fields(Signals)}
        for k, (start, params) in enumerate(segments):
            end = segments[k + 1][0] if k + 1 < len(segments) else np.iinfo(np.int64).max
            mask = (samples >= start) & (samples < end)
            if mask.any():
                part = valve_signals(params, samples[mask], self._climate.at(samples[mask]))
                for name, column in columns.items():
                    column[mask] = getattr(part, name)
        return Signals(**columns)

    def _written_extra(
        self, valve: ValveParams, segments: list[tuple[int, ValveParams]], day_starts: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """What writes added to energy and volume (vs. the valve as built) before each day start.

        The daily bases integrate the valve as built; from the first write on it ran under
        other parameters, so the difference is integrated here, from that write on.
        """
        zeros = np.zeros(len(day_starts))
        if not segments:
            return zeros, zeros.copy()
        first = segments[0][0]
        last = int(day_starts.max())
        if last <= first:
            return zeros, zeros.copy()
        samples = np.arange(first, last, SAMPLE_S, dtype=np.int64)
        power, flow = valve_power_flow(valve, samples, self._climate.at(samples))
        written = self._signals(valve, segments, samples)
        energy = np.concatenate(([0.0], np.cumsum((written.power - power) * SAMPLE_S)))
        volume = np.concatenate(([0.0], np.cumsum((written.flow - flow) * SAMPLE_S)))
        before = np.clip(-((first - day_starts) // SAMPLE_S), 0, len(samples))
        return energy[before], volume[before]

    def _valve(
        self,
        device_id: str,
        model: DeviceModel,
        wanted: list[str],
        times: IntArray,
        segments: list[tuple[int, ValveParams]] | None = None,
    ) -> dict[str, FloatArray]:
        valve = model.valve
        assert valve is not None and model.valve_index is not None
        # The physics runs on what the daily integrals integrated: a generated valve's
        # archetype, its results scaled (power, flow and counters; the rest is relative).
        physics = model.archetype or valve
        scale = model.scale
        settings = segments or []
        if model.archetype is not None:
            segments = [(t, _in_archetype(p, physics, scale)) for t, p in settings]
        else:
            segments = settings
        need_counters = not COUNTERS.isdisjoint(wanted)
        window = slice(None)
        samples = times
        if need_counters:
            first_day = int(times[0] - EPOCH0) // DAY_S
            last_day = int(times[-1] - EPOCH0) // DAY_S + 1
            samples = np.arange(
                EPOCH0 + first_day * DAY_S, EPOCH0 + last_day * DAY_S, SAMPLE_S, dtype=np.int64
            )
            offset = int(times[0] - samples[0]) // SAMPLE_S
            window = slice(offset, offset + len(times))
        signals = self._signals(physics, segments, samples)
        out: dict[str, FloatArray] = {}
        for dp in wanted:
            if dp in _SIGNALS:
                name = _SIGNALS[dp]
                column = getattr(signals, name)[window]
                out[dp] = column * scale if name in _EXTENSIVE and scale != 1.0 else column
        n = len(times)
        if "evcloud.00009" in wanted:
            out["evcloud.00009"] = np.zeros(n)
        if "evcloud.10" in wanted:
            out["evcloud.10"] = np.full(n, float(valve.dn))
        for dp, read in SETTING_READERS.items():
            if dp in wanted:
                column = np.full(n, read(valve))
                for start, params in settings:
                    column[times >= start] = read(params)
                out[dp] = column
        if need_counters:
            days = np.arange(first_day, last_day)
            energy_base, volume_base = self._bases.bases(model.valve_index, days)
            if segments:
                day_starts = EPOCH0 + days.astype(np.int64) * DAY_S
                extra_energy, extra_volume = self._written_extra(physics, segments, day_starts)
                energy_base = energy_base + extra_energy
                volume_base = volume_base + extra_volume
            energy = day_counters(signals.power, energy_base, len(days))[window]
            volume = day_counters(signals.flow, volume_base, len(days))[window]
            if scale != 1.0:
                # Scaling a non-decreasing series by a positive factor keeps it non-decreasing.
                energy = energy * scale
                volume = volume * scale
            heating = valve.kind == "heating"
            counters = {
                HEATING_E: model.heat_e0 + energy if heating else np.full(n, model.heat_e0),
                COOLING_E: np.full(n, model.cool_e0) if heating else model.cool_e0 + energy,
                VOLUME: model.vol0 + volume,
            }
            self._apply_counter_faults(device_id, model, times, counters)
            out.update({dp: counters[dp] for dp in wanted if dp in counters})
        return out

    def _apply_counter_faults(
        self, device_id: str, model: DeviceModel, times: IntArray, counters: dict[str, FloatArray]
    ) -> None:
        at = designed.replacement_at(model.faults)
        if at is not None and (times >= at).any():
            after = times >= at
            before = self._counters_at_replacement(device_id, model, at)
            assert model.valve is not None
            own = HEATING_E if model.valve.kind == "heating" else COOLING_E
            restart = {own: REPLACED_ENERGY_J, VOLUME: REPLACED_VOLUME_M3}
            for dp, column in counters.items():
                column[after] = restart.get(dp, 0.0) + (column[after] - before[dp])
        glitch = designed.glitch_at(model.faults)
        if glitch is not None:
            counters[HEATING_E][times == glitch] = 0.0

    def _counters_at_replacement(
        self, device_id: str, model: DeviceModel, at: int
    ) -> dict[str, float]:
        cached = self._at_replacement.get(device_id)
        if cached is None:
            plain = replace(model, faults=[])
            values = self._valve(device_id, plain, sorted(COUNTERS), np.array([at], dtype=np.int64))
            cached = {dp: float(values[dp][0]) for dp in COUNTERS}
            self._at_replacement[device_id] = cached
        return cached

    def _gateway(self, model: DeviceModel, times: IntArray) -> dict[str, FloatArray]:
        climate = self._climate.at(times)
        restarts = np.array(
            [
                epoch(at)
                for at, _ in software_changes("gateway", model.commissioned, model.jitter_s)
            ],
            dtype=np.int64,
        )
        last = restarts[np.maximum(np.searchsorted(restarts, times, side="right") - 1, 0)]
        noise = (climate.u + model.index * 0.618) % 1.0 - 0.5
        return {
            "gwcloud.2": np.maximum(times - last, 0) / 3600.0,
            "gwcloud.3": 301.15 + 0.3 * climate.outdoor + 0.4 * noise,
        }

    def fault_now(self, now: int) -> int:
        """The "now" that faults relative to now (offline, warning) are placed against.

        A frozen clock's now; a running clock's start (``anchor``), so that samples already
        sent never change as the clock runs: the offline device stays silent since 3 days
        before the start, the warning stays on since 2 days before it.
        """
        return now if self.anchor is None else min(now, self.anchor)

    def _health_text(
        self, model: DeviceModel, dp: str, times: IntArray, now: int
    ) -> npt.NDArray[Any]:
        ok = "OK" if dp == "default.1" else ""
        bad = "WARN" if dp == "default.1" else PROBLEM_DESCRIPTION
        column = np.empty(len(times), dtype=object)
        column[:] = ok
        since = designed.warning_since(model.faults, now)
        if since is not None:
            column[times >= since] = bad
        return column

    def _software_text(self, model: DeviceModel, times: IntArray) -> npt.NDArray[Any]:
        changes = software_changes(model.kind, model.commissioned, model.jitter_s)
        at = np.array([epoch(t) for t, _ in changes], dtype=np.int64)
        idx = np.maximum(np.searchsorted(at, times, side="right") - 1, 0)
        names = np.array([releases_of(model)[i][0] for _, i in changes], dtype=object)
        result: npt.NDArray[Any] = names[idx]
        return result

    def _mask_unavailable(
        self,
        spec: DeviceSpec,
        model: DeviceModel,
        times: IntArray,
        now: int,
        out: dict[str, npt.NDArray[Any]],
    ) -> None:
        missing = designed.missing(model.faults, times, self.fault_now(now))
        if model.contact != "normal":
            missing[:] = True
        if missing.any():
            for column in out.values():
                column[missing] = np.nan if column.dtype.kind == "f" else None


def last_sample(model: DeviceModel, at: int, now: int, fault_now: int | None = None) -> int | None:
    """The latest sample time <= min(at, now) the device sent, or None before its data starts.

    ``fault_now`` places the faults relative to now (see Sampler.fault_now); default ``now``.
    """
    if model.contact != "normal":
        return None
    t = min(at, now)
    t = designed.last_sent(model.faults, t - t % SAMPLE_S, now if fault_now is None else fault_now)
    return t if t >= EPOCH0 else None


def software_at(model: DeviceModel, t: datetime) -> int:
    """Index (into releases_of(model)) of the software a device ran at ``t``."""
    current = 0
    for at, i in software_changes(model.kind, model.commissioned, model.jitter_s):
        if at <= t:
            current = i
    return current


def online_days(model: DeviceModel, last_seen: datetime) -> int:
    """Days with at least one connection between commissioning and the last contact."""
    days = (last_seen - model.commissioned).days + 1 - designed.lost_days(model.faults, last_seen)
    return max(days, 0)
