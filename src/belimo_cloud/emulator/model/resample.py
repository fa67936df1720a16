"""Bucket aggregation of raw samples onto a UTC grid, vectorised with numpy.

Buckets are epoch multiples of the step; a value's timestamp is its bucket's start. Samples
that are NaN (the device sent nothing) do not count, and buckets without any sample are
omitted, as the timeseries endpoint answers them.

The timeseries body is encoded here too, by Arrow kernels (numbers formatted and joined to
their timestamp heads in C++, without Python's GIL, so concurrent requests can share cores).
"""

from __future__ import annotations

from functools import lru_cache

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

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
    grid = _stamp_grid(epoch_s, b"", b"Z")
    if grid is None:
        return [text + "Z" for text in _numpy_stamps(epoch_s)]
    return grid.view("S20").ravel().astype("U20").tolist()


def _numpy_stamps(epoch_s: Times) -> list[str]:
    text = np.datetime_as_string(np.asarray(epoch_s).astype("datetime64[s]"), unit="s")
    return text.tolist()  # type: ignore[no-any-return]


_DIGITS = ord("0")


def _digits(grid: npt.NDArray[np.uint8], column: int, field: npt.NDArray[np.int64], n: int) -> None:
    """Write ``field`` as ``n`` zero-padded decimal digits into ``grid[:, column:column + n]``."""
    for place in range(n):
        grid[:, column + place] = _DIGITS + (field // 10 ** (n - 1 - place)) % 10


def _dates(days: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8] | None:
    """Days since the epoch as ``YYYY-MM-DD`` rows (proleptic Gregorian); None past 0..9999."""
    shifted = days + 719_468  # days since 0000-03-01, so a leap day ends each 4-year cycle
    era = shifted // 146_097
    day_of_era = shifted - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153  # 0 = March
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = np.where(month_index < 10, month_index + 3, month_index - 9)
    year = year_of_era + era * 400 + (month <= 2)
    if year.min() < 0 or year.max() > 9999:
        return None
    rows = np.empty((days.size, 10), dtype=np.uint8)
    rows[:] = np.frombuffer(b"0000-00-00", dtype=np.uint8)
    _digits(rows, 0, year, 4)
    _digits(rows, 5, month, 2)
    _digits(rows, 8, day, 2)
    return rows


@lru_cache(maxsize=1)
def _clock() -> npt.NDArray[np.uint8]:
    """``HH:MM:SS`` for each second of a day: 86,400 rows of 8 bytes, built once."""
    second = np.arange(86_400, dtype=np.int64)
    rows = np.empty((86_400, 8), dtype=np.uint8)
    rows[:] = np.frombuffer(b"00:00:00", dtype=np.uint8)
    _digits(rows, 0, second // 3600, 2)
    _digits(rows, 3, second // 60 % 60, 2)
    _digits(rows, 6, second % 60, 2)
    return rows


def _stamp_grid(epoch_s: Times, before: bytes, after: bytes) -> npt.NDArray[np.uint8] | None:
    """One row per time: ``before`` + ``YYYY-MM-DDTHH:MM:SS`` + ``after``, as a uint8 grid.

    Dates are worked out once per distinct day and clock times come from a table, so a
    request costs a few row copies; numpy's ``datetime_as_string`` costs several times more.
    None for a year outside 0..9999 (not four digits): callers then take that slower route.
    """
    epoch_s = np.asarray(epoch_s, dtype=np.int64)
    grid = np.empty((epoch_s.size, len(before) + 19 + len(after)), dtype=np.uint8)
    grid[:] = np.frombuffer(before + b"0000-00-00T00:00:00" + after, dtype=np.uint8)
    if epoch_s.size == 0:
        return grid
    days, seconds = np.divmod(epoch_s, 86_400)
    first, last = int(days[0]), int(days[-1])
    if 0 <= last - first < epoch_s.size and bool((np.diff(days) >= 0).all()):
        dates = _dates(np.arange(first, last + 1, dtype=np.int64))  # sorted times: each day once
        if dates is None:
            return None
        dates = dates[days - first]
    else:
        dates = _dates(days)
        if dates is None:
            return None
    at = len(before)
    grid[:, at : at + 10] = dates
    grid[:, at + 11 : at + 19] = _clock()[seconds]
    return grid


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
_MIDDLE = b'Z","value":'
_NEXT_HEAD = b'},{"timestamp":"'  # closes the previous value object and opens the next
# The bodies live for one response: malloc hands their memory back, where Arrow's default
# pool (mimalloc) would keep what it freed for a while.
_POOL = pa.system_memory_pool()
_NOTHING = pa.scalar("", pa.large_string())  # the join's separator


def _heads(epoch_s: Times) -> pa.StringArray:
    """``},{"timestamp":"...Z","value":`` per bucket (the first without ``},``), as Arrow text.

    A regular grid (every bucket present) is looked up by its first time, step and length:
    a sync asks every device for the same windows, so their heads are formatted once.
    """
    count = epoch_s.size
    if count > 1:
        step = int(epoch_s[1] - epoch_s[0])
        if step > 0 and bool((np.diff(epoch_s) == step).all()):
            return _regular_heads(int(epoch_s[0]), step, count)
    return _format_heads(epoch_s)


@lru_cache(maxsize=16)
def _regular_heads(first: int, step: int, count: int) -> pa.StringArray:
    return _format_heads(first + step * np.arange(count, dtype=np.int64))


def _format_heads(epoch_s: Times) -> pa.StringArray:
    """The heads of :func:`_heads`: the byte grid becomes the Arrow array's data as it is
    (fixed-width rows, offsets by arithmetic)."""
    grid = _stamp_grid(epoch_s, _NEXT_HEAD, _MIDDLE)
    if grid is None:  # a year of other than four digits: rows of different widths
        texts = [_NEXT_HEAD.decode() + text + _MIDDLE.decode() for text in _numpy_stamps(epoch_s)]
        if texts:
            texts[0] = texts[0][2:]
        return pa.array(texts, pa.large_string())
    count, width = grid.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int64)
    if count:
        offsets[0] = len(b"},")
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(grid))]
    return pa.Array.from_buffers(pa.large_string(), count, buffers)


