"""A Client's repr and its login/logout results never carry a secret."""

from __future__ import annotations

from pathlib import Path

from belimo_cloud.client import Client
from belimo_cloud.client.tokencache import CacheResult


def test_repr_masks_a_password_in_the_api_url() -> None:
    client = Client(
        client_id="id",
        client_secret="client-secret-value",
        username="u",
        password="user-password-value",
        api_url="http://user:url-password-value@127.0.0.1:1",
        cache_tokens=False,
    )
    with client:
        text = repr(client)
    assert "url-password-value" not in text
    assert "client-secret-value" not in text and "user-password-value" not in text
    assert "127.0.0.1:1" in text


def test_logout_says_whether_a_cached_token_was_removed(tmp_path: Path) -> None:
    client = Client(
        client_id="id",
        client_secret="secret",
        username="u",
        password="p",
        api_url="http://127.0.0.1:1",
        token_cache_dir=tmp_path,
    )
    with client:
        result = client.logout()
    assert isinstance(result, CacheResult)
    assert result.done is False  # nothing was cached
