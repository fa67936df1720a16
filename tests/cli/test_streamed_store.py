"""Energy, report and plots from a store, batch by batch, equal the same analyses in memory.

The store is synced from the demo cloud, a winter and a summer month: every valve's counters
at 15 minutes (and the cooling valves' heating counter again at 1 hour: the finest resolution
is read), hourly averages of flow, temperatures and power (and DeltaT_K of the heating valves
as last buckets too: the averages are read).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from belimo_cloud.analysis import CounterPolicy
from belimo_cloud.analysis.fleet import COUNTER_NAMES, energy_by_device, named_samples, series_of
from belimo_cloud.client import Client
from belimo_cloud.config import demo_settings
from belimo_cloud.report import ReportData, analyse, analyse_store, store_energy
from belimo_cloud.report.content import fleet_hourly
from belimo_cloud.report.render import render_page
from belimo_cloud.report.report_reads import plan_reads, read_samples, sample_batches
from belimo_cloud.report.sections import build_page
from belimo_cloud.store import Store
from belimo_cloud.syncer import sync
from tests.cli.conftest import Invoke

START = datetime(2018, 1, 14, 23, tzinfo=UTC)  # local midnight, Zurich
END = datetime(2018, 2, 14, 23, tzinfo=UTC)  # an outage and a gap: counter findings
SUMMER = (datetime(2018, 6, 14, 22, tzinfo=UTC), datetime(2018, 7, 14, 22, tzinfo=UTC))  # low dT
AVERAGED = (
    "AbsFlow_Fb_m3s",
    "RelFlow_Fb_Rel2Vmax",
    "T1_remote_K",
    "T2_embeded_K",
    "DeltaT_K",
    "SpDeltaT_applied_K",
    "AbsPower_Fb_W",
)
#: A device's two counters over the month hold about 6,000 samples: smaller batches than that
#: cannot cut a device (a device is never split), and each device is then a batch of its own.
SMALL = 1_000


@pytest.fixture(scope="module")
def store_path(emulator_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("streamed") / "fleet.duckdb"
    day = timedelta(days=3)
    with Client.from_settings(demo_settings(emulator_url)) as client, Store(path) as store:
        for start, end in ((START, END), SUMMER):
            common = {"start": start - day, "end": end + day, "settled_horizon": "1s"}
            counters = tuple(COUNTER_NAMES.values())
            sync(client, store, datapoints=counters, **common)
            sync(
                client, store, search="Kühlung", datapoints=counters[:1], resolution="1h", **common
            )
            sync(client, store, datapoints=AVERAGED, resolution="1h", aggregation="avg", **common)
            sync(
                client, store, search="Heizung", datapoints=("DeltaT_K",), resolution="1h", **common
            )
    yield path


def unbatched_energy(store: Store, devices: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """The energy of everything read at once, as `belimo energy --store` always did."""
    catalogue = store.catalogue()
    ids = sorted(set(catalogue.loc[catalogue["name"].isin(COUNTER_NAMES.values()), "datapoint_id"]))
    day = timedelta(days=1)
    start, end = options.get("start"), options.get("end")
    samples = store.read(
        device_ids=list(devices["device_id"]),
        datapoint_ids=ids,
        start=None if start is None else start - day,
        end=None if end is None else end + day,
        aggregation="last",
    )
    finest = min(samples["resolution"].unique(), key=pd.Timedelta)
    samples = samples[samples["resolution"] == finest]
    names = {d: COUNTER_NAMES[d] for d in options.pop("directions", COUNTER_NAMES)}
    return energy_by_device(
        named_samples(samples, catalogue, devices),
        names=names,
        resolution=pd.Timedelta(finest),
        **options,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        {"freq": "D", "start": START, "end": END},
        {"freq": "h", "start": START + timedelta(days=3), "end": START + timedelta(days=5)},
        {"freq": "MS", "tz": "America/New_York"},
        {"freq": "W-MON", "directions": ["cooling"], "policy": CounterPolicy(spread_gaps=True)},
        {"freq": "MS", "start": START, "end": SUMMER[1], "drop_unused": False},
    ],
)
def test_energy_in_batches_equals_energy_read_at_once(
    store_path: Path, options: dict[str, Any]
) -> None:
    with Store.open(store_path, read_only=True) as store:
        devices = store.devices()
        expected = unbatched_energy(store, devices, **dict(options))
        for max_rows in (SMALL, 10**9):
            result = store_energy(
                store, device_ids=list(devices["device_id"]), max_rows=max_rows, **options
            )
            pd.testing.assert_frame_equal(result.energy, expected, check_exact=True)
            assert result.resolution == timedelta(minutes=15)
        # Small batches are whole devices: one batch per device with counters.
        counted = store.series_summary(resolution="15m", aggregation="last")
        assert result.batches == 1
        small = store_energy(store, max_rows=SMALL, **options)
        assert small.batches == counted["device_id"].nunique() > 30
        assert not expected.empty


def test_energy_of_an_empty_selection(store_path: Path) -> None:
    with Store.open(store_path, read_only=True) as store:
        for result in (
            store_energy(store, device_ids=[]),
            store_energy(store, start=datetime(2030, 1, 1, tzinfo=UTC)),
        ):
            assert (result.samples, result.batches, result.resolution) == (0, 0, None)
            assert result.energy.empty
            assert list(result.energy.columns) == [
                "device_id",
                "direction",
                "period",
                "consumption",
                "coverage",
                "quality",
            ]


def test_energy_command_refuses_an_empty_selection(invoke: Invoke, store_path: Path) -> None:
    result = invoke("energy", "--store", str(store_path), "--search", "no such valve")
    assert result.exit_code == 3
    assert "no Heating_E_J or Cooling_E_J samples" in result.stderr


def in_memory(store: Store, devices: pd.DataFrame, **options: Any) -> ReportData:
    """The report's content of every sample read at once."""
    catalogue = store.catalogue()
    reads = plan_reads(store, devices, catalogue, start=options.get("start"), end=options["end"])
    return analyse(
        devices,
        catalogue,
        read_samples(store, reads),
        resolution=reads.counters.bucket,
        **options,
    )


