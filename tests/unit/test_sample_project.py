"""The sample project: deterministic, shaped like JIRA's search response, and realistic enough
that every metric has something to compute (and every parser rule something to handle)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from data.errors import UserError
from data.jira.sample_project import (
    fields,
    format_timestamp,
    generate_issues,
    search_response,
    statuses,
    today_utc,
    write_sample,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 2, tzinfo=UTC)
ISSUE_KEYS = {"expand", "id", "self", "key", "fields", "changelog"}
FIELD_KEYS = {
    "summary", "issuetype", "status", "created", "updated", "resolutiondate", "resolution",
    "fixVersions", "labels", "issuelinks", "priority", "assignee", "project",
    "customfield_10016", "customfield_10050",
}  # fmt: skip


def parse(text: str) -> datetime:
    """JIRA's timestamp format, strictly: 2024-01-15T10:30:00.000+0000 (or ...Z)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def status_transitions(issue: dict[str, Any]) -> list[tuple[datetime, int, dict[str, Any]]]:
    """Status items oldest first (by history created, then numeric id), as METRICS.md sorts."""
    found = []
    for history in issue["changelog"]["histories"]:
        for item in history["items"]:
            if item["field"] == "status":
                found.append((parse(history["created"]), int(history["id"]), item))
    return sorted(found, key=lambda t: (t[0], t[1]))


def type_name(issue: dict[str, Any]) -> str:
    return issue["fields"]["issuetype"]["name"]


@pytest.fixture(scope="module")
def issues() -> list[dict[str, Any]]:
    return generate_issues(1500, 42, now=NOW)


def test_same_count_seed_and_now_give_byte_identical_json() -> None:
    first = orjson.dumps(generate_issues(300, 7, now=NOW))
    second = orjson.dumps(generate_issues(300, 7, now=NOW))
    assert first == second


def test_another_seed_gives_another_project() -> None:
    assert orjson.dumps(generate_issues(300, 7, now=NOW)) != orjson.dumps(
        generate_issues(300, 8, now=NOW)
    )


def test_default_now_is_today_at_midnight_utc() -> None:
    today = today_utc()
    assert (today.hour, today.minute, today.second, today.tzinfo) == (0, 0, 0, UTC)
    assert today.date() == datetime.now(UTC).date() or datetime.now(UTC).hour == 0
    assert orjson.dumps(generate_issues(60, 3)) == orjson.dumps(generate_issues(60, 3, now=today))


def test_count_is_exact_and_keys_run_in_creation_order(issues: list[dict[str, Any]]) -> None:
    assert len(issues) == 1500
    assert [i["key"] for i in issues] == [f"DEMO-{n}" for n in range(1, 1501)]
    assert len({i["id"] for i in issues}) == 1500
    created = [parse(i["fields"]["created"]) for i in issues]
    assert created == sorted(created)
    assert next(i["key"] for i in generate_issues(10, 1, now=NOW, project_key="ABC")) == "ABC-1"


def test_months_sets_the_span_and_base_url_the_links() -> None:
    issues = generate_issues(200, 4, now=NOW, months=3, base_url="http://jira.test:8080/")
    created = [parse(i["fields"]["created"]) for i in issues]
    assert NOW - timedelta(days=3 * 31) <= min(created) < NOW - timedelta(days=80)
    assert all(i["self"].startswith("http://jira.test:8080/rest/api/2/issue/") for i in issues)
    links = [link for i in issues for link in i["fields"]["issuelinks"]]
    assert links
    assert all(link["self"].startswith("http://jira.test:8080/") for link in links)


def test_small_and_empty_projects_are_possible() -> None:
    assert generate_issues(0, 1, now=NOW) == []
    assert len(generate_issues(1, 1, now=NOW)) == 1
    assert len(generate_issues(7, 1, now=NOW)) == 7


def test_negative_count_is_a_user_error() -> None:
    with pytest.raises(UserError, match="0 or more"):
        generate_issues(-1, 1, now=NOW)


