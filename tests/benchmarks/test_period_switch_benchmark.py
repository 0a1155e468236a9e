"""Period switch in the browser on 5,000 issues: new numbers on screen within 300 ms (median).

The project is a JIRA cache of 5,000 sample issues, written through the real issue cache, so
the page takes the same path as for a user's JIRA data. One round = one click on a period
button, timed in the page from the click to the moment the new period's cards are in the DOM;
the rounds cycle through 7, 30 and 90 days, so the first of each is a metric-cache miss.
Between rounds (untimed) the page settles, as it does while a person reads it: the trend
charts, drawn by a second callback after the cards, finish before the next click.
Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_period_switch_benchmark.py
"""

from __future__ import annotations

import itertools
import os
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from data.jira.sample_project import fields, generate_issues, statuses
from data.storage.cache_manager import IssueCache
from data.storage.persistence import load_settings, save_settings
from tests.benchmarks.conftest import bench_rounds, bench_sizes, judged
from tests.browser.conftest import ConsoleLog, Served, sample_now, serve

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

ISSUES = bench_sizes(5_000)[0]
TARGET_MEDIAN_MS = 300.0
LABELS = ("Last 7 days", "Last 90 days", "Last 30 days")

#: Click a period button and resolve with the milliseconds until its cards are in the DOM.
SWITCH_JS = """
(label) => new Promise((resolve) => {
  const shown = () => document.querySelector('#period-label').innerText.includes(label);
  const start = performance.now();
  const observer = new MutationObserver(() => {
    if (shown()) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(document.querySelector('.app-main'),
                   {subtree: true, childList: true, characterData: true});
  [...document.querySelectorAll('#period-choice label')]
    .find((element) => element.innerText.trim() === label).click();
})
"""


#: True when no Dash component waits for a callback (Dash marks those with an attribute).
IDLE_JS = "() => document.querySelectorAll('[data-dash-is-loading]').length === 0"
SETTLE_MS = 400


@pytest.fixture
def large_dashboard(data_dir: Path) -> Iterator[Served]:
    """The dashboard on a JIRA cache of 5,000 sample issues."""
    settings = load_settings(data_dir)
    settings["jira"].update({"url": "https://bench.example.net", "jql": "project = DEMO"})
    save_settings(data_dir, settings)
    with IssueCache.for_settings(data_dir, settings).begin_update("full") as update:
        update.add_issues(generate_issues(ISSUES, 7, now=sample_now()))
        update.commit(sample_now(), statuses(), fields(), "UTC")
    yield from serve(data_dir, sample_now())


def test_period_switch_shows_new_numbers_within_300_ms_median(
    page: Page, large_dashboard: Served, benchmark
):
    console = ConsoleLog()
    console.watch(page)
    page.goto(large_dashboard.url)
    page.locator("[data-metric]").nth(8).wait_for(timeout=120_000)
    assert f"{ISSUES:,} issues" in page.locator("#dataset-info").inner_text()
    labels = itertools.cycle(LABELS)
    in_page: list[float] = []

    def settle() -> tuple[tuple[str], dict]:
        # a user reads the page before the next click: let the trend charts finish drawing
        page.wait_for_function(IDLE_JS, polling=50, timeout=60_000)
        page.wait_for_timeout(SETTLE_MS)
        return (next(labels),), {}

    def switch(label: str) -> None:
        in_page.append(page.evaluate(SWITCH_JS, label))

    benchmark.pedantic(switch, setup=settle, rounds=bench_rounds(30), iterations=1, warmup_rounds=0)

    benchmark.extra_info["in_page_median_ms"] = round(statistics.median(in_page), 1)
    benchmark.extra_info["in_page_first_three_ms"] = [round(ms, 1) for ms in in_page[:3]]
    if judged():
        assert statistics.median(in_page) <= TARGET_MEDIAN_MS
        assert benchmark.stats.stats.median * 1000 <= TARGET_MEDIAN_MS
    assert console.errors == []
