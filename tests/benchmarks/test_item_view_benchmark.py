"""The item panel's server side: opening a list of 5,000 issue keys within 50 ms (median).

The project is a JIRA cache of the benchmark's sample issues, written through the real
issue cache; settings name that site. One round = one new `{"title", "keys"}` request of every
key (a new title each round, so no kept list answers it), through
`data.services.item_view.item_view` as the panel's callback calls it: the count, the JIRA links and
the first page of 100 rows. The first sort then describes every row once: timed too, for the record.
Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_item_view_benchmark.py
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from itertools import count
from pathlib import Path
from time import perf_counter

import pytest

from data.jira.sample_project import fields, statuses
from data.services.item_view import PAGE_SIZE, item_view
from data.storage.cache_manager import IssueCache
from data.storage.cache_memory import clear_memory
from data.storage.persistence import save_settings
from tests.benchmarks.conftest import (
    BENCH_NOW,
    BENCH_SETTINGS,
    bench_rounds,
    bench_sizes,
    bench_warmup,
    judged,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

TARGET_MEDIAN_MS = 50.0
SHOWN = {"period": "90d", "now": BENCH_NOW.isoformat()}


@pytest.mark.parametrize("size", bench_sizes(5_000))
def test_item_list_of_5000_keys_opens_within_50_ms_median(
    benchmark, cached_issues: Callable[[int], list[dict]], tmp_path: Path, size: int
):
    issues = cached_issues(size)
    save_settings(tmp_path, BENCH_SETTINGS)
    with IssueCache.for_settings(tmp_path, BENCH_SETTINGS).begin_update("full") as update:
        update.add_issues(issues)
        update.commit(BENCH_NOW, statuses(), fields(), "UTC")
    clear_memory()
    keys = [issue["key"] for issue in issues]
    titles = (f"Round {index}" for index in count())

    def open_list() -> dict:
        return item_view(tmp_path, {"title": next(titles), "keys": keys}, SHOWN)

    view = benchmark.pedantic(
        open_list, rounds=bench_rounds(30), iterations=1, warmup_rounds=bench_warmup(3)
    )
    assert view["count"] == size and len(view["items"]) == PAGE_SIZE
    assert [item["key"] for item in view["items"]] == keys[:PAGE_SIZE]

    sorts = []
    for _ in range(bench_rounds(5)):
        request = {"title": next(titles), "keys": keys}
        item_view(tmp_path, request, SHOWN)
        started = perf_counter()
        by_age = [{"column_id": "created", "direction": "desc"}]
        item_view(tmp_path, request, SHOWN, sort_by=by_age)
        sorts.append((perf_counter() - started) * 1000)
    benchmark.extra_info["first_sort_median_ms"] = round(statistics.median(sorts), 1)
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert benchmark.stats.stats.median * 1000 <= TARGET_MEDIAN_MS
