"""Full and incremental fetches into the cache against the emulator, and the page's job."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from configuration.metric_defaults import default_mappings
from data.engine.dataset import build_dataset, clear_caches
from data.jira.fetcher import (
    cancel_update,
    fetch_project,
    incremental_jql,
    start_update,
    update_progress,
    wait_for_update,
)
from data.jira.jira_parser import lean_issue
from data.jira.sample_project import statuses as jira_statuses
from data.storage.cache_manager import IssueCache, fields_for_mappings, load_project
from data.storage.project_data import ProjectData
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import FAST_LIMIT
from tests.jira_emulator.fixtures import settings_for as emulator_settings


def settings_for(emulator: JiraEmulator, **jira) -> dict:
    """Default settings pointed at the emulator, a fast client, an ORDER BY in the JQL."""
    return emulator_settings(
        emulator,
        rate_limit=FAST_LIMIT,
        **{"jql": f"project = {emulator.jql_project} ORDER BY created DESC", **jira},
    )


def cached_issues(root: Path, settings: dict) -> dict[str, dict]:
    cached = IssueCache.for_settings(root, settings).load()
    assert cached is not None
    return {issue["key"]: issue for issue in cached.issues}


def all_issues(emulator: JiraEmulator, settings: dict) -> list[dict]:
    """The emulator's own issues (full changelogs) in the lean form the cache stores them:
    the truth a fetch is compared with."""
    wanted = fields_for_mappings(settings["mappings"])
    return [lean_issue(emulator.issue(key), wanted) for key in emulator.issue_keys()]


def history_ids(issue: dict) -> list[str]:
    return sorted(h["id"] for h in issue["changelog"]["histories"])


def assert_cache_equals_emulator(root: Path, settings: dict, emulator: JiraEmulator) -> None:
    """Every issue once, same `updated`, same complete (lean) changelog as the emulator holds."""
    got = cached_issues(root, settings)
    truth = {issue["key"]: issue for issue in all_issues(emulator, settings)}
    assert set(got) == set(truth)
    for key, issue in truth.items():
        assert got[key]["fields"]["updated"] == issue["fields"]["updated"], key
        assert history_ids(got[key]) == history_ids(issue), key
        assert got[key]["changelog"] == issue["changelog"], key


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest):
    with JiraEmulator(flavor=request.param, issues=600, seed=11) as emulator:
        yield emulator


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_full_fetch_of_5000_issues_returns_each_once_with_complete_changelogs(data_dir, flavor):
    with JiraEmulator(flavor=flavor, issues=5000, seed=42) as emulator:
        settings = settings_for(emulator)
        summary = fetch_project(data_dir, settings)
        assert summary.mode == "full"
        assert summary.issues == summary.fetched == 5000
        assert summary.api_calls == emulator.counters["total"]
        assert_cache_equals_emulator(data_dir, settings, emulator)


def test_second_fetch_is_incremental_and_merges_only_changed_issues(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    changed = jira.change_issues(7, seed=3)
    jira.reset_counters()
    summary = fetch_project(data_dir, settings)
    assert summary.mode == "incremental"
    assert summary.fetched == 7
    assert summary.cache_misses == 7
    assert summary.cache_hits == 600 - 7
    assert summary.issues == 600
    assert_cache_equals_emulator(data_dir, settings, jira)
    got = cached_issues(data_dir, settings)
    assert all(got[key]["fields"]["updated"] for key in changed)


def test_refresh_with_no_changes_costs_at_most_two_calls(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    jira.reset_counters()
    summary = fetch_project(data_dir, settings)
    assert summary.mode == "incremental"
    assert jira.counters["total"] <= 2
    assert summary.api_calls == jira.counters["total"]
    assert summary.fetched == 0


def test_removed_issues_disappear_from_the_cache(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    gone = [f"{jira.jql_project}-{n}" for n in (3, 50, 200)]
    jira.remove_issues(gone)
    summary = fetch_project(data_dir, settings)
    assert summary.removed == 3
    got = cached_issues(data_dir, settings)
    assert not set(gone) & set(got)
    assert len(got) == 597
    assert_cache_equals_emulator(data_dir, settings, jira)


def test_an_issue_the_cache_lost_is_fetched_again_on_refresh(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    cache = IssueCache.for_settings(data_dir, settings)
    cached = cache.load()
    lost = ["DEMO-7", "DEMO-300"]
    with cache.begin_update("incremental") as update:  # as if a page had shifted under a fetch
        update.remove_keys(lost)
        update.commit(cached.sync_cursor, None, None, cached.user_time_zone)
    assert len(cached_issues(data_dir, settings)) == 598
    summary = fetch_project(data_dir, settings)
    assert summary.mode == "incremental"
    assert summary.fetched == 2
    assert_cache_equals_emulator(data_dir, settings, jira)


def test_the_cache_keeps_no_changelog_authors_or_email_addresses(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    jira.change_issues(5, seed=8)
    fetch_project(data_dir, settings)
    assert any(h.get("author") for h in jira.issue(jira.issue_keys()[0])["changelog"]["histories"])
    raw = IssueCache.for_settings(data_dir, settings).path.read_bytes()
    assert b'"author"' not in raw
    assert b"emailAddress" not in raw
    assert b'"histories":[{' in raw


def test_full_flag_refetches_everything(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    summary = fetch_project(data_dir, settings, full=True)
    assert summary.mode == "full"
    assert summary.fetched == 600


def test_incremental_jql_uses_the_users_zone_and_five_minutes_overlap():
    from datetime import UTC, datetime

    cursor = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert (
        incremental_jql("project = DEMO ORDER BY created DESC", cursor, "Asia/Kolkata")
        == '(project = DEMO) AND updated >= "2024/03/01 17:25"'
    )
    assert incremental_jql("project = DEMO", cursor, None).endswith('"2024/03/01 11:55"')


def test_the_fetched_cache_is_what_the_dashboard_loads(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    project = load_project(data_dir, settings)
    assert project is not None
    assert project.source == "jira"
    assert len(project.issues) == 600
    assert project.statuses and project.fields
    assert project.time_zone == jira.user_time_zone


def test_flag_changes_are_fetched_into_the_cache_and_read_as_blocked_time(data_dir, jira):
    # the emulator serves the sample project, whose work items are flagged for a while
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    cached = cached_issues(data_dir, settings)
    flag_items = [
        item
        for issue in cached.values()
        for history in issue["changelog"]["histories"]
        for item in history["items"]
        if item["field"] == "Flagged"
    ]
    assert flag_items, "the sample project has flagged periods"
    assert {item["fieldId"] for item in flag_items} == {"customfield_10021"}
    raised = [item for item in flag_items if item["toString"] == "Impediment"]
    assert 0 < len(raised) <= len(flag_items)

    def flags(issues: list[dict]) -> list[tuple]:
        project = ProjectData(issues, jira_statuses(), version="v")
        ds = build_dataset(project, default_mappings(), ZoneInfo("UTC"))
        table = ds.table
        return sorted(
            zip(table.key[table.flags.row].tolist(), table.flags.begin.tolist(), strict=True)
        )

    clear_caches()
    from_cache = flags(list(cached.values()))
    clear_caches()
    assert from_cache and from_cache == flags([jira.issue(key) for key in jira.issue_keys()])


def _fetch_while_another_runs(data_dir: Path, jira: JiraEmulator, first: dict, second: dict):
    """Start a fetch with `first`, then one with `second` while it runs; both summaries."""
    from data.storage.locks import is_fetch_running

    jira.set_faults(slow_seconds=0.05)
    results: dict = {}
    runner = threading.Thread(target=lambda: results.update(a=fetch_project(data_dir, first)))
    runner.start()
    while not is_fetch_running(data_dir) and runner.is_alive():
        time.sleep(0.01)
    assert runner.is_alive(), "the first fetch ended before the second could start"
    results["b"] = fetch_project(data_dir, second)
    runner.join(60)
    return results["a"], results["b"]


def test_a_second_fetch_of_the_same_cache_waits_and_shares_the_running_ones_result(data_dir, jira):
    settings = settings_for(jira)
    first, second = _fetch_while_another_runs(data_dir, jira, settings, settings)
    assert first.mode == "full"
    assert second.mode == "shared"
    assert second.api_calls == 0
    assert second.issues == 600
    assert jira.counters["total"] == first.api_calls


def test_a_second_fetch_of_another_jql_waits_then_runs_its_own(data_dir, jira):
    settings = settings_for(jira)
    other = settings_for(jira, jql=f"project = {jira.jql_project} AND status = Done")
    first, second = _fetch_while_another_runs(data_dir, jira, settings, other)
    assert (first.mode, second.mode) == ("full", "full")
    assert 0 < second.issues < 600
    assert jira.counters["total"] == first.api_calls + second.api_calls


def test_concurrent_start_update_calls_run_one_fetch(data_dir, jira):
    settings = settings_for(jira)
    jira.set_faults(slow_seconds=0.05)
    started = [start_update(data_dir, settings) for _ in range(5)]
    assert started.count(True) == 1
    progress = wait_for_update(data_dir, 60)
    assert progress["state"] == "done", progress
    assert progress["summary"]["mode"] == "full"
    assert jira.counters["total"] == progress["summary"]["api_calls"]
    assert start_update(data_dir, settings) is True  # free again once done
    assert wait_for_update(data_dir, 60)["summary"]["mode"] == "incremental"


def test_progress_moves_while_running_and_ends_done(data_dir, jira):
    settings = settings_for(jira)
    jira.set_faults(slow_seconds=0.05)
    assert update_progress(data_dir)["state"] == "idle"
    assert start_update(data_dir, settings)
    seen = []
    while (progress := update_progress(data_dir))["state"] == "running":
        seen.append(progress["issues"])
        time.sleep(0.02)
    assert progress["state"] == "done"
    assert progress["issues"] == 600
    assert progress["elapsed_s"] > 0
    assert any(0 < n < 600 for n in seen), "no intermediate progress was visible"
    assert progress["summary"]["issues"] == 600


def test_cancel_keeps_the_previous_cache_byte_identical(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    path = IssueCache.for_settings(data_dir, settings).path
    before = path.read_bytes()
    jira.set_faults(slow_seconds=0.2)
    assert start_update(data_dir, settings, full=True)
    time.sleep(0.5)
    assert cancel_update(data_dir)
    progress = wait_for_update(data_dir, 30)
    assert progress["state"] == "cancelled"
    assert "previous data is kept" in progress["message"]
    assert path.read_bytes() == before


def test_a_failed_update_reports_the_message_and_keeps_the_cache(data_dir, jira):
    settings = settings_for(jira)
    fetch_project(data_dir, settings)
    path = IssueCache.for_settings(data_dir, settings).path
    before = path.read_bytes()
    bad = settings_for(jira, token="not-the-token")
    assert start_update(data_dir, bad)
    progress = wait_for_update(data_dir, 30)
    assert progress["state"] == "failed"
    assert "Wrong credentials" in progress["message"]
    assert "not-the-token" not in progress["message"]
    assert path.read_bytes() == before


def test_fetch_statistics_are_those_of_the_current_query_only(data_dir, jira):
    settings = settings_for(jira)
    other = settings_for(jira, jql=f"project = {jira.jql_project} AND status = Done")
    assert start_update(data_dir, settings)
    assert wait_for_update(data_dir, 60)["state"] == "done"
    assert update_progress(data_dir, settings)["summary"]["issues"] == 600
    # settings saved for another JQL, nothing fetched for it: no "Last update" of the first one
    assert update_progress(data_dir, other)["summary"] is None
    # that query's update fails: still none, and the first query keeps its own statistics
    assert start_update(data_dir, {**other, "jira": {**other["jira"], "token": "wrong"}})
    assert wait_for_update(data_dir, 30)["state"] == "failed"
    assert update_progress(data_dir, other)["summary"] is None
    assert update_progress(data_dir, settings)["summary"]["issues"] == 600
    assert start_update(data_dir, other)
    assert wait_for_update(data_dir, 60)["state"] == "done"
    assert 0 < update_progress(data_dir, other)["summary"]["issues"] < 600
