"""What every command shares: global state, the common options, and parsing of user input."""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.render import OutputFormat

if TYPE_CHECKING:
    from belimo_cloud.client import Client
    from belimo_cloud.config import Settings

__all__ = [
    "FormatOption",
    "OutputOption",
    "State",
    "check_range",
    "parse_resolution",
    "parse_when",
    "state_of",
]

FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="Output format: table, json (a list of objects) or csv.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the output to this file instead of stdout."),
]


@dataclass
class State:
    """Global options of one `belimo` run (set by the app callback, read by every command)."""

    profile: str | None = None
    verbose: int = 0
    fmt: OutputFormat = OutputFormat.table
    output: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def format(self, fmt: OutputFormat | None) -> OutputFormat:
        """The command's --format, else the global one."""
        return fmt if fmt is not None else self.fmt

    def out(self, output: Path | None) -> Path | None:
        """The command's -o, else the global one."""
        return output if output is not None else self.output

    def settings(self, **overrides: Any) -> Settings:
        """Effective settings: options > BELIMO_* environment > config profile > defaults."""
        from belimo_cloud.config import load_settings

        return load_settings(self.profile, **{**self.overrides, **overrides})

    def client(self, **overrides: Any) -> Client:
        """A Client for the effective settings (close it, or use it as a context manager)."""
        from belimo_cloud.client import Client

        return Client.from_settings(self.settings(**overrides))


def state_of(ctx: typer.Context) -> State:
    """The run's State (a default one when a command is invoked on its own, as in tests)."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it per invocation)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def configure_logging(verbose: int) -> None:
    """-v: DEBUG logging of belimo_cloud (retries, requests) on stderr; -vv: of httpx too."""
    loggers = [logging.getLogger(name) for name in ("belimo_cloud", "httpx", "httpcore")]
    for logger in loggers:
        for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    if not verbose:
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for logger in loggers[: 1 if verbose == 1 else 3]:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


_RELATIVE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])(?:\s*ago)?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TIME_HINT = "use ISO 8601 such as 2018-01-01 or 2018-01-01T06:00:00Z, 'now', or '7d' (7 days ago)"


def parse_when(
    value: str | None, option: str, *, now: datetime | None = None, tz: str | None = None
) -> datetime | None:
    """A user's time: ISO date or date-time, 'now', 'today', or '7d' (ago); in UTC.

    A date or time without a zone is UTC, or local time in ``tz`` when given (the
    calendar commands, where 2018-01-01 means local midnight).
    """
    if value is None:
        return None
    text = value.strip()
    current = now or datetime.now(UTC)
    lowered = text.lower()
    if lowered == "now":
        return current
    if lowered == "today":
        return datetime.combine(current.date(), datetime.min.time(), UTC)
    relative = _RELATIVE.match(lowered)
    if relative:
        seconds = float(relative["n"]) * _UNIT_SECONDS[relative["unit"]]
        return current - timedelta(seconds=seconds)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            parsed = datetime(day.year, day.month, day.day)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date or time; {_TIME_HINT}") from None
    if parsed.tzinfo is None:
        zone = ZoneInfo(tz) if tz else UTC
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def check_range(start: datetime | None, end: datetime | None) -> None:
    """Refuse a range whose end is not after its start."""
    if start is not None and end is not None and end <= start:
        raise CommandError(
            f"--to ({_iso(end)}) must be after --from ({_iso(start)}); swap them or widen the range"
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_RESOLUTION = re.compile(r"^(?P<n>\d+)\s*(?P<unit>s|m|min|h|d|w)$")


def parse_resolution(value: str, option: str = "--resolution") -> timedelta:
    """A bucket size such as 15m, 1h, 1d or 30s."""
    match = _RESOLUTION.match(value.strip().lower())
    if not match or int(match["n"]) == 0:
        raise CommandError(
            f"{option}: {value!r} is not a duration; use a number and a unit, "
            "such as 30s, 15m, 1h, 1d or 7d"
        )
    unit = "m" if match["unit"] == "min" else match["unit"]
    return timedelta(seconds=int(match["n"]) * _UNIT_SECONDS[unit])


def require(condition: bool, message: str, status: ExitStatus = ExitStatus.USAGE) -> None:
    """Raise a CommandError with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CommandError(message, status)
