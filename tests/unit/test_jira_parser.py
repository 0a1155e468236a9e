"""JIRA input reading: date-times with every offset form, date-only values, payload shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from data.errors import UserError
from data.jira_parser import (
    date_only_end_ms,
    instant_ms,
    issues_from_payload,
    parse_jira_datetime,
    parse_many,
    read_input_file,
)


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-15T10:30:00.000+0000", ms(2024, 1, 15, 10, 30)),
        ("2024-01-15T10:30:00.000+05:30", ms(2024, 1, 15, 5, 0)),
        ("2024-01-15T10:30:00.000+0530", ms(2024, 1, 15, 5, 0)),
        ("2024-01-15T10:30:00.000-0800", ms(2024, 1, 15, 18, 30)),
        ("2024-01-15T10:30:00Z", ms(2024, 1, 15, 10, 30)),
        ("2024-01-15T10:30:00+0800", ms(2024, 1, 15, 2, 30)),
        ("2024-01-15T10:30:00.123+0000", ms(2024, 1, 15, 10, 30) + 123),
    ],
)
def test_jira_datetimes_become_utc_epoch_milliseconds(text: str, expected: int) -> None:
    assert parse_jira_datetime(text) == expected


def test_date_only_value_is_the_last_millisecond_of_that_day_in_the_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 15 January in Berlin (UTC+1) ends at 22:59:59.999 UTC
    assert date_only_end_ms("2024-01-15", berlin) == ms(2024, 1, 15, 22, 59, 59) + 999
    assert instant_ms("2024-07-15", berlin) == ms(2024, 7, 15, 21, 59, 59) + 999


def test_a_value_without_offset_is_read_in_the_configured_zone() -> None:
    assert instant_ms("2024-01-15T10:30:00", ZoneInfo("Asia/Kolkata")) == ms(2024, 1, 15, 5, 0)


@pytest.mark.parametrize("value", [None, "", "   ", "not a date", 17, {"value": "x"}])
def test_values_that_are_not_times_are_missing(value: object) -> None:
    assert instant_ms(value, ZoneInfo("UTC")) is None


ODD_VALUES = [
    "2024-01-15T10:30:00.000+0530",
    "2024-01-15T10:30:00.000-0800",
    "1969-12-31T23:59:59.999+0000",
    "0001-01-01T00:00:00.000+0000",
    "9999-12-31T23:59:59.999-2359",
    "2024-02-29T10:30:00.000+0000",
    "2023-02-29T10:30:00.000+0000",  # no such day
    "1900-02-29T00:00:00.000+0000",  # no such day
    "2024-13-15T10:30:00.000+0000",  # no such month
    "2024-01-15T10:30:60.000+0000",  # no 60th second
    "2024-01-15T10:30:00.000+2400",  # offset of a whole day
    "2024-01-15T10:30:00.000+0a00",
    "2024-01-15X10:30:00.000+0000",
    "\u0662024-01-15T10:30:00.000+0000",  # a non-ASCII digit
    "\u00e9024-01-15T10:30:00.000+0000",
    "2024-01-15T10:30:00.000+0000\U0001f600",
    "2024-01-15T10:30:00.000+05:30",
    "2024-01-15T10:30:00Z",
    "2024-01-15T10:30:00",
    "2024-01-15",
    "x" * 28,
    "",
    None,
    17,
]


def test_bulk_parsing_agrees_with_one_by_one_on_every_form() -> None:
    zone = ZoneInfo("Asia/Kolkata")
    step = 7_777_777_777  # about 90 days: every month, leap years, and offsets both ways
    usual = [
        datetime.fromtimestamp(moment / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment % 1000:03d}{'+' if index % 2 else '-'}{index % 24:02d}{index % 60:02d}"
        for index, moment in enumerate(range(-2_000_000_000_000, 4_000_000_000_000, step))
    ]
    values = ODD_VALUES + usual
    assert parse_many(values, zone) == [instant_ms(value, zone) for value in values]
    assert parse_many([], zone) == []


def test_issues_come_from_a_search_response_or_a_plain_list() -> None:
    issue = {"key": "D-1", "fields": {}}
    assert issues_from_payload({"issues": [issue], "total": 1}) == [issue]
    assert issues_from_payload([issue]) == [issue]


@pytest.mark.parametrize("payload", [{"total": 3}, "text", 5, [1, 2]])
def test_a_payload_without_issues_is_a_user_error(payload: object) -> None:
    with pytest.raises(UserError, match="issues"):
        issues_from_payload(payload)


def test_reading_a_missing_or_invalid_file_is_a_one_line_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist") as missing:
        read_input_file(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON") as invalid:
        read_input_file(bad)
    for error in (missing, invalid):
        assert "\n" not in str(error.value)


def test_an_input_file_keeps_its_status_list(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    statuses = [{"id": "1", "name": "To Do", "statusCategory": {"key": "new"}}]
    path.write_bytes(orjson.dumps({"issues": [{"key": "D-1", "fields": {}}], "statuses": statuses}))
    payload = read_input_file(path)
    assert payload["statuses"] == statuses
    assert [issue["key"] for issue in payload["issues"]] == ["D-1"]
