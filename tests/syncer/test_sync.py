"""sync() against the emulator over loopback, into real DuckDB files."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.client import Client
from belimo_cloud.client.chunking import bucket_count
from belimo_cloud.errors import DataError, NotFound, StoreError
from belimo_cloud.store import Store, default_store_path
from belimo_cloud.syncer import LogProgress, NullProgress, SyncInterrupted, sync
from tests.conftest import FIXED_NOW

from .conftest import direct, stored

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 8, 1, tzinfo=UTC)  # 20,448 buckets: 3 windows per device
DPS = ["heating_energy", "power"]


def test_sync_stores_what_the_api_serves(client: Client, valves: list[str], tmp_path: Path) -> None:
    devices = valves[:2]
    with Store(tmp_path / "s.duckdb") as store:
        report = sync(client, store, device_ids=devices, datapoints=DPS, start=START, end=END)
        got = stored(store)
        info = store.info()
        assert set(store.devices()["device_id"]) == set(devices)
        catalogue = store.catalogue()
    per_device = -(-bucket_count(START, END, "15m") // 10_000)
    assert report.requests == report.planned_requests == 2 * per_device
    assert report.devices == 2 and report.series == 4
    assert report.points == len(got) > 0
    assert not report.interrupted and report.skipped == []
    ids = {"evcloud.210", "evcloud.140"}
    assert set(got["datapoint_id"]) == ids
    assert ids <= set(catalogue["datapoint_id"])
    pd.testing.assert_frame_equal(got, direct(client, devices, sorted(ids), START, END))
    assert all(s.covered == [(START, END)] for s in info.series)
    # Same dtypes as the client's frames, without any normalisation.
    keys = ["datapoint_id", "timestamp"]
    with Store(tmp_path / "s.duckdb") as store:
        raw = store.read(device_ids=devices[0])[["device_id", "datapoint_id", "timestamp", "value"]]
    fetched = client.history.timeseries(devices[0], sorted(ids), START, END)
    pd.testing.assert_frame_equal(
        raw.sort_values(keys).reset_index(drop=True),
        fetched.sort_values(keys).reset_index(drop=True),
    )


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=7, seconds=13)])
def test_second_sync_makes_only_the_settled_horizon_requests(
    client: Client, valves: list[str], tmp_path: Path, offset: timedelta
) -> None:
    devices = valves[:3]
    start = FIXED_NOW - timedelta(days=20)
    now = FIXED_NOW + offset  # also off the 15-minute grid

    def clock() -> datetime:
        return now

    with Store(tmp_path / "s.duckdb") as store:
        first = sync(client, store, device_ids=devices, datapoints=DPS, start=start, now=clock)
        before = stored(store)
        second = sync(client, store, device_ids=devices, datapoints=DPS, start=start, now=clock)
        after = stored(store)
        covered = store.coverage("15m", "last")
    assert first.requests == 3 and first.refresh_requests == 0
    assert second.planned_requests == second.requests == second.refresh_requests == 3
    assert second.up_to_date == second.series == 6
    settled = FIXED_NOW - timedelta(days=2)  # on the grid in both cases
    assert set(map(tuple, covered.values())) == {((start, settled),)}
    horizon = before[before["timestamp"] >= pd.Timestamp(settled)]
    assert second.points == len(horizon)
    pd.testing.assert_frame_equal(before, after)


def test_default_start_is_the_first_data(client: Client, valves: list[str], tmp_path: Path) -> None:
    end = datetime(2017, 1, 20, tzinfo=UTC)
    with Store(tmp_path / "s.duckdb") as store:
        first = sync(client, store, device_ids=valves[:1], datapoints="heating_energy", end=end)
        got = stored(store)
        again = sync(client, store, device_ids=valves[:1], datapoints="heating_energy", end=end)
    assert first.probe_requests == 1 and again.probe_requests == 0
    assert again.requests == 0
    reference = direct(client, valves[:1], ["evcloud.210"], datetime(2016, 12, 1, tzinfo=UTC), end)
    assert got["timestamp"].min() == reference["timestamp"].min()
    pd.testing.assert_frame_equal(got, reference)


def test_interrupted_sync_resumes(client: Client, valves: list[str], tmp_path: Path) -> None:
    class CtrlC(NullProgress):
        def advance(self, *, device_id: str, points: int, device_done: bool) -> None:
            raise KeyboardInterrupt

    devices = valves[:2]
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(SyncInterrupted) as caught:
            sync(
                client,
                store,
                device_ids=devices,
                datapoints=DPS,
                start=START,
                end=END,
                progress=CtrlC(),
                max_workers=1,
            )
        assert caught.value.report.interrupted
        assert 1 <= caught.value.report.requests < caught.value.report.planned_requests
        resumed = sync(client, store, device_ids=devices, datapoints=DPS, start=START, end=END)
        assert resumed.planned_requests < caught.value.report.planned_requests
        got = stored(store)
    pd.testing.assert_frame_equal(
        got, direct(client, devices, ["evcloud.140", "evcloud.210"], START, END)
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"device_ids": ["no-such-device"]}, NotFound),
        ({"datapoints": ["no_such_datapoint"]}, DataError),
        ({"datapoints": []}, DataError),
        ({"start": "2024-13-45"}, DataError),
        ({"start": "2024-02-01", "end": "2024-01-01"}, DataError),
        ({"resolution": "fortnightly"}, DataError),
        ({"search": "no device is called like this"}, DataError),
    ],
)
def test_bad_input_leaves_the_store_untouched(
    client: Client,
    valves: list[str],
    tmp_path: Path,
    kwargs: dict[str, object],
    error: type[Exception],
) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        sync(
            client,
            store,
            device_ids=valves[:1],
            datapoints="power",
            start=START,
            end=START + timedelta(days=1),
        )
    before = digest(path)
    options: dict[str, object] = {"device_ids": valves[:1], "datapoints": "power", "start": START}
    options.update(kwargs)
    with pytest.raises(error):
        sync(client, path, **options)  # type: ignore[arg-type]
    assert digest(path) == before
    fresh = tmp_path / "fresh.duckdb"
    with pytest.raises(error):
        sync(client, fresh, **options)  # type: ignore[arg-type]
    assert not fresh.exists()


def test_fleet_sync_skips_devices_without_the_datapoint(
    client: Client, valves: list[str], tmp_path: Path
) -> None:
    out = io.StringIO()
    with Store(tmp_path / "s.duckdb") as store:
        report = sync(
            client,
            store,
            datapoints="heating_energy",
            start=START,
            end=START + timedelta(hours=6),
            progress=LogProgress(out, every=0),
        )
        synced = set(store.read()["device_id"])
    listed = list(client.devices.list())
    every_valve = [d for d in listed if (d.dataprofile_id or "").startswith("energyvalve3")]
    assert report.devices == len(every_valve)  # the never-connected valve too: nothing to fetch
    assert synced <= set(valves)
    assert report.devices + len(report.skipped) == len(listed)
    assert all(reason for _, reason in report.skipped)
    text = out.getvalue()
    assert f"{len(every_valve)} devices, {len(every_valve)} requests planned" in text
    assert "plan: " in text and "from 2024-01-01T00:00:00Z" in text
    assert report.summary() in text


def test_search_selects_by_name(client: Client, tmp_path: Path) -> None:
    heating = [d.id for d in client.devices.list(search="Heizung")]
    assert heating
    with Store(tmp_path / "s.duckdb") as store:
        report = sync(
            client,
            store,
            search="Heizung",
            profile="energyvalve3",
            datapoints="heating_energy",
            start=START,
            end=START + timedelta(hours=2),
        )
        assert set(store.read()["device_id"]) <= set(heating)
    assert report.devices == len(heating)


def test_default_store_path_is_used(client: Client, valves: list[str]) -> None:
    report = sync(
        client,
        None,
        device_ids=valves[:1],
        datapoints="power",
        start=START,
        end=START + timedelta(hours=1),
    )
    assert report.store == str(default_store_path())
    with Store() as store:
        assert len(store.read()) == report.points == 4


def test_a_range_before_the_first_data_is_fine(
    client: Client, valves: list[str], tmp_path: Path
) -> None:
    start, end = datetime(2016, 12, 1, tzinfo=UTC), datetime(2017, 1, 3, tzinfo=UTC)
    with Store(tmp_path / "s.duckdb") as store:
        report = sync(client, store, device_ids=valves[:1], start=start, end=end)
        got = stored(store)
    assert report.requests == 1
    pd.testing.assert_frame_equal(got, direct(client, valves[:1], ["evcloud.210"], start, end))
    assert got["timestamp"].min() >= pd.Timestamp("2017-01-01", tz="UTC")


def test_locked_store_is_refused_before_any_request(
    client: Client, valves: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        sync(client, store, device_ids=valves[:1], start=START, end=START + timedelta(hours=1))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from belimo_cloud.store import Store; "
            "s = Store(sys.argv[1]); print('locked', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        before = digest(path)
        sent = client.session.requests_sent
        with pytest.raises(StoreError, match="in use by another process"):
            sync(client, path, device_ids=valves[:1], start=START)
        assert client.session.requests_sent == sent
        assert digest(path) == before
    finally:
        holder.kill()
        holder.wait()


def test_default_span_bounds_a_first_sync_and_stored_series_continue(
    client: Client, valves: list[str], tmp_path: Path
) -> None:
    out = io.StringIO()
    span = timedelta(days=3)
    with Store(tmp_path / "s.duckdb") as store:
        first = sync(
            client,
            store,
            device_ids=valves[:1],
            datapoints="power",
            default_span=span,
            now=lambda: FIXED_NOW,
            progress=LogProgress(out, every=0),
        )
        got = stored(store)
        # A series the store holds continues from what it holds, whatever the span.
        again = sync(
            client,
            store,
            device_ids=valves[:1],
            datapoints="power",
            default_span=timedelta(hours=1),
            now=lambda: FIXED_NOW,
        )
    assert first.probe_requests == 0
    assert first.start == (FIXED_NOW - span).isoformat().replace("+00:00", "Z")
    assert got["timestamp"].min() >= pd.Timestamp(FIXED_NOW - span)
    assert again.start == first.start
    assert again.requests == again.refresh_requests  # only the settled horizon is re-read
    text = out.getvalue()
    assert text.index("plan: 1 devices, 1 series from ") < text.index("requests planned")


def test_naive_times_are_local_in_the_library_too(
    client: Client, valves: list[str], tmp_path: Path
) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        report = sync(
            client,
            store,
            device_ids=valves[:1],
            datapoints="power",
            start="2018-01-01",
            end="2018-01-02",
        )
    assert report.start == "2017-12-31T23:00:00Z"  # Europe/Zurich midnight, CET
    assert report.end == "2018-01-01T23:00:00Z"
