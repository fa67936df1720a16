"""Lifetime counters of every valve: exact running sums of power and flow since 2017-01-01.

A window of samples is computed on demand, but its counters need everything integrated
before it. So the first request reaching a day integrates all valves up to that day once
(in chunks, sharing the weather) and keeps only the counter value at each UTC day start;
later windows add the samples of their own days to those.

Within a day the counter is the day's base plus a sequential sum of the day's samples, the
same sums that built the next day's base, so counters never step back at midnight.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.physics import SAMPLE_S, ValveParams, valve_power_flow
from belimo_cloud.emulator.model.weather import DAY_S, EPOCH0, Climate

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PER_DAY = DAY_S // SAMPLE_S
_CHUNK_DAYS = 61


class DailyBases:
    """Energy [J] and volume [m3] each valve integrated before each UTC day start."""

    def __init__(self, climate: Climate, valves: list[ValveParams]) -> None:
        self._climate = climate
        self._valves = valves
        self._lock = threading.Lock()
        self._days = 0
        self._energy = np.zeros((len(valves), 1))
        self._volume = np.zeros((len(valves), 1))

    @property
    def days(self) -> int:
        """How many days are integrated (bases exist for day indexes 0..days)."""
        return self._days

    def ensure(self, day: int) -> None:
        """Integrate every valve up to the start of day index ``day``."""
        if day <= self._days:
            return
        # Whole chunks ahead, so that a clock or a sync moving forward integrates rarely.
        day = min(-(-day // _CHUNK_DAYS) * _CHUNK_DAYS, self._climate.n_days)
        with self._lock:
            if self._days >= day:
                return
            first = self._days
            # Two halves of the valves on two threads: the work is numpy on long arrays,
            # which runs without the GIL, so a first request integrates on two cores.
            halves = [
                self._valves[: len(self._valves) // 2],
                self._valves[len(self._valves) // 2 :],
            ]
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="belimo-bases") as pool:
                parts = list(pool.map(lambda valves: self._integrate(valves, first, day), halves))
            self._energy = _append_running(self._energy, np.concatenate([p[0] for p in parts]))
            self._volume = _append_running(self._volume, np.concatenate([p[1] for p in parts]))
            self._days = day

    def bases(self, valve: int, days: IntArray) -> tuple[FloatArray, FloatArray]:
        """(energy, volume) integrated before the start of each day index in ``days``."""
        self.ensure(int(days.max()))
        return self._energy[valve, days], self._volume[valve, days]

    def _integrate(
        self, valves: list[ValveParams], first: int, upto: int
    ) -> tuple[FloatArray, FloatArray]:
        """Energy and volume of ``valves`` in each day from index ``first`` up to ``upto``."""
        energy = np.empty((len(valves), upto - first))
        volume = np.empty((len(valves), upto - first))
        for start in range(first, upto, _CHUNK_DAYS):
            end = min(start + _CHUNK_DAYS, upto)
            times = np.arange(
                EPOCH0 + start * DAY_S, EPOCH0 + end * DAY_S, SAMPLE_S, dtype=np.int64
            )
            climate = self._climate.at(times)
            n = end - start
            for i, valve in enumerate(valves):
                power, flow = valve_power_flow(valve, times, climate)
                days = slice(start - first, end - first)
                energy[i, days] = np.cumsum(power.reshape(n, PER_DAY) * SAMPLE_S, axis=1)[:, -1]
                volume[i, days] = np.cumsum(flow.reshape(n, PER_DAY) * SAMPLE_S, axis=1)[:, -1]
        return energy, volume


def _append_running(bases: FloatArray, day_sums: FloatArray) -> FloatArray:
    running = np.cumsum(np.concatenate([bases[:, -1:], day_sums], axis=1), axis=1)
    return np.concatenate([bases, running[:, 1:]], axis=1)


def day_counters(per_sample: FloatArray, bases: FloatArray, n_days: int) -> FloatArray:
    """Counter readings of whole days of samples: each day's base plus the day's running sum."""
    within = np.cumsum(per_sample.reshape(n_days, PER_DAY) * SAMPLE_S, axis=1)
    readings = np.empty_like(within)
    readings[:, 0] = bases
    readings[:, 1:] = bases[:, None] + within[:, :-1]
    return readings.reshape(-1)
