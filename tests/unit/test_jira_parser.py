"""JIRA input reading: date-times with every offset form, date-only values, payload shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

import data.engine.dataset as dataset_module
from configuration.settings import default_settings
from data.errors import UserError
from data.jira.jira_parser import (
    date_only_end_ms,
    instant_ms,
    issues_from_payload,
    lean_issue,
    parse_jira_datetime,
    parse_many,
    read_input_file,
)
from data.jira.sample_project import fields as sample_fields
from data.jira.sample_project import generate_issues
from data.jira.sample_project import statuses as sample_statuses
from data.services import metrics_service
from data.storage.cache_manager import fields_for_mappings
from data.storage.project_data import ProjectData


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
    "2024-01-15T10:30:00.000Z",
    "2024-02-30T10:30:00.000Z",
    "2024-01-15T10:30:00.000z",
    "2024-01-15T10:30:00.000X",
    "2024-01-15T10:30:00.000+00",
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
    zulu = [text[:23] + "Z" for text in usual[::3]]
    values = ODD_VALUES + usual + zulu
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


# ------------------------------------------------------------------------------- lean issues

LEAN_NOW = datetime(2024, 6, 1, tzinfo=UTC)


def lean_settings(**mappings: object) -> dict:
    """UTC settings mapping story points and the environment to the sample's custom fields."""
    settings = {**default_settings(), "time_zone": "UTC"}
    settings["mappings"] = {
        **settings["mappings"],
        "story_points_field": "customfield_10016",
        "environment_field": "customfield_10050",
        **mappings,
    }
    return settings


def fresh_report(issues: list[dict], settings: dict, period: str, source: str) -> dict:
    """A report computed from scratch (no record, dataset or report reused)."""
    dataset_module.clear_caches()
    metrics_service.clear_report_cache()
    project = ProjectData(issues, sample_statuses(), sample_fields(), version="lean-test")
    return metrics_service.report_for_project(
        project, settings, period, now=LEAN_NOW, deployment_source=source
    )


@pytest.mark.parametrize(
    "mappings",
    [
        {},
        {"deployment_time_field": "customfield_10060", "deployed_date_field": "customfield_10060"},
    ],
    ids=["default-times", "custom-deployment-time"],
)
def test_a_report_from_lean_issues_equals_the_report_from_full_issues(mappings: dict) -> None:
    settings = lean_settings(**mappings)
    full = generate_issues(400, 7, now=LEAN_NOW, rework=0.6)
    wanted = fields_for_mappings(settings["mappings"])
    lean = [lean_issue(issue, wanted) for issue in full]
    assert len(orjson.dumps(lean)) * 3 < len(orjson.dumps(full))  # it really is leaner
    for period in ("30d", "90d", "365d", "2024-02-01:2024-03-15"):
        for source in ("issues", "fixversions"):
            expected = fresh_report(full, settings, period, source)
            got = fresh_report(lean, settings, period, source)
            assert got == expected, (period, source)
            # not vacuous: the period holds deployments and finished work
            assert expected["deployment_frequency"]["n"], (period, source)
            assert expected["flow_velocity"]["n"], (period, source)


def full_issue() -> dict:
    """A JIRA issue as a search with an expanded changelog returns it (abridged)."""
    return {
        "expand": "changelog",
        "id": "10001",
        "self": "https://x.example/rest/api/2/issue/10001",
        "key": "DEMO-1",
        "fields": {
            "summary": "Checkout fails",
            "issuetype": {"id": "3", "name": "Bug", "iconUrl": "https://x.example/i.png"},
            "status": {
                "id": "10002",
                "name": "Done",
                "self": "https://x.example/status/10002",
                "statusCategory": {"id": 3, "key": "done", "colorName": "green"},
            },
            "created": "2024-01-01T09:00:00.000+0000",
            "updated": "2024-01-03T09:00:00.000+0000",
            "resolutiondate": "2024-01-03T09:00:00.000+0000",
            "resolution": {"id": "1", "name": "Done", "description": "Work done"},
            "fixVersions": [
                {
                    "id": "7",
                    "name": "1.0",
                    "released": True,
                    "releaseDate": "2024-01-04",
                    "archived": False,
                    "self": "https://x.example/version/7",
                }
            ],
            "labels": ["hotfix"],
            "issuelinks": [
                {
                    "id": "55",
                    "type": {"id": "1", "name": "Causes", "inward": "is caused by"},
                    "outwardIssue": {"id": "10002", "key": "DEMO-2", "fields": {"summary": "x"}},
                }
            ],
            "customfield_10016": 3.0,
            "customfield_10050": {"self": "https://x.example/option/1", "value": "production"},
            "assignee": {"displayName": "Ada", "emailAddress": "ada@example.com"},
        },
        "changelog": {
            "startAt": 0,
            "maxResults": 3,
            "total": 3,
            "histories": [
                {
                    "id": "1",
                    "author": {"displayName": "Ada", "emailAddress": "ada@example.com"},
                    "created": "2024-01-02T09:00:00.000+0000",
                    "items": [
                        {"field": "assignee", "fieldtype": "jira", "from": None, "to": "ada"},
                        {
                            "field": "status",
                            "fieldtype": "jira",
                            "fieldId": "status",
                            "from": "1",
                            "fromString": "To Do",
                            "to": "3",
                            "toString": "In Progress",
                        },
                    ],
                },
                {
                    "id": "2",
                    "author": {"displayName": "Ada"},
                    "created": "2024-01-02T10:00:00.000+0000",
                    "items": [{"field": "summary", "from": None, "to": None}],
                },
                {
                    "id": "3",
                    "created": "2024-01-03T09:00:00.000+0000",
                    "items": [
                        {
                            "field": "status",
                            "from": "3",
                            "fromString": "In Progress",
                            "to": "10002",
                            "toString": "Done",
                        }
                    ],
                },
            ],
        },
    }