def _value_texts(values: Floats) -> pa.Array:
    """Each value as its JSON number text, as :func:`numbers` and msgspec write it in meaning.

    Integral values below 2**53 go through int64 (``3``, never ``3.0`` or ``1e+15``), others
    through Arrow's shortest round-trip float formatting (``0.1``, ``1.5e+20``: the same
    float64 when parsed), non-finite ones are ``null``. Arrow's kernels run without the GIL.
    """
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):  # rounding an infinity; its text is null anyway
        integral = finite & (values == np.round(values)) & (np.abs(values) < 2**53)
    if integral.all():
        return pc.cast(pa.array(values.astype(np.int64)), pa.large_string(), memory_pool=_POOL)
    texts = pc.cast(pa.array(values, mask=~finite), pa.large_string(), memory_pool=_POOL)
    if integral.any():
        whole = pa.array(np.where(integral, values, 0.0).astype(np.int64))
        whole_texts = pc.cast(whole, pa.large_string(), memory_pool=_POOL)
        texts = pc.if_else(pa.array(integral), whole_texts, texts, memory_pool=_POOL)
    if not finite.all():
        texts = pc.fill_null(texts, pa.scalar("null", pa.large_string()))
    return texts


def _values_json(heads: pa.StringArray, values: Floats) -> pa.Buffer:
    """``{"timestamp":"...Z","value":v},...,{"timestamp":"...Z","value":v`` as one buffer
    (the caller adds the brackets and the last ``}``).

    Each head is joined to its value's text element-wise and the result's data is the body:
    no Python object per value. Building 10,000 dicts per series and encoding them costs
    several times more; this is the timeseries endpoint's hot path.
    """
    joined = pc.binary_join_element_wise(heads, _value_texts(values), _NOTHING, memory_pool=_POOL)
    offsets = joined.buffers()[1]
    first, last = np.frombuffer(offsets, dtype=np.int64)[
        [joined.offset, joined.offset + len(joined)]
    ]
    data = joined.buffers()[2]
    return data.slice(int(first), int(last - first))


def series_json(
    start: str, end: str, resolution: str, series: list[tuple[str, str, Times, Floats]]
) -> bytes:
    """The timeseries response body, encoded directly to bytes.

    ``series`` holds ``(datapoint_id, aggregation, bucket_starts, values)`` tuples.
    """
    parts: list[bytes | pa.Buffer] = [
        b'{"from":',
        _ENCODER.encode(start),
        b',"to":',
        _ENCODER.encode(end),
        b',"resolution":',
        _ENCODER.encode(resolution),
        b',"series":[',
    ]
    previous: tuple[Times, pa.StringArray] | None = None
    for index, (datapoint_id, aggregation, stamps, values) in enumerate(series):
        if index:
            parts.append(b",")
        # Series of one request usually share their buckets: format the timestamps once.
        if previous is not None and np.array_equal(previous[0], stamps):
            texts = previous[1]
        else:
            texts = _heads(stamps)
            previous = (stamps, texts)
        parts.append(b'{"datapointId":')
        parts.append(_ENCODER.encode(datapoint_id))
        parts.append(b',"aggregation":')
        parts.append(_ENCODER.encode(aggregation))
        parts.append(b',"values":')
        if len(texts):
            parts.append(b"[")
            parts.append(_values_json(texts, values))
            parts.append(b"}]}")
        else:
            parts.append(b"[]}")
    parts.append(b"]}")
    return b"".join(parts)
