"""Items listed from a fetched JIRA cache: summaries kept in the lean cache, links to JIRA."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from data.engine.evidence import item_list
from data.jira.fetcher import fetch_project
from data.storage.cache_manager import IssueCache, load_project
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import FAST_LIMIT, settings_for


def test_fetched_issues_keep_their_summary_and_items_link_to_the_jira_they_came_from(data_dir):
    with JiraEmulator(flavor="cloud", issues=300, seed=7) as jira:
        settings = settings_for(jira, rate_limit=FAST_LIMIT)
        fetch_project(data_dir, settings)
        truth = {key: jira.issue(key)["fields"]["summary"] for key in jira.issue_keys()}
    cached = IssueCache.for_settings(data_dir, settings).load()
    assert {issue["key"]: issue["fields"]["summary"] for issue in cached.issues} == truth
    project = load_project(data_dir, settings)
    now = datetime.now(UTC)
    listed = item_list(project, settings, {"metric": "flow_velocity"}, "90d", now, tz="UTC")
    assert listed["count"] > 0
    site = settings["jira"]["url"].rstrip("/")
    for item in listed["items"]:
        assert item["summary"] == truth[item["key"]]
        assert item["url"] == f"{site}/browse/{item['key']}"
    keys = [item["key"] for item in listed["items"]]
    searched = unquote(" ".join(listed["jira"]["links"]))
    assert all(key in searched for key in keys) and listed["jira"]["note"] is None
