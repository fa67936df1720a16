"""One authenticated HTTP session: auth, retry, rate limit and error mapping around httpx.

INTERFACE STUB: the client-core work fills in the bodies; names and signatures are the contract
that the resources (devices, dataprofiles, history) build on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from belimo_cloud.config import Settings


class Session:
    """Thread-safe: one httpx.Client, one token, one rate limiter shared by every thread."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        raise NotImplementedError

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data_endpoint: bool = False,
    ) -> httpx.Response:
        """Send one API request (``path`` relative to ``/api/v3``, e.g. ``/devices``).

        Authenticates (refreshing or logging in as needed, one transparent retry on 401
        invalid_token), waits on the shared rate limiter when ``data_endpoint``, retries
        idempotent requests on 429/5xx/connection errors/timeouts with capped, jittered
        backoff honouring Retry-After, and maps failures onto belimo_cloud.errors.
        Returns a 2xx response whose body has been read.
        """
        raise NotImplementedError

    def get_bytes(
        self, path: str, params: Mapping[str, Any] | None = None, *, data_endpoint: bool = False
    ) -> bytes:
        """GET and return the raw body, for msgspec decoding on hot paths."""
        return self.request("GET", path, params=params, data_endpoint=data_endpoint).content

    @property
    def requests_sent(self) -> int:
        """Requests that reached the server (every try counts), for benchmarks and sync stats."""
        raise NotImplementedError

    def login(self) -> None:
        """Obtain a token now (normally lazy); raises InvalidCredentials when refused."""
        raise NotImplementedError

    def logout(self) -> None:
        """Forget the token in memory and in the on-disk cache of this profile."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
