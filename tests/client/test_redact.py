"""Masking on every path: URL user info, free text, form fields, header-safe tokens."""

from __future__ import annotations

import logging

import pytest

from belimo_cloud.client.redact import (
    RedactingFilter,
    header_safe,
    redact,
    redact_text,
    redact_url,
    safe_url,
)
from belimo_cloud.config import is_secret_key


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@host.test/a", "https://****@host.test/a"),
        ("https://u:p/w@d@host.test/a?x=1", "https://****@host.test/a?x=1"),
        ("https://host.test/a", "https://host.test/a"),
        ("https://host.test/a?next=x@y", "https://host.test/a?next=x@y"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_safe_url_drops_user_info_even_from_urls_httpx_rejects() -> None:
    assert safe_url("https://u:secret@host.test/x?a=1") == "https://host.test/x?a=1"
    assert "secret" not in safe_url("https://u:secret@[bad/x")


def test_free_text_loses_credentials_and_user_info() -> None:
    text = (
        "GET http://admin:hunter2@api.test/x with Authorization: Bearer abc.def "
        "and password=pw1&client_secret=cs2"
    )
    masked = redact_text(text)
    for secret in ("hunter2", "abc.def", "pw1", "cs2"):
        assert secret not in masked
    assert "api.test/x" in masked


def test_form_fields_and_secret_like_keys() -> None:
    form = {"password": "p", "client_secret": "s", "api_key": "k", "username": "u"}
    assert redact(form) == {
        "password": "****",
        "client_secret": "****",
        "api_key": "****",
        "username": "u",
    }
    assert not is_secret_key("token_url") and not is_secret_key("token_cache_dir")
    assert is_secret_key("refresh_token") and is_secret_key("BELIMO_PASSWORD")


@pytest.mark.parametrize("token", ["a\r\nb", "a\nb", "tök", "a b", "", "\x00"])
def test_tokens_no_header_may_carry(token: str) -> None:
    assert not header_safe(token)


def test_ordinary_tokens_are_header_safe() -> None:
    assert header_safe("eyJhbGciOi.J9-_~+/=")


def test_the_filter_masks_formatted_records() -> None:
    record = logging.LogRecord(
        "belimo_cloud.client", logging.DEBUG, __file__, 1, "POST %s", ("http://u:pw@h/",), None
    )
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "POST http://****@h/"
