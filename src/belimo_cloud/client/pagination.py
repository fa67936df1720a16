"""Walk every page of an offset-paged collection, even while the collection changes.

Offset paging shifts when items are added or removed between two page requests: a removal
before the cursor hides one item, an addition repeats one. Items with a key are deduplicated,
and when the walk saw signs of change (``paging.total`` moved, a page came back short, fewer
distinct items than the total) the collection is walked again from the start to pick up what
was hidden, until a pass sees a stable collection or the pass budget is spent.

Every walk is bounded: pages that bring nothing new within a pass (a server that ignores the
offset, or repeats one page under a huge ``total``) end it with a ResponseError after
MAX_STALE_PAGES, and no walk fetches more than MAX_PAGES pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from belimo_cloud.client.constants import MAX_PAGE_PASSES, MAX_PAGES, MAX_STALE_PAGES
from belimo_cloud.errors import ResponseError

__all__ = ["MAX_PAGE_SIZE", "PageResult", "check_page_size", "walk_pages"]

T = TypeVar("T")
MAX_PAGE_SIZE = 2000
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    """One page as the walker needs it: the items and the collection total (None if unknown)."""

    items: list[T]
    total: int | None


def check_page_size(page_size: int) -> int:
    """Clamp a page size into the API's 1..2000."""
    from belimo_cloud.errors import DataError

    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise DataError(f"page_size must be a positive integer, got {page_size!r}")
    return min(page_size, MAX_PAGE_SIZE)


def walk_pages(
    fetch: Callable[[int, int], PageResult[T]],
    *,
    page_size: int = MAX_PAGE_SIZE,
    key: Callable[[T], Hashable] | None = None,
    max_passes: int = MAX_PAGE_PASSES,
    max_pages: int = MAX_PAGES,
) -> Iterator[T]:
    """Yield every item of a collection once, fetching ``fetch(offset, limit)`` lazily.

    Without ``key`` items cannot be told apart, so the walk is a single pass that advances by
    the number of items received until ``total`` is reached; a page equal to the one before
    counts as stale. ResponseError when the walk is stuck or passes ``max_pages``.
    """
    limit = check_page_size(page_size)
    seen: set[Hashable] = set()
    pages = 0
    for pass_number in range(max(1, max_passes)):
        unstable = False
        distinct_this_pass: set[Hashable] = set()
        offset = 0
        total: int | None = None
        stale = 0
        previous: list[T] | None = None
        while True:
            pages += 1
            if pages > max_pages:
                raise ResponseError(
                    f"the API kept sending pages: stopped after {max_pages} "
                    f"(offset {offset}, total {total}); the listing does not end"
                )
            page = fetch(offset, limit)
            if page.total is not None:
                if total is not None and page.total != total:
                    unstable = True
                total = page.total
            fresh = 0
            new_this_pass = 0
            for item in page.items:
                if key is None:
                    yield item
                    continue
                item_key = key(item)
                if item_key not in distinct_this_pass:
                    distinct_this_pass.add(item_key)
                    new_this_pass += 1
                if item_key not in seen:
                    seen.add(item_key)
                    fresh += 1
                    yield item
            repeated = (
                new_this_pass == 0
                if key is not None
                else previous is not None and page.items == previous
            )
            stale = stale + 1 if page.items and repeated else 0
            if stale >= MAX_STALE_PAGES and (total is None or offset + len(page.items) < total):
                claimed = f" of a claimed total of {total}" if total is not None else ""
                raise ResponseError(
                    f"the API keeps repeating the same page (offset {offset}{claimed}); "
                    "stopped instead of looping"
                )
            previous = page.items if key is None else None
            offset += len(page.items)
            if key is not None and total is None and page.items and not fresh:
                break  # a server that ignores the offset: nothing new will come
            if not page.items:
                if total is not None and offset < total:
                    unstable = True  # the collection shrank under the cursor
                break
            if total is None:
                if len(page.items) < limit:
                    break
                continue
            if offset >= total:
                break
        if key is None:
            return
        if total is not None and len(distinct_this_pass) < total:
            unstable = True
        if not unstable:
            return
        log.debug(
            "collection changed while paging (pass %d, %d distinct, total %s); walking again",
            pass_number + 1,
            len(distinct_this_pass),
            total,
        )
