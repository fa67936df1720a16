"""Hostile input at the edge: every class of bad command line ends in one line and a status.

Generated command lines (hypothesis) and the concrete cases found by hand: out-of-range dates,
huge durations, non-ASCII and non-UTF-8 text, 100 KB arguments. None may end in a traceback
or in "this is a bug"; each must give its documented exit status.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from belimo_cloud import grammar
from belimo_cloud.errors import DataError
from tests.cli.conftest import Invoke, Run, demo_env, one_line

# Nothing listens on port 9 (discard): a command that gets past its checks fails fast with 5.
UNREACHABLE = {
    "BELIMO_API_URL": "http://127.0.0.1:9",
    "BELIMO_TOKEN_URL": "http://127.0.0.1:9/oauth/token",
    "BELIMO_CLIENT_ID": "x",
    "BELIMO_CLIENT_SECRET": "x",
    "BELIMO_USERNAME": "x",
    "BELIMO_PASSWORD": "x",
    "BELIMO_TIMEOUT": "1",
    "BELIMO_BUDGET": "2",
    "BELIMO_RATE_LIMIT": "0",
}
STATUSES = {0, 1, 2, 3, 4, 5}

hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "1969-12-31T23:59:59Z",
            "99999999999999999999d",
            "9" * 5000 + "d",
            "1e309",
            "nan",
            "-1h",
            "0s",
            "１ｈ",
            "٢٠١٨-٠١-٠١",
            "2018-01-01T25:00",
            "2018-02-30",
            "\udcff\udcfe",
            "x" * 100_000,
            "now",
            "Mars/Olympus",
            "../../etc/passwd",
        ]
    ),
)


@given(value=st.one_of(hostile_text, st.integers(), st.floats(), st.none(), st.booleans()))
@settings(max_examples=300, deadline=None)
def test_the_grammar_raises_only_data_error(value: object) -> None:
    for parse in (grammar.parse_time, grammar.parse_duration, grammar.parse_number):
        try:
            parse(value)
        except DataError as exc:
            message = str(exc)
            assert "\n" not in message
            assert len(message) < 400
    with contextlib.suppress(DataError):
        grammar.zone(value if isinstance(value, str) else None)


@given(text=st.text(max_size=20))
@settings(max_examples=200, deadline=None)
def test_a_parsed_duration_is_bounded(text: str) -> None:
    try:
        td = grammar.parse_duration(text)
    except DataError:
        return
    assert timedelta(seconds=1) <= td <= grammar.MAX_DURATION


def _command_lines() -> st.SearchStrategy[list[str]]:
    time_option = st.tuples(st.sampled_from(["--from", "--to"]), hostile_text)
    history = st.tuples(
        st.just(["history", "dev", "heating_energy"]),
        st.lists(
            st.one_of(
                time_option,
                st.tuples(st.sampled_from(["-r", "--resolution"]), hostile_text),
                st.tuples(st.just("--tz"), hostile_text),
                st.tuples(st.just("--aggregation"), hostile_text),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    sync = st.tuples(
        st.just(["sync"]),
        st.lists(
            st.one_of(time_option, st.tuples(st.just("--resolution"), hostile_text)),
            min_size=1,
            max_size=3,
        ),
    )
    export = st.tuples(st.just(["export", "-o", "/nonexistent/x.csv"]), st.lists(time_option))
    return st.one_of(history, sync, export).map(
        lambda pair: [*pair[0], *(part for option in pair[1] for part in option)]
    )


@given(argv=_command_lines())
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_generated_command_lines_end_in_one_line_and_a_status(
    argv: list[str], invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in UNREACHABLE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BELIMO_TOKEN_CACHE_DIR", str(tmp_path))
    result = invoke(*argv)
    assert result.exit_code in STATUSES, result.output
    assert "this is a bug" not in result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code:
        assert one_line(result.stderr).startswith("error: ")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--from", "0001-01-01", "--to", "9999-12-31"], "out of range"),
        (["--resolution", "99999999999999999999d"], "too long"),
        (["--from", "x" * 100_000], "100,000 characters long"),
        (["--from", "x" * 4000], "is not a time"),
        (["--from", "2018\x00"], "NUL"),
        (["--from", "2018-01-01\udcff"], "not valid UTF-8"),
        (["--from", "２０１８-０１-０１"], "is not a time"),
        (["--tz", "Mars/Olympus"], "not a time zone"),
    ],
)
def test_bad_history_input_is_one_usage_line(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, argv: list[str], needle: str
) -> None:
    for key, value in UNREACHABLE.items():
        monkeypatch.setenv(key, value)
    result = invoke("history", "dev", "heating_energy", *argv)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert needle in line
    assert len(line) < 400  # a 100 KB argument is quoted cut short


def test_a_value_too_long_for_a_url_is_refused_at_the_edge(
    invoke: Invoke, on_emulator: str
) -> None:
    for argv in (["devices", "--search", "x" * 5000], ["profile", "p" * 5000]):
        result = invoke(*argv)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert "characters long" in line and len(line) < 200


def test_sync_refuses_a_future_end(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in UNREACHABLE.items():
        monkeypatch.setenv(key, value)
    result = invoke("sync", "--to", "2100-01-01")
    assert result.exit_code == 1
    assert "in the future" in one_line(result.stderr)


def test_non_utf8_arguments_in_a_real_process(run_belimo: Run) -> None:
    # argv bytes that are not UTF-8 arrive as surrogates; the message must still print.
    raw = [sys.executable, "-m", "belimo_cloud.cli", "history", "dev", "heating_energy"]
    args = [a.encode() for a in raw] + [b"--from", b"\xff\xfe2018"]
    done = subprocess.run(
        args, capture_output=True, timeout=60, env={**os.environ, **UNREACHABLE}, check=False
    )
    assert done.returncode == 1
    line = one_line(done.stderr.decode("utf-8", "replace"))
    assert line.startswith("error: argument 5 (")
    assert "not valid UTF-8" in line


def test_a_password_in_the_api_url_is_never_printed(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in UNREACHABLE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BELIMO_API_URL", "http://bob:31415926535@127.0.0.1:9/api/v3")
    for fmt in ("table", "json", "csv"):
        result = invoke("config", "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "31415926535" not in result.output
        assert "127.0.0.1:9" in result.stdout
    failed = invoke("-v", "stats")
    assert failed.exit_code == 5
    assert "31415926535" not in failed.output


def test_help_shows_no_bool_metavar(invoke: Invoke) -> None:
    for argv in (["--help"], ["sync", "--help"], ["export", "--help"], ["history", "--help"]):
        result = invoke(*argv)
        assert result.exit_code == 0
        assert "<bool>" not in result.stdout
        assert "UTC if no zone" not in result.stdout


def test_sigint_ignored_by_a_script_is_respected(
    run_belimo: Run, emulator_url: str, tmp_path: Path
) -> None:
    """`belimo sync &` from a script inherits SIGINT as ignored: it must finish, not crash."""
    env = {**os.environ, **demo_env(emulator_url)}
    args = [
        sys.executable,
        "-m",
        "belimo_cloud.cli",
        "sync",
        "--search",
        "Heizung EG",
        "--from",
        "2018-01-01",
        "--to",
        "2018-01-15",
        "--resolution",
        "15m",
        "--store",
        str(tmp_path / "s.duckdb"),
    ]
    child = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
    )
    try:
        for _ in range(20):
            if child.poll() is not None:
                break
            child.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.1)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "is not callable" not in err
    assert "this is a bug" not in err
    assert "synced" in out or "synced" in err
