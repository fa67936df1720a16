"""The executor on a real store: commits per window, bounded in-flight work, clean stops.

The fetch function is a local stand-in for the client here (the real client against the
emulator is exercised in test_sync.py); it lets these tests stop a run at an exact window.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.errors import ServerError
from belimo_cloud.store import Store
from belimo_cloud.syncer.executor import Outcome, execute
from belimo_cloud.syncer.planner import ChunkRequest
from belimo_cloud.syncer.progress import NullProgress

RES = timedelta(minutes=15)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def windows(count: int, buckets: int = 96) -> list[ChunkRequest]:
    span = buckets * RES
    return [
        ChunkRequest("dev", ("e", "p"), T0 + i * span, T0 + (i + 1) * span) for i in range(count)
    ]


class FakeFetch:
    """Deterministic values; records the largest number of calls running at once."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls = 0
        self.running = 0
        self.peak = 0
        self.fail_at = fail_at
        self._lock = threading.Lock()

    def __call__(
        self, device_id: str, dps: Sequence[str], start: datetime, end: datetime
    ) -> pd.DataFrame:
        with self._lock:
            self.calls += 1
            call = self.calls
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if self.fail_at is not None and call == self.fail_at:
                raise ServerError(
                    "503 after retries", status_code=503, method="GET", url="/x", body=""
                )
            stamps = pd.date_range(start, end, freq="15min", inclusive="left", tz="UTC")
            return pd.concat(
                [
                    pd.DataFrame(
                        {
                            "device_id": device_id,
                            "datapoint_id": dp,
                            "timestamp": stamps,
                            "value": stamps.asi8 / 1e9 + k,
                        }
                    )
                    for k, dp in enumerate(dps)
                ],
                ignore_index=True,
            )
        finally:
            with self._lock:
                self.running -= 1


class StopAfter(NullProgress):
    """Presses Ctrl-C (in the main thread) after ``n`` committed windows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def advance(self, *, device_id: str, points: int, device_done: bool) -> None:
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt


def run(store: Store, requests: list[ChunkRequest], fetch: FakeFetch, **kw: object) -> Outcome:
    options: dict[str, object] = {"workers": 3, "progress": NullProgress()}
    options.update(kw)
    return execute(
        requests,
        fetch=fetch,
        store=store,
        resolution="15m",
        aggregation="last",
        **options,  # type: ignore[arg-type]
    )


def test_every_window_is_committed(tmp_path: Path) -> None:
    fetch = FakeFetch()
    with Store(tmp_path / "s.duckdb") as store:
        outcome = run(store, windows(10), fetch)
        assert (outcome.requests, outcome.points) == (10, 10 * 96 * 2)
        assert len(store.read()) == 10 * 96 * 2
        assert store.coverage("15m", "last") == {
            ("dev", "e"): [(T0, T0 + 960 * RES)],
            ("dev", "p"): [(T0, T0 + 960 * RES)],
        }
    assert fetch.calls == 10
    assert fetch.peak <= 3


def test_ctrl_c_keeps_committed_windows_only(tmp_path: Path) -> None:
    fetch = FakeFetch()
    with Store(tmp_path / "s.duckdb") as store:
        outcome = Outcome()
        with pytest.raises(KeyboardInterrupt):
            run(store, windows(10), fetch, progress=StopAfter(4), outcome=outcome)
        assert outcome.interrupted
        # The 4th window was committed before the interrupt reached the executor.
        assert outcome.requests == 4
        stored = store.read()
        cover = store.coverage("15m", "last")[("dev", "e")]
        in_cover = stored["timestamp"].apply(
            lambda t: any(s <= t.to_pydatetime() < e for s, e in cover)
        )
        assert in_cover.all()
        assert len(stored) == sum((e - s) // RES for s, e in cover) * 2
    # Nothing was started after the interrupt beyond the bounded queue.
    assert fetch.calls <= 4 + 2 * 3


def test_fetch_error_stops_and_keeps_earlier_windows(tmp_path: Path) -> None:
    fetch = FakeFetch(fail_at=5)
    with Store(tmp_path / "s.duckdb") as store:
        outcome = Outcome()
        with pytest.raises(ServerError):
            run(store, windows(12), fetch, workers=1, outcome=outcome)
        # Windows 1-4 precede the failure; window 6 may have finished alongside it and is kept.
        assert outcome.requests in (4, 5)
        assert len(store.read()) == outcome.points == outcome.requests * 96 * 2
        cover = store.coverage("15m", "last")[("dev", "e")]
        assert cover[0] == (T0, T0 + 4 * 96 * RES)
        assert sum((e - s) // RES for s, e in cover) == outcome.requests * 96
