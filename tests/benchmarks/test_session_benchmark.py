"""A scripted typical session in Chromium: cache hit rate at least 90 %.

The session, against the JIRA emulator (Cloud, 5,000 issues, its rate limit on) after an
initial fetch that is not counted: open the dashboard; switch to 7, 90 days, a custom range,
30 and 7 days; change a mapping that needs no new field (saved through the data layer, page
reloaded); click Update data and wait for it (an incremental refresh: JIRA changed a few
issues, or none); restart the app (server closed, every in-memory cache cleared as a new
process has them, a new app on a new port); open it again.

Hit rate: every lookup the page's callbacks make, each counted once, as for any two-tier
cache: a hit is an answer from the cache, in memory or on disk; a miss is an answer that had to
come from the source (JIRA for issues, a computation for reports). Issue cache
(`session_cache_stats`): memo hits and head-only refreshes are memory hits, a parsed file is a
disk hit (no lookup in the session goes to JIRA: only Update data does). Reports: memory hits
of `metrics_service` (`report_cache_stats`) and of the metric cache, disk hits of the metric
cache, misses when computed (counted by both, so taken once). Cache warming (the preset periods
computed after a view) is work, not a lookup, and is not counted. The counters of both
processes (before and after the restart) are added up; the in-memory-only rate is printed too.
Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_session_benchmark.py -s

The session as scripted refreshes a JIRA where nothing changed (target: >= 90 %). A variant
with 5 issues changed in JIRA is measured beside it: its refreshed data makes one more report
a first sight, so it is held to >= 85 % (a regression guard), not to the target.

Measured 2026-11-28 (2 shared cores): 35/38 = 92.1 % with nothing changed in JIRA (84.2 % from
memory alone); 34/38 = 89.5 % with 5 changed issues. The misses are first sights: 30 days on
opening, the applied custom range, 30 days under the new mapping (and 30 days on refreshed
data). API calls in the session: 2 (the refresh: changed-issue search and count).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from configuration.settings import default_settings
from data.engine import dataset
from data.jira.fetcher import fetch_project
from data.services import metrics_service
from data.storage import cache_memory
from data.storage.persistence import load_settings, save_settings
from tests.benchmarks.conftest import bench_sizes
from tests.browser.conftest import ConsoleLog, Served, sample_now, serve
from tests.jira_emulator import JiraEmulator

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

ISSUES = bench_sizes(5_000)[0]
#: What JIRA Cloud roughly allows per user (as the fetch benchmarks).
SERVER_LIMIT = (100, 10.0)
TARGET_HIT_RATE = 0.90
WAIT_MS = 120_000
#: True when no Dash component waits for a callback (Dash marks those with an attribute).
IDLE_JS = "() => document.querySelectorAll('[data-dash-is-loading]').length === 0"


@dataclass
class Lookups:
    """Hits and lookups of one process, by cache."""

    counts: Counter[str]

    @classmethod
    def of_this_process(cls, root: Path) -> Lookups:
        session = cache_memory.session_cache_stats(root)
        issue, metric = session["issue_cache"], session["metric_cache"]
        reports = metrics_service.report_cache_stats()
        assert reports["misses"] == metric["misses"], "every computed report was looked up on disk"
        return cls(
            Counter(
                issue_memory_hits=issue["hits"] + issue["refreshes"],
                issue_disk_hits=issue["loads"],
                report_memory_hits=reports["hits"],
                report_stored_hits=metric["hits"],
                report_misses=metric["misses"],
                stored_puts=metric["puts"],
            )
        )


def hit_rate(counts: Counter[str]) -> tuple[int, int, float, float]:
    """(hits, lookups, hit rate, in-memory hit rate) of a session's counts."""
    memory = counts["issue_memory_hits"] + counts["report_memory_hits"]
    hits = memory + counts["issue_disk_hits"] + counts["report_stored_hits"]
    lookups = hits + counts["report_misses"]
    return hits, lookups, hits / lookups, memory / lookups


def restart_memory() -> None:
    """What a new server process starts with: nothing in memory."""
    cache_memory.clear_memory()
    metrics_service.clear_report_cache()
    dataset.clear_caches()


@pytest.fixture
def jira() -> Iterator[JiraEmulator]:
    with JiraEmulator(flavor="cloud", issues=ISSUES, seed=42, rate_limit=SERVER_LIMIT) as emulator:
        yield emulator


