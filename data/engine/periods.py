"""Periods (`7d`, `30d`, `90d`, any `Nd`, `YYYY-MM-DD:YYYY-MM-DD`), time zones and ISO weeks.

A period is the half-open interval `[start_ms, end_ms)` in epoch milliseconds. "Last N days"
is `[now - N x 24 h, now)`; a custom range covers its first and last day in full, in the zone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from data.errors import UserError
from data.jira.jira_parser import EPOCH, to_ms

MS_DAY = 86_400_000
#: The weekly series reaches back at least this many days before the period's end
#: (METRICS.md revision 3, reading 1): 12 ISO weeks, 13 rows when the end is not a Monday 00:00.
TREND_DAYS = 84

#: The longest period computed (10 years): a request can never make the server work for minutes.
MAX_PERIOD_DAYS = 3653
#: Custom ranges must lie in these years (the metrics' data cannot be outside them).
FIRST_YEAR, LAST_YEAR = 1970, 2200
_MAX_PERIOD_TEXT = 64

_LAST_N_DAYS = re.compile(r"(\d{1,9})\s*d", re.IGNORECASE)
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*:\s*(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Period:
    """`[start_ms, end_ms)` with the label shown, the zone's name and the exact length in days."""

    start_ms: int
    end_ms: int
    label: str
    time_zone: str
    days: float


@dataclass(frozen=True)
class Week:
    """One ISO week `[start_ms, end_ms)` in a zone; `start` is its Monday as `YYYY-MM-DD`."""

    start: str
    start_ms: int
    end_ms: int


def _local_zone_name() -> str:
    """The machine's IANA zone: `$TZ` when it names one, else the system's setting as
    `tzlocal` reads it (Windows registry, /etc/localtime, /etc/timezone, ...), else UTC."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env and _is_zone(env):
        return env
    try:
        name = tzlocal.get_localzone_name() or ""
    except Exception:  # tzlocal raises several kinds on an odd system set-up; UTC then
        name = ""
    return name if name and _is_zone(name) else "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def resolve_time_zone(name: str | None) -> ZoneInfo:
    """The zone for `name`, or the machine's local zone for None/empty; UserError if unknown."""
    if name is None or not str(name).strip():
        return ZoneInfo(_local_zone_name())
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC."
        ) from None


def parse_now(text: str | None, tz: ZoneInfo) -> datetime | None:
    """`--now` as an aware datetime (no offset: read in `tz`); None when not given."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"Cannot read --now {text!r}: use ISO 8601, e.g. 2024-05-31T12:00:00+02:00."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def local_midnight_ms(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of 00:00 on `day` in `tz`."""
    return to_ms(datetime.combine(day, time(0, 0), tzinfo=tz))


def local_date(ms: int, tz: ZoneInfo) -> date:
    """The calendar day of an instant in `tz`."""
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(tz).date()


def iso_text(ms: int, tz: ZoneInfo) -> str:
    """An instant as ISO 8601 with the zone's offset."""
    return datetime.fromtimestamp(ms / 1000, tz).isoformat()


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """Parse `Nd` or `YYYY-MM-DD:YYYY-MM-DD` into a Period; UserError for anything else.

    Periods longer than MAX_PERIOD_DAYS (10 years) are refused: that bounds the work and the
    memory of every request, whatever a caller sends."""
    if text is not None and not isinstance(text, str):
        raise UserError("The period must be text such as 30d or 2024-05-01:2024-05-31.")
    raw = (text or "").strip()
    if len(raw) > _MAX_PERIOD_TEXT:
        raise UserError("Unknown period: use 7d, 30d, 90d, any Nd, or YYYY-MM-DD:YYYY-MM-DD.")
    if now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    match = _LAST_N_DAYS.fullmatch(raw)
    if match:
        n_days = int(match.group(1))
        if n_days < 1:
            raise UserError(f"Period {raw!r} is empty: use at least 1d.")
        if n_days > MAX_PERIOD_DAYS:
            raise UserError(_too_long(raw))
        end = to_ms(now)
        return Period(end - n_days * MS_DAY, end, f"Last {n_days} days", tz.key, float(n_days))
    match = _RANGE.fullmatch(raw)
    if not match:
        raise UserError(
            f"Unknown period {raw!r}: use 7d, 30d, 90d, any Nd, or YYYY-MM-DD:YYYY-MM-DD."
        )
    try:
        first, last = (date.fromisoformat(part) for part in match.groups())
    except ValueError:
        raise UserError(f"Period {raw!r} holds an impossible date.") from None
    if last < first:
        raise UserError(f"Period {raw!r} ends before it starts: put the earlier date first.")
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise UserError(f"Period {raw!r} must lie between {FIRST_YEAR} and {LAST_YEAR}.")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise UserError(_too_long(raw))
    start = local_midnight_ms(first, tz)
    end = local_midnight_ms(last + timedelta(days=1), tz)
    label = f"{first.isoformat()} to {last.isoformat()}"
    return Period(start, end, label, tz.key, (end - start) / MS_DAY)


def _too_long(raw: str) -> str:
    return f"Period {raw!r} is longer than 10 years ({MAX_PERIOD_DAYS} days): choose a shorter one."


def week_start_day(ms: int, tz: ZoneInfo) -> date:
    """The Monday (in `tz`) of the ISO week holding an instant."""
    day = local_date(ms, tz)
    return day - timedelta(days=day.weekday())


def weeks_for_period(period: Period, tz: ZoneInfo) -> list[Week]:
    """Every ISO week overlapping `[min(start, end - 84 days), end)`, oldest first (reading 1).

    The 84 days are counted on the zone's calendar (the same wall-clock time 12 weeks
    earlier), so a period ending on a Monday 00:00 has 12 rows and any other 13, DST or not."""
    local_end = (EPOCH + timedelta(milliseconds=period.end_ms)).astimezone(tz)
    reach = to_ms(local_end - timedelta(days=TREND_DAYS))  # aware arithmetic: wall clock
    first_monday = week_start_day(min(period.start_ms, reach), tz)
    last_monday = week_start_day(period.end_ms - 1, tz)
    count = (last_monday - first_monday).days // 7 + 1
    mondays = [first_monday + timedelta(days=7 * index) for index in range(count)]
    edges = [local_midnight_ms(day, tz) for day in [*mondays, last_monday + timedelta(days=7)]]
    return [
        Week(monday.isoformat(), edges[index], edges[index + 1])
        for index, monday in enumerate(mondays)
    ]


def week_ends_in(start_ms: int, end_ms: int, tz: ZoneInfo) -> list[int]:
    """Week ends (Monday 00:00 in `tz`) with `start < week end <= end`, oldest first
    (reading 2: a week ending exactly at the period's end counts, one at its start does not)."""
    monday = week_start_day(start_ms, tz)
    ends: list[int] = []
    while True:
        moment = local_midnight_ms(monday, tz)
        if moment > end_ms:
            return ends
        if moment > start_ms:
            ends.append(moment)
        monday += timedelta(days=7)
