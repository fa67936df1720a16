"""Settings: arguments, then environment variables, then a config file of named profiles.

This is the only module that reads ``os.environ`` (callers may pass ``env`` explicitly).

The config file is TOML with one table per profile::

    [profiles.default]
    client_id = "..."
    client_secret = "..."
    username = "me@example.org"
    password = "..."

    [profiles.demo]
    api_url = "http://127.0.0.1:9000"

A top-level ``[name]`` table is read as a profile too. Unknown keys are ignored with a warning.

The ``demo`` profile exists without a file: the local emulator with the tutorial's placeholder
credentials. When the API URL is not Belimo's and no token URL is set anywhere, the token
endpoint is assumed on the API host (``<api_url>/oauth/token``), as the emulator serves it.
"""

from __future__ import annotations

import logging
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from belimo_cloud.errors import ConfigError

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_AUDIENCE",
    "DEFAULT_SCOPE",
    "DEFAULT_TOKEN_URL",
    "DEMO_API_URL",
    "DEMO_CREDENTIALS",
    "ENV_VARS",
    "Settings",
    "config_path",
    "load_settings",
]

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
# Read too, but not part of the documented credential set.
logger = logging.getLogger("belimo_cloud.config")
PROFILE_ENV_VAR = "BELIMO_PROFILE"
CONFIG_ENV_VAR = "BELIMO_CONFIG"
EXTRA_ENV_VARS = {
    "rate_limit": "BELIMO_RATE_LIMIT",
    "timeout": "BELIMO_TIMEOUT",
    "max_workers": "BELIMO_MAX_WORKERS",
    "token_cache_dir": "BELIMO_TOKEN_CACHE_DIR",
}
DEMO_PROFILE = "demo"
DEFAULT_PROFILE = "default"
_SECRETS = ("client_secret", "password")


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
        shown: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                shown[f.name] = "(not set)"
            elif f.name in _SECRETS:
                shown[f.name] = "****"
            else:
                shown[f.name] = str(value)
        return shown

    @property
    def grant(self) -> str:
        """The OAuth2 grant used: "password" with a user and password, else "client_credentials"."""
        return "password" if self.username and self.password else "client_credentials"


_FIELDS = {f.name for f in fields(Settings)}
_FLOATS = {"rate_limit", "timeout"}
_INTS = {"max_workers"}
_BOOLS = {"cache_tokens"}
_PATHS = {"token_cache_dir"}


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file: ``$BELIMO_CONFIG`` or ``<user config dir>/belimo/config.toml``."""
    environ = os.environ if env is None else env
    explicit = environ.get(CONFIG_ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir()) / "belimo" / "config.toml"


def _demo_profile() -> dict[str, Any]:
    # token_url is derived from api_url below, so a file or env moving the API moves it too.
    return {**DEMO_CREDENTIALS, "api_url": DEMO_API_URL}


def _read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The ``[profiles.*]`` tables of the config file; {} when the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"config file {path} is not valid TOML: {detail}") from None
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise ConfigError(
            f"config file {path}: 'profiles' must hold tables like [profiles.default]"
        )
    # Lenient: a top-level [name] table is a profile too, unless [profiles.name] exists.
    for key, value in doc.items():
        if key != "profiles" and isinstance(value, dict):
            profiles.setdefault(key, value)
    return profiles


def _coerce(name: str, value: object, source: str) -> object:
    """Turn a value from the file, the environment or an argument into the field's type."""
    try:
        if name in _FLOATS:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)  # type: ignore[arg-type]
            if number < 0 or not math.isfinite(number):
                raise ValueError
            return number
        if name in _INTS:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            integer = int(value)  # type: ignore[call-overload]
            if integer < 1:
                raise ValueError
            return integer
        if name in _BOOLS:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if name in _PATHS:
            return Path(str(value)).expanduser()
        if not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: invalid value for {name}: {value!r:.40}") from None


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
    environ: Mapping[str, str] = os.environ if env is None else env
    unknown = sorted(set(overrides) - _FIELDS)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    name = profile or environ.get(PROFILE_ENV_VAR) or DEFAULT_PROFILE
    path = Path(config_file).expanduser() if config_file is not None else config_path(environ)
    profiles = _read_profiles(path)

    values: dict[str, object] = {}
    if name == DEMO_PROFILE:
        values.update(_demo_profile())
    if name in profiles:
        table = profiles[name]
        unknown_keys = sorted(set(table) - _FIELDS - {"profile"})
        if unknown_keys:
            # A foreign key (a note, a newer setting) must not lock the user out; say it once.
            logger.warning(
                "config file %s, profile %r: ignoring unknown key(s) %s",
                path,
                name,
                ", ".join(unknown_keys),
            )
        for key, value in table.items():
            if key in _FIELDS and key != "profile":
                values[key] = _coerce(key, value, f"config file {path}")
    elif name not in (DEFAULT_PROFILE, DEMO_PROFILE):
        known = sorted({DEMO_PROFILE, *profiles})
        raise ConfigError(
            f"unknown profile {name!r}: add [profiles.{name}] to {path} (known: {', '.join(known)})"
        )

    for key, var in {**ENV_VARS, **EXTRA_ENV_VARS}.items():
        text = environ.get(var)
        if text:
            values[key] = _coerce(key, text, f"environment variable {var}")
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, value, "argument")

    api_url = str(values.get("api_url", DEFAULT_API_URL)).rstrip("/")
    values["api_url"] = api_url
    if "token_url" not in values and api_url != DEFAULT_API_URL:
        values["token_url"] = api_url + "/oauth/token"
    values["profile"] = name
    return Settings(**values)  # type: ignore[arg-type]