def test_issues_have_jira_search_shape(issues: list[dict[str, Any]]) -> None:
    for issue in issues:
        assert set(issue) == ISSUE_KEYS
        assert set(issue["fields"]) >= FIELD_KEYS
        f = issue["fields"]
        assert issue["self"].endswith(f"/rest/api/2/issue/{issue['id']}")
        assert {"id", "name", "subtask"} <= set(f["issuetype"])
        assert {"id", "name", "statusCategory"} <= set(f["status"])
        assert {"id", "key", "name"} <= set(f["status"]["statusCategory"])
        assert f["project"]["key"] == "DEMO"
        if f["assignee"] is not None:
            assert {"displayName", "emailAddress", "accountId"} <= set(f["assignee"])
        log = issue["changelog"]
        assert log["startAt"] == 0
        assert log["total"] == log["maxResults"] == len(log["histories"])
        for history in log["histories"]:
            assert set(history) == {"id", "author", "created", "items"}
            assert history["id"].isdigit()
            for item in history["items"]:
                assert {"field", "fieldtype", "from", "fromString", "to", "toString"} <= set(item)
        for version in f["fixVersions"]:
            assert {"id", "name", "released"} <= set(version)
            if "releaseDate" in version:
                datetime.strptime(version["releaseDate"], "%Y-%m-%d")
        for link in f["issuelinks"]:
            assert {"name", "inward", "outward"} <= set(link["type"])
            other = link.get("inwardIssue") or link["outwardIssue"]
            assert {"status", "issuetype"} <= set(other["fields"])


def test_timestamps_parse_and_stay_in_order_before_now(issues: list[dict[str, Any]]) -> None:
    start = NOW - timedelta(days=12 * 31)
    for issue in issues:
        f = issue["fields"]
        created, updated = parse(f["created"]), parse(f["updated"])
        history_times = [parse(h["created"]) for h in issue["changelog"]["histories"]]
        assert start <= created < NOW
        assert all(created <= t < NOW for t in history_times), issue["key"]
        assert updated >= max(history_times, default=created), issue["key"]
        assert updated < NOW
        if f["resolutiondate"] is not None:
            assert created <= parse(f["resolutiondate"]) <= updated


def test_changelog_chains_from_status_to_status_into_the_current_status(
    issues: list[dict[str, Any]],
) -> None:
    by_id = {s["id"]: s["name"] for s in statuses()}
    for issue in issues:
        chain = status_transitions(issue)
        for (_, _, before), (_, _, after) in itertools.pairwise(chain):
            assert before["to"] == after["from"], issue["key"]
        for _, _, item in chain:
            assert by_id[item["from"]] == item["fromString"]
            assert by_id[item["to"]] == item["toString"]
        if chain:
            assert chain[-1][2]["to"] == issue["fields"]["status"]["id"], issue["key"]


def test_resolution_is_set_exactly_when_the_status_is_done(issues: list[dict[str, Any]]) -> None:
    for issue in issues:
        f = issue["fields"]
        done = f["status"]["statusCategory"]["key"] == "done"
        assert (f["resolution"] is not None) == done, issue["key"]
        assert (f["resolutiondate"] is not None) == done, issue["key"]


def test_every_issue_type_of_the_product_is_present(issues: list[dict[str, Any]]) -> None:
    types = Counter(type_name(i) for i in issues)
    for name in ("Story", "Bug", "Task", "Epic", "Technical Debt", "Security", "Incident",
                 "Deployment", "Sub-task"):  # fmt: skip
        assert types[name] > 0, name
    subtasks = [i for i in issues if type_name(i) == "Sub-task"]
    assert all(i["fields"]["issuetype"]["subtask"] for i in subtasks)
    assert any("parent" in i["fields"] for i in subtasks)


def test_workflow_statuses_and_categories_match_the_status_list(
    issues: list[dict[str, Any]],
) -> None:
    listed = {s["name"]: s["statusCategory"]["key"] for s in statuses()}
    assert listed == {
        "To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate",
        "Blocked": "indeterminate", "Ready for QA": "indeterminate", "Done": "done",
        "Closed": "done",
    }  # fmt: skip
    visited = {item["toString"] for i in issues for _, _, item in status_transitions(i)}
    assert visited == set(listed) - {"To Do"} | ({"To Do"} & visited)
    assert {"Blocked", "Ready for QA", "In Review", "Closed"} <= visited
    for issue in issues:
        status = issue["fields"]["status"]
        assert listed[status["name"]] == status["statusCategory"]["key"]


