"""Token issuing and validation without HTTP: grants, rotation, expiry, client auth."""

from __future__ import annotations

import base64

import pytest

from belimo_cloud.emulator.auth import (
    AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    OAuthError,
    TokenAuthority,
    require_scope,
)

USERS = {"__UserPlaceHolder__": "__PasswordPlaceHolder__", "facility@example.org": "pw"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authority(ttl: float = 3600.0) -> tuple[TokenAuthority, Clock]:
    clock = Clock()
    auth = TokenAuthority(
        lambda user, password: USERS.get(user) == password,
        "__UserPlaceHolder__",
        lambda: ttl,
        clock,
    )
    return auth, clock


def password_form(**extra: str) -> dict[str, str]:
    form = {
        "grant_type": "password",
        "username": "__UserPlaceHolder__",
        "password": "__PasswordPlaceHolder__",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "audience": AUDIENCE,
        "scope": "public.read offline_access read:dataprofile",
    }
    form.update(extra)
    return form


def refused(auth: TokenAuthority, form: dict[str, str], header: str | None = None) -> OAuthError:
    with pytest.raises(OAuthError) as info:
        auth.token(form, header)
    return info.value


def test_password_grant_answers_like_auth0() -> None:
    auth, _ = authority()
    body = auth.token(password_form(), None)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "public.read offline_access read:dataprofile"
    assert isinstance(body["refresh_token"], str)
    grant = auth.validate(f"Bearer {body['access_token']}")
    assert grant.subject == "__UserPlaceHolder__"
    assert "public.read" in grant.scopes


def test_no_refresh_token_without_offline_access() -> None:
    auth, _ = authority()
    body = auth.token(password_form(scope="public.read"), None)
    assert "refresh_token" not in body
    assert body["scope"] == "public.read"


def test_basic_client_authentication() -> None:
    auth, _ = authority()
    form = password_form()
    del form["client_id"], form["client_secret"]
    header = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert auth.token(form, header)["token_type"] == "Bearer"
    wrong = "Basic " + base64.b64encode(f"{CLIENT_ID}:nope".encode()).decode()
    error = refused(auth, form, wrong)
    assert (error.status, error.error) == (401, "invalid_client")
    assert "WWW-Authenticate" in error.headers


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"password": "wrong"}, 400, "invalid_grant"),
        ({"username": "nobody@example.org"}, 400, "invalid_grant"),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"username": ""}, 400, "invalid_request"),
        ({"audience": "https://example.org/"}, 400, "access_denied"),
    ],
)
def test_refusals(change: dict[str, str], status: int, error: str) -> None:
    auth, _ = authority()
    found = refused(auth, password_form(**change))
    assert (found.status, found.error) == (status, error)
    assert found.body()["error_description"]
    assert "__PasswordPlaceHolder__" not in found.description


def test_missing_client_is_invalid_client() -> None:
    auth, _ = authority()
    form = password_form()
    del form["client_id"], form["client_secret"]
    assert refused(auth, form).error == "invalid_client"


def test_refresh_tokens_rotate() -> None:
    auth, _ = authority()
    first = auth.token(password_form(), None)
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": str(first["refresh_token"]),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    second = auth.token(refresh, None)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    again = refused(auth, refresh)
    assert (again.status, again.error) == (400, "invalid_grant")
    unknown = refused(auth, {**refresh, "refresh_token": "made-up"})
    assert unknown.error == "invalid_grant"
    assert auth.token({**refresh, "refresh_token": str(second["refresh_token"])}, None)


def test_refresh_may_narrow_but_not_widen_scope() -> None:
    auth, _ = authority()
    first = auth.token(password_form(scope="public.read offline_access"), None)
    base = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    wider = refused(
        auth, {**base, "refresh_token": str(first["refresh_token"]), "scope": "read:dataprofile"}
    )
    assert wider.error == "invalid_scope"


def test_client_credentials_act_for_the_demo_tenant() -> None:
    auth, _ = authority()
    body = auth.token(
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        None,
    )
    assert "refresh_token" not in body
    grant = auth.validate(f"Bearer {body['access_token']}")
    assert grant.subject == "__UserPlaceHolder__"
    assert grant.scopes == {"public.read", "public.write", "read:dataprofile"}


def test_tokens_expire_on_the_clock() -> None:
    auth, clock = authority(ttl=60)
    token = auth.token(password_form(), None)["access_token"]
    clock.now += 59
    assert auth.validate(f"Bearer {token}")
    clock.now += 2
    with pytest.raises(OAuthError) as info:
        auth.validate(f"Bearer {token}")
    assert (info.value.status, info.value.error) == (401, "invalid_token")
    assert "expired" in info.value.description


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer unknown-token"])
def test_bad_bearer_headers(header: str | None) -> None:
    auth, _ = authority()
    with pytest.raises(OAuthError) as info:
        auth.validate(header)
    assert (info.value.status, info.value.error) == (401, "invalid_token")


def test_expire_all_and_reset() -> None:
    auth, _ = authority()
    body = auth.token(password_form(), None)
    assert auth.expire_all() == 1
    with pytest.raises(OAuthError):
        auth.validate(f"Bearer {body['access_token']}")
    auth.reset()
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": str(body["refresh_token"]),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert refused(auth, refresh).error == "invalid_grant"


def test_require_scope() -> None:
    auth, _ = authority()
    body = auth.token(password_form(scope="public.read"), None)
    grant = auth.validate(f"Bearer {body['access_token']}")
    require_scope(grant, "public.read")
    with pytest.raises(OAuthError) as info:
        require_scope(grant, "read:dataprofile")
    assert (info.value.status, info.value.error) == (403, "insufficient_scope")
