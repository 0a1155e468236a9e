"""The item panel in the browser: 5,000 rows open within 300 ms (median).

The project is a JIRA cache of 5,000 sample issues, written through the real issue cache.
One round = one request of all 5,000 keys written to the `item-request` store, the way every
page area opens the panel, timed in the page from the write to the moment the panel shows
the count and the table's first page. The table pages on the server: the count, the JIRA
links and the first 100 rows travel to the browser (the 5,000 keys travel up, in the
request). Between rounds (untimed) the panel is closed and the page settles.
Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_item_panel_benchmark.py
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from data.jira.sample_project import fields, generate_issues, statuses
from data.storage.cache_manager import IssueCache
from data.storage.persistence import load_settings, save_settings
from tests.benchmarks.conftest import judged
from tests.browser.conftest import ConsoleLog, Served, sample_now, serve

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

ISSUES = 5_000
TARGET_MEDIAN_MS = 300.0

#: Write a request to the store and resolve with the ms until 5,000 rows are listed.
OPEN_JS = """
([keys, round]) => new Promise((resolve) => {
  const listed = () => {
    const count = document.querySelector('#item-panel [data-role=item-count]');
    const title = document.querySelector('#item-panel .offcanvas-title');
    return count && count.innerText === '5,000' && title && title.innerText === round
      && document.querySelectorAll('#item-panel td[data-dash-column=key]').length > 0;
  };
  const start = performance.now();
  const observer = new MutationObserver(() => {
    if (listed()) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.dash_clientside.set_props('item-request', {data: {title: round, keys: keys}});
})
"""
IDLE_JS = "() => document.querySelectorAll('[data-dash-is-loading]').length === 0"


@pytest.fixture
def large_dashboard(data_dir: Path) -> Iterator[tuple[Served, list[str]]]:
    """The dashboard on a JIRA cache of 5,000 sample issues, and their keys."""
    settings = load_settings(data_dir)
    settings["jira"].update({"url": "https://bench.example.net", "jql": "project = DEMO"})
    save_settings(data_dir, settings)
    issues = generate_issues(ISSUES, 7, now=sample_now())
    with IssueCache.for_settings(data_dir, settings).begin_update("full") as update:
        update.add_issues(issues)
        update.commit(sample_now(), statuses(), fields(), "UTC")
    for served in serve(data_dir, sample_now()):
        yield served, [issue["key"] for issue in issues]


def test_item_panel_opens_5000_rows_within_300_ms_median(
    page: Page, large_dashboard: tuple[Served, list[str]], benchmark
):
    served, keys = large_dashboard
    console = ConsoleLog()
    console.watch(page)
    page.goto(served.url)
    page.locator("[data-metric]").nth(8).wait_for(timeout=120_000)
    rounds = iter(range(1000))
    in_page: list[float] = []

    def settle() -> tuple[tuple[str], dict]:
        close = page.locator("#item-panel .btn-close")
        if close.count():
            close.click()
            expect(page.locator("#item-panel")).to_be_hidden()
        page.wait_for_function(IDLE_JS, polling=50, timeout=60_000)
        page.wait_for_timeout(200)
        return (f"Round {next(rounds)}",), {}

    def open_panel(title: str) -> None:
        in_page.append(page.evaluate(OPEN_JS, [keys, title]))

    benchmark.pedantic(open_panel, setup=settle, rounds=15, iterations=1, warmup_rounds=0)

    benchmark.extra_info["in_page_median_ms"] = round(statistics.median(in_page), 1)
    benchmark.extra_info["in_page_all_ms"] = [round(ms, 1) for ms in in_page]
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert statistics.median(in_page) <= TARGET_MEDIAN_MS
    assert console.errors == []
