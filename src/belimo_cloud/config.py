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
    "DEFAULT_BUDGET",
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_SCOPE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN_URL",
    "DEMO_API_URL",
    "DEMO_CREDENTIALS",
    "ENV_VARS",
    "Settings",
    "config_path",
    "demo_settings",
    "is_secret_key",
    "load_settings",
    "progress_wanted",
    "redact_url",
    "store_memory_limit",
]

DEFAULT_API_URL = "https://cloud.belimo.com"
DEFAULT_TOKEN_URL = "https://id.belimo.com/oauth/token"
DEFAULT_AUDIENCE = "https://api.cloud.belimo.com/"
DEFAULT_SCOPE = "public.read offline_access read:dataprofile"
# The numeric defaults of Settings; client/constants.py lists them beside every other limit.
DEFAULT_RATE_LIMIT = 2.0  # [requests/s] the API's documented limit on data endpoints
DEFAULT_TIMEOUT = 30.0  # [s] one whole exchange: connect, send, headers and body
DEFAULT_BUDGET = 90.0  # [s] one client call, every retry, backoff and token renewal included
DEFAULT_MAX_WORKERS = 4
MAX_WORKERS_LIMIT = 64  # more threads than this only queue on the rate limit
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
logger = logging.getLogger("belimo_cloud.config")
# Read too, but not part of the documented credential set.
PROFILE_ENV_VAR = "BELIMO_PROFILE"
PROGRESS_ENV_VAR = "BELIMO_PROGRESS"
STORE_MEMORY_LIMIT_ENV_VAR = "BELIMO_STORE_MEMORY_LIMIT"
CONFIG_ENV_VAR = "BELIMO_CONFIG"
EXTRA_ENV_VARS = {
    "rate_limit": "BELIMO_RATE_LIMIT",
    "timeout": "BELIMO_TIMEOUT",
    "max_workers": "BELIMO_MAX_WORKERS",
    "token_cache_dir": "BELIMO_TOKEN_CACHE_DIR",
    "budget": "BELIMO_BUDGET",
}
DEMO_PROFILE = "demo"
DEFAULT_PROFILE = "default"
_SECRETS = ("client_secret", "password")
_SECRET_WORDS = ("password", "secret", "token", "passwd", "credential", "apikey", "api_key")
_URLS = ("api_url", "token_url")


def is_secret_key(name: str) -> bool:
    """Whether a setting or form field of this name may hold a secret (its value is never shown).

    ``token_url`` and ``token_cache_dir`` name places, not secrets.
    """
    key = name.lower().replace("-", "_")
    if key in {"token_url", "token_cache_dir", "cache_tokens"}:
        return False
    return key in _SECRETS or any(word in key for word in _SECRET_WORDS)


def redact_url(url: str) -> str:
    """The URL with any user info (``user:password@``) replaced by ``****@``.

    The last ``@`` before the query counts, so a password holding an unescaped ``/`` or ``@``
    is masked whole.
    """
    scheme_end = url.find("://")
    if scheme_end < 0:
        return url
    start = scheme_end + 3
    end = min((i for i in (url.find("?", start), url.find("#", start)) if i >= 0), default=len(url))
    at = url.rfind("@", start, end)
    if at < 0:
        return url
    return url[:start] + "****" + url[at:]


def _shown(value: object, limit: int = 40) -> str:
    """A rejected non-secret value for an error message: printable, short, quoted."""
    text = redact_url(str(value)) if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def _check_numbers(
    rate_limit: float, timeout: float, budget: float, max_workers: int, source: str = ""
) -> None:
    """One-line ConfigError for numbers that would hang, overflow or do nothing."""
    where = f"{source}: " if source else ""
    if not (math.isfinite(timeout) and timeout > 0):
        raise ConfigError(f"{where}timeout must be a number of seconds > 0, got {timeout!r}")
    if not (math.isfinite(budget) and budget > 0):
        raise ConfigError(f"{where}budget must be a number of seconds > 0, got {budget!r}")
    if not (math.isfinite(rate_limit) and rate_limit >= 0):
        raise ConfigError(
            f"{where}rate_limit must be a number of requests/s >= 0 (0: no client-side limit), "
            f"got {rate_limit!r}"
        )
    if rate_limit > 0 and 1.0 / rate_limit > budget:
        # Such a rate makes one request wait longer than a whole call may take: refuse it
        # instead of sleeping silently (and 1e-300 would overflow the sleep).
        raise ConfigError(
            f"{where}rate_limit {rate_limit:g} requests/s means one request every "
            f"{1.0 / rate_limit:.3g} s, longer than the {budget:g} s budget of a call; "
            f"use at least {1.0 / budget:.3g}, or 0 for no client-side limit"
        )
    if not 1 <= max_workers <= MAX_WORKERS_LIMIT:
        raise ConfigError(
            f"{where}max_workers must be between 1 and {MAX_WORKERS_LIMIT}, got {max_workers!r}"
        )


