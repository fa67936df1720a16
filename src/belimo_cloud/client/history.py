"""The history resource: resampled timeseries (chunked, concurrent), raw samples and CSV export.

``timeseries`` is the hot path: the range is cut into the fewest grid-aligned windows under the
server's 10,000-bucket cap (every datapoint in each request), the windows are fetched
concurrently through the Session (whose shared token bucket keeps the rate limit), decoded by
msgspec into arrays, and joined without a duplicate or missing bucket at the borders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from itertools import count, islice
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import pandas as pd

from belimo_cloud.client.chunking import MAX_BUCKETS, plan_windows
from belimo_cloud.client.constants import MAX_PAGES
from belimo_cloud.client.deadline import carrying_budget
from belimo_cloud.client.decode import (
    SeriesArrays,
    decode,
    decode_timeseries,
    parse_timestamps,
    values_to_array,
)
from belimo_cloud.client.devices import device_path, id_of
from belimo_cloud.client.frames import empty_long_frame, join_windows, long_frame
from belimo_cloud.client.frames import pivot as pivot_frame
from belimo_cloud.client.models import DataProfile, DownloadLink, Paging
from belimo_cloud.client.pagination import MAX_PAGE_SIZE, check_page_size
from belimo_cloud.client.res_csv import melt_csv, parse_csv
from belimo_cloud.client.semantics import resolve
from belimo_cloud.client.timeutil import (
    format_resolution,
    format_time,
    parse_resolution,
    parse_time,
)
from belimo_cloud.errors import DataError, ResponseError

if TYPE_CHECKING:
    from belimo_cloud.client.session import Session

__all__ = ["AGGREGATIONS", "History", "datapoint_ids_of", "window_frame"]

# The accepted names are in Belimo's login-only documentation; these are the likely ones.
AGGREGATIONS = ("last", "first", "min", "max", "avg", "sum", "count")


def datapoint_ids_of(datapoints: Any) -> list[str]:
    """Datapoint ids from a string ("a" or "a,b"), a Datapoint, or a list of either."""
    items: Iterable[Any]
    if isinstance(datapoints, str):
        items = datapoints.split(",")
    elif hasattr(datapoints, "id"):
        items = [datapoints]
    else:
        try:
            items = list(datapoints)
        except TypeError:
            raise DataError(f"not a datapoint id or list of ids: {datapoints!r}") from None
    ids: list[str] = []
    for item in items:
        text = id_of(item, "datapoint")
        if text not in ids:
            ids.append(text)
    if not ids:
        raise DataError("no datapoint ids given; pass one id or a list of ids")
    return ids


def _decode_window(body: bytes) -> list[SeriesArrays]:
    """A timeseries body as per-datapoint arrays; null bodies (they happen) are empty."""
    if len(body) < 16 and body.strip() in (b"", b"null"):
        return []
    return decode_timeseries(body)


def window_frame(
    device_id: str,
    body: bytes,
    start: datetime,
    end: datetime,
    resolution: timedelta,
    *,
    compact: bool = False,
) -> pd.DataFrame:
    """The long frame of one window's answer (:meth:`History.fetch_window_body`), sorted.

    Buckets outside [start, end) are dropped, as :meth:`History.fetch_window` does.
    ``compact=True`` gives the store's columns only: datapoint_id (categorical), timestamp
    and value (:func:`~belimo_cloud.client.frames.compact_frame`).
    """
    series = _decode_window(body)
    return join_windows(device_id, [series], [(start, end)], resolution, compact=compact)


class _RawValue(msgspec.Struct, gc=False):
    timestamp: str
    value: Any = None


class _RawPage(msgspec.Struct, gc=False):
    data: list[_RawValue] | None = None
    paging: Paging | None = None


class History:
    """``client.history``: the data endpoints (rate limited, shared with every thread)."""

    def __init__(
        self,
        session: Session,
        *,
        max_workers: int | None = None,
        profile_of: Callable[[str], DataProfile | None] | None = None,
    ) -> None:
        self._session = session
        self._max_workers = max(1, max_workers or session.settings.max_workers)
        self._profile_of = profile_of

    def _ids(self, device: str, datapoints: Any) -> list[str]:
        """Datapoint ids; names without a dot ("heating_energy", "Heating_E_J") are looked up
        in the device's profile (ids always have one, e.g. "evcloud.210")."""
        ids = datapoint_ids_of(datapoints)
        if all("." in item for item in ids) or self._profile_of is None:
            return ids
        profile = self._profile_of(device)
        if profile is None:
            raise DataError(f"device {device} has no data profile; give datapoint ids")
        resolved = [item if "." in item else resolve(profile, item).id for item in ids]
        return list(dict.fromkeys(resolved))

    # -- resampled timeseries ---------------------------------------------------------------

    def timeseries(  # noqa: PLR0917 - the contract's positional arguments
        self,
        device_id: Any,
        datapoint_ids: Any,
        start: Any,
        end: Any = None,
        resolution: Any = "15m",
        aggregation: str = "last",
        *,
        pivot: bool = False,
        max_buckets: int = MAX_BUCKETS,
    ) -> pd.DataFrame:
        """Resampled history of one device, any length: long DataFrame, sorted.

        Columns ``device_id, datapoint_id, timestamp`` (bucket starts, UTC) and ``value``
        (float64). ``start``/``end`` are datetimes, ISO strings or pandas Timestamps (``end``
        defaults to now); ``resolution`` is a duration ("15m", "1h", a timedelta).
        ``pivot=True`` returns the wide view instead: one column per datapoint, indexed by time.
        """
        device = id_of(device_id)
        ids = self._ids(device, datapoint_ids)
        lo = parse_time(start)
        hi = parse_time(end) if end is not None else datetime.now(lo.tzinfo)
        res = parse_resolution(resolution)
        windows = plan_windows(lo, hi, res, max_buckets)
        results = self._fetch_windows(device, ids, windows, res, aggregation)
        frame = join_windows(device, results, windows, res)
        return pivot_frame(frame) if pivot else frame

    def timeseries_many(  # noqa: PLR0917 - mirrors timeseries()
        self,
        device_ids: Any,
        datapoint_ids: Any,
        start: Any,
        end: Any = None,
        resolution: Any = "15m",
        aggregation: str = "last",
        *,
        max_buckets: int = MAX_BUCKETS,
    ) -> pd.DataFrame:
        """:meth:`timeseries` for several devices, every window of every device in one pool.

        One long frame sorted by device, datapoint and time. Faster than a loop over devices:
        the pool never drains between devices.
        """
        items = [device_ids] if isinstance(device_ids, str) else list(device_ids)
        devices = sorted({id_of(item) for item in items})
        ids = {device: self._ids(device, datapoint_ids) for device in devices}
        lo = parse_time(start)
        hi = parse_time(end) if end is not None else datetime.now(lo.tzinfo)
        res = parse_resolution(resolution)
        windows = plan_windows(lo, hi, res, max_buckets)
        results = self._run(
            [
                partial(self._request, device, ids[device], w_lo, w_hi, res, aggregation)
                for device in devices
                for w_lo, w_hi in windows
            ]
        )
        frames = [
            join_windows(device, results[i * len(windows) : (i + 1) * len(windows)], windows, res)
            for i, device in enumerate(devices)
        ]
        frames = [frame for frame in frames if not frame.empty]
        if not frames:
            return empty_long_frame()
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def plan(
        self, start: Any, end: Any, resolution: Any = "15m", *, max_buckets: int = MAX_BUCKETS
    ) -> list[tuple[datetime, datetime]]:
        """The windows (one request each) that :meth:`timeseries` would fetch."""
        return plan_windows(start, end, resolution, max_buckets)

    def fetch_window(  # noqa: PLR0917 - mirrors timeseries()
        self,
        device_id: Any,
        datapoint_ids: Any,
        start: Any,
        end: Any,
        resolution: Any = "15m",
        aggregation: str = "last",
    ) -> pd.DataFrame:
        """Exactly one timeseries request (the caller keeps it under 10,000 buckets)."""
        device = id_of(device_id)
        lo, hi = parse_time(start), parse_time(end)
        res = parse_resolution(resolution)
        body = self.fetch_window_body(device, datapoint_ids, lo, hi, res, aggregation)
        return window_frame(device, body, lo, hi, res)

    def fetch_window_body(  # noqa: PLR0917 - mirrors fetch_window()
        self,
        device_id: Any,
        datapoint_ids: Any,
        start: Any,
        end: Any,
        resolution: Any = "15m",
        aggregation: str = "last",
    ) -> bytes:
        """:meth:`fetch_window`'s request alone: the answer undecoded, for :func:`window_frame`.

        Lets a caller fetch on worker threads and decode where it consumes the data: the
        workers then hold nothing but bytes, and every array is made on one thread.
        """
        device = id_of(device_id)
        ids = self._ids(device, datapoint_ids)
        lo, hi = parse_time(start), parse_time(end)
        res = parse_resolution(resolution)
        return self._request(device, ids, lo, hi, res, aggregation)

    def _request(  # noqa: PLR0917
        self,
        device: str,
        ids: list[str],
        start: datetime,
        end: datetime,
        resolution: timedelta,
        aggregation: str,
    ) -> bytes:
        """One timeseries request; the raw body."""
        if not aggregation or not isinstance(aggregation, str):
            raise DataError(f"aggregation must be a name such as 'last', got {aggregation!r}")
        if end <= start:
            raise DataError(f"end ({format_time(end)}) must be after start ({format_time(start)})")
        params = {
            "datapointIds": ",".join(ids),
            "from": format_time(start),
            "to": format_time(end),
            "resolution": format_resolution(resolution),
            "aggregation": aggregation,
        }
        path = device_path(device, "data", "history", "timeseries")
        return self._session.get_bytes(path, params, data_endpoint=True)

    def _fetch_windows(
        self,
        device: str,
        ids: list[str],
        windows: list[tuple[datetime, datetime]],
        resolution: timedelta,
        aggregation: str,
    ) -> list[list[SeriesArrays]]:
        return self._run(
            [
                partial(self._request, device, ids, lo, hi, resolution, aggregation)
                for lo, hi in windows
            ]
        )

    def _run(self, requests: list[Callable[[], bytes]]) -> list[list[SeriesArrays]]:
        """Send requests from a bounded pool and decode the answers here, in request order.

        The workers only wait on sockets (which releases the GIL); decoding stays on the
        calling thread, so decoders never fight over the GIL, and it overlaps the requests
        still in flight. The Session's shared limiter paces the workers.
        """
        if len(requests) == 1 or self._max_workers == 1:
            return [_decode_window(request()) for request in requests]
        # A budget around the caller (Session.deadline) bounds the workers' requests too.
        requests = [carrying_budget(request) for request in requests]
        workers = min(self._max_workers, len(requests))
        ahead = 2 * workers  # bodies waiting for decoding, to bound memory on long jobs
        results: list[list[SeriesArrays]] = []
        pending: deque[Future[bytes]] = deque()
        queue = iter(requests)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="belimo-fetch") as pool:
            try:
                for request in islice(queue, ahead):
                    pending.append(pool.submit(request))
                while pending:
                    body = pending.popleft().result()
                    for request in islice(queue, 1):
                        pending.append(pool.submit(request))
                    results.append(_decode_window(body))
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return results

    # -- raw samples ------------------------------------------------------------------------

    def raw(
        self,
        device_id: Any,
        datapoint_id: Any,
        start: Any = None,
        end: Any = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
    ) -> pd.DataFrame:
        """Every stored sample of one datapoint in [start, end), all pages, oldest first.

        Long columns like :meth:`timeseries`; ``value`` is float64 for numbers and object for
        text or bool datapoints.
        """
        device = id_of(device_id)
        datapoint = self._ids(device, id_of(datapoint_id, "datapoint"))[0]
        limit = check_page_size(page_size)
        params: dict[str, str] = {"sortBy": "time", "sortDirection": "ASC", "limit": str(limit)}
        if start is not None:
            params["from"] = format_time(start)
        if end is not None:
            params["to"] = format_time(end)
        path = device_path(device, "data", "history", "datapoints", datapoint)
        stamps: list[str] = []
        values: list[Any] = []
        offset = 0
        previous_first: str | None = None
        for page_number in count(1):
            if page_number > MAX_PAGES:
                raise ResponseError(
                    f"the API kept sending raw history pages: stopped after {MAX_PAGES}"
                )
            body = self._session.get_bytes(
                path, {**params, "offset": str(offset)}, data_endpoint=True
            )
            page: _RawPage | None = decode(body, _RawPage | None, "raw history")
            items = (page.data if page is not None else None) or []
            total = page.paging.total if page is not None and page.paging else None
            if items and items[0].timestamp == previous_first:
                if total is None:
                    break  # a server that ignores the offset repeats its page
                raise ResponseError(
                    f"the API keeps repeating the same raw history page (offset {offset} of a "
                    f"claimed total of {total}); stopped instead of looping"
                )
            previous_first = items[0].timestamp if items else None
            stamps.extend(item.timestamp for item in items)
            values.extend(item.value for item in items)
            offset += len(items)
            if not items or (total is not None and offset >= total):
                break
            if total is None and len(items) < limit:
                break
        if not stamps:
            return empty_long_frame()
        ts = parse_timestamps(stamps)
        vals = values_to_array(values)
        order = np.argsort(ts, kind="stable")
        ts, vals = ts[order], vals[order]
        keep = np.ones(len(ts), dtype=bool)
        keep[1:] = ts[1:] != ts[:-1]  # a sample repeated across a page border
        return long_frame(device, [datapoint], [ts[keep]], [vals[keep]])

    # -- CSV export -------------------------------------------------------------------------

    def download(
        self,
        device_id: Any,
        datapoint_ids: Any = None,
        start: Any = None,
        end: Any = None,
        *,
        long: bool = False,
    ) -> pd.DataFrame:
        """The CSV export (all datapoints when ``datapoint_ids`` is None), parsed and time-sorted.

        Wide by default, as the CSV is: a ``timestamp`` column (UTC) and one column per
        datapoint, numbers as float64, text as strings, empty cells missing. ``long=True``
        gives the long frame (device_id, datapoint_id, timestamp, value) without empty cells.
        """
        device = id_of(device_id)
        params: dict[str, str] = {}
        if datapoint_ids is not None:
            params["datapointIds"] = ",".join(self._ids(device, datapoint_ids))
        if start is not None:
            params["from"] = format_time(start)
        if end is not None:
            params["to"] = format_time(end)
        path = device_path(device, "data", "download")
        response = self._session.request("GET", path, params=params, data_endpoint=True)
        wide = parse_csv(response.text)
        return melt_csv(device, wide) if long else wide

    def download_link(
        self, device_id: Any, datapoint_ids: Any = None, start: Any = None, end: Any = None
    ) -> DownloadLink:
        """A pre-authorised URL for the same CSV (``requestDownload``), valid for a while."""
        params: dict[str, str] = {}
        if datapoint_ids is not None:
            params["datapointIds"] = ",".join(datapoint_ids_of(datapoint_ids))
        if start is not None:
            params["from"] = format_time(start)
        if end is not None:
            params["to"] = format_time(end)
        path = device_path(device_id, "data", "requestDownload")
        body = self._session.get_bytes(path, params, data_endpoint=True)
        return decode(body, DownloadLink, "download link")
