"""Reports kept on disk in the metric cache: after a "restart" (in-memory caches cleared) the
first view reads the stored report instead of normalizing and computing; other mappings or
other data miss. Real files in the test's data directory, a real issue cache."""

from __future__ import annotations

import copy
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from data.engine import dataset
from data.jira.sample_project import fields, generate_issues, statuses
from data.services import metrics_service
from data.services.metrics_service import report_for_project
from data.storage import cache_memory
from data.storage.cache_manager import IssueCache, load_project
from data.storage.cache_memory import metric_cache_for
from data.storage.persistence import load_settings, save_settings

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 2, tzinfo=UTC)
ISSUES = 300


def restart() -> None:
    """What a new process would have: no report, project or dataset in memory (the presets
    a view warms in the background are done first: a new process has no such thread)."""
    for thread in threading.enumerate():
        if thread.name == "warm-presets":
            thread.join()
    metrics_service.clear_report_cache()
    cache_memory.clear_memory()
    dataset.clear_caches()


@pytest.fixture(autouse=True)
def fresh_memory() -> None:
    restart()


@pytest.fixture
def jira_settings(data_dir: Path) -> dict[str, Any]:
    """Settings pointing at a JIRA site, with a cache of sample issues written for them."""
    settings = load_settings(data_dir)
    settings["jira"].update({"url": "https://cache.example.net", "jql": "project = DEMO"})
    save_settings(data_dir, settings)
    with IssueCache.for_settings(data_dir, settings).begin_update("full") as update:
        update.add_issues(generate_issues(ISSUES, 3, now=NOW))
        update.commit(NOW, statuses(), fields(), "UTC")
    return settings


def view(root: Path, settings: dict[str, Any], period: str = "30d") -> dict[str, Any]:
    project = load_project(root, settings)
    assert project is not None
    return report_for_project(project, settings, period, now=NOW, root=root)


def operations(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [getattr(record, "operation", "") for record in caplog.records]


def test_report_after_restart_is_read_from_disk_without_normalizing(
    data_dir: Path, jira_settings: dict[str, Any], caplog: pytest.LogCaptureFixture
):
    first = view(data_dir, jira_settings)
    assert metric_cache_for(data_dir).stats()["puts"] == 1
    assert len(list((data_dir / "cache" / "metrics").glob("*.json"))) == 1
    restart()
    caplog.set_level(logging.INFO)

    again = view(data_dir, jira_settings)

    assert again == first
    stats = metric_cache_for(data_dir).stats()
    assert (stats["hits"], stats["misses"]) == (1, 0)
    assert "normalize" not in operations(caplog)
    assert "report" in operations(caplog)  # the "metric cache hit" line


def test_same_view_twice_in_one_process_is_a_memory_hit_not_a_disk_read(
    data_dir: Path, jira_settings: dict[str, Any]
):
    first = view(data_dir, jira_settings)
    second = view(data_dir, jira_settings)
    assert second is first
    assert metrics_service.report_cache_stats()["hits"] == 1
    assert metric_cache_for(data_dir).stats()["hits"] == 0


def test_other_period_after_restart_is_a_miss(data_dir: Path, jira_settings: dict[str, Any]):
    view(data_dir, jira_settings, "30d")
    restart()
    report = view(data_dir, jira_settings, "7d")
    assert report["period"]["label"] == "Last 7 days"
    assert (
        metric_cache_for(data_dir).stats()["hits"],
        metric_cache_for(data_dir).stats()["misses"],
    ) == (0, 1)


def test_changed_mapping_misses_the_stored_report(data_dir: Path, jira_settings: dict[str, Any]):
    first = view(data_dir, jira_settings)
    restart()
    changed = copy.deepcopy(jira_settings)
    changed["mappings"]["failure_by_time_window"] = not first["settings"]["failure_by_time_window"]
    save_settings(data_dir, changed)

    report = view(data_dir, changed)

    stats = metric_cache_for(data_dir).stats()
    assert (stats["hits"], stats["misses"]) == (0, 1)
    assert report["settings"]["mappings_hash"] != first["settings"]["mappings_hash"]
    assert (
        report["settings"]["failure_by_time_window"]
        is not first["settings"]["failure_by_time_window"]
    )


def test_changed_data_misses_the_stored_report(data_dir: Path, jira_settings: dict[str, Any]):
    first = view(data_dir, jira_settings)
    restart()
    cache = IssueCache.for_settings(data_dir, jira_settings)
    cached = cache.load()
    assert cached is not None
    newest = max(cached.issues, key=lambda issue: issue["fields"]["updated"])
    edited = copy.deepcopy(newest)
    edited["fields"]["summary"] = "edited after the first view"
    edited["fields"]["updated"] = (NOW + timedelta(minutes=5)).isoformat()
    with cache.begin_update("incremental") as update:
        update.add_issues([edited])
        update.commit(NOW + timedelta(minutes=6), statuses(), fields(), "UTC")
    restart()

    report = view(data_dir, jira_settings)

    stats = metric_cache_for(data_dir).stats()
    assert (stats["hits"], stats["misses"]) == (0, 1)
    assert report["period"] == first["period"]


def test_project_without_version_is_not_stored(data_dir: Path):
    from data.storage.project_data import ProjectData

    project = ProjectData(
        issues=generate_issues(50, 5, now=NOW), statuses=statuses(), fields=fields(), source="file"
    )
    report_for_project(project, load_settings(data_dir), "30d", now=NOW, root=data_dir)
    assert metric_cache_for(data_dir).stats()["puts"] == 0
    assert not (data_dir / "cache" / "metrics").exists() or not any(
        (data_dir / "cache" / "metrics").iterdir()
    )


def test_cli_metrics_from_the_cache_stores_the_report_for_the_next_run(
    data_dir: Path, jira_settings: dict[str, Any]
):
    env = {**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)}
    command = [sys.executable, "app.py", "metrics", "--period", "30d", "--now", NOW.isoformat()]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
        )

    first = run()
    assert first.returncode == 0, first.stderr
    stored = list((data_dir / "cache" / "metrics").glob("*.json"))
    assert len(stored) == 1
    before = stored[0].stat().st_mtime_ns

    second = run()

    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert [path.stat().st_mtime_ns for path in stored] == [before]  # read, not written again
