"""Deadlines: a budget for one client call, and a whole-exchange limit enforced on the socket.

httpx's read timeout restarts with every byte, so a server that drips one byte a second keeps a
request alive for ever. Two limits close that:

- a *budget* (``budget_scope``) bounds one client call with all its tries, backoffs and token
  renewals; scopes nest and the inner one never outlives the outer one. It runs on the clock
  the Session was given (tests pass a fake one).
- an *exchange deadline* (``exchange_deadline``) bounds one HTTP exchange from connect to the
  last body byte. ``DeadlineTransport`` plugs a network backend into httpcore that shortens
  every socket read, write and connect to the time left, so the exchange ends at its deadline
  however the bytes trickle in. It runs on the real monotonic clock, as sockets do.

Both are thread-local: each thread of a Session has its own call in progress.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore
import httpx

__all__ = [
    "Budget",
    "DeadlineTransport",
    "budget_scope",
    "carrying_budget",
    "current_budget",
    "exchange_deadline",
    "exchange_expired",
]


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Budget:
    """The end of the current call's budget on ``clock``, and how long it was."""

    end: float
    seconds: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return self.end - self.clock()


class _Local(threading.local):
    budget: Budget | None = None
    exchange_end: float | None = None
    expired: bool = False


_local = _Local()


def current_budget() -> Budget | None:
    """The budget of the call this thread is running, or None outside any scope."""
    return _local.budget


@contextlib.contextmanager
def budget_scope(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[Budget]:
    """Run the body under a budget of ``seconds`` (never longer than an enclosing scope's)."""
    outer = _local.budget
    end = clock() + seconds
    if outer is not None and outer.clock is clock:
        end = min(end, outer.end)
    budget = Budget(
        end=end, seconds=seconds if outer is None else min(seconds, outer.seconds), clock=clock
    )
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = outer


def carrying_budget(call: Callable[[], T]) -> Callable[[], T]:
    """``call`` wrapped to run under this thread's budget in whatever thread runs it.

    Worker pools use it so that a budget set around a whole command bounds their requests too.
    """
    budget = _local.budget
    if budget is None:
        return call

    def run() -> T:
        outer = _local.budget
        _local.budget = budget
        try:
            return call()
        finally:
            _local.budget = outer

    return run


@contextlib.contextmanager
def exchange_deadline(seconds: float) -> Iterator[None]:
    """Every socket operation of this thread inside the body ends ``seconds`` from now."""
    outer = _local.exchange_end
    _local.exchange_end = time.monotonic() + max(0.0, seconds)
    _local.expired = False
    try:
        yield
    finally:
        _local.exchange_end = outer


def exchange_expired() -> bool:
    """Whether the last exchange of this thread failed because its deadline passed."""
    return _local.expired


def _clamp(timeout: float | None) -> float | None:
    """The socket timeout for one operation: the caller's, shortened to the deadline."""
    end = _local.exchange_end
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        _local.expired = True
        raise httpcore.ReadTimeout("the exchange deadline passed")
    if timeout is None or left < timeout:
        return left
    return timeout


def _timed_out(exc: BaseException) -> None:
    # A timeout that hit the shortened limit is the deadline, not the per-operation timeout.
    end = _local.exchange_end
    if end is not None and time.monotonic() >= end - 1e-3:
        _local.expired = True
    raise exc


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, _clamp(timeout))
        except httpcore.ReadTimeout as exc:
            _timed_out(exc)
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._inner.write(buffer, _clamp(timeout))
        except httpcore.WriteTimeout as exc:
            _timed_out(exc)
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _clamp(timeout), local_address=local_address, socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _clamp(timeout), socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, its sockets bounded by the thread's exchange deadline.

    httpx offers no public hook for httpcore's network backend, so the pool's backend is
    wrapped after construction; should a future httpx move it, ``enforced`` turns False and
    the budget between tries still bounds every call.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        pool = getattr(self, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        self.enforced = isinstance(backend, httpcore.NetworkBackend)
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
