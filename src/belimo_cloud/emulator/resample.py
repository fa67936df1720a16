"""Bucket aggregation of raw samples onto a UTC grid, vectorised with numpy.

Buckets are epoch multiples of the step; a value's timestamp is its bucket's start. Samples
that are NaN (the device sent nothing) do not count, and buckets without any sample are
omitted, as the timeseries endpoint answers them.
"""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

Times = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def resample(times: Times, values: Floats, step_s: int, aggregation: str) -> tuple[Times, Floats]:
    """Aggregate ``values`` at ``times`` (epoch s, ascending) into buckets of ``step_s``.

    Returns the bucket starts (epoch s) and one value per non-empty bucket.
    """
    keep = ~np.isnan(values)
    if not keep.all():
        times = times[keep]
        values = values[keep]
    if times.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    buckets = times // step_s
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    bucket_starts = buckets[starts] * step_s
    ends = np.append(starts[1:], times.size)
    if aggregation == "last":
        result = values[ends - 1]
    elif aggregation == "first":
        result = values[starts]
    elif aggregation == "min":
        result = np.minimum.reduceat(values, starts)
    elif aggregation == "max":
        result = np.maximum.reduceat(values, starts)
    elif aggregation == "sum":
        result = np.add.reduceat(values, starts)
    elif aggregation == "avg":
        result = np.add.reduceat(values, starts) / (ends - starts)
    elif aggregation == "count":
        result = (ends - starts).astype(np.float64)
    else:
        raise ValueError(f"unknown aggregation {aggregation!r}")
    return bucket_starts.astype(np.int64), result.astype(np.float64, copy=False)


def iso_seconds(epoch_s: Times) -> list[str]:
    """Epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ`` strings, vectorised."""
    text = np.datetime_as_string(epoch_s.astype("datetime64[s]"), unit="s")
    return [t + "Z" for t in text.tolist()]


def numbers(values: Floats) -> list[float | int]:
    """Python numbers for JSON: integral values as ints (``3`` not ``3.0``), like the spec shows."""
    integral = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
    if integral.all():
        return values.astype(np.int64).tolist()  # type: ignore[no-any-return]
    out: list[float | int] = values.tolist()
    if integral.any():
        for index in np.flatnonzero(integral).tolist():
            out[index] = int(out[index])
    return out


_ENCODER = msgspec.json.Encoder()
_OPEN = b'[{"timestamp":"'
_MIDDLE = b'Z","value":'
_NEXT = b'},{"timestamp":"'


def _stamp_bytes(epoch_s: Times) -> list[bytes]:
    """``YYYY-MM-DDTHH:MM:SS`` as bytes (no ``Z``), vectorised."""
    text = np.datetime_as_string(epoch_s.astype("datetime64[s]"), unit="s").astype("S19")
    return text.tolist()  # type: ignore[no-any-return]


def values_json(stamps: list[bytes], values: Floats) -> bytes:
    """``[{"timestamp":"...Z","value":v},...]`` assembled with C-level list and join operations.

    Building 10,000 dicts per series and encoding them costs several times more; this is the
    timeseries endpoint's hot path.
    """
    count = len(stamps)
    if count == 0:
        return b"[]"
    numbers_json = _ENCODER.encode(numbers(values))[1:-1].split(b",")
    parts: list[bytes] = [b""] * (4 * count)
    parts[0::4] = stamps
    parts[1::4] = [_MIDDLE] * count
    parts[2::4] = numbers_json
    parts[3::4] = [_NEXT] * count
    parts[-1] = b"}]"
    return _OPEN + b"".join(parts)


def series_json(
    start: str, end: str, resolution: str, series: list[tuple[str, str, Times, Floats]]
) -> bytes:
    """The timeseries response body, encoded directly to bytes.

    ``series`` holds ``(datapoint_id, aggregation, bucket_starts, values)`` tuples.
    """
    parts: list[bytes] = [
        b'{"from":',
        _ENCODER.encode(start),
        b',"to":',
        _ENCODER.encode(end),
        b',"resolution":',
        _ENCODER.encode(resolution),
        b',"series":[',
    ]
    previous: tuple[Times, list[bytes]] | None = None
    for index, (datapoint_id, aggregation, stamps, values) in enumerate(series):
        if index:
            parts.append(b",")
        # Series of one request usually share their buckets: format the timestamps once.
        if previous is not None and np.array_equal(previous[0], stamps):
            texts = previous[1]
        else:
            texts = _stamp_bytes(stamps)
            previous = (stamps, texts)
        parts.append(b'{"datapointId":')
        parts.append(_ENCODER.encode(datapoint_id))
        parts.append(b',"aggregation":')
        parts.append(_ENCODER.encode(aggregation))
        parts.append(b',"values":')
        parts.append(values_json(texts, values))
        parts.append(b"}")
    parts.append(b"]}")
    return b"".join(parts)
