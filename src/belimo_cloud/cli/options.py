"""What every command shares: global state, the common options, and parsing of user input."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from belimo_cloud import grammar
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.render import OutputFormat, warn
from belimo_cloud.errors import DataError

if TYPE_CHECKING:
    from belimo_cloud.client import Client
    from belimo_cloud.config import Settings

__all__ = [
    "DEFAULT_TZ",
    "DataProfileOption",
    "FormatOption",
    "FromOption",
    "LegacyProfileOption",
    "OutputOption",
    "State",
    "ToOption",
    "TzOption",
    "check_range",
    "data_profile",
    "not_in_future",
    "parse_number",
    "parse_resolution",
    "parse_when",
    "state_of",
    "tz_of",
]

DEFAULT_TZ = grammar.DEFAULT_TZ

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
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Start (inclusive): ISO date or time (local time in --tz if no zone), "
        "'today', or '30d' / '1h30m' (ago).",
        show_default=False,
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="End (exclusive), same forms as --from; default now.",
        show_default=False,
    ),
]
TzOption = Annotated[
    str,
    typer.Option(
        "--tz",
        help="IANA time zone of dates and times given without a zone (and of local periods).",
    ),
]
DataProfileOption = Annotated[
    str | None,
    typer.Option(
        "--data-profile",
        help="Only devices with this data profile (e.g. energyvalve3 or energyvalve3/1.2).",
        show_default=False,
    ),
]
# The old spelling, kept for one release: after a command `--profile` used to mean the data
# profile, while before the command it names the settings profile.
LegacyProfileOption = Annotated[
    str | None, typer.Option("--profile", hidden=True, show_default=False)
]


def data_profile(new: str | None, old: str | None) -> str | None:
    """The data profile from --data-profile, or from the old --profile with a warning."""
    if old is None:
        return new
    warn(
        "--profile after the command is deprecated and will be removed: use --data-profile "
        f"{old} for the data profile (a settings profile goes before the command: "
        f"belimo --profile NAME COMMAND)"
    )
    if new is not None and new != old:
        raise CommandError(f"--data-profile {new!r} and --profile {old!r} disagree; give one")
    return old


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


def parse_when(
    value: str | None, option: str, *, now: datetime | None = None, tz: str | None = None
) -> datetime | None:
    """A user's time in UTC (None stays None), in the shared grammar (``grammar.TIME_FORMS``).

    A date or time without a zone is local time in ``tz`` (default Europe/Zurich): the same
    calendar in every command and in the Python API.
    """
    zone = tz_of(tz)  # checked even without a value: a bad --tz is an error on its own
    if value is None:
        return None
    try:
        return grammar.parse_time(value, tz=zone, now=now, what=option)
    except DataError as exc:
        raise CommandError(str(exc)) from None


def tz_of(tz: str | None, option: str = "--tz") -> tzinfo:
    """The zone named by --tz (default Europe/Zurich); a usage error for an unknown name."""
    try:
        return grammar.zone(tz, what=option)
    except DataError as exc:
        raise CommandError(str(exc)) from None


def not_in_future(moment: datetime | None, option: str, *, now: datetime) -> None:
    """Refuse a time after ``now`` (a sync cannot store what has not happened)."""
    if moment is not None and moment > now + _CLOCK_SKEW:
        raise CommandError(f"{option} ({_iso(moment)}) is in the future; leave it out to mean now")


_CLOCK_SKEW = timedelta(minutes=5)


def check_range(start: datetime | None, end: datetime | None) -> None:
    """Refuse a range whose end is not after its start."""
    if start is not None and end is not None and end <= start:
        raise CommandError(
            f"--to ({_iso(end)}) must be after --from ({_iso(start)}); swap them or widen the range"
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_resolution(value: str, option: str = "--resolution") -> timedelta:
    """A bucket size such as 30s, 15m, 1h, 1d or 1h30m (the grammar the library uses too)."""
    try:
        return grammar.parse_duration(value, what=option)
    except DataError as exc:
        raise CommandError(str(exc)) from None


def parse_number(
    value: str,
    option: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """A finite number within bounds, as a usage error naming ``option`` otherwise."""
    try:
        return grammar.parse_number(
            value,
            what=option,
            minimum=minimum,
            maximum=maximum,
            exclusive_minimum=exclusive_minimum,
        )
    except DataError as exc:
        raise CommandError(str(exc)) from None


def require(condition: bool, message: str, status: ExitStatus = ExitStatus.USAGE) -> None:
    """Raise a CommandError with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CommandError(message, status)
