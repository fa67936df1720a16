"""Tokens cached on disk, one file per profile and account, readable only by the user (0600).

So that a command-line run reuses the token of the previous one instead of logging in again.
The file name is a hash of profile, API URL, token URL, client id and user, so different
accounts never share an entry; a digest of the secrets stored inside the file makes a changed
password or client secret ignore the old entry. A corrupt or foreign file is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from belimo_cloud.config import Settings
from belimo_cloud.errors import TokenCacheError

__all__ = ["CacheResult", "CachedToken", "TokenCache", "default_cache_dir"]

logger = logging.getLogger("belimo_cloud.client")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_VERSION = 1


def default_cache_dir() -> Path:
    """``<user cache dir>/belimo/tokens``."""
    return Path(platformdirs.user_cache_dir()) / "belimo" / "tokens"


@dataclass(frozen=True)
class CachedToken:
    """One token response, with its expiry as an absolute time [s since the epoch]."""

    access_token: str
    expires_at: float
    token_type: str = "Bearer"
    refresh_token: str | None = None
    scope: str | None = None
    issued_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"CachedToken(expires_at={self.expires_at:.0f}, "
            f"refresh_token={'set' if self.refresh_token else 'none'}, scope={self.scope!r})"
        )


@dataclass(frozen=True)
class CacheResult:
    """What became of this profile's cache file on login (saved) or logout (removed).

    ``done``: the file was written (login) or removed (logout); ``error``: one line saying why
    it could not be, None when nothing went wrong (``done`` False and no error: caching is off,
    or there was nothing to remove).
    """

    done: bool
    path: Path | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def _digest(*parts: str | None) -> str:
    joined = "\x1f".join("" if p is None else p for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


class TokenCache:
    """Token files under ``directory`` (default: the user cache dir), mode 0600."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path_for(self, settings: Settings) -> Path:
        """The file holding the token of these settings' profile and account."""
        key = _digest(
            settings.profile,
            settings.api_url,
            settings.token_url,
            settings.client_id,
            settings.username,
            settings.audience,
            settings.scope,
        )
        name = _SAFE.sub("_", settings.profile)[:40] or "profile"
        return self.directory / f"{name}-{key[:24]}.json"

    @staticmethod
    def _verifier(settings: Settings) -> str:
        return _digest("verifier", settings.client_secret, settings.password)

    def load(self, settings: Settings) -> CachedToken | None:
        """The cached token of these settings, or None (absent, corrupt or other secrets)."""
        path = self.path_for(settings)
        try:
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.debug("ignoring unreadable token cache %s: %s", path, type(exc).__name__)
            return None
        try:
            if doc.get("version") != _VERSION or doc.get("verifier") != self._verifier(settings):
                return None
            raw = doc["token"]
            token = CachedToken(
                access_token=str(raw["access_token"]),
                expires_at=float(raw["expires_at"]),
                token_type=str(raw.get("token_type") or "Bearer"),
                refresh_token=(
                    str(raw["refresh_token"]) if raw.get("refresh_token") is not None else None
                ),
                scope=str(raw["scope"]) if raw.get("scope") is not None else None,
                issued_at=float(raw["issued_at"]) if raw.get("issued_at") is not None else None,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            logger.debug("ignoring corrupt token cache %s", path)
            return None
        if not token.access_token:
            return None
        return token

    def save(self, settings: Settings, token: CachedToken) -> Path:
        """Write atomically with mode 0600 and return the file; TokenCacheError when it cannot.

        The token in memory stays usable either way; the caller decides whether a failed
        save matters (``belimo login`` says so, an API call only logs it).
        """
        path = self.path_for(settings)
        doc = {"version": _VERSION, "verifier": self._verifier(settings), "token": asdict(token)}
        data = json.dumps(doc).encode("utf-8")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                # os.open's mode is masked by the umask and ignored for an existing file.
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                os.write(fd, data)
            finally:
                os.close(fd)
            tmp.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise TokenCacheError(
                f"cannot save the token to {path}: {exc.strerror or type(exc).__name__}"
            ) from None
        return path

    def delete(self, settings: Settings) -> bool:
        """Remove the cached token of these settings; True if there was one, False if not.

        TokenCacheError when the file exists but cannot be removed (the token stays usable
        by the next run, so a logout must not pretend it is gone).
        """
        path = self.path_for(settings)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise TokenCacheError(
                f"cannot remove the cached token {path}: {exc.strerror or type(exc).__name__}"
            ) from None
        return True

    def clear(self, profile: str | None = None) -> int:
        """Remove every cached token (of one profile when given); return how many."""
        if not self.directory.is_dir():
            return 0
        prefix = None if profile is None else (_SAFE.sub("_", profile)[:40] or "profile") + "-"
        removed = 0
        for path in self.directory.glob("*.json"):
            if prefix is None or path.name.startswith(prefix):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed
