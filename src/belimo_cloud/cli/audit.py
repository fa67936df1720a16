"""The local audit log of writes: one JSON line per write that was sent, appended, never edited.

Each line says when, who (user or client id, profile, API), which device and datapoint, the
old and the new value (raw, with the unit), the job and its outcome. The file lives in the
user data dir (``<data dir>/belimo/audit.jsonl``); ``--audit-log`` or ``BELIMO_AUDIT_LOG``
moves it (tests do). Lines are written with one ``write()`` on a file opened for appending,
so parallel runs never interleave inside a line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import platformdirs
import typer

from belimo_cloud.cli.options import FormatOption, OutputOption, state_of
from belimo_cloud.cli.render import emit, note

if TYPE_CHECKING:
    from belimo_cloud.client.jobs import Job
    from belimo_cloud.client.writes import WriteRequest
    from belimo_cloud.config import Settings

__all__ = [
    "AUDIT_ENV_VAR",
    "AuditLogOption",
    "append",
    "audit_path",
    "read",
    "record_write",
    "register",
    "show_audit",
]

AUDIT_ENV_VAR = "BELIMO_AUDIT_LOG"
AuditLogOption = Annotated[
    Path | None,
    typer.Option(
        "--audit-log",
        envvar=AUDIT_ENV_VAR,
        help="The audit log of writes (JSON lines). Default: <user data dir>/belimo/audit.jsonl.",
        show_default=False,
    ),
]


def audit_path(path: Path | None = None) -> Path:
    """The audit log: ``path`` when given, else ``<user data dir>/belimo/audit.jsonl``."""
    if path is not None:
        return path.expanduser()
    return Path(platformdirs.user_data_dir("belimo")) / "audit.jsonl"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def append(record: dict[str, Any], path: Path | None = None) -> Path:
    """Append one record as a JSON line; returns the file written."""
    target = audit_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, default=str, allow_nan=False) + "\n"
    # One os.write on an O_APPEND descriptor: a line is never split by another writer.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return target


def read(path: Path | None = None) -> Iterator[dict[str, Any]]:
    """The records of the audit log, oldest first (nothing when there is no log yet)."""
    target = audit_path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash must not hide the others
        if isinstance(doc, dict):
            yield doc


def who(settings: Settings) -> str:
    """The identity a write is made with: the user name, else the client id (never a secret)."""
    return settings.username or settings.client_id or "(unknown)"


def record_write(
    request: WriteRequest,
    *,
    settings: Settings,
    outcome: str,
    job: Job | None = None,
    error: str | None = None,
    path: Path | None = None,
) -> Path:
    """Append one line for a sent write (a write of several datapoints is still one line)."""
    changes = [change.as_dict() for change in request.changes]
    record: dict[str, Any] = {
        "when": _now(),
        "who": who(settings),
        "profile": settings.profile,
        "api_url": settings.api_url,
        "device_id": request.device_id,
        "kind": request.kind,
        "datapoint_id": changes[0]["datapoint_id"] if len(changes) == 1 else None,
        "name": changes[0]["name"] if len(changes) == 1 else None,
        "unit": changes[0]["unit"] if len(changes) == 1 else None,
        "old_value": changes[0]["old_value"] if len(changes) == 1 else None,
        "new_value": changes[0]["new_value"] if len(changes) == 1 else None,
        "changes": changes,
        "job_id": job.id if job is not None else None,
        "outcome": outcome,
    }
    if error:
        record["error"] = error
    return append(record, path)


def show_audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="The last N writes.")] = 20,
    audit_log: AuditLogOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Show the local audit log of writes, newest last."""
    state = state_of(ctx)
    records = list(read(audit_log))[-limit:]
    if not records:
        note(f"no writes recorded yet in {audit_path(audit_log)}")
        return
    emit(
        records,
        state.format(fmt),
        state.out(output),
        columns=_COLUMNS,
        table_columns=_TABLE_COLUMNS,
    )


_COLUMNS = (
    "when",
    "who",
    "device_id",
    "kind",
    "datapoint_id",
    "name",
    "unit",
    "old_value",
    "new_value",
    "job_id",
    "outcome",
    "error",
)
_TABLE_COLUMNS = (
    "when",
    "who",
    "device_id",
    "datapoint_id",
    "old_value",
    "new_value",
    "job_id",
    "outcome",
)


PANEL = "Live values and writes"


def register(app: typer.Typer) -> None:
    """Add `belimo audit` to the app."""
    app.command("audit", rich_help_panel=PANEL)(show_audit)
