"""Periods, time zones and ISO weeks: boundaries, custom ranges, and clear errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from data.engine.periods import (
    parse_now,
    parse_period,
    resolve_time_zone,
    week_ends_in,
    weeks_for_period,
)
from data.errors import UserError

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2024, 5, 31, 12, 0, tzinfo=UTC)


def ms(*args: int, tz: ZoneInfo = UTC_ZONE) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)


@pytest.mark.parametrize("text", ["7d", "30d", "90d", "45d", " 30D "])
def test_last_n_days_ends_now_and_spans_n_times_24_hours(text: str) -> None:
    days = int(text.strip()[:-1])
    period = parse_period(text, NOW, BERLIN)
    assert period.end_ms == ms(2024, 5, 31, 12)
    assert period.end_ms - period.start_ms == days * 86_400_000
    assert period.days == float(days)
    assert period.label == f"Last {days} days"
    assert period.time_zone == "Europe/Berlin"


def test_custom_range_covers_first_and_last_day_in_full_in_the_zone() -> None:
    period = parse_period("2024-03-01:2024-03-31", NOW, BERLIN)
    assert period.start_ms == ms(2024, 3, 1, tz=BERLIN)
    assert period.end_ms == ms(2024, 4, 1, tz=BERLIN)
    # Berlin moved to summer time on 31 March: the month is one hour short
    assert period.days == pytest.approx(31 - 1 / 24)
    assert period.label == "2024-03-01 to 2024-03-31"


def test_a_one_day_range_is_allowed() -> None:
    period = parse_period("2024-05-01:2024-05-01", NOW, ZoneInfo("UTC"))
    assert period.end_ms - period.start_ms == 86_400_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("last month", "Unknown period"),
        ("30", "Unknown period"),
        ("-5d", "Unknown period"),
        ("", "Unknown period"),
        ("2024-05-01", "Unknown period"),
        ("0d", "at least 1d"),
        ("2024-05-31:2024-05-01", "ends before it starts"),
        ("2024-02-30:2024-03-01", "impossible date"),
    ],
)
def test_bad_periods_are_one_line_user_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as error:
        parse_period(text, NOW, BERLIN)
    assert "\n" not in str(error.value)


def test_unknown_time_zone_is_a_user_error_naming_it() -> None:
    with pytest.raises(UserError, match="Mars/Olympus"):
        resolve_time_zone("Mars/Olympus")
    with pytest.raises(UserError, match="Unknown time zone"):
        resolve_time_zone("../etc/passwd")


def test_no_zone_means_the_machine_zone_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    assert resolve_time_zone(None).key == "America/Sao_Paulo"
    monkeypatch.setenv("TZ", "Not/A_Zone")
    assert resolve_time_zone("").key  # falls back to /etc/localtime or UTC, never fails


def test_now_without_offset_is_read_in_the_zone() -> None:
    assert parse_now("2024-05-31T12:00:00", BERLIN) == datetime(2024, 5, 31, 12, tzinfo=BERLIN)
    assert parse_now(None, BERLIN) is None
    with pytest.raises(UserError, match="--now"):
        parse_now("yesterday", BERLIN)


def test_short_periods_reach_back_84_days_in_thirteen_iso_weeks() -> None:
    period = parse_period("7d", datetime(2024, 5, 29, 10, tzinfo=UTC), BERLIN)  # a Wednesday
    weeks = weeks_for_period(period, BERLIN)
    # 84 days before Wed May 29 12:00 (Berlin) is Wed Mar 6 12:00: the week of Mar 4
    assert len(weeks) == 13
    assert weeks[-1].start == "2024-05-27"
    assert weeks[0].start == "2024-03-04"
    for week in weeks:
        assert datetime.fromisoformat(week.start).weekday() == 0
    assert weeks[-1].start_ms == ms(2024, 5, 27, tz=BERLIN)
    # the week holding the switch to summer time is one hour short
    short = next(w for w in weeks if w.start == "2024-03-25")
    assert short.end_ms - short.start_ms == 7 * 86_400_000 - 3_600_000


def test_long_periods_get_every_overlapping_week() -> None:
    period = parse_period("2024-01-03:2024-05-29", NOW, ZoneInfo("UTC"))
    weeks = weeks_for_period(period, ZoneInfo("UTC"))
    assert weeks[0].start == "2024-01-01"
    assert weeks[-1].start == "2024-05-27"
    assert len(weeks) == 22
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(weeks))


def test_a_period_ending_exactly_on_monday_midnight_has_twelve_weeks_without_that_week() -> None:
    period = parse_period("2024-05-20:2024-05-26", NOW, ZoneInfo("UTC"))  # Monday to Sunday
    weeks = weeks_for_period(period, ZoneInfo("UTC"))
    # [May 27 00:00 - 84 days, May 27 00:00) = [Mar 4, May 27): exactly 12 weeks
    assert (len(weeks), weeks[0].start, weeks[-1].start) == (12, "2024-03-04", "2024-05-20")


def test_a_monday_midnight_end_across_daylight_saving_still_has_twelve_weeks() -> None:
    # [Mar 11, Apr 15) in Berlin: 84 days on the calendar before Mon Apr 15 00:00 (CEST) is
    # Mon Jan 22 00:00 (CET), 84 x 24 h minus one hour; still exactly 12 weeks
    period = parse_period("2024-03-11:2024-04-14", NOW, BERLIN)
    weeks = weeks_for_period(period, BERLIN)
    assert (len(weeks), weeks[0].start, weeks[-1].start) == (12, "2024-01-22", "2024-04-08")
    assert weeks[-1].end_ms == period.end_ms


def test_a_period_under_a_week_gets_thirteen_weeks_ending_with_its_own() -> None:
    period = parse_period("2024-05-22:2024-05-23", NOW, ZoneInfo("UTC"))  # Wed, Thu
    weeks = weeks_for_period(period, ZoneInfo("UTC"))
    # end Fri May 24 00:00; 84 days earlier Fri Mar 1 00:00, in the week of Feb 26
    assert (len(weeks), weeks[0].start, weeks[-1].start) == (13, "2024-02-26", "2024-05-20")


def test_week_ends_inside_a_period_are_mondays_at_midnight_in_the_zone() -> None:
    start, end = ms(2024, 5, 1, tz=BERLIN), ms(2024, 5, 27, tz=BERLIN)
    ends = week_ends_in(start, end, BERLIN)
    # start < week end <= end: May 27 is `end` and counts (reading 2)
    assert ends == [ms(2024, 5, day, tz=BERLIN) for day in (6, 13, 20, 27)]
    # a week end at exactly the start does not count
    assert week_ends_in(ms(2024, 5, 6, tz=BERLIN), end, BERLIN)[0] == ms(2024, 5, 13, tz=BERLIN)
