"""The data profiles resource: definitions with their datapoints, cached per client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote

from belimo_cloud.client.decode import decode
from belimo_cloud.client.models import DataProfile, Device, Page
from belimo_cloud.client.pagination import MAX_PAGE_SIZE, PageResult, walk_pages
from belimo_cloud.errors import DataError

if TYPE_CHECKING:
    from belimo_cloud.client.session import Session

__all__ = ["DataProfiles", "normalize_ref"]

_PREFIXES = ("api/v3/", "definitions/dataprofiles/", "dataprofiles/")


def normalize_ref(ref: str) -> str:
    """The "id/version" form of a profile reference, with or without the definitions path."""
    text = ref.strip().strip("/")
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    parts = text.split("/")
    if len(parts) != 2 or not all(parts):
        raise DataError(
            f"not a data profile reference: {ref!r}; use 'id/version', e.g. 'energyvalve3/1.2'"
        )
    return text


class DataProfiles:
    """``client.dataprofiles``: profile definitions by reference, fetched once per client."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[str, DataProfile] = {}
        self._lock = threading.Lock()

    def get(self, ref: str) -> DataProfile:
        """The profile "id/version" (a leading slash and the definitions path are optional)."""
        key = normalize_ref(ref)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        profile_id, version = key.split("/")
        path = f"/definitions/dataprofiles/{quote(profile_id, safe='')}/{quote(version, safe='')}"
        body = self._session.get_bytes(path, {"expanded": "true"})
        profile: DataProfile = decode(body, DataProfile, f"data profile {key}")
        with self._lock:
            self._cache[key] = profile
            self._cache.setdefault(profile.key, profile)
        return profile

    def for_device(self, device: Device) -> DataProfile | None:
        """The profile of a device, or None when the device has none."""
        ref = device.dataprofile_id
        return self.get(ref) if ref else None

    def list(
        self, *, expanded: bool = True, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[DataProfile]:
        """Every profile visible to the user; ``expanded`` includes the datapoints."""
        flag = "true" if expanded else "false"

        def fetch(offset: int, limit: int) -> PageResult[DataProfile]:
            params = {"expanded": flag, "limit": str(limit), "offset": str(offset)}
            body = self._session.get_bytes("/definitions/dataprofiles", params)
            page: Page[DataProfile] | None = decode(
                body, Page[DataProfile] | None, "data profile list"
            )
            if page is None:
                return PageResult([], None)
            return PageResult(page.data or [], page.paging.total if page.paging else None)

        return walk_pages(fetch, page_size=page_size, key=lambda p: p.key)

    def clear_cache(self) -> None:
        """Forget cached profiles (a profile version never changes, so this is rarely needed)."""
        with self._lock:
            self._cache.clear()

    def __repr__(self) -> str:
        return f"DataProfiles(cached={sorted(self._cache)})"