@pytest.fixture
def fetched(data_dir: Path, jira: JiraEmulator) -> dict[str, Any]:
    """Settings pointing at the emulator and its 5,000 issues fetched into the cache."""
    settings = default_settings()
    settings["jira"].update(
        url=jira.url, auth="basic", email=jira.email, token=jira.token, jql="project = DEMO"
    )
    settings["time_zone"] = "UTC"
    save_settings(data_dir, settings)
    summary = fetch_project(data_dir, settings)
    assert (summary.mode, summary.issues) == ("full", ISSUES)
    restart_memory()
    jira.reset_counters()
    return settings


def settle(page: Page) -> None:
    page.wait_for_function(IDLE_JS, polling=50, timeout=WAIT_MS)


def show(page: Page, label: str) -> None:
    page.locator("#period-choice label", has_text=label).click()
    expect(page.locator("#period-label")).to_contain_text(label, timeout=WAIT_MS)
    settle(page)


def open_dashboard(page: Page, served: Served) -> None:
    page.goto(served.url)
    page.locator("[data-metric]").nth(8).wait_for(timeout=WAIT_MS)
    expect(page.locator("#dataset-info")).to_contain_text(f"{ISSUES:,}"[:3], timeout=WAIT_MS)
    settle(page)


@pytest.mark.parametrize(("changed_in_jira", "target"), [(0, TARGET_HIT_RATE), (5, 0.85)])
def test_typical_session_hits_the_caches_at_least_90_percent(
    page: Page,
    data_dir: Path,
    jira: JiraEmulator,
    fetched: dict[str, Any],
    changed_in_jira: int,
    target: float,
):
    console = ConsoleLog()
    console.watch(page)
    page.set_default_timeout(WAIT_MS)
    now = sample_now()
    before_restart: Counter[str] = Counter()

    servers = serve(data_dir, now)
    served = next(servers)
    try:
        open_dashboard(page, served)
        for label in ("Last 7 days", "Last 90 days"):
            show(page, label)
        page.locator("#period-choice label", has_text="Custom range").click()
        settle(page)
        start, end = (now - timedelta(days=60)).date(), (now - timedelta(days=15)).date()
        page.fill("#custom-start", start.isoformat())
        page.fill("#custom-end", end.isoformat())
        page.click("#apply-custom")
        expect(page.locator("#period-label")).to_contain_text(start.isoformat())
        settle(page)
        for label in ("Last 30 days", "Last 7 days"):
            show(page, label)

        settings = load_settings(data_dir)  # a mapping that needs no new field
        settings["mappings"]["failure_by_time_window"] = not settings["mappings"].get(
            "failure_by_time_window", True
        )
        save_settings(data_dir, settings)
        page.reload()
        page.locator("[data-metric]").nth(8).wait_for(timeout=WAIT_MS)
        settle(page)

        changed = jira.change_issues(changed_in_jira, seed=9) if changed_in_jira else []
        calls_before_update = jira.counters["total"]
        page.click("#update-data")
        expect(page.locator("#update-status")).to_contain_text("Updated", timeout=WAIT_MS)
        expect(page.locator("#update-data")).to_be_enabled(timeout=WAIT_MS)
        settle(page)
        update_calls = jira.counters["total"] - calls_before_update
        before_restart = Lookups.of_this_process(data_dir).counts
    finally:
        servers.close()  # the server stops

    restart_memory()
    servers = serve(data_dir, now)
    served = next(servers)
    try:
        open_dashboard(page, served)
        after_restart = Lookups.of_this_process(data_dir).counts
    finally:
        servers.close()

    total = before_restart + after_restart
    hits, lookups, rate, memory_rate = hit_rate(total)
    calls = jira.counters
    print(
        f"\nsession ({changed_in_jira} issues changed in JIRA, {len(changed)} fetched):"
        f"\n  before restart: {dict(before_restart)}"
        f"\n  after restart:  {dict(after_restart)}"
        f"\n  hit rate: {hits}/{lookups} = {rate:.1%} (in memory alone: {memory_rate:.1%})"
        f"\n  API calls in the session: {calls['total']} (update: {update_calls})"
        f" by path {calls['by_path']}"
    )
    assert calls["total"] == update_calls  # only Update data asks JIRA
    assert after_restart["report_misses"] == 0  # the first view after a restart: from disk
    assert console.errors == []
    assert rate >= target
