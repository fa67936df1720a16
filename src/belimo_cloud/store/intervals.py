"""Half-open time intervals [start, end): merge, subtract, holes; the arithmetic of coverage."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same instants; touching intervals join."""
    ordered = sorted((s, e) for s, e in intervals if e > s)
    merged: list[Interval] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(base: Iterable[Interval], remove: Iterable[Interval]) -> list[Interval]:
    """The parts of ``base`` not covered by ``remove``, sorted and disjoint."""
    holes = merge(remove)
    result: list[Interval] = []
    for start, end in merge(base):
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def holes(intervals: Iterable[Interval]) -> list[Interval]:
    """The gaps between consecutive merged intervals (none before the first or after the last)."""
    merged = merge(intervals)
    return [(a[1], b[0]) for a, b in itertools.pairwise(merged)]


def intersects(a: Interval, b: Interval) -> bool:
    """True when the two half-open intervals share an instant."""
    return a[0] < b[1] and b[0] < a[1]
