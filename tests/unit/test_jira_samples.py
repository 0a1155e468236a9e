"""Real recorded JIRA responses (`../shared/jira-samples/`) are read and timed right.

The DevLake CSVs keep one JSON object per row in column `data` (an issue, a changelog history,
a field, a status); the test reads them with the csv module and hands the dicts to the engine.
Expected instants were worked out by hand from the raw text and are written in UTC.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from configuration.metric_defaults import default_mappings
from data.engine.dataset import build_dataset
from data.jira.jira_parser import issues_from_payload, parse_jira_datetime
from data.storage.project_data import ProjectData
from tests.conftest import JIRA_SAMPLES
from tests.reference_metrics import METRIC_KEYS, fast_report, reference_report

DEVLAKE = JIRA_SAMPLES / "devlake"
SZZ = JIRA_SAMPLES / "szzunleashed" / "res0.json"
#: `sha256sum` of each file as recorded in the shared folder.
SHA256 = {
    "devlake/_raw_jira_api_issue_changelogs.csv": (
        "48add68f6facbd223123fa1e0a0789a5661971bb9e949044a00c7b23fd2eb544"
    ),
    "devlake/_raw_jira_api_issue_fields.csv": (
        "15380d161cb41276776d508e391299fda651749af4f8b29b1f17f36d26a09688"
    ),
    "devlake/_raw_jira_api_issue_types.csv": (
        "4ffea9d1fdd67b72b859ab7f0c49d232effccb3b386088c139624fc88c4cf009"
    ),
    "devlake/_raw_jira_api_issues.csv": (
        "4c7baed1b5fb2fab945d9963b5fae3b608fd2c4ef95863457d7bb1b4d98164bc"
    ),
    "devlake/_raw_jira_api_status.csv": (
        "102a049a1819c06b4a42f81866d22bc3939bb67261c5fbe318944d379b8ab340"
    ),
    "szzunleashed/res0.json": ("062735157404d79e2652afa1287634af6f97737984b5d228069f201741702e9b"),
}

csv.field_size_limit(sys.maxsize)  # an issue with its changelog is one ~100 kB cell


def rows(name: str) -> list[dict[str, Any]]:
    """The JSON objects in column `data` of a DevLake CSV (a blank first line skipped)."""
    text = (DEVLAKE / name).read_text(encoding="utf-8").lstrip("\r\n")
    return [json.loads(row["data"]) for row in csv.DictReader(io.StringIO(text, newline=""))]


def utc_ms(text: str) -> int:
    """Epoch ms of an ISO text written in UTC, for the hand-worked expectations."""
    return round(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def devlake_issues() -> list[dict[str, Any]]:
    return rows("_raw_jira_api_issues.csv")


@pytest.fixture(scope="module")
def devlake_statuses() -> list[dict[str, Any]]:
    return rows("_raw_jira_api_status.csv")


@pytest.fixture(scope="module")
def devlake_records(devlake_issues, devlake_statuses) -> dict[str, Any]:
    project = ProjectData(devlake_issues, devlake_statuses, version="devlake", source="jira")
    dataset = build_dataset(project, default_mappings(), ZoneInfo("UTC"))
    return {"dataset": dataset, "by_key": {rec.key: rec for rec in dataset.records}}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_sample_files_are_the_recorded_ones(name: str) -> None:
    assert hashlib.sha256((JIRA_SAMPLES / name).read_bytes()).hexdigest() == SHA256[name]


def test_every_devlake_issue_is_normalized(devlake_issues, devlake_records) -> None:
    assert len(devlake_issues) == 33
    assert set(devlake_records["by_key"]) == {issue["key"] for issue in devlake_issues}
    assert devlake_records["dataset"].issues == 33


def test_devlake_newest_first_changelog_with_plus_0800_gives_utc_work_start_and_completion(
    devlake_records,
) -> None:
    ee1 = devlake_records["by_key"]["EE-1"]
    # created 2020-06-12T08:13:13.360+0800
    assert ee1.created == utc_ms("2020-06-12T00:13:13.360")
    # resolutiondate 2020-06-19T14:31:18.495+0800
    assert ee1.resolutiondate == utc_ms("2020-06-19T06:31:18.495")
    # oldest history: Inbox -> Ready for Dev. "Inbox" is in no status list: indeterminate, so
    # Active, and the initial state is Active: work starts when created, recorded.
    assert ee1.work_start == ee1.created
    assert ee1.start_not_recorded is False
    # Open -> Closed at 2020-06-19T14:31:18.526+0800 enters Done; the later (first in the file)
    # Closed -> 已完成 of 2021 is Done -> Done and does not move it. 31 ms after resolutiondate.
    assert ee1.completion == utc_ms("2020-06-19T06:31:18.526")
    assert ee1.flow_type == "Other"  # type 故事 is not in the default mappings


def test_devlake_work_start_is_the_first_move_into_an_active_state(devlake_records) -> None:
    ee23 = devlake_records["by_key"]["EE-23"]
    # oldest history: Open (new) -> In Development at 2020-06-12T09:27:39.141+0800
    assert ee23.work_start == utc_ms("2020-06-12T01:27:39.141")
    assert ee23.start_not_recorded is False
    # "Resolved" (id 5) is in no status list and no issue's current status: treated as in
    # progress, so Done is entered by Resolved -> Closed at 2020-06-17T11:08:17.806+0800
    assert ee23.completion == utc_ms("2020-06-17T03:08:17.806")
    assert ee23.canceled is False


def test_devlake_wont_do_is_canceled_and_to_do_is_neither_started_nor_complete(
    devlake_records,
) -> None:
    assert devlake_records["by_key"]["EE-24"].canceled is True
    k52 = devlake_records["by_key"]["K5-2"]
    assert (k52.work_start, k52.completion, k52.canceled) == (None, None, False)
    assert k52.created == utc_ms("2022-07-15T22:29:49.026")


def test_devlake_statuses_unknown_to_every_list_are_named_in_warnings(devlake_records) -> None:
    warnings = " ".join(devlake_records["dataset"].warnings)
    for name in ("Inbox", "Ready for Dev", "Resolved"):
        assert name.lower() in warnings.lower()
    assert "已完成" not in warnings  # known by id from the status list


def test_devlake_changelog_rows_are_histories_oldest_first() -> None:
    histories = rows("_raw_jira_api_issue_changelogs.csv")
    assert len(histories) == 279
    times = [parse_jira_datetime(history["created"]) for history in histories]
    assert all(set(history) >= {"id", "created", "items"} for history in histories)
    # three issues (100, 100 and 79 histories), each oldest first
    for start, end in ((0, 100), (100, 200), (200, 279)):
        assert times[start:end] == sorted(times[start:end])
    # 2021-01-25T11:09:27.985+0800
    assert times[0] == utc_ms("2021-01-25T03:09:27.985")


def test_devlake_fields_file_with_a_leading_blank_line_reads_as_its_custom_fields() -> None:
    assert (DEVLAKE / "_raw_jira_api_issue_fields.csv").read_text(encoding="utf-8")[0] == "\n"
    found = rows("_raw_jira_api_issue_fields.csv")
    # a blank line, the header and two rows (the shared README says "3 entries")
    assert [entry["id"] for entry in found] == ["customfield_10315", "customfield_10400"]
    assert all(
        entry["id"].startswith("customfield_") and entry["schema"]["custom"] for entry in found
    )


def test_szz_search_page_without_changelogs_completes_at_resolutiondate() -> None:
    issues = issues_from_payload(json.loads(SZZ.read_text(encoding="utf-8")))
    assert len(issues) == 50
    dataset = build_dataset(
        ProjectData(issues, version="szz", source="jira"), default_mappings(), ZoneInfo("UTC")
    )
    rec = {r.key: r for r in dataset.records}["JENKINS-49642"]
    # created 2018-02-20T09:58:06.000+0000, resolved 2018-03-05T08:19:01.000+0000, status
    # Resolved (category done) and no changelog: completion = resolutiondate, work start falls
    # back to created and is flagged
    assert rec.created == utc_ms("2018-02-20T09:58:06")
    assert rec.completion == utc_ms("2018-03-05T08:19:01")
    assert (rec.work_start, rec.start_not_recorded) == (rec.created, True)
    assert rec.flow_type == "Defect"


@pytest.mark.parametrize(
    ("source", "period", "tz"),
    [
        ("devlake", "2020-06-01:2020-07-31", "Asia/Shanghai"),
        ("devlake", "2020-06-08:2020-06-21", "UTC"),
        ("szz", "2018-02-01:2018-03-31", "UTC"),
    ],
)
def test_real_samples_give_the_same_report_on_both_engines(
    source, period, tz, devlake_issues, devlake_statuses
) -> None:
    if source == "devlake":
        issues, statuses = devlake_issues, devlake_statuses
    else:
        issues, statuses = issues_from_payload(json.loads(SZZ.read_text(encoding="utf-8"))), []
    now = datetime(2024, 1, 1, tzinfo=UTC)
    fast = fast_report(issues, statuses, period=period, now=now, tz=tz)
    ref = reference_report(issues, statuses, period=period, now=now, tz=tz)
    for key in METRIC_KEYS:
        assert fast[key] == ref[key], key
    assert fast["flow_velocity"]["values"]["total"] > 0


def test_sample_folder_holds_what_the_readme_lists() -> None:
    listed = {
        str(path.relative_to(JIRA_SAMPLES))
        for path in JIRA_SAMPLES.rglob("*")
        if path.is_file() and path.name != "README.md"
    }
    assert listed == set(SHA256)
    assert isinstance(JIRA_SAMPLES, Path)