def test_contains_reopenings_skipped_states_and_never_started_items(
    issues: list[dict[str, Any]],
) -> None:
    reopened = skipped = never_started = 0
    for issue in issues:
        moves = [(item["fromString"], item["toString"]) for _, _, item in status_transitions(issue)]
        reopened += ("Done", "In Progress") in moves
        skipped += ("To Do", "Done") in moves
        never_started += not moves and issue["fields"]["status"]["name"] == "To Do"
    assert reopened >= 10
    assert skipped >= 10
    assert never_started >= 5


def test_some_items_are_in_progress_now_giving_a_load(issues: list[dict[str, Any]]) -> None:
    now_status = Counter(i["fields"]["status"]["name"] for i in issues)
    active_or_waiting = sum(now_status[s] for s in ("In Progress", "In Review", "Blocked",
                                                    "Ready for QA"))  # fmt: skip
    assert active_or_waiting >= 15


def test_status_transitions_average_between_five_and_nine(issues: list[dict[str, Any]]) -> None:
    total = sum(len(status_transitions(i)) for i in issues)
    assert 5 <= total / len(issues) <= 9


def test_changelogs_come_in_mixed_order_mostly_newest_first(
    issues: list[dict[str, Any]],
) -> None:
    orders = Counter()
    for issue in issues:
        keys = [(parse(h["created"]), int(h["id"])) for h in issue["changelog"]["histories"]]
        if len(set(keys)) < 3:
            continue
        if keys == sorted(keys, reverse=True):
            orders["newest_first"] += 1
        elif keys == sorted(keys):
            orders["oldest_first"] += 1
        else:
            orders["shuffled"] += 1
    assert orders["newest_first"] > orders["oldest_first"] > 0
    assert orders["shuffled"] > 0


def test_non_status_items_appear_in_changelogs(issues: list[dict[str, Any]]) -> None:
    item_fields = Counter(
        item["field"] for i in issues for h in i["changelog"]["histories"] for item in h["items"]
    )
    assert item_fields["assignee"] > 0
    assert item_fields["priority"] > 0
    assert item_fields["resolution"] > 0


def test_some_work_items_are_flagged_for_a_while_and_a_few_still_now(
    issues: list[dict[str, Any]],
) -> None:
    flagged = {}
    for raw in issues:
        changes = sorted(
            (datetime.strptime(history["created"], "%Y-%m-%dT%H:%M:%S.%f%z"), item["toString"])
            for history in raw["changelog"]["histories"]
            for item in history["items"]
            if item["field"] == "Flagged"
        )
        if changes:
            flagged[raw["key"]] = (raw, changes)
    assert 0.03 < len(flagged) / len(issues) < 0.3
    for raw, changes in flagged.values():
        assert raw["fields"]["issuetype"]["name"] not in ("Epic", "Deployment", "Incident")
        assert [text for _, text in changes][:1] == ["Impediment"]  # raised first
        still = raw["fields"]["customfield_10021"]
        assert (still == [{"value": "Impediment", "id": "10019"}]) == (len(changes) == 1)
    assert any(len(changes) == 2 for _, changes in flagged.values())  # raised and cleared


def test_timestamps_use_mixed_utc_offsets(issues: list[dict[str, Any]]) -> None:
    texts = [i["fields"]["created"] for i in issues]
    assert any(t.endswith("+0000") for t in texts)
    assert any(t.endswith("+0530") for t in texts)
    assert any(t.endswith("-0800") for t in texts)
    assert any(t.endswith("Z") for t in texts)


def test_format_timestamp_shows_the_instant_at_the_offset() -> None:
    assert format_timestamp(0) == "1970-01-01T00:00:00.000+0000"
    instant = datetime(2024, 1, 15, 10, 30, 0, 250000, tzinfo=UTC)
    ms = int(instant.timestamp() * 1000)
    assert format_timestamp(ms, 330, "+0530") == "2024-01-15T16:00:00.250+0530"
    assert format_timestamp(ms, -480, "-0800") == "2024-01-15T02:30:00.250-0800"
    assert format_timestamp(ms, 0, "Z") == "2024-01-15T10:30:00.250Z"
    assert parse(format_timestamp(ms, -480, "-0800")) == instant


def test_some_items_are_canceled_with_wont_do(issues: list[dict[str, Any]]) -> None:
    wont_do = [i for i in issues if (i["fields"]["resolution"] or {}).get("name") == "Won't Do"]
    assert len(wont_do) >= 10
    assert all(i["fields"]["status"]["statusCategory"]["key"] == "done" for i in wont_do)


