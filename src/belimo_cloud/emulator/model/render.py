"""The timeseries answer as a function of one request: the history, resampled, as JSON bytes.

The handler parses and checks the query into a TimeseriesRequest; this renders it on the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.fleet import Fleet
from belimo_cloud.emulator.model.resample import resample, series_json


@dataclass(frozen=True)
class TimeseriesRequest:
    """Everything a timeseries body is made of (times in epoch seconds; texts as echoed)."""

    device_id: str
    datapoint_ids: tuple[str, ...]  # known numeric ids of the device, in the asked order
    start_s: int
    end_s: int
    now_s: int
    step_s: int
    aggregation: str
    start_text: str
    end_text: str
    resolution_text: str


def render_timeseries(fleet: Fleet, request: TimeseriesRequest) -> bytes:
    """The timeseries response body of ``request`` on ``fleet``."""
    device = fleet.device(request.device_id)
    if device is None:
        raise KeyError(f"no device {request.device_id!r} in this fleet")
    series: list[tuple[str, str, npt.NDArray[np.int64], npt.NDArray[np.float64]]] = []
    if request.datapoint_ids:
        ids = list(request.datapoint_ids)
        history = fleet.history(device, ids, request.start_s, request.end_s, request.now_s)
        for dp in ids:
            values = np.asarray(history.values[dp], dtype=np.float64)
            stamps, aggregated = resample(
                history.times, values, request.step_s, request.aggregation
            )
            series.append((dp, request.aggregation, stamps, aggregated))
    return series_json(request.start_text, request.end_text, request.resolution_text, series)