@dataclass(frozen=True, repr=False)
class Settings:
    """Effective settings of one Client. Secrets (and URL user info) never appear in repr()."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL
    audience: str = DEFAULT_AUDIENCE
    scope: str = DEFAULT_SCOPE
    profile: str = "default"  # names the token cache entry
    # [requests/s] on data endpoints; 0 disables the client-side limiter (a 429 still
    # holds every thread back, with jitter)
    rate_limit: float = DEFAULT_RATE_LIMIT
    timeout: float = DEFAULT_TIMEOUT  # [s] one whole exchange, however slowly bytes arrive
    max_workers: int = DEFAULT_MAX_WORKERS  # concurrent requests for chunked downloads
    cache_tokens: bool = True  # token cache on disk (mode 0600) under the user cache dir
    token_cache_dir: Path | None = None  # None: platformdirs user cache dir
    budget: float = DEFAULT_BUDGET  # [s] one client call with its retries and token renewal

    def __post_init__(self) -> None:
        _check_numbers(self.rate_limit, self.timeout, self.budget, self.max_workers)

    def masked(self) -> dict[str, str]:
        """Every setting as text for display: secrets '****', URLs without their user info.

        This is what `belimo config` prints; '(not set)' marks an absent value.
        """
        shown: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                shown[f.name] = "(not set)"
            elif is_secret_key(f.name):
                shown[f.name] = "****"
            elif f.name in _URLS:
                shown[f.name] = redact_url(str(value))
            else:
                shown[f.name] = str(value)
        return shown

    def __repr__(self) -> str:
        shown = self.masked()
        inner = ", ".join(
            f"{f.name}={shown[f.name]!r}" for f in fields(self) if not is_secret_key(f.name)
        )
        return f"Settings({inner})"

    @property
    def grant(self) -> str:
        """The OAuth2 grant used: "password" with a user and password, else "client_credentials"."""
        return "password" if self.username and self.password else "client_credentials"


_FIELDS = {f.name for f in fields(Settings)}
_FLOATS = {"rate_limit", "timeout", "budget"}
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


def progress_wanted(env: Mapping[str, str] | None = None) -> bool:
    """Whether status lines are on by default (``BELIMO_PROGRESS`` of 0, off, no or false: no)."""
    environ = os.environ if env is None else env
    return environ.get(PROGRESS_ENV_VAR, "").strip().lower() not in {"0", "off", "no", "false"}


def store_memory_limit(env: Mapping[str, str] | None = None) -> str | None:
    """DuckDB's memory limit for the store from ``BELIMO_STORE_MEMORY_LIMIT``, None when unset."""
    environ = os.environ if env is None else env
    return environ.get(STORE_MEMORY_LIMIT_ENV_VAR) or None


def demo_settings(
    api_url: str, *, rate_limit: float = 0.0, max_workers: int = DEFAULT_MAX_WORKERS
) -> Settings:
    """Settings for the demo tenant of an emulator at ``api_url``, built rather than loaded.

    No config file, environment or token cache on disk takes part: a demo, a test or a
    benchmark leaves the user's own account and cached tokens untouched.
    """
    return Settings(
        client_id=DEMO_CREDENTIALS["client_id"],
        client_secret=DEMO_CREDENTIALS["client_secret"],
        username=DEMO_CREDENTIALS["username"],
        password=DEMO_CREDENTIALS["password"],
        api_url=api_url,
        token_url=f"{api_url}/oauth/token",
        profile=DEMO_PROFILE,
        rate_limit=rate_limit,
        max_workers=max_workers,
        cache_tokens=False,
    )


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
    """Turn a value from the file, the environment or an argument into the field's type.

    A rejected value is shown in the message only when it cannot be a secret.
    """
    try:
        if name in _FLOATS:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)  # type: ignore[arg-type]
            # 0 is allowed for rate_limit only (no limit); a 0 s timeout could never answer.
            if not math.isfinite(number) or number < 0 or (number == 0 and name != "rate_limit"):
                raise ValueError
            return number
        if name in _INTS:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            integer = int(value)  # type: ignore[call-overload]
            if not 1 <= integer <= MAX_WORKERS_LIMIT:
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
        if name in _URLS and not value.lower().startswith(("http://", "https://")):
            raise ValueError
        return value
    except (TypeError, ValueError, OverflowError):
        expected = _EXPECTED.get(name, "text")
        if is_secret_key(name):
            raise ConfigError(
                f"{source}: invalid value for {name} (expected {expected}; value not shown)"
            ) from None
        raise ConfigError(
            f"{source}: invalid value for {name}: {_shown(value)} (expected {expected})"
        ) from None


_EXPECTED = {
    "rate_limit": "a number of requests/s >= 0",
    "timeout": "a number of seconds > 0",
    "budget": "a number of seconds > 0",
    "max_workers": f"a whole number from 1 to {MAX_WORKERS_LIMIT}",
    "cache_tokens": "true or false",
    "token_cache_dir": "a directory",
    "api_url": "an http:// or https:// URL",
    "token_url": "an http:// or https:// URL",
}


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
    defaults = Settings()
    # Checked here too, to name where the numbers came from in the one-line error.
    _check_numbers(
        float(values.get("rate_limit", defaults.rate_limit)),  # type: ignore[arg-type]
        float(values.get("timeout", defaults.timeout)),  # type: ignore[arg-type]
        float(values.get("budget", defaults.budget)),  # type: ignore[arg-type]
        int(values.get("max_workers", defaults.max_workers)),  # type: ignore[call-overload]
        source=f"profile {name!r}",
    )
    return Settings(**values)  # type: ignore[arg-type]
