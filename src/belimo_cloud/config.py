"""Settings: arguments, then environment variables, then a config file of named profiles.

This is the only module that reads ``os.environ`` (callers may pass ``env`` explicitly).
INTERFACE STUB: the client-core work fills in the bodies; names and signatures are the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_URL = "https://cloud.belimo.com"
DEFAULT_TOKEN_URL = "https://id.belimo.com/oauth/token"
DEFAULT_AUDIENCE = "https://api.cloud.belimo.com/"
DEFAULT_SCOPE = "public.read offline_access read:dataprofile"
DEMO_API_URL = "http://127.0.0.1:8765"  # `belimo emulator serve` default; the `demo` profile
# The tutorial's placeholders are the emulator demo tenant's credentials.
DEMO_CREDENTIALS = {
    "client_id": "__ClientIDPlaceHolder__",
    "client_secret": "__ClientSecretPlaceHolder__",
    "username": "__UserPlaceHolder__",
    "password": "__PasswordPlaceHolder__",
}
ENV_VARS = {
    "client_id": "BELIMO_CLIENT_ID",
    "client_secret": "BELIMO_CLIENT_SECRET",
    "username": "BELIMO_USERNAME",
    "password": "BELIMO_PASSWORD",
    "api_url": "BELIMO_API_URL",
    "token_url": "BELIMO_TOKEN_URL",
    "audience": "BELIMO_AUDIENCE",
    "scope": "BELIMO_SCOPE",
}


@dataclass(frozen=True)
class Settings:
    """Effective settings of one Client. Secrets never appear in repr()."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL
    audience: str = DEFAULT_AUDIENCE
    scope: str = DEFAULT_SCOPE
    profile: str = "default"  # names the token cache entry
    rate_limit: float = 2.0  # [requests/s] on data endpoints; 0 disables the client-side limiter
    timeout: float = 30.0  # [s] per request
    max_workers: int = 4  # concurrent requests for chunked downloads
    cache_tokens: bool = True  # token cache on disk (mode 0600) under the user cache dir
    token_cache_dir: Path | None = None  # None: platformdirs user cache dir

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets replaced by '****' (or '(not set)')."""
        raise NotImplementedError


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file: ``$BELIMO_CONFIG`` or ``<user config dir>/belimo/config.toml``."""
    raise NotImplementedError


def load_settings(
    profile: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    **overrides: object,
) -> Settings:
    """Resolve settings: non-None ``overrides`` > environment > config profile > defaults.

    ``profile`` None means ``$BELIMO_PROFILE`` or "default". The profile "demo" exists even
    without a config file: the local emulator at DEMO_API_URL with DEMO_CREDENTIALS.
    Raises ConfigError for an unknown profile or a malformed file.
    """
    raise NotImplementedError
