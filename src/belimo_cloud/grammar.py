"""What users type, read one way everywhere: times, durations and numbers.

The library (``client.timeutil``) and the command line (``cli.options``) both call these
functions, so ``1h30m``, ``7d`` or ``2018-01-01`` mean the same in Python and in a shell.

The calendar rule: a date or time without a zone is local time in ``tz`` (default
``Europe/Zurich``, see DEFAULT_TZ); ``2018-01-01`` is local midnight, which is what a user means
by "January". A time with a zone (``Z``, ``+01:00``) or epoch milliseconds is absolute.

Every input is bounded: times lie in [MIN_TIME, MAX_TIME), durations within MAX_DURATION,
numbers are finite. Anything else raises DataError with one line that names the input (cut
short when long) and says what to write instead.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from belimo_cloud.errors import DataError

__all__ = [
    "DEFAULT_TZ",
    "DURATION_FORMS",
    "MAX_DURATION",
    "MAX_TIME",
    "MIN_TIME",
    "TIME_FORMS",
    "parse_duration",
    "parse_number",
    "parse_time",
    "shown",
    "zone",
]

DEFAULT_TZ = "Europe/Zurich"
# The API counts in epoch milliseconds and no building had a cloud before 1970; the far end keeps
# every arithmetic on a time (a day on each side, a zone offset) inside what datetime can hold.
MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2200, 1, 1, tzinfo=UTC)
MAX_DURATION = timedelta(days=366 * 100)
TIME_FORMS = (
    "an ISO date or time (2018-01-01, 2018-01-01T06:00, 2018-01-01T05:00:00Z), "
    "now, today, or 7d / 1h30m (ago)"
)
DURATION_FORMS = "a number and a unit, such as 30s, 15m, 1h, 1d, 1w or 1h30m"

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
# ASCII digits only: \d would let Arabic-Indic or full-width digits through to int().
_PART = re.compile(r"([0-9]+)\s*([a-z]+)")
_DURATION = re.compile(r"^(?:[0-9]+\s*[a-z]+\s*)+$")
_AGO = re.compile(r"\s*ago$")
_MAX_DIGITS = 12  # far beyond MAX_DURATION in any unit, far below int()'s digit limit
_SHOWN = 40
_MAX_EPOCH_MS = (MAX_TIME - MIN_TIME) // timedelta(milliseconds=1)


def shown(value: object) -> str:
    """An input as quoted in a message: repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 5] + "...'"


def _fail(what: str, value: object, advice: str) -> DataError:
    return DataError(f"{what}: {shown(value)} {advice}")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(tz: str | tzinfo | None = None, *, what: str = "--tz") -> tzinfo:
    """The time zone called ``tz`` (an IANA name such as Europe/Zurich), default DEFAULT_TZ."""
    if tz is None:
        tz = DEFAULT_TZ
    if isinstance(tz, tzinfo):
        return tz
    name = str(tz).strip()
    if not name.isascii() or not name or len(name) > 64:
        raise _fail(what, tz, "is not a time zone; use an IANA name such as Europe/Zurich or UTC")
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _fail(
            what, tz, "is not a time zone; use an IANA name such as Europe/Zurich or UTC"
        ) from None


def _duration_seconds(text: str) -> int | None:
    """Seconds of a duration such as 1h30m, None when ``text`` is not one; bounded."""
    if not _DURATION.match(text):
        return None
    seconds = 0
    for number, unit in _PART.findall(text):
        if unit not in _UNITS:
            return None
        if len(number.lstrip("0")) > _MAX_DIGITS:
            return -1
        seconds += int(number) * _UNITS[unit]
    return seconds


def parse_duration(
    value: object,
    *,
    what: str = "duration",
    minimum: timedelta = timedelta(seconds=1),
    maximum: timedelta = MAX_DURATION,
) -> timedelta:
    """A duration: "30s", "15m", "1h", "1d", "1w", "1h30m" (or a timedelta), in whole seconds.

    Refused: no unit, an unknown unit, zero or less than ``minimum``, more than ``maximum``,
    fractions of a second.
    """
    if isinstance(value, timedelta):
        td = timedelta(seconds=value.total_seconds())  # pandas Timedelta -> plain timedelta
    elif isinstance(value, str):
        text = value.strip().lower()
        seconds = _duration_seconds(text) if text.isascii() else None
        if seconds is None:
            raise _fail(what, value, f"is not a duration; use {DURATION_FORMS}")
        if seconds < 0 or seconds > maximum.total_seconds():
            raise _fail(what, value, f"is too long; the most is {_describe(maximum)}")
        td = timedelta(seconds=seconds)
    else:
        raise _fail(what, value, f"is not a duration; use {DURATION_FORMS}")
    if td.microseconds:
        raise _fail(what, value, "is not whole seconds; use s, m, h, d or w")
    if td < minimum or td <= timedelta(0):
        raise _fail(what, value, f"is too short; the least is {_describe(minimum)}")
    if td > maximum:
        raise _fail(what, value, f"is too long; the most is {_describe(maximum)}")
    return td


