"""Bytes to models and arrays: msgspec decoding with one clear error, and the timeseries hot path.

The hot path never builds a Python object per point: msgspec checks the body and finds each
series' ``values`` array, which is then read as bytes by numpy (every item's fixed part and
timestamp, checked and parsed in whole-array operations) and Arrow (the numbers, exactly).
Bodies in any other layout go through msgspec Structs, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any, TypeVar, overload

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from belimo_cloud.errors import DataError, ResponseError

__all__ = [
    "SeriesArrays",
    "TimeseriesBody",
    "decode",
    "decode_timeseries",
    "parse_timestamps",
    "values_to_array",
]

T = TypeVar("T")

_get_ts = attrgetter("timestamp")
_get_value = attrgetter("value")
_Z = ord("Z")
_T = ord("T")


@lru_cache(maxsize=64)
def _decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(type_)


@overload
def decode(body: bytes, type_: type[T], what: str) -> T: ...
@overload
def decode(body: bytes, type_: Any, what: str) -> Any: ...
def decode(body: bytes, type_: Any, what: str) -> Any:
    """Decode a JSON body into ``type_``; ResponseError (a DataError) names ``what``.

    A null body (``null`` or empty) is a DataError too: callers that tolerate it ask for
    ``type_ | None``.
    """
    try:
        result = _decoder(type_).decode(body)
    except msgspec.ValidationError as exc:
        raise ResponseError(f"unexpected {what} from the API: {exc}") from None
    except msgspec.DecodeError as exc:
        preview = body[:80].decode("utf-8", "replace").replace("\n", " ")
        raise ResponseError(f"malformed JSON in {what} from the API ({exc}): {preview!r}") from None
    return result


class _TsValue(msgspec.Struct, gc=False):
    timestamp: str
    value: float | None = None


class _Series(msgspec.Struct, gc=False, rename="camel"):
    datapoint_id: str
    values: list[_TsValue] | None = None
    aggregation: str | None = None


class TimeseriesBody(msgspec.Struct, gc=False):
    """The resampled-history response: ``series[].values[]`` of bucket starts and numbers."""

    series: list[_Series] | None
    resolution: str | None = None


class _AnyValue(msgspec.Struct, gc=False):
    timestamp: str
    value: Any = None


class _AnySeries(msgspec.Struct, gc=False, rename="camel"):
    datapoint_id: str
    values: list[_AnyValue] | None = None


class _AnyTimeseriesBody(msgspec.Struct, gc=False):
    series: list[_AnySeries] | None


@dataclass(frozen=True, slots=True)
class SeriesArrays:
    """One datapoint's buckets as arrays: timestamps (datetime64[ns], UTC) and values."""

    datapoint_id: str
    timestamps: npt.NDArray[np.datetime64]
    values: npt.NDArray[Any]


def parse_timestamps(texts: list[str]) -> npt.NDArray[np.datetime64]:
    """Parse ISO-8601 UTC strings into datetime64[ns] (naive, meaning UTC), vectorised.

    Fast path for the API's uniform "YYYY-MM-DDTHH:MM:SSZ" and "...SS.mmmZ"; anything else
    goes through pandas' ISO-8601 parser.
    """
    if not texts:
        return np.empty(0, dtype="datetime64[ns]")
    parsed = _parse_uniform("".join(texts), len(texts))
    return parsed if parsed is not None else _parse_timestamps_slow(texts)


def _parse_uniform(joined: str, n: int) -> npt.NDArray[np.datetime64] | None:
    """``n`` equally long UTC stamps joined into one string -> datetime64[ns]; None if not so."""
    width, rest = divmod(len(joined), n)
    if rest or width not in (20, 24) or not joined.isascii():
        return None
    encoded = joined.encode("ascii")
    grid = np.frombuffer(encoded, dtype=np.uint8).reshape(n, width)
    if not ((grid[:, -1] == _Z).all() and (grid[:, 10] == _T).all()):
        return None
    unit = "s" if width == 20 else "ms"
    # Each stamp without its "Z", read in place: a strided view, no copy.
    body = np.ndarray((n,), dtype=f"S{width - 1}", buffer=encoded, strides=(width,))
    try:
        parsed: npt.NDArray[np.datetime64] = body.astype(f"datetime64[{unit}]")
    except ValueError:
        return None
    return _as_ns(parsed)


