"""Jobs: the asynchronous outcome of a write, applied by the device on its next contact.

A write answers at once with a job in state PENDING; the device later confirms it (EXECUTING,
then SUCCESS or FAILURE), or the user cancels it (CANCELED). ``Job.wait`` polls
``GET /jobs/{id}`` with a growing interval until a final state or the timeout;
``Job.cancel`` sends ``PUT /jobs/{id}/state`` with the text ``CANCELED``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from belimo_cloud.client.decode import decode
from belimo_cloud.client.models import Ref
from belimo_cloud.errors import APIError, AuthError, BelimoError, DataError

if TYPE_CHECKING:
    from belimo_cloud.client.session import Session

__all__ = [
    "FINAL_STATES",
    "JOB_STATES",
    "Job",
    "JobError",
    "JobInfo",
    "JobTimeout",
    "Jobs",
    "job_path",
]

JOB_STATES = ("PENDING", "CANCELED", "EXECUTING", "SUCCESS", "FAILURE")
FINAL_STATES = frozenset({"CANCELED", "SUCCESS", "FAILURE"})
# Polling starts fast (a sped-up demo cloud confirms within a second) and backs off to the
# cap, so a real device that answers minutes later costs a request every few seconds only.
POLL_FIRST = 0.1  # [s]
POLL_MAX = 5.0  # [s]
DEFAULT_WAIT = 600.0  # [s] a real device applies a job on its next sync, 2-5 min later


class JobError(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Why a job failed (FAILURE only)."""

    code: str | int | None = None
    message: str | None = None


class JobInfo(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A job as ``POST /devices/{id}/data`` and ``GET /jobs/{id}`` describe it.

    ``auto_cancel_after`` is typed boolean in responses although the request sends a time.
    """

    id: str
    state: str = "PENDING"
    mergeable: bool = False
    cancelable: bool = False
    auto_cancel_after: Any = None
    created_at: datetime | None = None
    created_by: Ref | None = None
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    result: Any = None
    error: JobError | None = None


def job_path(job_id: str, *rest: str) -> str:
    """``/jobs/<id>/...`` with the id escaped."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise DataError(f"not a job id: {job_id!r}")
    return "/".join(["/jobs", quote(job_id.strip(), safe=""), *rest])


class JobTimeout(BelimoError, TimeoutError):
    """``Job.wait`` gave up before the job reached a final state; ``job`` is its last state."""

    def __init__(self, message: str, job: Job) -> None:
        super().__init__(message)
        self.job = job


class Job:
    """A handle on one job: its last known state, ``refresh()``, ``wait()`` and ``cancel()``."""

    def __init__(
        self,
        session: Session,
        info: JobInfo,
        *,
        device_id: str | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._session = session
        self.info = info
        self.device_id = device_id
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic

    @property
    def id(self) -> str:
        """The job id, e.g. "BK49oFEhYyYRYwT0"."""
        return self.info.id

    @property
    def state(self) -> str:
        """PENDING, EXECUTING, SUCCESS, FAILURE or CANCELED."""
        return self.info.state

    @property
    def done(self) -> bool:
        """Whether the job reached a final state (SUCCESS, FAILURE or CANCELED)."""
        return self.info.state in FINAL_STATES

    @property
    def succeeded(self) -> bool:
        """Whether the device confirmed the job (SUCCESS)."""
        return self.info.state == "SUCCESS"

    @property
    def result(self) -> Any:
        """What the device answered (SUCCESS only), e.g. "ok"."""
        return self.info.result

    @property
    def error(self) -> JobError | None:
        """Why the job failed (FAILURE only)."""
        return self.info.error

    def refresh(self) -> Job:
        """Fetch the job's current state (``GET /jobs/{id}``); returns self."""
        body = self._session.get_bytes(job_path(self.id))
        self.info = decode(body, JobInfo, "job")
        return self

    def wait(self, timeout: float | None = DEFAULT_WAIT, *, poll: float = POLL_MAX) -> Job:
        """Poll until the job is final; returns self (check ``state``).

        ``timeout`` [s] bounds the wait (None waits for ever); past it JobTimeout is raised,
        carrying the job's last state. ``poll`` [s] caps the interval between polls.
        """
        deadline = None if timeout is None else self._clock() + max(0.0, timeout)
        interval = min(POLL_FIRST, poll)
        while not self.done:
            if deadline is not None:
                left = deadline - self._clock()
                if left <= 0:
                    raise JobTimeout(
                        f"job {self.id} is still {self.state} after {timeout:g} s; "
                        f"check it later with `belimo jobs {self.id}`",
                        self,
                    )
                self._sleep(min(interval, left))
            else:
                self._sleep(interval)
            interval = min(poll, interval * 2)
            self.refresh()
        return self

    def cancel(self) -> Job:
        """Ask the server to cancel the job (only cancelable, not yet final jobs); returns self.

        Cancelling is a write: it needs ``public.write`` (WriteNotPermitted otherwise).
        The server's refusal (a job that is not cancelable or already final) raises its
        APIError; the state is refreshed afterwards either way.
        """
        from belimo_cloud.client.writes import require_write_scope, write_refusal

        require_write_scope(self._session)
        try:
            self._session.request(
                "PUT",
                job_path(self.id, "state"),
                content=b"CANCELED",
                headers={"Content-Type": "text/plain"},
            )
        except (AuthError, APIError) as exc:
            refusal = write_refusal(exc)
            if refusal is not None:
                raise refusal from None
            raise
        finally:
            self.refresh()
        return self

    def as_dict(self) -> dict[str, Any]:
        """The job as plain JSON-ready values (API field names)."""
        doc: dict[str, Any] = msgspec.to_builtins(self.info)
        if self.device_id is not None:
            doc["deviceId"] = self.device_id
        return doc

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, state={self.state!r})"


class Jobs:
    """``client.jobs``: look up a job by id (writes return their own Job)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, job_id: str) -> Job:
        """The job with this id, its state fetched now; NotFound when unknown."""
        body = self._session.get_bytes(job_path(job_id))
        return Job(self._session, decode(body, JobInfo, "job"))

    def from_info(self, info: JobInfo, device_id: str | None = None) -> Job:
        """A Job handle around an already decoded job (a write's answer)."""
        return Job(self._session, info, device_id=device_id)
