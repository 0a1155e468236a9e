"""Workspaces against the JIRA emulator: a data directory from before workspaces is read as the
workspace "default" with nothing refetched; two workspaces fetch at once; a workspace deleted
while its update runs is gone for good, and the others keep their data; "update all" runs one
fetch at a time per site."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from data.jira.fetcher import fetch_project, start_update, update_progress, wait_for_update
from data.services.workspace_updates import run_times, start_update_all, wait_for_all
from data.storage import workspaces as store
from data.storage.cache_manager import IssueCache
from data.storage.persistence import save_settings
from tests.integration.test_cli_fetch import connection_flags, run_app
from tests.integration.test_fetch import assert_cache_equals_emulator, settings_for
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import cloud_jira  # noqa: F401 - fixture


def test_a_data_directory_written_before_workspaces_is_the_default_workspace_unchanged(
    data_dir: Path,
    cloud_jira: JiraEmulator,  # noqa: F811
):
    env = {"MY_JIRA_TOKEN": cloud_jira.token}
    fetched = run_app(data_dir, "fetch", *connection_flags(cloud_jira), env=env)
    assert fetched.returncode == 0, fetched.stderr
    period = ["--period", "90d", "--now", "2026-12-01T00:00:00+00:00"]
    before = run_app(data_dir, "metrics", *period, env=env)
    assert before.returncode == 0, before.stderr
    files_before = sorted(p.relative_to(data_dir) for p in (data_dir / "cache").rglob("*"))
    cloud_jira.reset_counters()

    listed = run_app(data_dir, "workspaces", env=env)
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.startswith("* Default  ") and f"{cloud_jira.url}" in line
    assert "120 issues, updated " in line

    for args in (["metrics", *period], ["metrics", "--workspace", "default", *period]):
        after = run_app(data_dir, *args, env=env)
        assert after.returncode == 0, after.stderr
        assert after.stdout == before.stdout
    assert cloud_jira.counters["total"] == 0  # nothing refetched
    files_after = sorted(p.relative_to(data_dir) for p in (data_dir / "cache").rglob("*"))
    assert set(files_before) <= set(files_after)  # nothing moved or lost


def test_two_workspaces_fetch_at_once_each_into_its_own_cache(
    data_dir: Path,
    cloud_jira: JiraEmulator,  # noqa: F811
):
    first = store.create_workspace(data_dir, "All")
    second = store.create_workspace(data_dir, "Done only")
    all_settings = settings_for(cloud_jira)
    done_settings = settings_for(
        cloud_jira, jql=f"project = {cloud_jira.jql_project} AND status = Done"
    )
    save_settings(first.root, all_settings)
    save_settings(second.root, done_settings)
    cloud_jira.set_faults(slow_seconds=0.02)

    assert start_update(first.root, all_settings)
    assert start_update(second.root, done_settings)  # not refused: another workspace's lock
    one, two = wait_for_update(first.root, 60), wait_for_update(second.root, 60)
    assert (one["state"], two["state"]) == ("done", "done"), (one, two)
    assert_cache_equals_emulator(first.root, all_settings, cloud_jira)
    done = IssueCache.for_settings(second.root, done_settings).load()
    assert done is not None and 0 < len(done.issues) < 120
    assert not (data_dir / "cache").exists()  # the default workspace was not touched


@pytest.fixture
def big_jira():
    """Six pages of issues: an update is still running when the test deletes its workspace."""
    with JiraEmulator(issues=600, seed=5) as emulator:
        yield emulator


def test_a_workspace_deleted_mid_fetch_is_gone_and_the_others_keep_their_data(
    data_dir: Path, big_jira: JiraEmulator
):
    settings = settings_for(big_jira)
    fetch_project(data_dir, settings)  # the default workspace has data
    kept = IssueCache.for_settings(data_dir, settings).path.read_bytes()
    doomed = store.create_workspace(data_dir, "Doomed")
    save_settings(doomed.root, settings)
    big_jira.set_faults(slow_seconds=0.1)
    assert start_update(doomed.root, settings)
    deadline = time.monotonic() + 30
    while update_progress(doomed.root)["issues"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert update_progress(doomed.root)["state"] == "running"

    store.delete_workspace(data_dir, "doomed")

    assert update_progress(doomed.root)["state"] == "cancelled"
    time.sleep(0.5)  # a straggling write would recreate the folder now
    assert not doomed.root.exists()
    assert [w.slug for w in store.list_workspaces(data_dir)] == ["default"]
    assert IssueCache.for_settings(data_dir, settings).path.read_bytes() == kept
    with pytest.raises(store.WorkspaceError, match="No workspace called 'doomed'"):
        store.find_workspace(data_dir, "doomed")


def test_update_all_runs_one_fetch_at_a_time_per_site_and_reports_each_workspace(
    data_dir: Path,
    cloud_jira: JiraEmulator,  # noqa: F811
):
    all_settings = settings_for(cloud_jira)
    done_settings = settings_for(
        cloud_jira, jql=f"project = {cloud_jira.jql_project} AND status = Done"
    )
    first = store.create_workspace(data_dir, "All")
    second = store.create_workspace(data_dir, "Done only")
    save_settings(first.root, all_settings)
    save_settings(second.root, done_settings)  # the default workspace stays the sample
    cloud_jira.set_faults(slow_seconds=0.02)

    assert start_update_all(data_dir)
    assert not start_update_all(data_dir)  # one run at a time
    result = wait_for_all(data_dir, 120)

    rows = {row["slug"]: row for row in result["workspaces"]}
    assert result["state"] == "finished"
    assert rows["default"]["state"] == "skipped"
    assert (rows["all"]["state"], rows["done-only"]["state"]) == ("done", "done"), rows
    assert rows["all"]["issues"] == 120 and 0 < rows["done-only"]["issues"] < 120
    times = run_times(data_dir)
    (a_start, a_end), (b_start, b_end) = times["all"], times["done-only"]
    assert a_end <= b_start or b_end <= a_start  # never both at once on one site
    assert_cache_equals_emulator(first.root, all_settings, cloud_jira)
