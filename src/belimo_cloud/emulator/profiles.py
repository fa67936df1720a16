"""Definitions served by the emulator: aspects, subprofiles, data profiles, datapoints.

INTERFACE STUB: the emulator-physics work fills it in. Every returned dict has exactly the
shape of the spec's responses (feature values are strings).
"""

from __future__ import annotations

from typing import Any


class Definitions:
    """The definitions catalogue. ``version`` may be ``"last"`` everywhere."""

    def dataprofiles(self) -> list[dict[str, Any]]:
        """Every data profile, expanded (aspects, subprofiles, datapoints), sorted by name."""
        raise NotImplementedError

    def dataprofile(self, id_: str, version: str, *, expanded: bool = True) -> dict[str, Any] | None:
        raise NotImplementedError

    def subprofile(self, id_: str, version: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def datapoint(self, id_: str, version: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def aspect(self, id_: str, version: str) -> dict[str, Any] | None:
        raise NotImplementedError
