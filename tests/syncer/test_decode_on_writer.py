"""A sync's workers only fetch bytes; the thread that writes decodes them, one window at a time."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from belimo_cloud.client import Client
from belimo_cloud.client.history import window_frame
from belimo_cloud.store import Store
from belimo_cloud.syncer.executor import execute
from belimo_cloud.syncer.planner import ChunkRequest
from belimo_cloud.syncer.progress import NullProgress

RES = timedelta(minutes=15)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class Recorder:
    """Fetches a window's description on the pool; prepares it into a frame; notes threads."""

    def __init__(self) -> None:
        self.fetch_threads: set[str] = set()
        self.prepare_threads: set[str] = set()
        self.prepared: list[tuple[str, datetime]] = []
        self._lock = threading.Lock()

    def fetch(
        self, device_id: str, dps: Sequence[str], start: datetime, end: datetime
    ) -> tuple[str, tuple[str, ...], datetime, datetime]:
        with self._lock:
            self.fetch_threads.add(threading.current_thread().name)
        return device_id, tuple(dps), start, end

    def prepare(
        self, answer: tuple[str, tuple[str, ...], datetime, datetime], request: ChunkRequest
    ) -> pd.DataFrame:
        self.prepare_threads.add(threading.current_thread().name)
        device_id, dps, start, end = answer
        assert (device_id, dps, start, end) == (
            request.device_id,
            request.datapoint_ids,
            request.start,
            request.end,
        )
        self.prepared.append((device_id, start))
        stamps = pd.date_range(start, end, freq="15min", inclusive="left", tz="UTC")
        return pd.DataFrame(
            {
                "datapoint_id": pd.Categorical([dps[0]] * len(stamps)),
                "timestamp": stamps,
                "value": stamps.asi8 / 1e9,
            }
        )


def test_prepare_runs_on_the_writing_thread_in_plan_order(tmp_path: Path) -> None:
    requests = [
        ChunkRequest(f"dev{d}", ("e",), T0 + i * 96 * RES, T0 + (i + 1) * 96 * RES)
        for d in range(3)
        for i in range(4)
    ]
    recorder = Recorder()
    with Store(tmp_path / "s.duckdb") as store:
        outcome = execute(
            requests,
            fetch=recorder.fetch,
            prepare=recorder.prepare,
            store=store,
            resolution="15m",
            aggregation="last",
            workers=3,
            progress=NullProgress(),
        )
        assert len(store.read()) == outcome.points == 12 * 96
    assert recorder.prepare_threads == {threading.current_thread().name}
    assert recorder.fetch_threads and all(
        name.startswith("belimo-sync") for name in recorder.fetch_threads
    )
    assert recorder.prepared == [(r.device_id, r.start) for r in requests]


def test_a_compact_window_frame_holds_what_fetch_window_returns(
    client: Client, valves: list[str]
) -> None:
    dps = ["evcloud.210", "evcloud.140"]
    start = datetime(2024, 3, 1, tzinfo=UTC)
    end = start + 500 * RES
    full = client.history.fetch_window(valves[0], dps, start, end, "15m", "last")
    body = client.history.fetch_window_body(valves[0], dps, start, end, "15m", "last")
    compact = window_frame(valves[0], body, start, end, RES, compact=True)
    assert list(compact.columns) == ["datapoint_id", "timestamp", "value"]
    assert isinstance(compact["datapoint_id"].dtype, pd.CategoricalDtype)
    assert len(compact) == len(full) == 2 * 500
    pd.testing.assert_frame_equal(
        compact.astype({"datapoint_id": full["datapoint_id"].dtype}),
        full.drop(columns="device_id"),
    )
    assert window_frame(valves[0], body, start, end, RES).equals(full)
