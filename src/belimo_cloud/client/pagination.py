"""Walk every page of an offset-paged collection, even while the collection changes.

Offset paging shifts when items are added or removed between two page requests: a removal
before the cursor hides one item, an addition repeats one. Items with a key are deduplicated,
and when the walk saw signs of change (``paging.total`` moved, a page came back short, fewer
distinct items than the total) the collection is walked again from the start to pick up what
was hidden, until a pass sees a stable collection or the pass budget is spent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

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
    max_passes: int = 3,
) -> Iterator[T]:
    """Yield every item of a collection once, fetching ``fetch(offset, limit)`` lazily.

    Without ``key`` items cannot be told apart, so the walk is a single pass that advances by
    the number of items received until ``total`` is reached.
    """
    limit = check_page_size(page_size)
    seen: set[Hashable] = set()
    for pass_number in range(max(1, max_passes)):
        unstable = False
        distinct_this_pass: set[Hashable] = set()
        offset = 0
        total: int | None = None
        while True:
            page = fetch(offset, limit)
            if page.total is not None:
                if total is not None and page.total != total:
                    unstable = True
                total = page.total
            fresh = 0
            for item in page.items:
                if key is None:
                    yield item
                    continue
                item_key = key(item)
                distinct_this_pass.add(item_key)
                if item_key not in seen:
                    seen.add(item_key)
                    fresh += 1
                    yield item
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
