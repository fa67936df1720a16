"""Small builders for store tests: chunks of samples as the client returns them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)


def chunk(
    device_id: str,
    datapoint_ids: list[str],
    start: datetime,
    buckets: int,
    *,
    offset: float = 0.0,
) -> pd.DataFrame:
    """A long frame of ``buckets`` 15-minute samples per datapoint, values easy to predict."""
    stamps = pd.date_range(start, periods=buckets, freq="15min", tz="UTC")
    frames = [
        pd.DataFrame(
            {
                "device_id": device_id,
                "datapoint_id": dp,
                "timestamp": stamps,
                "value": np.arange(buckets, dtype="float64") + 1000 * i + offset,
            }
        )
        for i, dp in enumerate(datapoint_ids)
    ]
    return pd.concat(frames, ignore_index=True)
