"""Counter-based random numbers: item ``i`` of stream ``s`` is a hash of (seed, s, i).

The generated part of a fleet draws each attribute of each device this way instead of from a
sequential generator, so that any device is drawn without drawing the ones before it, a fleet
of 5,000 starts with the fleet of 1,000, and a whole attribute is one vectorised call.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BitsArray = npt.NDArray[np.uint64]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _mix(x: int) -> int:
    """SplitMix64's finaliser on a Python int (for the few per-stream keys)."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * _M1) & _MASK
    x = ((x ^ (x >> 27)) * _M2) & _MASK
    return x ^ (x >> 31)


class Draws:
    """Independent streams of uniform numbers over item indexes, fixed by a seed and a salt."""

    def __init__(self, seed: int, salt: int) -> None:
        self._key = _mix((seed & _MASK) ^ _mix(salt))

    def bits(self, stream: int, index: IntArray) -> BitsArray:
        """64 random bits per index of ``stream`` (uint64 arithmetic wraps, as SplitMix64 wants)."""
        key = np.uint64(_mix(self._key ^ _mix(stream)))
        z = np.asarray(index).astype(np.uint64) * np.uint64(_GOLDEN) + key
        z ^= z >> np.uint64(30)
        z *= np.uint64(_M1)
        z ^= z >> np.uint64(27)
        z *= np.uint64(_M2)
        z ^= z >> np.uint64(31)
        return z

    def uniform(
        self, stream: int, index: IntArray, low: float = 0.0, high: float = 1.0
    ) -> FloatArray:
        """Uniform numbers in [low, high) per index."""
        unit = (self.bits(stream, index) >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
        return low + (high - low) * unit

    def integers(self, stream: int, index: IntArray, low: int, high: int) -> IntArray:
        """Integers in [low, high) per index."""
        span = high - low
        picked = np.minimum((self.uniform(stream, index) * span).astype(np.int64), span - 1)
        return low + picked
