"""`belimo write` (one datapoint, checked, confirmed, audited) and `belimo jobs` (their jobs).

Exit statuses beyond exit_codes.py's, one per refusal a user must tell apart:

6   the datapoint is read-only (nothing was sent)
7   the value is out of range, length, pattern or enumeration (nothing was sent)
8   no ``public.write`` scope (the identity server or the API refused write rights)
9   the job ended FAILURE or CANCELED (``--wait``)
10  the job was not final when ``--timeout`` passed (``--wait``)
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from belimo_cloud.cli import audit
from belimo_cloud.cli.devices import find_device, profile_of
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.options import FormatOption, OutputOption, state_of
from belimo_cloud.cli.render import OutputFormat, emit, emit_record, error, note, say
from belimo_cloud.client.jobs import JobTimeout
from belimo_cloud.client.writes import (
    ReadOnlyDatapoint,
    ValueOutOfRange,
    WriteNotPermitted,
    resolve_datapoint,
)
from belimo_cloud.errors import BelimoError
from belimo_cloud.units import display_unit

if TYPE_CHECKING:
    from belimo_cloud.client import Client
    from belimo_cloud.client.jobs import Job
    from belimo_cloud.client.models import Device
    from belimo_cloud.client.writes import WriteRequest

__all__ = ["WriteStatus", "jobs", "register", "write"]


# The write statuses are part of the one exit-status table (exit_codes.py).
WriteStatus = ExitStatus

# `belimo write --wait` and `belimo jobs --wait` bound their wait alike.
_WaitTimeout = Annotated[
    float, typer.Option("--timeout", min=0.0, help="Longest --wait, in seconds.")
]


def _fail(exc: BaseException, status: int) -> NoReturn:
    error(" ".join(str(exc).split()))
    raise typer.Exit(int(status))


def _shown(value: Any, unit: str | None) -> str:
    if value is None:
        return "(unknown)"
    # Raw reals carry binary noise (89.99999999999999): ten significant digits are honest.
    text = f"{value:.10g}" if isinstance(value, float) else str(value)
    label = display_unit(unit)
    return f"{text} {label}" if label else text


def _plan(client: Client, device: Device, datapoint: str, value: str) -> WriteRequest:
    """The checked request (sends nothing); refusals exit with their own status."""
    profile = profile_of(client, device)
    try:
        dp = resolve_datapoint(profile, datapoint, device_id=device.id)
        if dp.id.split(".", 1)[0] == "metadata":
            return client.devices.set_metadata(device.id, {dp.id: value}, dry_run=True)
        return client.devices.write(device.id, {dp.id: value}, dry_run=True)
    except ReadOnlyDatapoint as exc:
        _fail(exc, WriteStatus.READ_ONLY)
    except ValueOutOfRange as exc:
        _fail(exc, WriteStatus.OUT_OF_RANGE)


def _summary(request: WriteRequest, device: Device) -> list[str]:
    lines = [f"device {device.name} ({device.id})"]
    for change in request.changes:
        name = f" ({change.name})" if change.name else ""
        lines.append(f"  {change.datapoint_id}{name}")
        lines.append(f"    current value: {_shown(change.old_value, change.unit)}")
        lines.append(f"    new value:     {_shown(change.value, change.unit)}")
    return lines


def write(  # noqa: PLR0917 - the command's documented arguments and options
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device id, serial number or display name.")],
    datapoint: Annotated[
        str, typer.Argument(help="Datapoint id, default.name or semantic name (or metadata).")
    ],
    value: Annotated[
        str,
        typer.Argument(
            help="New value, in the datapoint's unit or with one: 5, '5 K', '21 degC', true."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the exact request; send nothing.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the device confirms (or refuses) the job.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
    timeout: _WaitTimeout = 600.0,
    cancelable: Annotated[
        bool, typer.Option("--cancelable", help="Let the job be canceled (`belimo jobs --cancel`).")
    ] = False,
    mergeable: Annotated[
        bool, typer.Option("--mergeable", help="Let the server merge it with a pending job.")
    ] = False,
    audit_log: audit.AuditLogOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Write one datapoint of a device: checked against its profile, confirmed, audited."""
    state = state_of(ctx)
    out_fmt = state.format(fmt)
    tell = say if out_fmt is OutputFormat.table and state.out(output) is None else note
    with state.client() as client:
        found = find_device(client, device)
        request = _plan(client, found, datapoint, value)
        for line in _summary(request, found):
            tell(line)
        if dry_run:
            tell("dry run: this request would be sent; nothing was sent and no job created")
            tell(request.describe(client.session.base_url))
            if out_fmt is not OutputFormat.table:
                doc = {"dry_run": True, **request.as_dict()}
                doc["url"] = client.session.url(request.path)
                emit_record(doc, out_fmt, state.out(output))
            return
        if not yes:
            try:
                confirmed = typer.confirm("write it?", default=False, err=True)
            except typer.Abort:
                confirmed = False
            if not confirmed:
                raise CommandError("not confirmed; nothing was sent (--yes writes without asking)")
        _send(
            client,
            request,
            state_settings=client.settings,
            wait=wait,
            timeout=timeout,
            cancelable=cancelable,
            mergeable=mergeable,
            audit_log=audit_log,
            fmt=out_fmt,
            output=state.out(output),
        )


