"""Traps a newcomer fell into: each now ends in a hint, a bound or an honest message."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from belimo_cloud.cli.render import TABLE_LIMIT
from belimo_cloud.syncer import DEFAULT_SPAN
from tests.cli.conftest import Invoke, Run, one_line


def _valve(invoke: Invoke) -> str:
    result = invoke("devices", "--search", "Heizung EG", "--format", "json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)[0]["device_id"])


def test_devices_lists_a_device_never_seen(invoke: Invoke, on_emulator: str) -> None:
    rows = json.loads(invoke("devices", "--state", "all", "--format", "json").stdout)
    never = [row for row in rows if row["last_seen"] is None]
    assert never, "the demo fleet holds a device that never connected"
    table = invoke("devices", "--state", "all")
    assert table.exit_code == 0, table.output
    assert "this is a bug" not in table.stderr
    assert all(row["device_id"] in table.stdout for row in never)


def test_a_large_table_is_capped_with_a_hint(invoke: Invoke, on_emulator: str) -> None:
    device = _valve(invoke)
    args = ["history", device, "heating_energy,power", "--from", "2018-01-01", "--to", "2018-01-08"]
    table = invoke(*args)
    assert table.exit_code == 0, table.output
    rows = 2 * 7 * 96
    assert rows > TABLE_LIMIT
    assert f"showing the first {TABLE_LIMIT:,} of {rows:,} rows" in table.stderr
    assert "--format csv -o FILE" in table.stderr
    # Every other format carries every row.
    csv_out = invoke(*args, "--format", "csv")
    assert csv_out.exit_code == 0
    assert len(csv_out.stdout.splitlines()) == rows + 1
    assert csv_out.stderr == ""


def test_a_large_fetch_is_announced(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    device = _valve(invoke)
    result = invoke(
        "history",
        device,
        "power",
        "--from",
        "2018-01-01",
        "--to",
        "2018-04-15",
        "--resolution",
        "1m",
        "--format",
        "csv",
        "-o",
        str(tmp_path / "h.csv"),
    )
    assert "rows to fetch" in result.stderr
    assert "Narrow --from/--to" in result.stderr


def test_sync_without_a_range_is_bounded_and_prints_its_plan(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    before = datetime.now(UTC)
    result = invoke(
        "sync", "--search", "Heizung EG", "--resolution", "1h", "--store", str(tmp_path / "s.db")
    )
    assert result.exit_code == 0, result.output
    plan = next(line for line in result.stderr.splitlines() if "plan:" in line)
    start = datetime.fromisoformat(re.search(r"from (\S+)", plan)[1])  # type: ignore[index]
    assert before - DEFAULT_SPAN - timedelta(hours=1) <= start <= before - DEFAULT_SPAN
    assert result.stderr.index("plan:") < result.stderr.index("synced")


def test_data_profile_option_and_its_old_spelling(invoke: Invoke, on_emulator: str) -> None:
    new = invoke("devices", "--data-profile", "energyvalve3", "--format", "json")
    assert new.exit_code == 0, new.output
    assert new.stderr == ""
    rows = json.loads(new.stdout)
    assert rows and all(row["dataprofile"].startswith("energyvalve3/") for row in rows)
    old = invoke("devices", "--profile", "energyvalve3", "--format", "json")
    assert old.exit_code == 0, old.output
    assert json.loads(old.stdout) == rows
    warning = one_line(old.stderr)
    assert warning.startswith("warning: ") and "--data-profile" in warning
    help_text = invoke("devices", "--help").stdout
    assert "--data-profile" in help_text


@pytest.fixture
def token_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "tokens"
    monkeypatch.setenv("BELIMO_TOKEN_CACHE_DIR", str(target))
    return target


def test_login_and_logout_say_what_happened(
    invoke: Invoke, on_emulator: str, token_dir: Path
) -> None:
    login = invoke("login")
    assert login.exit_code == 0, login.output
    assert "token cached in" in login.stdout
    assert list(token_dir.iterdir())
    logout = invoke("logout")
    assert logout.exit_code == 0, logout.output
    assert "removed the cached token" in logout.stdout
    assert not list(token_dir.iterdir())
    again = invoke("logout")
    assert "had no cached token" in again.stdout


def test_login_that_cannot_cache_says_so(
    invoke: Invoke, on_emulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("BELIMO_TOKEN_CACHE_DIR", str(blocker / "tokens"))
    login = invoke("login")
    assert login.exit_code == 1
    assert "NOT cached" in login.stdout
    assert "could not cache the token" in one_line(login.stderr)


def test_a_busy_port_is_one_clear_line(run_belimo: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_belimo("emulator", "serve", "--port", str(port), timeout=60)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "already in use" in line and "--port" in line
