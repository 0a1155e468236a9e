"""Bounded work per request (issue 10.5): 12 parallel cards requests for the longest period
allowed (3653 days) and for a refused one (100000d), against the served sample dashboard.

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_bounded_requests_benchmark.py
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.served_dashboard import ServedDashboard, served_dashboard

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

PARALLEL = 12


@pytest.fixture
def served(data_dir: Path) -> Iterator[ServedDashboard]:
    with served_dashboard(data_dir) as dashboard:
        dashboard.callback("page-url.search", {"page-url.search": "?period=30d"})  # sample built
        yield dashboard


def burst(served: ServedDashboard, period: str) -> list[int]:
    """PARALLEL cards requests for `period` at once; their HTTP statuses."""
    statuses: list[int] = []

    def one() -> None:
        answer = served.callback("page-url.search", {"page-url.search": f"?period={period}"})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=one) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize("period", ["3653d", "100000d"])
def test_twelve_parallel_requests_stay_bounded(benchmark, served: ServedDashboard, period: str):
    process = psutil.Process()
    idle = process.memory_info().rss
    peak = [idle]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        statuses = benchmark.pedantic(burst, args=(served, period), rounds=3, iterations=1)
    finally:
        stop.set()
        watcher.join()
    assert set(statuses) == {200}
    benchmark.extra_info["peak_rss_above_idle_mb"] = round((peak[0] - idle) / 2**20, 1)
    assert peak[0] - idle < 500 * 2**20  # far from the 1.35 GB the unbounded server reached
