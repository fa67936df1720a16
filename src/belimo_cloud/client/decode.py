"""Bytes to models and arrays: msgspec decoding with one clear error, and the timeseries hot path.

The hot path never builds a Python dict per point: msgspec fills small Structs, and the
timestamps of a whole series are parsed in one vectorised numpy call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any, TypeVar, overload

import msgspec
import numpy as np
import numpy.typing as npt

from belimo_cloud.errors import DataError

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
    """Decode a JSON body into ``type_``; DataError names ``what`` and the problem.

    A null body (``null`` or empty) is a DataError too: callers that tolerate it ask for
    ``type_ | None``.
    """
    try:
        result = _decoder(type_).decode(body)
    except msgspec.ValidationError as exc:
        raise DataError(f"unexpected {what} from the API: {exc}") from None
    except msgspec.DecodeError as exc:
        preview = body[:80].decode("utf-8", "replace").replace("\n", " ")
        raise DataError(f"malformed JSON in {what} from the API ({exc}): {preview!r}") from None
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
    return parsed.astype("datetime64[ns]")


def _parse_timestamps_slow(texts: list[str]) -> npt.NDArray[np.datetime64]:
    import pandas as pd

    try:
        index = pd.to_datetime(texts, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(f"unreadable timestamp in the API's answer: {exc}") from None
    return np.asarray(index.tz_convert(None).as_unit("ns").values)


def values_to_array(values: list[Any]) -> npt.NDArray[Any]:
    """Numbers (None -> NaN, bool -> 0/1) to float64; anything textual keeps an object array."""
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return np.array(values, dtype=object)


def decode_timeseries(body: bytes) -> list[SeriesArrays]:
    """Decode a timeseries response into per-datapoint arrays (float64 values).

    Numbers take the fast path; a series holding text or bools (non-numeric datapoints) is
    decoded again generically and keeps an object array.
    """
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