# What datetime64[ns] holds, to the whole second (1677-09-21 .. 2262-04-11).
_NS_RANGE = (np.datetime64(-(2**63) // 10**9 + 1, "s"), np.datetime64((2**63 - 1) // 10**9, "s"))


def _as_ns(stamps: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64] | None:
    """Coarser stamps as datetime64[ns]; None past 1677..2262 (numpy would wrap silently)."""
    low, high = (limit.astype(stamps.dtype) for limit in _NS_RANGE)  # compared in ns, they wrap
    if stamps.size and (stamps.min() < low or stamps.max() > high):
        return None
    return stamps.astype("datetime64[ns]")


def _parse_timestamps_slow(texts: list[str]) -> npt.NDArray[np.datetime64]:
    import pandas as pd

    try:
        index = pd.to_datetime(texts, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ResponseError(f"unreadable timestamp in the API's answer: {exc}") from None
    stamps = _as_ns(np.asarray(index.tz_convert(None).values))
    if stamps is None:
        raise ResponseError(
            "a timestamp in the API's answer is outside 1677..2262, which pandas cannot hold"
        )
    return stamps


def values_to_array(values: list[Any]) -> npt.NDArray[Any]:
    """Numbers (None -> NaN, bool -> 0/1) to float64; anything textual keeps an object array."""
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return np.array(values, dtype=object)


def decode_timeseries(body: bytes) -> list[SeriesArrays]:
    """Decode a timeseries response into per-datapoint arrays (float64 values).

    The compact layout every server we know writes is read straight from the bytes (see
    :func:`_scan_values`); anything else, and any series holding text or bools (non-numeric
    datapoints, which keep an object array), goes through msgspec Structs.
    """
    try:
        outline: _RawTimeseriesBody = _decoder(_RawTimeseriesBody).decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _decode_timeseries_structs(body)  # which names the problem
    out: list[SeriesArrays] = []
    known: _Stamps | None = None
    for series in outline.series or ():
        scanned = _scan_values(series.values, known)
        if scanned is None:
            return _decode_timeseries_structs(body)
        stamps, values, known = scanned
        out.append(SeriesArrays(series.datapoint_id, stamps, values))
    return out


class _RawSeries(msgspec.Struct, gc=False, rename="camel"):
    datapoint_id: str
    values: msgspec.Raw = msgspec.Raw(b"null")


class _RawTimeseriesBody(msgspec.Struct, gc=False):
    series: list[_RawSeries] | None


# The one layout the scanner reads: ``{"timestamp":"YYYY-MM-DDTHH:MM:SSZ","value":NUMBER}``
# items joined by commas, no whitespace: a 44-byte head, then the number, then "}".
_HEAD_TEXT = b'{"timestamp":"0000-00-00T00:00:00Z","value":'
_HEAD = len(_HEAD_TEXT)
_STAMP_AT = 14  # the stamp's offset in the head
_DIGIT = [i in range(_STAMP_AT, _STAMP_AT + 20) and c == ord("0") for i, c in enumerate(_HEAD_TEXT)]


def _head_pattern(byte: Callable[[bool, int], int]) -> npt.NDArray[np.uint32]:
    """A 44-byte pattern over the head, one byte per head byte, as eleven 4-byte words."""
    return np.frombuffer(
        bytes(byte(d, c) for d, c in zip(_DIGIT, _HEAD_TEXT, strict=True)), dtype="<u4"
    )


# Fixed bytes must match exactly and stamp bytes must be 0x30..0x3F; a byte of that range that
# stays below 0x40 when 6 is added is a digit (and no carry leaves a byte).
_HEAD_PAT = _head_pattern(lambda d, c: c)
_HEAD_MASK = _head_pattern(lambda d, c: 0xF0 if d else 0xFF)
_DIGIT_ADD = _head_pattern(lambda d, c: 0x06 if d else 0)
_DIGIT_MASK = _head_pattern(lambda d, c: 0xF0 if d else 0)
_DIGIT_PAT = _head_pattern(lambda d, c: 0x30 if d else 0)

# A series' heads as read and its timestamps as parsed: the series of one response usually
# share their buckets, so the next series compares heads instead of parsing again.
_Stamps = tuple[npt.NDArray[np.uint32], npt.NDArray[np.datetime64]]


def _scan_values(
    raw: msgspec.Raw, known: _Stamps | None
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64], _Stamps | None] | None:
    """One series' ``values`` array read as bytes into (datetime64[ns], float64) arrays.

    ``known`` is the previous series' stamps, reused when its heads are the same bytes; the
    third element returned is this series' for the next. None when the bytes are not exactly
    the compact layout (whitespace, other key order, extra keys, other timestamp forms, text
    values...): the caller then decodes generically. Nothing is guessed: every head byte and
    every timestamp digit is checked, and Arrow parses the numbers (see :func:`_scan_numbers`).
    """
    view = np.frombuffer(raw, dtype=np.uint8)
    if view.size <= _HEAD + 3:  # "[]", "null", or too short for one item
        if bytes(view) in (b"[]", b"null"):
            return np.empty(0, dtype="datetime64[ns]"), np.empty(0, dtype=np.float64), known
        return None
    if view[0] != ord("[") or view[-1] != ord("]"):
        return None
    ends = np.flatnonzero(view == ord("}"))  # no "}" in a checked head or a number: item ends
    count = ends.size
    if count == 0 or ends[-1] != view.size - 2:
        return None
    starts = np.empty(count, dtype=np.intp)
    starts[0] = 1
    starts[1:] = ends[:-1] + 2
    if not (view[ends[:-1] + 1] == ord(",")).all() or (ends - starts <= _HEAD).any():
        return None
    # Every byte offset viewed as a 44-byte item: one gather reads every head.
    items = np.ndarray((view.size - _HEAD + 1,), dtype=f"V{_HEAD}", buffer=view, strides=(1,))
    heads = items[starts].view("<u4").reshape(count, _HEAD // 4)
    if known is not None and np.array_equal(known[0], heads):
        stamps = known[1].copy()  # the same bytes, checked and parsed for the previous series
    else:
        parsed = _parse_heads(heads)
        if parsed is None:
            return None
        stamps = parsed
    values = _scan_numbers(view, starts, ends, count)
    if values is None:
        return None
    return stamps, values, (heads, stamps)


def _parse_heads(heads: npt.NDArray[np.uint32]) -> npt.NDArray[np.datetime64] | None:
    """Items' 44-byte heads (as 4-byte words) checked, their stamps -> datetime64[ns]."""
    if not (
        (((heads ^ _HEAD_PAT) & _HEAD_MASK) == 0).all()
        and (((heads + _DIGIT_ADD) & _DIGIT_MASK) == _DIGIT_PAT).all()
    ):
        return None
    texts = np.ndarray((len(heads),), dtype="S19", buffer=heads, offset=_STAMP_AT, strides=(_HEAD,))
    try:
        stamps = texts.astype("datetime64[s]")  # checks month, day and time ranges
    except ValueError:
        return None
    return _as_ns(stamps)


def _scan_numbers(
    data: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
    count: int,
) -> npt.NDArray[np.float64] | None:
    """The numbers of checked items, parsed by Arrow (exact: correctly rounded) in place.

    The body is valid JSON (msgspec checked it), so a value that Arrow reads as a float is a
    JSON number: null, true, strings, arrays and a second key after the number all fail.
    """
    # Strings alternate number, gap ("},{...":), number...: one zero-copy Arrow array whose
    # even elements are the numbers.
    offsets = np.empty(2 * count, dtype=np.int64)
    offsets[0::2] = starts + _HEAD
    offsets[1::2] = ends
    texts = pa.Array.from_buffers(
        pa.large_string(), 2 * count - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    try:
        numbers = pc.cast(
            pc.take(texts, _evens(count), memory_pool=_POOL), pa.float64(), memory_pool=_POOL
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values: npt.NDArray[np.float64] = numbers.to_numpy(zero_copy_only=False, writable=True)
    if np.isinf(values).any():
        return None  # beyond float64: the general decoder reports it, as for any server
    return values


def _evens(count: int) -> pa.Array:
    return pa.array(np.arange(0, 2 * count, 2, dtype=np.int64))


# Arrow's default pool (mimalloc) keeps what it freed for a while, tens of MB over a long
# sync; these arrays live for one response, so they come from malloc and go back to it.
_POOL = pa.system_memory_pool()


def _decode_timeseries_structs(body: bytes) -> list[SeriesArrays]:
    """The general decoder: msgspec Structs per point, numbers first, then anything."""
    try:
        parsed: TimeseriesBody = decode(body, TimeseriesBody, "timeseries")
    except DataError:
        return _decode_timeseries_generic(body)
    series_list = parsed.series or []
    counts = [len(series.values or ()) for series in series_list]
    total = sum(counts)

    def items() -> Iterator[Any]:
        return chain.from_iterable(series.values or () for series in series_list)

    # One parse and one conversion per response, not per series: fewer numpy round trips.
    stamps = _parse_uniform("".join(map(_get_ts, items())), total) if total else None
    if stamps is None:
        stamps = parse_timestamps(list(map(_get_ts, items())))
    try:
        values = np.fromiter(map(_get_value, items()), dtype=np.float64, count=total)
    except TypeError:  # a null among the numbers
        values = values_to_array(list(map(_get_value, items())))
    out: list[SeriesArrays] = []
    start = 0
    for series, n in zip(series_list, counts, strict=True):
        out.append(
            SeriesArrays(series.datapoint_id, stamps[start : start + n], values[start : start + n])
        )
        start += n
    return out


def _decode_timeseries_generic(body: bytes) -> list[SeriesArrays]:
    parsed: _AnyTimeseriesBody = decode(body, _AnyTimeseriesBody, "timeseries")
    out: list[SeriesArrays] = []
    for series in parsed.series or ():
        items = series.values or []
        timestamps = parse_timestamps(list(map(_get_ts, items)))
        values = values_to_array(list(map(_get_value, items)))
        out.append(SeriesArrays(series.datapoint_id, timestamps, values))
    return out
