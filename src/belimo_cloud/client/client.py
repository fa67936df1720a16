"""The Client facade: settings, one Session, and the devices, dataprofiles, history, live and
jobs resources."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from belimo_cloud.client.dataprofiles import DataProfiles
from belimo_cloud.client.decode import decode
from belimo_cloud.client.devices import Devices
from belimo_cloud.client.history import History
from belimo_cloud.client.jobs import Jobs
from belimo_cloud.client.live import Live, backfill_from_history
from belimo_cloud.client.models import DataProfile
from belimo_cloud.client.session import Session
from belimo_cloud.client.tokencache import CacheResult
from belimo_cloud.config import Settings, load_settings, redact_url

__all__ = ["Client"]


class Client:
    """Typed access to the Belimo Cloud API v3.

    Settings come from the arguments, then ``BELIMO_*`` environment variables, then the
    config file profile (``profile``, default "default"; "demo" is the local emulator).
    ``transport`` replaces httpx's network transport (tests, MockTransport). Thread-safe: one
    token and one rate limiter are shared by every thread using this client.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        api_url: str | None = None,
        token_url: str | None = None,
        audience: str | None = None,
        scope: str | None = None,
        profile: str | None = None,
        rate_limit: float | None = None,
        max_workers: int | None = None,
        transport: httpx.BaseTransport | None = None,
        settings: Settings | None = None,
        **options: Any,
    ) -> None:
        if settings is None:
            settings = load_settings(
                profile,
                client_id=client_id,
                client_secret=client_secret,
                username=username,
                password=password,
                api_url=api_url,
                token_url=token_url,
                audience=audience,
                scope=scope,
                rate_limit=rate_limit,
                max_workers=max_workers,
                **options,
            )
        self.settings = settings
        self.session = Session(settings, transport=transport)
        self.dataprofiles = DataProfiles(self.session)
        self.devices = Devices(self.session, self.dataprofiles)
        self.history = History(
            self.session, max_workers=settings.max_workers, profile_of=self._profile_of
        )
        self.jobs = Jobs(self.session)
        self.live = Live(
            self.session,
            history_since=backfill_from_history(self.history),
            resolve_ids=self._datapoint_ids,
        )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> Client:
        """A client from ``BELIMO_*`` environment variables (``env`` replaces os.environ)."""
        return cls.from_settings(load_settings(env=env), transport=transport)

    @classmethod
    def from_profile(
        cls,
        name: str,
        *,
        config_file: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        **overrides: Any,
    ) -> Client:
        """A client from a named config-file profile ("demo" works without a file)."""
        settings = load_settings(name, config_file=config_file, **overrides)
        return cls.from_settings(settings, transport=transport)

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> Client:
        """A client from resolved Settings."""
        return cls(settings=settings, transport=transport)

    def _profile_of(self, device_id: str) -> DataProfile | None:
        """The data profile of a device (for names in place of datapoint ids)."""
        return self.dataprofiles.for_device(self.devices.get(device_id))

    def _datapoint_ids(self, device_ids: list[str], names: list[str]) -> list[str]:
        """Datapoint ids for names, through the profiles of the devices (live filters)."""
        from belimo_cloud.client.semantics import resolve
        from belimo_cloud.errors import DataError

        devices = [self.devices.get(d) for d in device_ids] if device_ids else []
        if not devices:
            devices = list(self.devices.list())
        profiles = {}
        for device in devices:
            profile = self.dataprofiles.for_device(device)
            if profile is not None:
                profiles[profile.key] = profile
        ids: list[str] = []
        for name in names:
            if "." in name:
                ids.append(name)
                continue
            found = []
            for profile in profiles.values():
                try:
                    found.append(resolve(profile, name).id)
                except DataError:
                    continue
            if not found:
                raise DataError(
                    f"no profile of the selected devices has a datapoint {name!r}; give an id"
                )
            ids.extend(found)
        return list(dict.fromkeys(ids))

    @property
    def requests_sent(self) -> int:
        """Requests that reached the server so far (every retry counts)."""
        return self.session.requests_sent

    def login(self) -> CacheResult:
        """Log in now instead of at the first request; InvalidCredentials when refused.

        The result says whether the token was saved to this profile's on-disk cache.
        """
        return self.session.login()

    def logout(self) -> CacheResult:
        """Forget the token, in memory and in this profile's on-disk cache.

        The result says whether a cached token was removed (or there was none to remove).
        """
        return self.session.logout()

    def api_info(self) -> dict[str, Any]:
        """The API's version document (``GET /api-info``), e.g. ``{"version": "3.5.0"}``."""
        body = self.session.get_bytes("/api-info")
        info: dict[str, Any] = decode(body, dict[str, Any], "api info")
        return info

    def close(self) -> None:
        """Close the connections (the cached token stays valid for the next run)."""
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.settings
        api_url = redact_url(s.api_url)
        return f"Client(api_url={api_url!r}, username={s.username!r}, profile={s.profile!r})"
