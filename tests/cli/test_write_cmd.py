"""`belimo write` and `belimo jobs` against the demo cloud: checks, statuses, audit, dry run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner, Result

from belimo_cloud.cli import audit, devices, write_cmd
from belimo_cloud.cli.app import BelimoGroup, _root
from belimo_cloud.client import Client
from belimo_cloud.client.auth import TokenManager
from belimo_cloud.client.models import Device
from belimo_cloud.errors import AuthError
from tests.cli.conftest import demo_env, one_line
from tests.conftest import DEMO


def make_app() -> typer.Typer:
    app = typer.Typer(cls=BelimoGroup, name="belimo", pretty_exceptions_enable=False)
    app.callback()(_root)
    devices.register(app)
    write_cmd.register(app)
    audit.register(app)
    return app


APP = make_app()


@pytest.fixture
def cloud(
    make_emulator: Callable[..., str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    url = make_emulator(seed=0, speed=60.0, rate_limit=0, job_delay=0.2)
    for key, value in demo_env(url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(audit.AUDIT_ENV_VAR, str(tmp_path / "audit.jsonl"))
    return url


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(APP, list(args), input=input)


def valve(url: str) -> Device:
    with Client(**DEMO, api_url=url, rate_limit=0, cache_tokens=False) as client:
        valves = [
            d
            for d in client.devices.list()
            if (d.dataprofile_id or "").startswith("energyvalve") and d.remote_control_enabled
        ]
    return max(valves, key=lambda d: d.health.last_seen or d.production_date or 0)


def state_value(device: str, datapoint: str) -> object:
    result = run("state", device, "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {row["datapoint_id"]: row["value"] for row in json.loads(result.stdout)}
    return rows[datapoint]


def audit_lines(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_write_wait_ends_success_and_state_shows_it(cloud: str, tmp_path: Path) -> None:
    device = valve(cloud)
    old = state_value(device.id, "evcloud.40")
    new = 12.0 if old != 12.0 else 13.0
    result = run("write", device.id, "SpDeltaT_K_Write", f"{new}", "--wait", "--yes")
    assert result.exit_code == 0, result.stderr
    assert f"current value: {old:.10g} K" in result.stdout
    assert f"new value:     {new:.10g} K" in result.stdout
    assert "SUCCESS" in result.stdout
    assert state_value(device.id, "evcloud.40") == pytest.approx(new)
    lines = audit_lines(tmp_path)
    assert len(lines) == 1
    line = lines[0]
    assert line["device_id"] == device.id and line["datapoint_id"] == "evcloud.40"
    assert line["old_value"] == old and line["new_value"] == new
    assert line["outcome"] == "SUCCESS" and line["job_id"] and line["who"]
    assert line["when"]
    jobs = run("jobs", "--format", "json")
    assert jobs.exit_code == 0, jobs.stderr
    listed = json.loads(jobs.stdout)
    assert [row["job_id"] for row in listed] == [line["job_id"]]
    assert listed[0]["state"] == "SUCCESS"
    one = run("jobs", str(line["job_id"]), "--format", "json")
    assert one.exit_code == 0, one.stderr
    assert json.loads(one.stdout)[0]["state"] == "SUCCESS"


def test_dry_run_shows_the_request_and_creates_no_job(cloud: str, tmp_path: Path) -> None:
    device = valve(cloud)
    old = state_value(device.id, "evcloud.40")
    result = run("write", device.id, "evcloud.40", "9.5", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert f"POST {cloud}/api/v3/devices/{device.id}/data" in result.stdout
    assert '"evcloud.40": 9.5' in result.stdout
    assert "nothing was sent" in result.stdout
    assert state_value(device.id, "evcloud.40") == old
    assert audit_lines(tmp_path) == []
    assert httpx.get(cloud + "/_emulator/jobs").json()["jobs"] == []
    assert run("jobs").exit_code == 0
    as_json = run("write", device.id, "evcloud.40", "9.5", "--dry-run", "-f", "json")
    assert as_json.exit_code == 0, as_json.stderr
    doc = json.loads(as_json.stdout)[0]
    assert doc["dry_run"] is True and doc["method"] == "POST"
    assert doc["url"] == f"{cloud}/api/v3/devices/{device.id}/data"
    assert doc["body"] == {
        "datapoints": {"evcloud.40": 9.5},
        "mergeable": False,
        "cancelable": False,
    }
    assert httpx.get(cloud + "/_emulator/jobs").json()["jobs"] == []


def test_refusals_have_their_own_status_and_one_line(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = valve(cloud)
    read_only = run("write", device.id, "evcloud.140", "5", "--yes")
    assert read_only.exit_code == write_cmd.WriteStatus.READ_ONLY == 6
    assert "read-only" in one_line(read_only.stderr)
    out_of_range = run("write", device.id, "evcloud.40", "500", "--yes")
    assert out_of_range.exit_code == write_cmd.WriteStatus.OUT_OF_RANGE == 7
    assert "[1.0,30.0]" in one_line(out_of_range.stderr)

    def refuse(self: TokenManager, *scopes: str) -> None:
        raise AuthError("the identity server did not grant the scope", error="insufficient_scope")

    # The demo identity server grants any scope asked for; a real one may refuse it.
    monkeypatch.setattr(TokenManager, "require_scopes", refuse)
    no_scope = run("write", device.id, "evcloud.40", "6", "--yes")
    assert no_scope.exit_code == write_cmd.WriteStatus.NO_WRITE_SCOPE == 8
    assert "public.write" in one_line(no_scope.stderr)
    assert len({read_only.exit_code, out_of_range.exit_code, no_scope.exit_code}) == 3
    assert audit_lines(tmp_path) == []  # nothing was sent

    # A client that never asks for write rights: the API itself answers 403.
    monkeypatch.setattr(TokenManager, "require_scopes", lambda self, *scopes: None)
    refused = run("write", device.id, "evcloud.40", "6", "--yes")
    assert refused.exit_code == 8
    assert "public.write" in one_line(refused.stderr)
    assert [line["outcome"] for line in audit_lines(tmp_path)] == ["DENIED"]


def test_write_asks_first(cloud: str, tmp_path: Path) -> None:
    device = valve(cloud)
    declined = run("write", device.id, "evcloud.40", "8", input="n\n")
    assert declined.exit_code == 1
    assert "not confirmed" in declined.stderr
    assert audit_lines(tmp_path) == []
    accepted = run("write", device.id, "evcloud.40", "8", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "PENDING" in accepted.stdout or "EXECUTING" in accepted.stdout
    assert len(audit_lines(tmp_path)) == 1


def test_metadata_through_write_and_the_audit_command(cloud: str, tmp_path: Path) -> None:
    device = valve(cloud)
    result = run("write", device.id, "metadata.1009", "Zurich", "--yes")
    assert result.exit_code == 0, result.stderr
    assert state_value(device.id, "metadata.1009") == "Zurich"
    shown = run("audit", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert len(rows) == 1 and rows[0]["outcome"] == "APPLIED"
    assert rows[0]["new_value"] == "Zurich"


def test_a_failed_job_has_its_own_status(cloud: str, tmp_path: Path) -> None:
    device = valve(cloud)
    httpx.post(cloud + "/_emulator/jobs", json={"failNext": 1}).raise_for_status()
    result = run("write", device.id, "evcloud.40", "11", "--yes", "--wait", "--format", "json")
    assert result.exit_code == write_cmd.WriteStatus.JOB_FAILED == 9
    assert json.loads(result.stdout)[0]["state"] == "FAILURE"
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "FAILURE" in errors[0]
    assert [line["outcome"] for line in audit_lines(tmp_path)] == ["FAILURE"]


def test_jobs_cancel_and_wait(
    cloud: str, make_emulator: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    device = valve(cloud)
    slow = make_emulator(seed=0, speed=60.0, rate_limit=0, job_delay=60.0)
    for key, value in demo_env(slow).items():
        monkeypatch.setenv(key, value)
    sent = run("write", device.id, "evcloud.40", "10", "--yes", "--cancelable", "-f", "json")
    assert sent.exit_code == 0, sent.stderr
    job_id = json.loads(sent.stdout)[0]["job_id"]
    timed_out = run("jobs", job_id, "--wait", "--timeout", "0.3")
    assert timed_out.exit_code == write_cmd.WriteStatus.JOB_TIMEOUT == 10
    canceled = run("jobs", job_id, "--cancel", "-f", "json")
    assert canceled.exit_code == 0, canceled.stderr
    row = json.loads(canceled.stdout)[0]
    assert row["state"] == "CANCELED" and row["device_id"] == device.id
