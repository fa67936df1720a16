"""Query parameters of the read endpoints: parsing and validation into 400 answers.

All query parameters of the API are strings. Every parser here either returns a typed value or
raises ParameterError naming the parameter and the reason, which the app turns into a 400 JSON
body; nothing a client sends can reach a 500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_LIMIT = 2000
DEFAULT_LIMIT = 20
MAX_BUCKETS = 10_000
DEFAULT_POINTS = 100
MIN_RESOLUTION_S = 1
MAX_RESOLUTION_S = 7 * 86_400
AGGREGATIONS = ("last", "first", "min", "max", "avg", "sum", "count")
# Friendly spellings that clients of other time-series APIs send; answered under the canonical name.
AGGREGATION_ALIASES = {"mean": "avg", "average": "avg"}

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$", re.IGNORECASE
)
# Steps offered when a client asks for a point count: the grid MST's UI offers, then whole days.
_MAX_STEP_SEARCH = 4096
NICE_STEPS_S = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400)


class ParameterError(ValueError):
    """A query parameter the API refuses: answered 400 with the parameter and the reason."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def parse_time(name: str, raw: str, *, epoch_ms: bool = False) -> datetime:
    """An ISO-8601 time (naive means UTC) or, when allowed, epoch milliseconds; tz-aware UTC."""
    text = raw.strip()
    if not text:
        raise ParameterError(
            name, "must not be empty; give an ISO-8601 time like 2018-06-20T10:00:00Z"
        )
    if epoch_ms and re.fullmatch(r"-?\d+", text):
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ParameterError(name, f"epoch milliseconds out of range ({_clip(text)})") from None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        hint = " or epoch milliseconds" if epoch_ms else ""
        raise ParameterError(
            name, f"not an ISO-8601 time{hint} ({_clip(text)!r}); e.g. 2018-06-20T10:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ParameterError(name, f"time out of range ({_clip(text)!r})") from None


def optional_time(
    query: Mapping[str, str], name: str, *, epoch_ms: bool = False
) -> datetime | None:
    """The time parameter ``name`` when given, else None."""
    raw = query.get(name)
    return None if raw is None else parse_time(name, raw, epoch_ms=epoch_ms)


def time_range(
    query: Mapping[str, str], *, default_from: datetime, default_to: datetime
) -> tuple[datetime, datetime]:
    """``from`` (inclusive) and ``to`` (exclusive), defaulted; ``to`` must be after ``from``."""
    start = optional_time(query, "from") or default_from
    end = optional_time(query, "to") or default_to
    if end <= start:
        name = "to" if "to" in query else "from"
        raise ParameterError(
            name, f"'to' ({format_time(end)}) must be after 'from' ({format_time(start)})"
        )
    return start, end


def paging(query: Mapping[str, str]) -> tuple[int, int]:
    """``limit`` (1..2000, default 20) and ``offset`` (>= 0, default 0)."""
    limit = _integer(query, "limit", DEFAULT_LIMIT)
    if limit < 1 or limit > MAX_LIMIT:
        raise ParameterError("limit", f"must be between 1 and {MAX_LIMIT}, got {limit}")
    offset = _integer(query, "offset", 0)
    if offset < 0:
        raise ParameterError("offset", f"must not be negative, got {offset}")
    return limit, offset


def _integer(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ParameterError(name, f"not an integer ({_clip(raw)!r})") from None


def sort_direction(query: Mapping[str, str], default: str = "ASC") -> str:
    """``sortDirection``: ASC or DESC (any case)."""
    raw = query.get("sortDirection")
    if raw is None:
        return default
    value = raw.strip().upper()
    if value not in ("ASC", "DESC"):
        raise ParameterError("sortDirection", f"must be ASC or DESC, got {_clip(raw)!r}")
    return value


def sort_field(
    query: Mapping[str, str], allowed: tuple[str, ...], default: str, aliases: Mapping[str, str]
) -> str:
    """``sortBy``: one of ``allowed`` (or an alias of one)."""
    raw = query.get("sortBy")
    if raw is None:
        return default
    value = aliases.get(raw.strip(), raw.strip())
    if value not in allowed:
        raise ParameterError(
            "sortBy", f"unknown field {_clip(raw)!r}; use one of {', '.join(allowed)}"
        )
    return value


def choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    """A parameter from a fixed list (compared case-insensitively, answered in canonical case)."""
    raw = query.get(name)
    if raw is None:
        return default
    for option in allowed:
        if raw.strip().lower() == option.lower():
            return option
    raise ParameterError(name, f"must be one of {', '.join(allowed)}, got {_clip(raw)!r}")


def boolean(query: Mapping[str, str], name: str, default: bool) -> bool:
    """``true`` or ``false``."""
    raw = query.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ParameterError(name, f"must be true or false, got {_clip(raw)!r}")
    return value == "true"


def nonempty(query: Mapping[str, str], name: str) -> str | None:
    """A free-text filter that, when given, must not be empty."""
    raw = query.get(name)
    if raw is None:
        return None
    if not raw.strip():
        raise ParameterError(name, "must not be empty when given")
    return raw


def datapoint_ids(query: Mapping[str, str], *, required: bool) -> list[str] | None:
    """``datapointIds``: comma-separated, blanks dropped, order kept, duplicates removed."""
    raw = query.get("datapointIds")
    if raw is None:
        if required:
            raise ParameterError(
                "datapointIds", "is required: a comma-separated list of datapoint ids"
            )
        return None
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not ids and required:
        raise ParameterError("datapointIds", "must name at least one datapoint id")
    return ids


def aggregation(query: Mapping[str, str]) -> str:
    """``aggregation``: last (default), first, min, max, avg, sum or count."""
    raw = query.get("aggregation")
    if raw is None:
        return "last"
    value = raw.strip().lower()
    value = AGGREGATION_ALIASES.get(value, value)
    if value not in AGGREGATIONS:
        raise ParameterError(
            "aggregation",
            f"unknown aggregation {_clip(raw)!r}; use one of {', '.join(AGGREGATIONS)}",
        )
    return value


def parse_duration(text: str) -> int | None:
    """Seconds of ``15m``/``1h``/``1d``/``30s``/``1w`` or ISO ``PT15M``; None if not a duration."""
    found = _DURATION.match(text)
    if found:
        return int(found.group(1)) * _UNIT_SECONDS[found.group(2).lower()]
    iso = _ISO_DURATION.match(text.strip())
    if iso and any(iso.groupdict().values()):
        parts = {k: int(v or 0) for k, v in iso.groupdict().items()}
        return parts["d"] * 86_400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    return None


def format_duration(seconds: int) -> str:
    """The shortest exact spelling: 86400 -> ``1d``, 900 -> ``15m``, 90 -> ``90s``."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def bucket_count(start_s: int, end_s: int, step_s: int) -> int:
    """Grid buckets (epoch multiples of ``step_s``) touching [start_s, end_s)."""
    return -(-end_s // step_s) - start_s // step_s


@dataclass(frozen=True)
class Resolution:
    """A resolved bucket size and how it was asked for."""

    step_s: int
    buckets: int

    @property
    def text(self) -> str:
        return format_duration(self.step_s)


def resolution(query: Mapping[str, str], start_s: int, end_s: int) -> Resolution:
    """``resolution``: a duration (1s..7d) or a point count (default 100); <= 10,000 buckets."""
    raw = query.get("resolution")
    text = str(DEFAULT_POINTS) if raw is None else raw.strip()
    if re.fullmatch(r"\d+", text):
        points = int(text)
        if points < 1 or points > MAX_BUCKETS:
            raise ParameterError(
                "resolution", f"a point count must be between 1 and {MAX_BUCKETS}, got {points}"
            )
        step = _step_for_points(start_s, end_s, points)
        return Resolution(step, bucket_count(start_s, end_s, step))
    step_or_none = parse_duration(text)
    if step_or_none is None:
        raise ParameterError(
            "resolution",
            f"unknown resolution {_clip(text)!r}; give a duration like 15m, 1h, 1d "
            f"(units s, m, h, d) or a point count like 100",
        )
    step = step_or_none
    if step < MIN_RESOLUTION_S or step > MAX_RESOLUTION_S:
        raise ParameterError("resolution", f"must be between 1s and 7d, got {_clip(text)!r}")
    buckets = bucket_count(start_s, end_s, step)
    if buckets > MAX_BUCKETS:
        raise ParameterError(
            "resolution",
            f"{text} over {format_time_s(start_s)}..{format_time_s(end_s)} gives "
            f"{buckets} buckets, "
            f"more than {MAX_BUCKETS}; use a coarser resolution or a shorter range",
        )
    return Resolution(step, buckets)


def _step_for_points(start_s: int, end_s: int, points: int) -> int:
    """The smallest nice step whose grid covers [start, end) in at most ``points`` buckets."""
    for step in NICE_STEPS_S:
        if bucket_count(start_s, end_s, step) <= points:
            return step
    days = max(1, math.ceil((end_s - start_s) / points / 86_400))
    # A bucket border inside the range can't be avoided (e.g. epoch 0 inside a range from
    # 1969): past a step the size of the range the count stays at 2, so the search ends there.
    whole_range = math.ceil((end_s - start_s) / 86_400) + 1
    for _ in range(_MAX_STEP_SEARCH):
        if days >= whole_range or bucket_count(start_s, end_s, days * 86_400) <= points:
            break
        days += 1
    return days * 86_400


def format_time(moment: datetime) -> str:
    """ISO-8601 UTC with ``Z``; milliseconds only when the time has them."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    spec = "milliseconds" if naive.microsecond else "seconds"
    return naive.isoformat(timespec=spec) + "Z"


def format_time_ms(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as device and state objects carry times."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(timespec="milliseconds") + "Z"


def format_time_s(epoch_s: int) -> str:
    """Epoch seconds as ISO-8601 UTC with ``Z`` and no milliseconds."""
    return (datetime(1970, 1, 1) + timedelta(seconds=epoch_s)).isoformat(timespec="seconds") + "Z"


def to_epoch_s(moment: datetime) -> int:
    """Whole epoch seconds (floored)."""
    return math.floor(moment.timestamp())
