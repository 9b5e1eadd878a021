"""When a scheduled report is due: cadences in the client's time zone, and the next due moment in UTC.

    cadence = Cadence.monthly(day="last", at="09:00", timezone="Europe/Berlin")
    next_due(cadence, after=datetime(2026, 2, 10, tzinfo=timezone.utc))   # 2026-02-28 08:00 UTC

- **weekly** on a weekday (`"monday"` … `"sunday"`, or 0–6 from Monday);
- **monthly** on a day 1–31 or `"last"`: a day the month does not have means its last day (the 31st in
  April is 30 April; the 29th, 30th and 31st in February 2027 are 28 February);
- at a local wall-clock time (`"HH:MM"`) in an IANA time zone (`zoneinfo`; the `tzdata` package supplies
  the zones where the system has none).

Daylight saving time, the same way every time: a local time that does not exist on the day the clocks go
forward (02:30 in Berlin on the last Sunday of March) is read with the offset from before the change, so
the report goes out at 03:30 summer time, as late as the skipped time (01:30 UTC); a local time that
happens twice when the clocks go back (02:30 in Berlin on the last Sunday of October) means the first of
the two. A due day is never skipped and never due twice.

A "live" schedule reports a period relative to the day it is due (`period_dates`): the last 7 or 30
complete days, last week (Monday to Sunday), last month, or the week or month to date. Only complete
days count (the due day itself is still running), so "month to date" on the 1st is the whole last month.

Expected bad input (a schedule someone typed) is refused with one sentence: `ScheduleError`, a
`UsageError`. Pure arithmetic, no database: the stored schedules and the delivery command use it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metrics.errors import UsageError

Kind = Literal["weekly", "monthly"]
LivePeriod = Literal["last_7_days", "last_30_days", "last_week", "week_to_date", "last_month", "month_to_date"]
LIVE_PERIODS: dict[str, str] = {
    "last_7_days": "Last 7 days", "last_30_days": "Last 30 days", "last_week": "Last week (Monday to Sunday)",
    "week_to_date": "Week to date", "last_month": "Last month", "month_to_date": "Month to date",
}
LAST_DAY = "last"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_RECIPIENTS = 50
# A deliverable address, plainly: one @, a dotted domain, no spaces, quotes, angle brackets or line breaks
# (which would let an address add mail headers).
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class ScheduleError(UsageError):
    """A schedule that cannot be used; the message is one sentence saying what to change."""


@dataclass(frozen=True)
class Cadence:
    """How often and when: `weekday` (0 = Monday) for weekly, `day` (1–31 or "last") for monthly, the local
    time `at` and the IANA `timezone`. Build with `weekly`, `monthly` or `from_dict` (they validate)."""

    kind: Kind
    at: time
    timezone: str
    weekday: int | None = None
    day: int | Literal["last"] | None = None

    @classmethod
    def weekly(cls, weekday: int | str, at: str | time, timezone: str) -> Cadence:
        return cls(kind="weekly", at=_parse_time(at), timezone=_check_timezone(timezone),
                   weekday=_parse_weekday(weekday))

    @classmethod
    def monthly(cls, day: int | str, at: str | time, timezone: str) -> Cadence:
        return cls(kind="monthly", at=_parse_time(at), timezone=_check_timezone(timezone), day=_parse_day(day))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Cadence:
        """A cadence from its stored form (`to_dict`); refuses anything else with one sentence."""
        if not isinstance(raw, Mapping):
            raise ScheduleError("The schedule is not a set of fields such as cadence, time and time zone.")
        kind = raw.get("cadence")
        if kind == "weekly":
            return cls.weekly(raw.get("weekday"), raw.get("time"), raw.get("timezone"))
        if kind == "monthly":
            return cls.monthly(raw.get("day"), raw.get("time"), raw.get("timezone"))
        raise ScheduleError(f"The cadence {str(kind)[:20]!r} is not weekly or monthly; pick one of them.")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cadence": self.kind, "time": self.at.strftime("%H:%M"), "timezone": self.timezone}
        if self.kind == "weekly":
            out["weekday"] = WEEKDAYS[self.weekday]  # type: ignore[index]
        else:
            out["day"] = self.day
        return out

    def describe(self) -> str:
        """'Every Monday at 09:00 (Europe/Berlin)', 'Monthly on the last day at 08:30 (America/New_York)'."""
        when = f"at {self.at:%H:%M} ({self.timezone})"
        if self.kind == "weekly":
            return f"Every {WEEKDAYS[self.weekday].capitalize()} {when}"  # type: ignore[index]
        day = "the last day" if self.day == LAST_DAY else f"day {self.day} (or the month's last day)"
        return f"Monthly on {day} {when}"


def next_due(cadence: Cadence, after: datetime) -> datetime:
    """The first moment strictly after `after` (a timezone-aware datetime) at which `cadence` is due, in UTC."""
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("`after` must be timezone-aware (UTC)")
    zone = ZoneInfo(cadence.timezone)
    local_day = after.astimezone(zone).date()
    for candidate in _candidate_days(cadence, local_day - timedelta(days=1)):
        moment = _local_moment(candidate, cadence.at, zone)
        if moment > after:
            return moment
    raise AssertionError("unreachable: a later candidate day always exists")


def _candidate_days(cadence: Cadence, start: date) -> Iterable[date]:
    """The days on or after `start` the cadence falls on, in order (enough to pass any moment)."""
    if cadence.kind == "weekly":
        first = start + timedelta(days=(cadence.weekday - start.weekday()) % 7)  # type: ignore[operator]
        for week in range(3):
            yield first + timedelta(weeks=week)
        return
    year, month = start.year, start.month
    for _ in range(3):
        yield date(year, month, _day_in_month(cadence.day, year, month))  # type: ignore[arg-type]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _day_in_month(day: int | str, year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    return last if day == LAST_DAY else min(int(day), last)


def _local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at `at` in `zone`, in UTC. fold=0 reads a skipped time with the offset from before the change
    and picks the first of a repeated time (PEP 495), which is the rule the module docstring states."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(timezone.utc)


def period_dates(period: LivePeriod, today: date) -> tuple[date, date]:
    """First and last day (inclusive) of a live report's `period` on the local day `today`: complete days
    only, so the last day is always yesterday or earlier."""
    period = check_period(period)
    yesterday = today - timedelta(days=1)
    if period == "last_7_days":
        return today - timedelta(days=7), yesterday
    if period == "last_30_days":
        return today - timedelta(days=30), yesterday
    if period == "last_week":
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if period == "week_to_date":
        return yesterday - timedelta(days=yesterday.weekday()), yesterday
    if period == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    return yesterday.replace(day=1), yesterday  # month_to_date


def check_period(value: object) -> LivePeriod:
    """A live report's period name, or one sentence saying which ones there are."""
    if value not in LIVE_PERIODS:
        raise ScheduleError(f"{str(value)[:30]!r} is not a report period; use one of "
                            f"{', '.join(LIVE_PERIODS)}.")
    return value  # type: ignore[return-value]


