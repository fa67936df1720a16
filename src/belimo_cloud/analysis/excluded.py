"""The readings a counter scan leaves out, kept as runs: a power series excludes half of them.

Outages exclude whole runs of zero or missing readings (a power or temperature series has
one every few readings, hundreds of thousands of readings in all); the later stages exclude
a few single readings. Runs are kept as ranges and singles in a set, so that membership and
the walk to the next used reading cost a binary search, not one step a reading.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["Excluded"]

I64 = npt.NDArray[np.int64]


class Excluded:
    """A set of reading indices: ranges ``[a, b)`` added in bulk, plus single readings."""

    def __init__(self) -> None:
        self._a: list[int] = []
        self._b: list[int] = []
        self._count = 0
        self._one: set[int] = set()
        self._sorted: I64 | None = None

    def add_sorted(self, positions: I64) -> None:
        """Add readings given in ascending order, none of them excluded yet (kept as runs)."""
        if not len(positions):
            return
        heads = np.flatnonzero(np.append(True, np.diff(positions) != 1))
        tails = np.append(heads[1:], len(positions)) - 1
        a, b = positions[heads].tolist(), (positions[tails] + 1).tolist()
        if self._a and a[0] < self._b[-1]:
            self.update(positions.tolist())  # not after the runs so far: as singles
        else:
            self._a.extend(a)
            self._b.extend(b)
            self._count += len(positions)
        self._sorted = None

    def add(self, i: int) -> None:
        """Add one reading."""
        if i not in self:
            self._one.add(i)
            self._sorted = None

    def update(self, items: Iterable[int]) -> None:
        """Add some readings."""
        for i in items:
            self.add(i)

    def _run_of(self, i: int) -> int:
        """The index of the run holding ``i``, or -1."""
        r = bisect.bisect_right(self._a, i) - 1
        return r if r >= 0 and i < self._b[r] else -1

    def __contains__(self, i: object) -> bool:
        if i in self._one:
            return True
        if type(i) is not int:  # the usual caller passes a plain int: no isinstance on it
            if not isinstance(i, int | np.integer):
                return False
            i = int(i)
        return self._run_of(i) >= 0

    def __len__(self) -> int:
        return self._count + len(self._one)

    def __bool__(self) -> bool:
        return bool(self._count or self._one)

    def used_before(self, i: int, first: int) -> int:
        """The last reading before ``i`` and at or after ``first`` that is not excluded, or -1."""
        j = i - 1
        while j >= first:
            if j in self._one:
                j -= 1
                continue
            r = self._run_of(j)
            if r < 0:
                return j
            j = self._a[r] - 1
        return -1

    def used_after(self, i: int, end: int) -> int:
        """The first reading after ``i`` and before ``end`` that is not excluded, or -1."""
        j = i + 1
        while j < end:
            if j in self._one:
                j += 1
                continue
            r = self._run_of(j)
            if r < 0:
                return j
            j = self._b[r]
        return -1

    def array(self) -> I64:
        """Every excluded reading, ascending (computed once until something is added)."""
        if self._sorted is None:
            a = np.asarray(self._a, dtype=np.int64)
            counts = np.asarray(self._b, dtype=np.int64) - a
            offsets = np.cumsum(counts) - counts
            runs = np.repeat(a - offsets, counts) + np.arange(int(counts.sum()), dtype=np.int64)
            if self._one:
                runs = np.sort(np.concatenate([runs, np.fromiter(self._one, dtype=np.int64)]))
            self._sorted = runs
        return self._sorted
