"""consumption_spark on a local Spark session equals consumption_frame, in any session zone.

Needs Java and pyspark; without them every test here is skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis import consumption_frame
from belimo_cloud.errors import DataError
from belimo_cloud.store import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

HOW = (
    "needs Java and pyspark: install Java (as root: apt-get install -y default-jre-headless) "
    "and pyspark (pip install pyspark) to run the Spark tests"
)
pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or importlib.util.find_spec("pyspark") is None, reason=HOW
)

TZ = "Europe/Zurich"
DEVICES = ["5b0d7c1e-0000-4000-8000-000000000001", "5b0d7c1e-0000-4000-8000-000000000002", "7"]
DATAPOINTS = ["evcloud.210", "evcloud.140"]


def counters(seed: int = 3) -> pd.DataFrame:
    """Counters across the new year and both DST changes, with a reset, a gap and an outage."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2023-12-20", "2024-11-05", freq="15min", tz="UTC")
    parts = []
    for i, device in enumerate(DEVICES):
        for j, dp in enumerate(DATAPOINTS):
            rises = rng.gamma(1.0, 2e5 * (1 + i + j), size=len(stamps))
            value = 1e9 * (i + 1) + np.cumsum(rises)
            keep = np.ones(len(stamps), dtype=bool)
            if (i + j) % 2 == 0:
                keep[5000 : 5000 + 400] = False  # a gap of four days
            if i == 1:
                value[20000:] -= value[19999] - 1e4  # a meter replacement
            if j == 1:
                value[12000:12004] = 0.0  # an outage
            parts.append(
                pd.DataFrame(
                    {
                        "device_id": device,
                        "datapoint_id": dp,
                        "timestamp": stamps[keep],
                        "value": value[keep],
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    local = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("belimo-cloud-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.local.dir", str(local))
        .config("spark.sql.warehouse.dir", str(local / "warehouse"))
        .config("spark.driver.memory", "1g")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The counters written to a real store and exported as Parquet; the store's own read."""
    root = tmp_path_factory.mktemp("store")
    frame = counters()
    with Store(root / "s.duckdb") as store:
        for (device, dp), part in frame.groupby(["device_id", "datapoint_id"], sort=False):
            store.write_chunk(
                part,
                device_id=str(device),
                datapoint_ids=[str(dp)],
                resolution="15m",
                aggregation="last",
                start=part["timestamp"].min().to_pydatetime(),
                end=part["timestamp"].max().to_pydatetime(),
            )
        store.export(root / "export")
        stored = store.read()
    return root / "export", stored


def single_machine(stored: pd.DataFrame, freq: str) -> pd.DataFrame:
    out = consumption_frame(stored, by=("device_id", "datapoint_id"), freq=freq, tz=TZ)
    for key in ("device_id", "datapoint_id"):
        out[key] = out[key].astype(object)
    out["quality"] = out["quality"].astype(object)
    return out


@pytest.mark.parametrize("session_zone", ["America/Los_Angeles", "Asia/Kathmandu", "UTC"])
@pytest.mark.parametrize("freq", ["D", "MS"])
def test_spark_equals_the_single_machine_result_in_any_session_zone(
    spark: SparkSession, exported: tuple[Path, pd.DataFrame], session_zone: str, freq: str
) -> None:
    from belimo_cloud.analysis.spark import consumption_spark, spark_result_frame

    path, stored = exported
    spark.conf.set("spark.sql.session.timeZone", session_zone)
    samples = spark.read.parquet(str(path))
    assert {"device_id", "datapoint_id"} <= set(samples.columns)  # Hive partitions
    result = consumption_spark(samples, freq=freq, tz=TZ)
    got = spark_result_frame(result, tz=TZ, by=("device_id", "datapoint_id"))
    for col in ("device_id", "datapoint_id", "quality"):
        got[col] = got[col].astype(object)
    expected = single_machine(stored, freq)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # The flags the data was built with are found on Spark too.
    flags = set(",".join(got["quality"]).split(","))
    assert {"reset", "gap", "outage"} <= flags


def test_spark_days_follow_the_local_calendar_across_dst(
    spark: SparkSession, exported: tuple[Path, pd.DataFrame]
) -> None:
    from belimo_cloud.analysis.spark import consumption_spark, spark_result_frame

    path, _ = exported
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    got = spark_result_frame(
        consumption_spark(spark.read.parquet(str(path)), freq="D", tz=TZ), tz=TZ
    )
    starts = got["period"]
    assert (starts.dt.hour == 0).all() and (starts.dt.minute == 0).all()
    assert starts.dt.tz is not None and str(starts.dt.tz) == TZ


def test_a_naive_time_column_is_refused(spark: SparkSession) -> None:
    from pyspark.sql import functions as F  # noqa: N812

    from belimo_cloud.analysis.spark import consumption_spark

    frame = spark.createDataFrame(
        [("d", "x", "2024-01-01 00:00:00", 1.0)],
        "device_id string, datapoint_id string, timestamp string, value double",
    ).withColumn("timestamp", F.to_timestamp_ntz("timestamp"))
    with pytest.raises(DataError, match="TimestampType"):
        consumption_spark(frame)
    with pytest.raises(DataError, match="lack"):
        consumption_spark(frame.drop("value"))
