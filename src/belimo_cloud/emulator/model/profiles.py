"""Definitions served by the emulator: aspects, subprofiles, data profiles, datapoints.

Every returned dict has exactly the shape of the spec's responses (feature values are
strings) and is a fresh copy, so callers may change it.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from belimo_cloud.emulator.model.catalog import ASPECTS, PROFILES, SUBPROFILES, Aspect, Subprofile


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


_T = TypeVar("_T", Aspect, Subprofile)


def _pick(items: list[_T], version: str) -> _T | None:
    if not items:
        return None
    if version == "last":
        return max(items, key=lambda item: _version_key(item.version))
    return next((item for item in items if item.version == version), None)


class Definitions:
    """The definitions catalogue. ``version`` may be ``"last"`` everywhere."""

    def __init__(self) -> None:
        self._aspects = {f"{a.id}/{a.version}": a for a in ASPECTS}
        self._subprofiles = {f"{s.id}/{s.version}": s for s in SUBPROFILES}
        self._profiles = {f"{p.id}/{p.version}": p for p in PROFILES}
        self._datapoints: dict[str, tuple[dict[str, Any], str]] = {}
        for sub in SUBPROFILES:
            for dp in sub.datapoints:
                self._datapoints[dp["id"]] = (dp, f"{sub.id}/{sub.version}")
        self._expanded = {ref: self._build_profile(ref) for ref in self._profiles}

    def dataprofiles(self) -> list[dict[str, Any]]:
        """Every data profile, expanded (aspects, subprofiles, datapoints), sorted by name."""
        refs = sorted(self._profiles, key=lambda ref: self._profiles[ref].name)
        return [copy.deepcopy(self._expanded[ref]) for ref in refs]

    def dataprofile(
        self, id_: str, version: str, *, expanded: bool = True
    ) -> dict[str, Any] | None:
        """One data profile; unexpanded, it lacks aspects, subprofiles and datapoints."""
        ref = self._resolve(self._profiles, id_, version)
        if ref is None:
            return None
        body = copy.deepcopy(self._expanded[ref])
        if not expanded:
            for key in ("aspects", "subprofiles", "datapoints"):
                del body[key]
        return body

    def subprofile(self, id_: str, version: str) -> dict[str, Any] | None:
        """One subprofile with its full aspects and datapoints (without ``definedBy``)."""
        sub = _pick([s for s in SUBPROFILES if s.id == id_], version)
        if sub is None:
            return None
        return {
            "id": sub.id,
            "version": sub.version,
            "ref": f"{sub.id}/{sub.version}",
            "name": sub.name,
            "state": "LOCKED",
            "properties": dict(sub.properties),
            "supportedAspects": [self._aspect_json(self._aspects[a]) for a in sub.aspects],
            "datapoints": [copy.deepcopy(dp) for dp in sub.datapoints],
        }

    def datapoint(self, id_: str, version: str) -> dict[str, Any] | None:
        """One datapoint; its version is the version of the subprofile that defines it."""
        found = self._datapoints.get(id_)
        if found is None:
            return None
        dp, defined_by = found
        if version not in ("last", defined_by.split("/", 1)[1]):
            return None
        return {**copy.deepcopy(dp), "definedBy": defined_by}

    def aspect(self, id_: str, version: str) -> dict[str, Any] | None:
        """One aspect with its features."""
        aspect = _pick([a for a in ASPECTS if a.id == id_], version)
        return None if aspect is None else self._aspect_json(aspect)

    def profile_summary(self, profile_ref: str) -> dict[str, str]:
        """``{id, version, name}`` of a profile (``id/version``), without copying it whole."""
        body = self._expanded[profile_ref]
        return {"id": body["id"], "version": body["version"], "name": body["name"]}

    def profile_datapoints(self, profile_ref: str) -> list[dict[str, Any]]:
        """The full datapoint objects of a profile (``id/version``), in profile order."""
        datapoints: list[dict[str, Any]] = self._expanded[profile_ref]["datapoints"]
        return datapoints

    def _resolve(self, table: dict[str, Any], id_: str, version: str) -> str | None:
        if version != "last":
            ref = f"{id_}/{version}"
            return ref if ref in table else None
        versions = [ref.split("/", 1)[1] for ref in table if ref.split("/", 1)[0] == id_]
        return f"{id_}/{max(versions, key=_version_key)}" if versions else None

    @staticmethod
    def _aspect_json(aspect: Aspect) -> dict[str, Any]:
        return {
            "id": aspect.id,
            "version": aspect.version,
            "ref": f"{aspect.id}/{aspect.version}",
            "name": aspect.name,
            "properties": dict(aspect.properties),
            "features": [{"name": n, "optional": o} for n, o in aspect.features],
        }

    def _build_profile(self, ref: str) -> dict[str, Any]:
        profile = self._profiles[ref]
        subs = [self._subprofiles[s] for s in profile.subprofiles]
        aspect_refs = sorted({a for sub in subs for a in sub.aspects})
        return {
            "id": profile.id,
            "version": profile.version,
            "ref": ref,
            "name": profile.name,
            "state": profile.state,
            "properties": dict(profile.properties),
            "aspects": [self._aspect_json(self._aspects[a]) for a in aspect_refs],
            "subprofiles": [
                {
                    "id": sub.id,
                    "version": sub.version,
                    "ref": f"{sub.id}/{sub.version}",
                    "name": sub.name,
                    "state": "LOCKED",
                    "properties": dict(sub.properties),
                    "supportedAspects": list(sub.aspects),
                    "datapoints": [dp["id"] for dp in sub.datapoints],
                }
                for sub in subs
            ],
            "datapoints": [
                {**copy.deepcopy(dp), "definedBy": f"{sub.id}/{sub.version}"}
                for sub in subs
                for dp in sub.datapoints
            ],
            "subprofileRefs": list(profile.subprofiles),
            "aggregatedSupportedAspects": aspect_refs,
        }