def assert_same_report(got: ReportData, expected: ReportData) -> None:
    for name in ("title", "start", "end", "freq", "now", "summary", "samples_count"):
        assert getattr(got, name) == getattr(expected, name), name
    for name in ("status", "problems", "energy", "periods", "ranking", "events", "valves"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)
    pd.testing.assert_frame_equal(got.findings, expected.findings)
    # The fleet's hourly sums, added batch by batch: equal up to the last digits.
    assert got.fleet_hourly is not None
    pd.testing.assert_frame_equal(got.fleet_hourly, fleet_hourly(expected.hourly), rtol=1e-12)
    # The dT-flow figures draw the same samples.
    flagged = expected.valves[expected.valves["low_dt"] | expected.valves["at_vmax"]]
    for device in flagged["device_id"].head(3):
        for name in ("DeltaT_K", "RelFlow_Fb_Rel2Vmax", "SpDeltaT_applied_K"):
            pd.testing.assert_series_equal(
                series_of(got.named[got.named["aggregation"] == "avg"], device, name),
                series_of(expected.named[expected.named["aggregation"] == "avg"], device, name),
            )

    def page(data: ReportData) -> str:
        html = render_page(build_page(data, figures=False))
        return re.sub(r"Generated by .*? at [^<]*", "", html)

    assert page(got) == page(expected)


@pytest.mark.slow
@pytest.mark.parametrize("max_rows", [SMALL, 50_000, 10**9])
@pytest.mark.parametrize(
    ("period", "findings"),
    [((START, END), {"outage", "gap"}), (SUMMER, {"low_delta_t", "at_vmax"})],
)
def test_report_in_batches_equals_the_report_in_memory(
    store_path: Path, max_rows: int, period: tuple[datetime, datetime], findings: set[str]
) -> None:
    options = {"start": period[0], "end": period[1], "tz": "Europe/Zurich"}
    with Store.open(store_path, read_only=True) as store:
        devices = store.devices()
        expected = in_memory(store, devices, **options)
        got = analyse_store(store, devices, max_rows=max_rows, **options)
    assert_same_report(got, expected)
    assert len(expected.valves) > 30 and len(expected.energy) > 30 * 28
    assert findings <= set(expected.findings["finding"])
    assert set(expected.valves["power_basis"]) == {"avg"}


@pytest.mark.slow
def test_report_without_an_end_and_of_an_empty_selection(store_path: Path) -> None:
    with Store.open(store_path, read_only=True) as store:
        devices = store.devices()
        heating = devices[devices["display_name"].str.contains("Heizung EG")]
        options = {"start": START + timedelta(days=20), "end": None, "tz": "UTC"}
        assert_same_report(
            analyse_store(store, heating, max_rows=SMALL, **options),
            in_memory(store, heating, **options),
        )
        nobody = devices.iloc[:0]
        empty = analyse_store(store, nobody, start=START, end=END)
        assert empty.samples_count == 0 and empty.energy.empty and empty.valves.empty


def test_the_report_reads_the_finest_counters_and_the_averages(store_path: Path) -> None:
    with Store.open(store_path, read_only=True) as store:
        devices = store.devices()
        catalogue = store.catalogue()
        reads = plan_reads(store, devices, catalogue, start=START, end=END, max_rows=SMALL)
        assert reads.counters.resolution == "15m"
        assert reads.average_resolution == "1h"
        batches = list(sample_batches(store, reads))
        whole = read_samples(store, reads)
    assert len(batches) == len(reads.groups) > 30
    joined = pd.concat(batches, ignore_index=True)
    order = ["device_id", "datapoint_id", "aggregation", "timestamp"]
    pd.testing.assert_frame_equal(
        joined.sort_values(order).reset_index(drop=True),
        whole.sort_values(order).reset_index(drop=True),
    )
    named = named_samples(whole, catalogue, devices)
    # DeltaT_K was synced both ways: only its averages are read.
    assert set(named.loc[named["name"] == "DeltaT_K", "aggregation"]) == {"avg"}
    assert set(named.loc[named["name"] == "Heating_E_J", "aggregation"]) == {"last"}
    assert not named.duplicated(["device_id", "datapoint_id", "timestamp"]).any()


def test_report_and_heatmap_commands_from_the_store(
    invoke: Invoke, store_path: Path, tmp_path: Path
) -> None:
    period = ("--from", "2018-01-15", "--to", "2018-02-15")
    target = tmp_path / "report.html"
    result = invoke("report", "--store", str(store_path), *period, "-o", str(target))
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert "calendar heatmap" in html and "Hydronic findings" in html
    figure = tmp_path / "heatmap.png"
    result = invoke("plot", "heatmap", "--store", str(store_path), *period, "-o", str(figure))
    assert result.exit_code == 0, result.output
    assert figure.read_bytes().startswith(b"\x89PNG")
    many = invoke("plot", "dt-flow", "--store", str(store_path), *period, "-o", str(figure))
    assert many.exit_code != 0 and "dt-flow draws one valve" in many.stderr
