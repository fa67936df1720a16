"""The on-disk token cache: per profile and account, mode 0600, corrupt files ignored."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from belimo_cloud.client.tokencache import CachedToken, TokenCache, default_cache_dir
from belimo_cloud.errors import TokenCacheError
from tests.client.core_fakes import settings

TOKEN = CachedToken("acc-xyz", 2_000_000_000.0, refresh_token="ref-xyz", scope="public.read")


def test_round_trip_with_mode_0600(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "tokens")
    s = settings()
    cache.save(s, TOKEN)
    assert cache.load(s) == TOKEN
    path = cache.path_for(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.name.startswith("default-")


def test_mode_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        cache = TokenCache(tmp_path)
        cache.save(settings(), TOKEN)
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.path_for(settings()).stat().st_mode) == 0o600


def test_accounts_and_profiles_never_share(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    cache.save(settings(), TOKEN)
    assert cache.load(settings(username="someone@else.org")) is None
    assert cache.load(settings(profile="work")) is None
    assert cache.load(settings(api_url="https://other.example")) is None
    assert cache.load(settings(client_id="other")) is None


def test_changed_secret_ignores_the_entry(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    cache.save(settings(), TOKEN)
    assert cache.load(settings(password="changed")) is None
    assert cache.load(settings(client_secret="changed")) is None


def test_secrets_are_not_stored(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    s = settings()
    cache.save(s, TOKEN)
    text = cache.path_for(s).read_text()
    assert s.password not in text and s.client_secret not in text  # type: ignore[operator]


def test_corrupt_files_are_ignored(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    s = settings()
    for junk in (
        b"",
        b"{not json",
        b"[]",
        b'{"version": 1}',
        b"\xff\xfe",
        b'{"version":1,"verifier":null,"token":5}',
    ):
        cache.path_for(s).write_bytes(junk)
        assert cache.load(s) is None
    cache.save(s, TOKEN)  # overwrites the junk
    assert cache.load(s) == TOKEN


def test_delete_and_clear(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    cache.save(settings(), TOKEN)
    cache.save(settings(profile="work"), TOKEN)
    assert cache.delete(settings()) is True
    assert cache.delete(settings()) is False
    assert cache.load(settings(profile="work")) == TOKEN
    assert cache.clear("work") == 1
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_is_reported_without_the_token(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = TokenCache(blocker / "tokens")
    with pytest.raises(TokenCacheError, match="cannot save the token") as caught:
        cache.save(settings(), TOKEN)
    assert TOKEN.access_token not in str(caught.value)
    assert cache.load(settings()) is None


def test_a_file_that_cannot_be_removed_is_reported(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "tokens")
    path = cache.save(settings(), TOKEN)
    path.unlink()
    path.mkdir()  # a directory where the file was: unlink fails, the entry stays
    with pytest.raises(TokenCacheError, match="cannot remove"):
        cache.delete(settings())
    assert cache.delete(settings(profile="other")) is False


def test_default_dir_is_in_the_user_cache_dir(isolated_home: Path) -> None:
    path = default_cache_dir()
    assert path.parts[-2:] == ("belimo", "tokens")
    assert str(path).startswith(str(isolated_home))


def test_repr_hides_tokens() -> None:
    assert "acc-xyz" not in repr(TOKEN) and "ref-xyz" not in repr(TOKEN)