def _describe(td: timedelta) -> str:
    seconds = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_time(
    value: object,
    *,
    tz: str | tzinfo | None = None,
    now: datetime | None = None,
    what: str = "time",
) -> datetime:
    """A moment in UTC from what a user writes or holds.

    Strings: ISO 8601 date or date-time, "now", "today" (local midnight), or a duration ago
    ("7d", "1h30m", "7d ago"). Objects: datetime (pandas Timestamp too), date, epoch
    milliseconds (int or float). Without a zone, a date or time is local time in ``tz``
    (default DEFAULT_TZ). The result lies in [MIN_TIME, MAX_TIME).
    """
    current = now if now is not None else datetime.now(UTC)
    if isinstance(value, bool):
        raise _fail(what, value, f"is not a time; use {TIME_FORMS}")
    if isinstance(value, datetime):
        moment: datetime = value
        if hasattr(moment, "to_pydatetime"):  # pandas Timestamp: drop nanoseconds explicitly
            moment = moment.to_pydatetime(warn=False)
        return _bounded(_localize(moment, tz, what, value), what, value)
    if isinstance(value, date):
        midnight = datetime(value.year, value.month, value.day)
        return _bounded(_localize(midnight, tz, what, value), what, value)
    if isinstance(value, int | float):
        if not 0 <= value < _MAX_EPOCH_MS:  # NaN fails this too
            raise _fail(what, value, _range_advice())
        return MIN_TIME + timedelta(milliseconds=float(value))
    if isinstance(value, str):
        return _bounded(_parse_text(value, tz, current, what), what, value)
    raise _fail(what, value, f"is not a time; use {TIME_FORMS}")


def _parse_text(value: str, tz: str | tzinfo | None, current: datetime, what: str) -> datetime:
    text = value.strip()
    lowered = text.lower()
    if not text.isascii() or not text:
        raise _fail(what, value, f"is not a time; use {TIME_FORMS}")
    if lowered == "now":
        return current.astimezone(UTC)
    if lowered in ("today", "yesterday"):
        local = current.astimezone(zone(tz))
        day = local.date() - timedelta(days=1 if lowered == "yesterday" else 0)
        return _localize(datetime(day.year, day.month, day.day), tz, what, value)
    ago = _AGO.sub("", lowered)
    seconds = _duration_seconds(ago)
    if seconds is not None:
        if seconds < 0 or seconds > MAX_DURATION.total_seconds():
            limit = _describe(MAX_DURATION)
            raise _fail(what, value, f"reaches too far back; the most is {limit}")
        return current.astimezone(UTC) - timedelta(seconds=seconds)
    if len(text) > 40:
        raise _fail(what, value, f"is not a time; use {TIME_FORMS}")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            parsed = datetime(day.year, day.month, day.day)
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise _fail(what, value, f"is not a time; use {TIME_FORMS}") from None
    return _localize(parsed, tz, what, value)


def _localize(moment: datetime, tz: str | tzinfo | None, what: str, value: object) -> datetime:
    try:
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=zone(tz))
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _fail(what, value, _range_advice()) from None


def _bounded(moment: datetime, what: str, value: object) -> datetime:
    if not MIN_TIME <= moment < MAX_TIME:
        raise _fail(what, value, _range_advice())
    return moment


def _range_advice() -> str:
    return (
        f"is out of range; times lie between {MIN_TIME.date().isoformat()} "
        f"and {MAX_TIME.date().isoformat()}"
    )


def parse_number(
    value: object,
    *,
    what: str = "number",
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
    exclusive_minimum: bool = False,
) -> float:
    """A finite number (an integer when ``integer``) within [minimum, maximum].

    ``exclusive_minimum`` makes the bound strict (a rate or a timeout must be above 0).
    Returns a float, or an int-valued float when ``integer`` (use int() on it).
    """
    if isinstance(value, bool):
        raise _fail(what, value, "is not a number")
    if isinstance(value, int | float):
        number = float(value) if not isinstance(value, int) or abs(value) < 1e300 else math.inf
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if not text.isascii() or not text or len(text) > 40:
            raise _fail(what, value, "is not a number")
        try:
            number = float(text)
        except ValueError:
            raise _fail(what, value, "is not a number") from None
    else:
        raise _fail(what, value, "is not a number")
    if not math.isfinite(number):
        raise _fail(what, value, "is not a finite number")
    if integer and not number.is_integer():
        raise _fail(what, value, "is not a whole number")
    low_fail = minimum is not None and (
        number <= minimum if exclusive_minimum else number < minimum
    )
    if low_fail or (maximum is not None and number > maximum):
        raise _fail(what, value, f"is out of range; {_bounds(minimum, maximum, exclusive_minimum)}")
    return number


def _bounds(minimum: float | None, maximum: float | None, exclusive: bool) -> str:
    low = "" if minimum is None else f"{'above' if exclusive else 'at least'} {minimum:g}"
    high = "" if maximum is None else f"at most {maximum:g}"
    return "use a number " + " and ".join(part for part in (low, high) if part)