def period_label(period: LivePeriod) -> str:
    return LIVE_PERIODS[period]


# --- validation -----------------------------------------------------------------------------------------


def _parse_time(value: object) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = _TIME.fullmatch(str(value or "").strip())
    if match is None:
        raise ScheduleError(f"The time {str(value)[:20]!r} is not a time of day like 09:00; use 24-hour HH:MM.")
    return time(int(match.group(1)), int(match.group(2)))


def _check_timezone(value: object) -> str:
    name = str(value or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(f"{name[:60]!r} is not a time zone; use a name such as Europe/Berlin or "
                            "America/New_York.") from None
    return name


def _parse_weekday(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    text = str(value or "").strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return index
    raise ScheduleError(f"{str(value)[:20]!r} is not a weekday; use Monday to Sunday.")


def _parse_day(value: object) -> int | Literal["last"]:
    if isinstance(value, str) and value.strip().lower() == LAST_DAY:
        return LAST_DAY
    try:
        day = int(str(value).strip())
    except (TypeError, ValueError):
        day = 0
    if isinstance(value, bool) or not 1 <= day <= 31:
        raise ScheduleError(f"{str(value)[:20]!r} is not a day of the month; use 1 to 31 or last.")
    return day


def validate_address(value: object) -> str:
    """One email address, stripped; refuses anything else (display names, lists, line breaks) with one
    sentence."""
    address = str(value or "").strip()
    if len(address) > 254 or not _ADDRESS.fullmatch(address) or ".." in address:
        raise ScheduleError(f"{address[:80]!r} is not an email address like name@example.com; check it.")
    return address


def validate_recipients(values: Iterable[object]) -> tuple[str, ...]:
    """Distinct addresses in the order given: at least one, at most MAX_RECIPIENTS."""
    addresses = tuple(dict.fromkeys(validate_address(v) for v in values))
    if not addresses:
        raise ScheduleError("A schedule needs at least one recipient address.")
    if len(addresses) > MAX_RECIPIENTS:
        raise ScheduleError(f"A schedule can send to at most {MAX_RECIPIENTS} addresses; share a mailing list "
                            "address instead.")
    return addresses