def test_deployments_three_to_five_a_week_mostly_production(
    issues: list[dict[str, Any]],
) -> None:
    deployments = [i for i in issues if type_name(i) == "Deployment"]
    weeks = 12 * 30.44 / 7
    assert 3 <= len(deployments) / weeks <= 5
    environments = Counter(
        (i["fields"]["customfield_10050"] or {}).get("value") for i in deployments
    )
    assert environments["production"] > 0.7 * len(deployments)
    assert environments["staging"] > 0
    for deployment in deployments:
        f = deployment["fields"]
        assert f["resolution"]["name"] == "Done"
        last_done = status_transitions(deployment)[-1]
        assert last_done[2]["toString"] == "Done"
        assert parse(f["resolutiondate"]) == last_done[0]
        assert f["customfield_10060"] == f["resolutiondate"]


def test_incidents_link_deployments_or_not_and_some_are_open(
    issues: list[dict[str, Any]],
) -> None:
    by_key = {i["key"]: i for i in issues}
    incidents = [i for i in issues if type_name(i) == "Incident"]
    linked = [i for i in incidents if i["fields"]["issuelinks"]]
    assert linked and len(linked) < len(incidents)
    link_types = set()
    for incident in linked:
        for link in incident["fields"]["issuelinks"]:
            link_types.add(link["type"]["name"])
            other = by_key[link["inwardIssue"]["key"]]
            assert type_name(other) == "Deployment"
            deployed = parse(other["fields"]["resolutiondate"])
            if deployed > parse(incident["fields"]["created"]):  # the fix, deployed while open
                assert {"hotfix", "rollback"} & set(other["fields"]["labels"])
                resolved = incident["fields"]["resolutiondate"]
                assert resolved is None or deployed <= parse(resolved)
            else:  # the cause
                assert deployed < parse(incident["fields"]["created"])
            back = [x for x in other["fields"]["issuelinks"] if "outwardIssue" in x]
            assert incident["key"] in {x["outwardIssue"]["key"] for x in back}
    assert {"Causes", "Relates"} <= link_types
    assert any(i["fields"]["resolution"] is None for i in incidents)
    closed = [i for i in incidents if i["fields"]["resolutiondate"]]
    hours = [
        (parse(i["fields"]["resolutiondate"]) - parse(i["fields"]["created"])).total_seconds()
        / 3600
        for i in closed
    ]
    assert all(h > 0 for h in hours)
    assert sorted(hours)[len(hours) // 2] < 48


def test_weekly_fix_versions_released_and_unreleased_with_hotfixes(
    issues: list[dict[str, Any]],
) -> None:
    versions = {v["name"]: v for i in issues for v in i["fields"]["fixVersions"]}
    released = sorted(
        datetime.strptime(v["releaseDate"], "%Y-%m-%d")
        for v in versions.values()
        if v["released"] and v["name"].endswith(".0")
    )
    assert len(released) >= 40
    gaps = {(b - a).days for a, b in itertools.pairwise(released)}
    assert gaps == {7}
    # a 1.i.1 hotfix the Monday after every fourth weekly release (Thursday)
    hotfixes = [v for v in versions.values() if v["name"].endswith(".1")]
    assert len(hotfixes) >= 10
    assert all(datetime.strptime(v["releaseDate"], "%Y-%m-%d").weekday() == 0 for v in hotfixes)
    assert any(not v["released"] for v in versions.values())
    assert all(
        datetime.strptime(v["releaseDate"], "%Y-%m-%d").replace(tzinfo=UTC) < NOW
        for v in versions.values()
        if v["released"]
    )


def test_story_points_are_numbers_or_null(issues: list[dict[str, Any]]) -> None:
    points = [i["fields"]["customfield_10016"] for i in issues if type_name(i) == "Story"]
    assert any(p is None for p in points)
    assert all(isinstance(p, float) for p in points if p is not None)
    assert sum(p is not None for p in points) > len(points) / 2


def test_field_list_types_the_custom_fields() -> None:
    by_id = {f["id"]: f for f in fields()}
    assert by_id["customfield_10016"]["name"] == "Story Points"
    assert by_id["customfield_10016"]["schema"]["type"] == "number"
    assert by_id["customfield_10050"]["schema"]["type"] == "option"
    assert by_id["customfield_10060"]["schema"]["type"] == "datetime"
    assert by_id["customfield_10061"]["schema"]["type"] == "date"
    assert by_id["resolutiondate"]["custom"] is False
    assert all(f["custom"] == f["id"].startswith("customfield_") for f in fields())


def test_search_response_wraps_all_issues_in_one_page() -> None:
    some = generate_issues(5, 1, now=NOW)
    page = search_response(some)
    assert page == {
        "expand": "schema,names", "startAt": 0, "maxResults": 5, "total": 5, "issues": some,
    }  # fmt: skip


def test_write_sample_writes_a_search_response(tmp_path: Path) -> None:
    out = tmp_path / "sample.json"
    assert write_sample(out, issues=40, seed=5) == 40
    page = json.loads(out.read_text())
    assert page["total"] == 40 and len(page["issues"]) == 40
    assert page["statuses"] == statuses() and page["fields"] == fields()


def run_sample_command(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", "--data-dir", str(data_dir), "sample", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_app_sample_command_refuses_a_negative_count_in_one_line(
    tmp_path: Path, data_dir: Path
) -> None:
    out = tmp_path / "demo.json"
    result = run_sample_command(data_dir, "--issues", "-5", "--out", str(out))
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1]
        == "error: The sample needs 0 or more issues, not -5."
    )
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_app_sample_command_reports_an_unwritable_target_and_keeps_what_is_there(
    tmp_path: Path, data_dir: Path
) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    result = run_sample_command(data_dir, "--issues", "10", "--out", str(folder))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: Cannot write the sample to {folder}")
    assert "Traceback" not in result.stderr
    assert (folder / "keep.txt").read_text() == "mine"
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_app_sample_command_writes_a_readable_file(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "demo.json"
    result = subprocess.run(
        [sys.executable, "app.py", "--data-dir", str(data_dir), "sample", "--issues", "120",
         "--seed", "9", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote 120 issues" in result.stdout
    page = json.loads(out.read_text())
    assert page["total"] == 120
    assert [i["key"] for i in page["issues"]][-1] == "DEMO-120"


@pytest.mark.parametrize("seed", range(1, 9))
def test_shape_and_ordering_rules_hold_for_other_seeds_and_sizes(seed: int) -> None:
    issues = generate_issues(100 + 60 * seed, seed, now=NOW)
    test_issues_have_jira_search_shape(issues)
    test_timestamps_parse_and_stay_in_order_before_now(issues)
    test_changelog_chains_from_status_to_status_into_the_current_status(issues)
    test_resolution_is_set_exactly_when_the_status_is_done(issues)


def test_more_rework_gives_more_status_transitions_per_issue() -> None:
    def average(rework: float) -> float:
        made = generate_issues(1000, 5, now=NOW, rework=rework)
        return sum(len(status_transitions(i)) for i in made) / len(made)

    default, more = average(0.45), average(0.6)
    assert more > default + 0.5
    assert 7 <= more <= 9  # the benchmarks' "about 8 transitions"


@pytest.mark.parametrize("rework", [-0.1, 1.0, 2])
def test_a_rework_chance_outside_0_to_1_is_a_user_error(rework: float) -> None:
    with pytest.raises(UserError, match="rework chance"):
        generate_issues(10, 5, now=NOW, rework=rework)


def test_sample_has_rework_deployments_by_label_link_and_hotfix_version(
    issues: list[dict[str, Any]],
) -> None:
    from data.jira.sample_project import statuses
    from data.services.metrics_service import report_for_project
    from data.storage.project_data import ProjectData

    deployments = [i for i in issues if type_name(i) == "Deployment"]
    labelled = [d for d in deployments if {"hotfix", "rollback"} & set(d["fields"]["labels"])]
    assert 0.05 * len(deployments) < len(labelled) < 0.5 * len(deployments)
    fixes = [
        d
        for d in labelled
        for entry in d["fields"]["issuelinks"]
        if "outwardIssue" in entry and type_name(entry["outwardIssue"]) == "Incident"
    ]
    assert fixes
    names = {v["name"] for i in issues for v in i["fields"]["fixVersions"]}
    assert any(name.endswith(".1") for name in names) and any(n.endswith(".0") for n in names)
    project = ProjectData(issues, statuses())
    for source in ("issues", "fixversions"):
        rework = report_for_project(
            project, {"mappings": {}}, "365d", now=NOW, tz="UTC", deployment_source=source
        )["deployment_rework_rate"]
        assert 0 < rework["values"]["rework"] < rework["values"]["deployments"]
