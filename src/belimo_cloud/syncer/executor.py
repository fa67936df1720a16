"""Run a sync plan: fetch windows on a bounded thread pool, commit each one as it arrives.

Fetching runs on worker threads (sharing the client's rate limiter and retries); decoding and
every write happen on the calling thread, one transaction per window, so the store never sees
a half chunk. At most ``2 * workers`` windows are in flight or waiting to be written, each as
the fetch returned it (a sync's: the undecoded answer), and one is decoded at a time: memory
is bounded by a window's size times that, whatever the fleet's or the store's size. Keeping
the arrays off the workers matters as much: each thread that allocates gets its own malloc
arena, which keeps what it once held. Ctrl-C cancels what has not started, lets running
requests end, drops their results and re-raises: the next run resumes from the committed
coverage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from belimo_cloud.store import Store
from belimo_cloud.syncer.planner import ChunkRequest
from belimo_cloud.syncer.progress import SyncProgress

# A window's fetch (on a worker thread) and what turns its result into the long frame to
# write (on the calling thread); without ``prepare`` the fetch returns that frame itself.
Fetch = Callable[[str, Sequence[str], datetime, datetime], Any]
Prepare = Callable[[Any, ChunkRequest], pd.DataFrame]


@dataclass
class Outcome:
    """What the executor got done (also when it stopped early)."""

    requests: int = 0
    points: int = 0
    interrupted: bool = False


def execute(
    requests: Sequence[ChunkRequest],
    *,
    fetch: Fetch,
    prepare: Prepare | None = None,
    store: Store,
    resolution: str,
    aggregation: str,
    workers: int,
    progress: SyncProgress,
    outcome: Outcome | None = None,
    settled_before: datetime | None = None,
) -> Outcome:
    """Fetch and commit every request; errors and Ctrl-C stop the run after in-flight work ends.

    ``outcome`` (optional) is filled in as windows commit, so a caller still has the figures
    when an exception escapes.
    """
    done = outcome if outcome is not None else Outcome()
    remaining = Counter(r.device_id for r in requests)
    queue: Iterator[tuple[int, ChunkRequest]] = enumerate(requests)
    limit = max(1, workers) * 2
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="belimo-sync")
    pending: dict[Future[Any], tuple[int, ChunkRequest]] = {}
    try:
        _fill(pool, pending, queue, fetch, limit)
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            failure: BaseException | None = None
            # Plan order, and every good window of the batch is kept even if another failed.
            for future in sorted(finished, key=lambda f: pending[f][0]):
                _, request = pending.pop(future)
                error = future.exception()
                if error is not None:
                    failure = failure or error
                    continue
                result = future.result()
                frame = result if prepare is None else prepare(result, request)
                points = store.write_chunk(
                    frame,
                    device_id=request.device_id,
                    datapoint_ids=request.datapoint_ids,
                    resolution=resolution,
                    aggregation=aggregation,
                    start=request.start,
                    end=request.end,
                    settled_before=settled_before,
                )
                del frame, result  # not alive while the next window is decoded
                done.requests += 1
                done.points += points
                remaining[request.device_id] -= 1
                progress.advance(
                    device_id=request.device_id,
                    points=points,
                    device_done=remaining[request.device_id] == 0,
                )
            if failure is not None:
                raise failure
            _fill(pool, pending, queue, fetch, limit)
    except KeyboardInterrupt:
        done.interrupted = True
        raise
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _fill(
    pool: ThreadPoolExecutor,
    pending: dict[Future[Any], tuple[int, ChunkRequest]],
    queue: Iterator[tuple[int, ChunkRequest]],
    fetch: Fetch,
    limit: int,
) -> None:
    while len(pending) < limit:
        item = next(queue, None)
        if item is None:
            return
        request = item[1]
        future = pool.submit(
            fetch, request.device_id, request.datapoint_ids, request.start, request.end
        )
        pending[future] = item
