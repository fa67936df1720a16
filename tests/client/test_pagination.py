"""Offset paging that never misses or repeats an item while the collection changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from belimo_cloud.client.pagination import PageResult, check_page_size, walk_pages
from belimo_cloud.errors import DataError


class Collection:
    """An offset-paged list whose content a test may change between page requests."""

    def __init__(self, items: list[str], on_fetch: Callable[[Collection, int], None] | None = None):
        self.items = items
        self.on_fetch = on_fetch
        self.calls: list[tuple[int, int]] = []

    def fetch(self, offset: int, limit: int) -> PageResult[str]:
        if self.on_fetch:
            self.on_fetch(self, len(self.calls))
        self.calls.append((offset, limit))
        return PageResult(self.items[offset : offset + limit], len(self.items))


def test_walks_every_page_until_total() -> None:
    coll = Collection([f"d{i:02d}" for i in range(36)])
    assert list(walk_pages(coll.fetch, page_size=20, key=str)) == coll.items
    assert coll.calls == [(0, 20), (20, 20)]


def test_a_list_that_shrinks_mid_iteration_loses_nothing() -> None:
    original = [f"d{i:02d}" for i in range(36)]

    def remove_one(coll: Collection, call: int) -> None:
        if call == 1:
            coll.items.remove("d03")  # shifts d20 into the first page's range

    coll = Collection(list(original), remove_one)
    got = list(walk_pages(coll.fetch, page_size=20, key=str))
    assert sorted(got) == sorted(set(got))  # no repeats
    assert set(got) >= set(original) - {"d03"}  # nothing that still exists is missed
    assert len(coll.calls) > 2  # it re-checked


def test_a_list_that_grows_mid_iteration_repeats_nothing() -> None:
    def add_one(coll: Collection, call: int) -> None:
        if call == 1:
            coll.items.insert(0, "a-new")

    coll = Collection([f"d{i:02d}" for i in range(36)], add_one)
    got = list(walk_pages(coll.fetch, page_size=20, key=str))
    assert len(got) == len(set(got)) == 37


def test_a_reordered_list_is_walked_again() -> None:
    def move(coll: Collection, call: int) -> None:
        if call == 1:  # an item renamed from the end to the front: same total
            coll.items.insert(0, coll.items.pop())

    coll = Collection([f"d{i:02d}" for i in range(36)], move)
    got = list(walk_pages(coll.fetch, page_size=20, key=str))
    assert sorted(got) == sorted(set(got)) == [f"d{i:02d}" for i in range(36)]


def test_server_page_cap_below_our_limit() -> None:
    items = [f"d{i}" for i in range(45)]

    def fetch(offset: int, limit: int) -> PageResult[str]:
        return PageResult(items[offset : offset + min(limit, 10)], len(items))

    assert list(walk_pages(fetch, page_size=2000, key=str)) == items


def test_no_total_stops_at_a_short_page_and_without_key_yields_all() -> None:
    items = list(range(25))

    def fetch(offset: int, limit: int) -> PageResult[int]:
        return PageResult(items[offset : offset + limit], None)

    assert list(walk_pages(fetch, page_size=10)) == items


def test_empty_collection() -> None:
    assert list(walk_pages(lambda o, n: PageResult([], 0), key=str)) == []


def test_page_size_is_clamped_and_checked() -> None:
    assert check_page_size(5000) == 2000
    for bad in (0, -1, 1.5, True):
        with pytest.raises(DataError):
            check_page_size(bad)  # type: ignore[arg-type]


def test_a_server_ignoring_the_offset_does_not_loop_forever() -> None:
    page = [f"d{i}" for i in range(10)]
    calls: list[int] = []

    def fetch(offset: int, limit: int) -> PageResult[str]:
        calls.append(offset)
        return PageResult(page[:limit], None)

    assert list(walk_pages(fetch, page_size=10, key=str)) == page
    assert len(calls) == 2