def test_lean_issue_keeps_the_read_keys_the_mapped_fields_and_only_status_changes() -> None:
    wanted = fields_for_mappings(lean_settings()["mappings"])
    lean = lean_issue(full_issue(), wanted)
    assert lean == {
        "id": "10001",
        "key": "DEMO-1",
        "fields": {
            "summary": "Checkout fails",  # shown in the item lists
            "issuetype": {"name": "Bug", "id": "3"},
            "status": {"id": "10002", "name": "Done", "statusCategory": {"key": "done"}},
            "created": "2024-01-01T09:00:00.000+0000",
            "updated": "2024-01-03T09:00:00.000+0000",
            "resolutiondate": "2024-01-03T09:00:00.000+0000",
            "resolution": {"name": "Done"},
            "fixVersions": [{"name": "1.0", "released": True, "releaseDate": "2024-01-04"}],
            "labels": ["hotfix"],
            "issuelinks": [{"type": {"name": "Causes"}, "outwardIssue": {"key": "DEMO-2"}}],
            "customfield_10016": 3.0,
            "customfield_10050": {"self": "https://x.example/option/1", "value": "production"},
        },
        "changelog": {
            "histories": [
                {
                    "id": "1",
                    "created": "2024-01-02T09:00:00.000+0000",
                    "items": [
                        {
                            "field": "status",
                            "from": "1",
                            "fromString": "To Do",
                            "to": "3",
                            "toString": "In Progress",
                        }
                    ],
                },
                {
                    "id": "3",
                    "created": "2024-01-03T09:00:00.000+0000",
                    "items": [
                        {
                            "field": "status",
                            "from": "3",
                            "fromString": "In Progress",
                            "to": "10002",
                            "toString": "Done",
                        }
                    ],
                },
            ]
        },
    }
    assert b"ada@example.com" not in orjson.dumps(lean)


def test_lean_issue_keeps_flag_changes_with_their_field_id_but_no_author() -> None:
    issue = full_issue()
    flag = {
        "field": "Flagged",
        "fieldtype": "custom",
        "fieldId": "customfield_10021",
        "from": None,
        "fromString": None,
        "to": "[10019]",
        "toString": "Impediment",
    }
    blocker = {**flag, "field": "Blocker", "fieldId": "customfield_10300"}
    issue["changelog"]["histories"].append(
        {
            "id": "9",
            "author": {"displayName": "Ada", "emailAddress": "ada@example.com"},
            "created": "2024-01-02T12:00:00.000+0000",
            "items": [flag, blocker, {"field": "Rank", "from": None, "to": "x"}],
        }
    )
    kept = lean_issue(issue, ["status"])["changelog"]["histories"][-1]
    plain = {name: value for name, value in flag.items() if name != "fieldtype"}
    assert kept == {"id": "9", "created": "2024-01-02T12:00:00.000+0000", "items": [plain]}
    # a mapped flag field is fetched, so its changes are kept too
    mapped = lean_issue(issue, ["status", "customfield_10300"])["changelog"]["histories"][-1]
    assert [item["field"] for item in mapped["items"]] == ["Flagged", "Blocker"]


def test_lean_issue_keeps_the_total_of_a_changelog_jira_truncated() -> None:
    issue = full_issue()
    issue["changelog"]["total"] = 120  # JIRA sent 3 of 120 histories
    lean = lean_issue(issue, ["status"])
    assert lean["changelog"]["total"] == 120
    assert len(lean["changelog"]["histories"]) == 2


def test_lean_issue_passes_odd_shapes_through_without_failing() -> None:
    odd = {
        "key": "X-1",
        "fields": {"status": None, "issuelinks": "n/a", "fixVersions": [None]},
        "changelog": {"histories": [None, {"items": None}, {"id": "4", "items": ["x"]}]},
    }
    assert lean_issue(odd, ["status", "issuelinks", "fixVersions", "labels"]) == {
        "key": "X-1",
        "fields": {"status": None, "issuelinks": "n/a", "fixVersions": [None]},
        "changelog": {"histories": []},
    }
