"""Consumption on Spark: the same counter analysis, one series per group, any session zone.

:func:`consumption_spark` takes a Spark DataFrame of long samples (the key columns, a
timestamp and a value: e.g. ``spark.read.parquet`` of ``belimo store export``) and returns a
Spark DataFrame of consumption per series and local period, computed by
:func:`belimo_cloud.analysis.consumption_frame` on each series with ``applyInPandas``. Each
series is one group, never split, so the numbers equal the single-machine ones exactly.

Time zones: Spark hands ``applyInPandas`` naive timestamps in the *session* time zone
(``spark.sql.session.timeZone``), which the analysis would take for UTC, and the repeated
hour at the end of summer time cannot even be told apart. So the timestamps cross into
pandas as epoch microseconds (``unix_micros``) and back the same way
(``timestamp_micros``): instants, whatever the session zone. Local calendars come only from
``tz``.

pyspark is imported lazily: the rest of :mod:`belimo_cloud.analysis` works without it.

    from belimo_cloud.analysis.spark import consumption_spark, spark_result_frame
    samples = (spark.read.option("basePath", export)
               .parquet(export))          # partitions: datapoint_id, device_id
    monthly = consumption_spark(samples, freq="MS", tz="Europe/Zurich")
    frame = spark_result_frame(monthly, tz="Europe/Zurich")   # = consumption_frame(...)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimo_cloud.analysis.energy import consumption_frame
from belimo_cloud.analysis.policy import CounterPolicy, Duration
from belimo_cloud.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["RESULT_COLUMNS", "consumption_spark", "spark_result_frame"]

RESULT_COLUMNS = ("period", "consumption", "coverage", "quality")
_MICROS = "_belimo_micros"
_PERIOD_MICROS = "_belimo_period_micros"


def consumption_spark(
    samples: SparkDataFrame,
    *,
    by: Sequence[str] = ("device_id", "datapoint_id"),
    time: str = "timestamp",
    value: str = "value",
    freq: str = "D",
    tz: str = "Europe/Zurich",
    unit: str = "joule",
    to: str = "kWh",
    policy: CounterPolicy | None = None,
    resolution: Duration = None,
) -> SparkDataFrame:
    """Consumption per series and local period of long samples on Spark.

    ``samples``: a Spark DataFrame with the ``by`` columns, ``time`` (TimestampType: an
    instant; anything else is refused with DataError) and ``value`` [``unit``]. Grouped by
    ``by`` (one group per series, which must hold all of it) and run through
    :func:`~belimo_cloud.analysis.consumption_frame` with the same options there
    (``freq``, ``tz``, ``unit``, ``to``, ``policy``, ``resolution``). Returns the ``by``
    columns, ``period`` (TimestampType: the instant the local period starts),
    ``consumption`` [``to``], ``coverage`` and ``quality``. Correct in any session zone.
    """
    from pyspark.sql import functions as F  # noqa: N812 (Spark's own spelling)
    from pyspark.sql.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    keys = list(by)
    fields = {f.name: f for f in samples.schema.fields}
    missing = [c for c in [*keys, time, value] if c not in fields]
    if missing:
        raise DataError(f"samples lack the column(s) {', '.join(missing)}")
    if fields[time].dataType.typeName() != "timestamp":
        # A naive (NTZ) or string time would be read in the session zone: refuse, not guess.
        raise DataError(
            f"column {time!r} must be a Spark TimestampType (an instant), "
            f"not {fields[time].dataType.simpleString()}"
        )
    prepared = samples.select(
        *[F.col(k) for k in keys],
        F.unix_micros(F.col(time)).alias(_MICROS),
        F.col(value).cast("double").alias(value),
    )
    schema = StructType(
        [
            *[fields[k] for k in keys],
            StructField(_PERIOD_MICROS, LongType()),
            StructField("consumption", DoubleType()),
            StructField("coverage", DoubleType()),
            StructField("quality", StringType()),
        ]
    )
    per_series = _per_series(keys, value, freq, tz, unit, to, policy, resolution)
    out = prepared.groupBy(*keys).applyInPandas(per_series, schema=schema)
    return out.select(
        *[F.col(k) for k in keys],
        F.timestamp_micros(F.col(_PERIOD_MICROS)).alias("period"),
        "consumption",
        "coverage",
        "quality",
    )


def _per_series(  # noqa: PLR0917
    keys: list[str],
    value: str,
    freq: str,
    tz: str,
    unit: str,
    to: str,
    policy: CounterPolicy | None,
    resolution: Duration,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one series (pickled with its options)."""

    def run(group: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                **{k: group[k] for k in keys},
                "timestamp": pd.to_datetime(
                    group[_MICROS].to_numpy(np.int64), unit="us", utc=True
                ).as_unit("ns"),
                "value": group[value].to_numpy(np.float64),
            }
        )
        result = consumption_frame(
            frame,
            by=keys,
            freq=freq,
            tz=tz,
            unit=unit,
            to=to,
            policy=policy,
            resolution=resolution,
        )
        period = pd.DatetimeIndex(result["period"]).tz_convert("UTC").as_unit("us")
        return pd.DataFrame(
            {
                **{k: result[k].to_numpy(object) for k in keys},
                _PERIOD_MICROS: period.asi8,
                "consumption": result["consumption"].to_numpy(np.float64),
                "coverage": result["coverage"].to_numpy(np.float64),
                "quality": result["quality"].to_numpy(object),
            }
        )

    return run


def spark_result_frame(
    result: SparkDataFrame, *, tz: str | tzinfo = "Europe/Zurich", by: Sequence[str] | None = None
) -> pd.DataFrame:
    """A Spark result of :func:`consumption_spark` as the pandas frame consumption_frame gives.

    Collected through epoch microseconds, so the session zone plays no part; ``period`` is
    tz-aware in ``tz``; rows sorted by key, then period.
    """
    from pyspark.sql import functions as F  # noqa: N812

    keys = list(by) if by is not None else [c for c in result.columns if c not in RESULT_COLUMNS]
    frame = result.select(
        *keys,
        F.unix_micros("period").alias(_PERIOD_MICROS),
        "consumption",
        "coverage",
        "quality",
    ).toPandas()
    period = pd.to_datetime(frame.pop(_PERIOD_MICROS).to_numpy(np.int64), unit="us", utc=True)
    frame.insert(len(keys), "period", period.as_unit("ns").tz_convert(tz))
    return frame.sort_values([*keys, "period"], kind="stable").reset_index(drop=True)
