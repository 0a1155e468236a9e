"""A view of a cache older than its time-to-live starts an incremental refresh, never a full
fetch; a fresh cache, no cache or no JIRA start nothing. Against the JIRA emulator."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

from data.jira.fetcher import fetch_project, refresh_if_stale, update_progress, wait_for_update
from data.storage.cache_manager import cache_status
from data.storage.locks import fetch_lock
from tests.integration.test_fetch import settings_for
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import cloud_jira  # noqa: F401 - fixture

#: 0.36 s: a cache is stale a moment after its sync.
TINY_TTL_HOURS = 0.0001


def with_ttl(settings: dict[str, Any], hours: float) -> dict[str, Any]:
    changed = copy.deepcopy(settings)
    changed["cache"] = {"ttl_hours": hours}
    return changed


def listings(jira: JiraEmulator) -> list[str]:
    """The JQL of every issue listing (the approximate count lists nothing)."""
    return [entry["jql"] for entry in jira.requests if entry["path"].endswith("/search/jql")]


def test_stale_cache_starts_an_incremental_refresh(data_dir: Path, cloud_jira: JiraEmulator):  # noqa: F811
    settings = with_ttl(settings_for(cloud_jira), TINY_TTL_HOURS)
    fetch_project(data_dir, settings)
    time.sleep(TINY_TTL_HOURS * 3600 + 0.2)
    assert cache_status(data_dir, settings)["stale"]
    changed = cloud_jira.change_issues(3, seed=5)
    cloud_jira.reset_counters()

    assert refresh_if_stale(data_dir, settings) is True
    progress = wait_for_update(data_dir, timeout=60)

    assert progress["state"] == "done"
    assert progress["summary"]["mode"] == "incremental"
    assert progress["summary"]["fetched"] == len(changed)
    jqls = listings(cloud_jira)
    assert jqls and all("updated >=" in jql for jql in jqls)  # no full listing
    paths = cloud_jira.counters["by_path"]
    assert not any(path.endswith(("/field", "/status", "/serverInfo")) for path in paths)
    assert cache_status(data_dir, settings)["sync_mode"] == "incremental"


def test_fresh_cache_starts_nothing(data_dir: Path, cloud_jira: JiraEmulator):  # noqa: F811
    settings = settings_for(cloud_jira)  # default time-to-live: 24 hours
    fetch_project(data_dir, settings)
    cloud_jira.reset_counters()

    assert refresh_if_stale(data_dir, settings) is False

    assert update_progress(data_dir)["state"] == "idle"
    assert cloud_jira.counters["total"] == 0


def test_no_cache_yet_starts_no_full_fetch(data_dir: Path, cloud_jira: JiraEmulator):  # noqa: F811
    settings = with_ttl(settings_for(cloud_jira), TINY_TTL_HOURS)

    assert refresh_if_stale(data_dir, settings) is False

    assert cloud_jira.counters["total"] == 0


def test_without_jira_nothing_starts(data_dir: Path):
    from configuration.settings import default_settings

    assert refresh_if_stale(data_dir, default_settings()) is False
    assert update_progress(data_dir)["state"] == "idle"


def test_stale_cache_while_a_fetch_runs_starts_nothing(data_dir: Path, cloud_jira: JiraEmulator):  # noqa: F811
    settings = with_ttl(settings_for(cloud_jira), TINY_TTL_HOURS)
    fetch_project(data_dir, settings)
    time.sleep(TINY_TTL_HOURS * 3600 + 0.2)
    cloud_jira.reset_counters()

    with fetch_lock(data_dir, timeout=5):  # another process's fetch, as the lock shows it
        assert refresh_if_stale(data_dir, settings) is False

    assert cloud_jira.counters["total"] == 0