def _send(
    client: Client,
    request: WriteRequest,
    *,
    state_settings: Any,
    wait: bool,
    timeout: float,
    cancelable: bool,
    mergeable: bool,
    audit_log: Any,
    fmt: OutputFormat,
    output: Any,
) -> None:
    values = {c.datapoint_id: c.value for c in request.changes}
    job: Job | None = None
    outcome = "ERROR"
    problem: str | None = None
    sent = True
    try:
        if request.kind == "metadata":
            client.devices.set_metadata(request.device_id, values)
            outcome = "APPLIED"
        else:
            job = client.devices.write(
                request.device_id, values, cancelable=cancelable, mergeable=mergeable
            )
            outcome = job.state
            if wait:
                try:
                    job.wait(timeout)
                finally:
                    outcome = job.state
    except WriteNotPermitted as exc:
        outcome, problem, sent = "DENIED", " ".join(str(exc).split()), exc.sent
        _fail(exc, WriteStatus.NO_WRITE_SCOPE)
    except JobTimeout as exc:
        problem = "timeout"
        _fail(exc, WriteStatus.JOB_TIMEOUT)
    except Exception as exc:
        problem = " ".join(str(exc).split())[:300]
        raise
    finally:
        # Every write that reached the API is recorded, whatever became of it.
        if sent:
            with suppress(OSError):
                where = audit.record_write(
                    request,
                    settings=state_settings,
                    outcome=outcome,
                    job=job,
                    error=problem,
                    path=audit_log,
                )
                if problem is None:
                    note(f"audit: recorded in {where}")
    if job is None:
        note("metadata written (no job: the cloud applies metadata at once)")
        return
    emit_record(_job_row(job), fmt, output)
    if job.state in ("FAILURE", "CANCELED"):
        detail = job.info.error.message if job.info.error and job.info.error.message else ""
        error(f"job {job.id} ended {job.state}{': ' + detail if detail else ''}")
        raise typer.Exit(int(WriteStatus.JOB_FAILED))


def _job_row(job: Job, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    info = job.info
    row: dict[str, Any] = {
        "job_id": info.id,
        "device_id": job.device_id,
        "state": info.state,
        "created_at": info.created_at,
        "created_by": info.created_by.display_name or info.created_by.email
        if info.created_by
        else None,
        "confirmed_at": info.confirmed_at,
        "confirmed_by": info.confirmed_by,
        "result": info.result,
        "error": info.error.message if info.error else None,
        "cancelable": info.cancelable,
        "mergeable": info.mergeable,
    }
    if extra:
        row.update(extra)
    return row


def jobs(  # noqa: PLR0917
    ctx: typer.Context,
    job_id: Annotated[
        str | None, typer.Argument(help="A job id; without it, the jobs of recent writes.")
    ] = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel the job.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the job is final.")] = False,
    timeout: _WaitTimeout = 600.0,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many recent jobs to list.")
    ] = 20,
    audit_log: audit.AuditLogOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Show a job's state (cancel it, wait for it), or the jobs of the recent writes."""
    state = state_of(ctx)
    out_fmt = state.format(fmt)
    out = state.out(output)
    with state.client() as client:
        if job_id is None:
            if cancel or wait:
                raise CommandError("--cancel and --wait need a JOB id")
            _list_jobs(client, limit, audit_log, out_fmt, out)
            return
        job = client.jobs.get(job_id)
        devices = {r.get("job_id"): r.get("device_id") for r in audit.read(audit_log)}
        job.device_id = devices.get(job.id)
        if cancel:
            if not job.info.cancelable:
                raise CommandError(
                    f"job {job.id} is not cancelable (only writes sent with --cancelable are)"
                )
            job.cancel()
        if wait:
            try:
                job.wait(timeout)
            except JobTimeout as exc:
                _fail(exc, WriteStatus.JOB_TIMEOUT)
        emit_record(_job_row(job), out_fmt, out)
        if wait and job.state in ("FAILURE", "CANCELED") and not cancel:
            raise typer.Exit(int(WriteStatus.JOB_FAILED))


def _list_jobs(client: Client, limit: int, audit_log: Any, fmt: OutputFormat, out: Any) -> None:
    records = [r for r in audit.read(audit_log) if r.get("job_id")][-limit:]
    if not records:
        note(f"no jobs yet: no write recorded in {audit.audit_path(audit_log)}")
        return
    rows = []
    for record in records:
        state = record.get("outcome")
        try:
            state = client.jobs.get(str(record["job_id"])).state
        except BelimoError as exc:  # one unreachable job must not hide the others
            state = f"{state} (not refreshed: {type(exc).__name__})"
        rows.append(
            {
                "job_id": record["job_id"],
                "when": record.get("when"),
                "device_id": record.get("device_id"),
                "datapoint_id": record.get("datapoint_id"),
                "new_value": record.get("new_value"),
                "state": state,
            }
        )
    emit(rows, fmt, out)


PANEL = "Live values and writes"


def register(app: typer.Typer) -> None:
    """Add `belimo write` and `belimo jobs` to the app."""
    app.command("write", rich_help_panel=PANEL)(write)
    app.command("jobs", rich_help_panel=PANEL)(jobs)
