"""The normalized dataset: per-issue derivations, populations, and incremental rebuilds."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from configuration.metric_defaults import default_mappings
from data.engine import dataset as dataset_module
from data.engine.dataset import build_dataset
from data.engine.issue_table import changelog_order
from data.storage.project_data import ProjectData
from tests.issue_builder import issue, link, statuses

UTC_ZONE = ZoneInfo("UTC")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def t(day: int, hour: int = 9) -> str:
    return f"2024-01-{day:02d}T{hour:02d}:00:00.000+0000"


def build(issues: list[dict], mappings: dict | None = None, **kwargs: object):
    project = ProjectData(issues, statuses(), version="test", **kwargs)
    return build_dataset(project, mappings or default_mappings(), UTC_ZONE)


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    dataset_module.clear_caches()


def test_work_start_is_the_first_move_into_active_and_completion_the_last_into_done() -> None:
    story = issue(
        "D-1",
        "Story",
        created=t(1),
        transitions=[
            (t(2), "To Do", "In Progress"),
            (t(3), "In Progress", "Blocked"),
            (t(5), "Blocked", "In Progress"),
            (t(6), "In Progress", "Done"),
        ],
        resolution="Done",
        newest_first=True,
    )
    rec = build([story]).record("D-1")
    assert rec.work_start == ms(t(2))
    assert rec.completion == ms(t(6))
    assert not rec.start_not_recorded
    assert rec.active_ms == 2 * 86_400_000  # 2nd-3rd and 5th-6th
    assert rec.waiting_ms == 2 * 86_400_000  # 3rd-5th


def test_an_item_created_in_progress_starts_at_creation() -> None:
    story = issue("D-1", "Story", created=t(1), transitions=[(t(4), "In Progress", "Done")])
    rec = build([story]).record("D-1")
    assert rec.work_start == ms(t(1))
    assert rec.active_ms == 3 * 86_400_000


def test_reopened_item_is_complete_only_when_done_again() -> None:
    reopened = [
        (t(2), "To Do", "In Progress"),
        (t(3), "In Progress", "Done"),
        (t(4), "Done", "In Progress"),
    ]
    open_again = issue("D-1", "Story", created=t(1), transitions=reopened)
    done_again = issue(
        "D-2", "Story", created=t(1), transitions=[*reopened, (t(8), "In Progress", "Done")]
    )
    ds = build([open_again, done_again])
    assert ds.record("D-1").completion is None
    assert ds.record("D-2").completion == ms(t(8))


def test_done_to_closed_does_not_move_completion() -> None:
    closed = issue(
        "D-1",
        "Story",
        created=t(1),
        transitions=[
            (t(2), "To Do", "In Progress"),
            (t(3), "In Progress", "Done"),
            (t(9), "Done", "Closed"),
        ],
    )
    assert build([closed]).record("D-1").completion == ms(t(3))


def test_issue_without_transitions_falls_back_to_created_and_resolutiondate() -> None:
    imported = issue("D-1", "Story", created=t(1), status="Done", resolutiondate=t(7))
    untouched = issue("D-2", "Story", created=t(1))  # still To Do
    ds = build([imported, untouched])
    rec = ds.record("D-1")
    assert rec.work_start == ms(t(1))
    assert rec.start_not_recorded
    assert rec.completion == ms(t(7))
    assert ds.record("D-2").work_start is None
    assert ds.record("D-2").completion is None


def test_changelog_ties_are_broken_by_numeric_history_id() -> None:
    same_time = issue(
        "D-1",
        "Story",
        created=t(1),
        transitions=[(t(2), "To Do", "In Progress", "10"), (t(2), "In Progress", "Done", "9")],
        newest_first=True,
    )
    rec = build([same_time]).record("D-1")
    # history 9 sorts first: the initial status is its `from`, In Progress, so work started
    # at creation (in list order it would be To Do, and work would start on the 2nd)
    assert rec.work_start == ms(t(1))
    assert rec.completion == ms(t(2))


def test_canceled_items_are_kept_apart_from_every_population() -> None:
    wont_do = issue(
        "D-1",
        "Story",
        created=t(1),
        transitions=[(t(2), "To Do", "In Progress"), (t(3), "In Progress", "Done")],
        resolution="Won't Do",
    )
    ds = build([wont_do])
    assert ds.record("D-1").canceled
    assert not ds.has_completed
    assert ds.completed.canceled.tolist() == [True]


def test_deployments_fail_by_linked_incident_or_incident_in_their_window() -> None:
    def deploy(key: str, day: int, links: tuple = ()) -> dict:
        return issue(
            key,
            "Deployment",
            created=t(day, 8),
            status="Done",
            resolutiondate=t(day),
            resolution="Done",
            links=list(links),
        )

    incident = issue(
        "INC-1", "Incident", created=t(3), status="Done", resolution="Done", resolutiondate=t(4)
    )
    ds = build(
        [
            deploy("DEP-1", 1, [link("INC-1")]),  # linked: failed whatever the time
            deploy("DEP-2", 2),  # INC-1 detected on the 3rd, before DEP-3: failed
            deploy("DEP-3", 5),  # nothing after it
            incident,
        ]
    )
    assert ds.deployments.failed.tolist() == [1, 1, 0]
    assert ds.deployments.failed_cum.tolist() == [0, 1, 2, 2]


def test_unknown_statuses_and_truncated_changelogs_become_warnings() -> None:
    odd = issue(
        "D-1",
        "Story",
        created=t(1),
        transitions=[(t(2), "To Do", "Triage"), (t(3), "Triage", "In Progress")],
    )
    odd["changelog"]["total"] = 250
    ds = build([odd])
    assert any("Triage" in warning for warning in ds.warnings)
    assert any("1 issues have truncated changelogs" in warning for warning in ds.warnings)


def sample(count: int) -> list[dict]:
    return [
        issue(
            f"D-{i}",
            "Story",
            created=t(1),
            transitions=[(t(2), "To Do", "In Progress"), (t(3 + i % 20), "In Progress", "Done")],
            resolution="Done",
        )
        for i in range(count)
    ]


def test_a_refresh_that_changes_k_issues_normalizes_only_those_k() -> None:
    issues = sample(50)
    first = build(issues)
    assert first.records_built == 50
    refreshed = copy.deepcopy(issues)  # what a cache reload hands over: new dicts
    for index in (4, 17, 31):
        refreshed[index]["fields"]["updated"] = t(28)
        refreshed[index]["fields"]["labels"] = ["tech-debt"]
    second = build(refreshed)
    assert second.records_built == 3
    assert second.record("D-17").flow_type == "Debt"
    assert second.version != first.version


def test_same_key_and_updated_with_other_content_is_normalized_again() -> None:
    issues = sample(5)
    build(issues)
    changed = copy.deepcopy(issues)
    changed[2]["changelog"]["histories"][0]["items"][0]["toString"] = "Blocked"
    changed[2]["changelog"]["histories"][0]["items"][0]["to"] = "5"
    ds = build(changed)
    assert ds.records_built == 1
    assert ds.record("D-2").waiting_ms > 0


def test_other_mappings_or_zone_normalize_everything_again() -> None:
    issues = sample(10)
    build(issues)
    mappings = {**default_mappings(), "status_states": {"in progress": "Waiting"}}
    assert build(issues, mappings).records_built == 10
    project = ProjectData(issues, statuses(), version="test")
    assert build_dataset(project, mappings, ZoneInfo("Asia/Tokyo")).records_built == 10


def test_a_status_category_read_from_another_issue_renormalizes_the_issues_that_use_it() -> None:
    # "Triage" is in no status list: its category comes from the issue currently in it
    story = issue(
        "D-1",
        "Story",
        created=t(1),
        transitions=[(t(2), "To Do", "Triage"), (t(3), "Triage", "In Progress")],
    )

    def in_triage(category: str, updated: str) -> dict:
        return issue(
            "D-2",
            "Story",
            created=t(1),
            status="Triage",
            updated=updated,
            category_of_unknown=category,
        )

    first = build([story, in_triage("done", t(4))])
    assert first.record("D-1").work_start == ms(t(3))  # Triage is Done: work starts after it
    second = build([story, in_triage("indeterminate", t(5))])
    assert second.records_built == 2  # D-1 did not change, but what its statuses mean did
    assert second.record("D-1").work_start == ms(t(2))
    unchanged = build([story, in_triage("indeterminate", t(5))])
    assert unchanged.records_built == 0


def test_the_same_project_object_returns_the_same_dataset_without_work() -> None:
    project = ProjectData(sample(10), statuses(), version="test")
    first = build_dataset(project, default_mappings(), UTC_ZONE)
    assert build_dataset(project, default_mappings(), UTC_ZONE) is first


def test_sample_project_dataset_has_every_population() -> None:
    from data.jira.sample_project import generate_issues
    from data.jira.sample_project import statuses as sample_statuses

    issues = generate_issues(300, 3, now=datetime(2024, 6, 1, tzinfo=UTC))
    ds = build_dataset(ProjectData(issues, sample_statuses()), default_mappings(), UTC_ZONE)
    assert ds.issues == 300
    assert ds.has_deployments and ds.has_incidents and ds.has_changes and ds.has_completed
    for column in (ds.deployments.times, ds.changes.deployed, ds.completed.times):
        assert (column[:-1] <= column[1:]).all()  # sorted for searchsorted


@pytest.mark.parametrize("wide", [False, True], ids=["packed", "too-wide-to-pack"])
def test_changelog_order_is_issue_time_history_id_position_then_states(wide: bool) -> None:
    rng = np.random.default_rng(7)
    count = 3_000  # few issues and times: many ties for the tie breakers to settle
    issue, when = rng.integers(0, 200, count), rng.integers(0, 40, count)
    frm, to = rng.integers(0, 4, count), rng.integers(0, 4, count)
    history_id, position = rng.integers(0, 6, count), rng.integers(0, 3, count)
    if wide:  # a time span too wide to pack beside the issue number
        when[0] += 1 << 61
    order = changelog_order(issue, when, frm, to, lambda rows: (history_id[rows], position[rows]))
    assert order.tolist() == np.lexsort((to, frm, position, history_id, when, issue)).tolist()


def test_normalizing_in_blocks_gives_the_table_of_one_block(monkeypatch) -> None:
    from data.engine import issue_table
    from data.engine.field_mapper import FieldMapper
    from data.jira.sample_project import generate_issues
    from data.jira.sample_project import statuses as sample_statuses

    issues = generate_issues(500, 11, now=datetime(2024, 6, 1, tzinfo=UTC))

    def table(block: int) -> issue_table.IssueTable:
        monkeypatch.setattr(issue_table, "BLOCK", block)
        mapper = FieldMapper(default_mappings(), sample_statuses(), issues)
        return issue_table.normalize_issues(issues, mapper, UTC_ZONE)

    whole, blocks = table(10_000), table(64)
    for rec in range(500):
        assert blocks.record(rec) == whole.record(rec)
    assert blocks.spans.row.tolist() == whole.spans.row.tolist()
