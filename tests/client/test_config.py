"""Settings resolution: arguments > environment > config profile > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from belimo_cloud.config import (
    DEFAULT_API_URL,
    DEFAULT_TOKEN_URL,
    DEMO_API_URL,
    DEMO_CREDENTIALS,
    ENV_VARS,
    Settings,
    config_path,
    demo_settings,
    load_settings,
)
from belimo_cloud.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_env(tmp_path: Path) -> None:
    s = load_settings(env={}, config_file=tmp_path / "absent.toml")
    assert s == Settings()
    assert (s.api_url, s.token_url, s.profile) == (DEFAULT_API_URL, DEFAULT_TOKEN_URL, "default")
    assert s.rate_limit == 2.0


def test_demo_profile_works_without_a_file(tmp_path: Path) -> None:
    s = load_settings("demo", env={}, config_file=tmp_path / "absent.toml")
    assert s.api_url == DEMO_API_URL
    assert s.token_url == DEMO_API_URL + "/oauth/token"
    assert s.client_id == DEMO_CREDENTIALS["client_id"]
    assert s.client_secret == DEMO_CREDENTIALS["client_secret"]
    assert s.username == DEMO_CREDENTIALS["username"]
    assert s.password == DEMO_CREDENTIALS["password"]
    assert s.profile == "demo"


def test_demo_settings_match_the_demo_profile_and_cache_no_token(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9999"
    loaded = load_settings("demo", env={}, config_file=tmp_path / "absent.toml", api_url=url)
    built = demo_settings(url, rate_limit=20.0, max_workers=2)
    assert built.cache_tokens is False
    assert (built.rate_limit, built.max_workers) == (20.0, 2)
    same = ("client_id", "client_secret", "username", "password", "api_url", "token_url")
    assert {k: getattr(built, k) for k in same} == {k: getattr(loaded, k) for k in same}
    assert built.profile == loaded.profile == "demo"


def test_file_entry_overrides_the_demo_profile(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[profiles.demo]\napi_url = "http://127.0.0.1:9999"\n')
    s = load_settings("demo", env={}, config_file=cfg)
    assert s.api_url == "http://127.0.0.1:9999"
    assert s.token_url == "http://127.0.0.1:9999/oauth/token"
    assert s.username == DEMO_CREDENTIALS["username"]


def test_precedence_arguments_env_file_defaults(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.toml",
        '[profiles.work]\nclient_id = "file-id"\nclient_secret = "file-secret"\n'
        'username = "file-user"\nscope = "public.read"\nrate_limit = 1.5\ntimeout = 10\n',
    )
    env = {"BELIMO_CLIENT_ID": "env-id", "BELIMO_USERNAME": "env-user", "BELIMO_RATE_LIMIT": "0"}
    s = load_settings("work", env=env, config_file=cfg, username="arg-user", client_secret=None)
    assert s.client_id == "env-id"  # env beats file
    assert s.username == "arg-user"  # argument beats env
    assert s.client_secret == "file-secret"  # None argument does not override
    assert s.scope == "public.read"  # file beats default
    assert s.rate_limit == 0.0
    assert s.timeout == 10.0
    assert s.audience == "https://api.cloud.belimo.com/"
    assert s.profile == "work"


def test_every_documented_env_var_is_read(tmp_path: Path) -> None:
    def value(name: str) -> str:
        return f"https://v-{name}.test" if name.endswith("_url") else f"v-{name}"

    env = {var: value(name) for name, var in ENV_VARS.items()}
    s = load_settings(env=env, config_file=tmp_path / "absent.toml")
    for name in ENV_VARS:
        assert getattr(s, name) == value(name)


def test_profile_from_env_and_config_path_from_env(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[profiles.other]\nclient_id = "o"\n')
    env = {"BELIMO_PROFILE": "other", "BELIMO_CONFIG": str(cfg)}
    assert config_path(env) == cfg
    s = load_settings(env=env)
    assert (s.profile, s.client_id) == ("other", "o")


def test_os_environ_is_read_when_env_is_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BELIMO_CLIENT_ID", "from-os")
    monkeypatch.setenv("BELIMO_CONFIG", str(tmp_path / "none.toml"))
    assert load_settings().client_id == "from-os"


def test_default_config_path_is_in_the_user_config_dir(isolated_home: Path) -> None:
    path = config_path({})
    assert path.name == "config.toml"
    assert path.parent.name == "belimo"
    assert str(path).startswith(str(isolated_home))


def test_api_url_moves_the_token_url_unless_set(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    s = load_settings(env={}, config_file=absent, api_url="http://127.0.0.1:5000/")
    assert s.api_url == "http://127.0.0.1:5000"
    assert s.token_url == "http://127.0.0.1:5000/oauth/token"
    s = load_settings(env={}, config_file=absent, api_url="http://h", token_url="http://t/tok")
    assert s.token_url == "http://t/tok"


def test_unknown_profile_is_a_one_line_config_error(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[profiles.work]\nclient_id = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings("nope", env={}, config_file=cfg)
    assert "'nope'" in str(caught.value) and "work" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "[profiles.default\nclient_id = 1",
        'profiles = "x"',
        '[profiles]\ndefault = "not a table"',
        '[profiles.default]\nrate_limit = "fast"',
        "[profiles.default]\nclient_id = 5",
        "[profiles.default]\nmax_workers = 0",
    ],
)
def test_malformed_file_is_a_one_line_config_error(tmp_path: Path, text: str) -> None:
    cfg = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, config_file=cfg)
    assert "\n" not in str(caught.value)


def test_bad_env_value_and_unknown_override(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="BELIMO_RATE_LIMIT"):
        load_settings(env={"BELIMO_RATE_LIMIT": "lots"}, config_file=absent)
    with pytest.raises(ConfigError, match="colour"):
        load_settings(env={}, config_file=absent, colour="red")


def test_types_are_coerced(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.toml",
        '[profiles.default]\ncache_tokens = false\ntoken_cache_dir = "~/tok"\nmax_workers = 8\n',
    )
    s = load_settings(env={}, config_file=cfg)
    assert s.cache_tokens is False
    assert s.token_cache_dir == Path("~/tok").expanduser()
    assert s.max_workers == 8


def test_secrets_are_masked_and_absent_from_repr() -> None:
    s = Settings(client_id="cid", client_secret="very-secret", username="u", password="pw-123")
    assert "very-secret" not in repr(s) and "pw-123" not in repr(s)
    masked = s.masked()
    assert masked["client_secret"] == "****"
    assert masked["password"] == "****"
    assert masked["client_id"] == "cid"
    assert masked["token_cache_dir"] == "(not set)"
    assert Settings().masked()["password"] == "(not set)"


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().api_url = "x"  # type: ignore[misc]


def test_unknown_keys_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = write(tmp_path / "c.toml", '[profiles.default]\nclient_idd = "typo"\nclient_id = "a"\n')
    s = load_settings(env={}, config_file=cfg)
    assert s.client_id == "a"
    assert "client_idd" in caplog.text


def test_top_level_tables_are_profiles_too(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.toml",
        '[work]\nclient_id = "top"\n[profiles.both]\nclient_id = "nested"\n'
        '[both]\nclient_id = "ignored"\n',
    )
    assert load_settings("work", env={}, config_file=cfg).client_id == "top"
    assert load_settings("both", env={}, config_file=cfg).client_id == "nested"


@pytest.mark.parametrize(
    ("key", "text"),
    [("password", "password = 31415926535"), ("client_secret", "client_secret = [1, 2]")],
)
def test_a_rejected_secret_is_never_echoed(tmp_path: Path, key: str, text: str) -> None:
    cfg = write(tmp_path / "c.toml", f"[profiles.default]\n{text}\n")
    with pytest.raises(ConfigError, match=f"invalid value for {key}") as caught:
        load_settings(env={}, config_file=cfg)
    message = str(caught.value)
    assert "31415926535" not in message and "[1, 2]" not in message
    assert "\n" not in message


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-0.5", "1e999", "lots"])
def test_bad_timeouts_are_one_line_config_errors(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="BELIMO_TIMEOUT") as caught:
        load_settings(env={"BELIMO_TIMEOUT": value}, config_file=tmp_path / "absent.toml")
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError):
        Settings(timeout=float(value) if value != "lots" else -1.0)


@pytest.mark.parametrize("value", ["0.001", "1e-300", "5e-324"])
def test_a_rate_limit_that_would_outlast_the_budget_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="rate_limit") as caught:
        load_settings(env={"BELIMO_RATE_LIMIT": value}, config_file=tmp_path / "absent.toml")
    assert "0 for no client-side limit" in str(caught.value)


def test_rate_limit_zero_and_a_longer_budget_are_fine(tmp_path: Path) -> None:
    env = {"BELIMO_RATE_LIMIT": "0", "BELIMO_BUDGET": "1500", "BELIMO_TIMEOUT": "2.5"}
    s = load_settings(env=env, config_file=tmp_path / "absent.toml")
    assert (s.rate_limit, s.budget, s.timeout) == (0.0, 1500.0, 2.5)
    slow = load_settings(
        env={"BELIMO_RATE_LIMIT": "0.001", "BELIMO_BUDGET": "1500"},
        config_file=tmp_path / "absent.toml",
    )
    assert slow.rate_limit == 0.001


def test_userinfo_in_urls_is_masked_for_display() -> None:
    s = Settings(api_url="https://me:hunter2@api.example.test/base", token_url="https://x.test/t")
    assert s.masked()["api_url"] == "https://****@api.example.test/base"
    assert "hunter2" not in repr(s)
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"BELIMO_API_URL": "ftp://me:hunter2@host"}, config_file=None)
    assert "hunter2" not in str(caught.value)
