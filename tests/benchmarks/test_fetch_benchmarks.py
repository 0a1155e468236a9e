"""Fetch benchmarks against the emulator with its rate limit on (run: BENCHMARKS=1).

    BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_fetch_benchmarks.py \
        -p no:randomly --benchmark-columns=min,mean,max,rounds -s

Each benchmark prints and stores (`extra_info`) API calls, bytes and seconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from data.jira.fetcher import fetch_project
from data.storage.cache_manager import IssueCache
from data.storage.cache_memory import clear_memory
from tests.benchmarks.conftest import bench_rounds, bench_sizes, bench_warmup, judged
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import settings_for

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

ISSUES = bench_sizes(5_000)[0]
#: What JIRA Cloud roughly allows per user; the client's own bucket uses the app defaults.
SERVER_LIMIT = (100, 10.0)


def fresh_dir(base: Path, name: str) -> Path:
    folder = base / f"{name}-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_initial_fetch_of_5000_issues(benchmark, tmp_path, flavor):
    with JiraEmulator(flavor=flavor, issues=ISSUES, seed=42, rate_limit=SERVER_LIMIT) as jira:
        settings = settings_for(jira)
        summaries = []

        def one_fetch() -> None:
            clear_memory()
            summaries.append(fetch_project(fresh_dir(tmp_path, flavor), settings))

        benchmark.pedantic(one_fetch, rounds=bench_rounds(3), iterations=1)
        last = summaries[-1]
        assert last.mode == "full"
        assert last.issues == ISSUES
        benchmark.extra_info.update(
            api_calls=last.api_calls, megabytes=round(last.bytes / 1e6, 1),
            seconds=[s.seconds for s in summaries], retries=last.retries,
        )  # fmt: skip
        print(f"\n{flavor}: {last.line()}")


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_refresh_after_one_percent_changed_beats_a_full_refetch(benchmark, tmp_path, flavor):
    with JiraEmulator(flavor=flavor, issues=ISSUES, seed=42, rate_limit=SERVER_LIMIT) as jira:
        settings = settings_for(jira)
        root = fresh_dir(tmp_path, flavor)
        fetch_project(root, settings)
        refetches = sorted(
            (fetch_project(root, settings, full=True) for _ in range(3)), key=lambda s: s.seconds
        )
        full = refetches[1]  # the median of three
        refreshes = []

        def change() -> tuple[tuple, dict]:
            jira.change_issues(ISSUES // 100, seed=len(refreshes))
            jira.advance_clock(3600)  # the next changes fall outside the 5-minute overlap
            return (), {}

        def refresh() -> None:
            refreshes.append(fetch_project(root, settings))

        # one warm-up round: the first refresh after three full refetches pays their garbage
        benchmark.pedantic(
            refresh,
            setup=change,
            rounds=bench_rounds(7),
            iterations=1,
            warmup_rounds=bench_warmup(1),
        )
        assert all(r.mode == "incremental" and r.fetched == ISSUES // 100 for r in refreshes)
        refreshes = refreshes[bench_warmup(1) :]
        calls = max(r.api_calls for r in refreshes)
        seconds = sorted(r.seconds for r in refreshes)[len(refreshes) // 2]
        cached = IssueCache.for_settings(root, settings).load()
        assert cached is not None and len(cached.issues) == ISSUES
        fewer_calls = 1 - calls / full.api_calls
        less_time = 1 - seconds / full.seconds
        benchmark.extra_info.update(
            full_calls=full.api_calls, full_seconds=full.seconds, refresh_calls=calls,
            refresh_median_seconds=seconds, fewer_calls=round(fewer_calls, 3),
            less_time=round(less_time, 3),
        )  # fmt: skip
        print(
            f"\n{flavor}: full refetch {full.api_calls} calls {full.seconds:.2f} s (median); "
            f"refresh of 1 % {calls} calls {seconds:.3f} s (median): "
            f"{fewer_calls:.1%} fewer calls, {less_time:.1%} less time"
        )
        if judged():
            assert fewer_calls >= 0.95
            assert less_time >= 0.90


@pytest.mark.parametrize("client_limit", ["app default 100/10 s", "matched 20/10 s"])
def test_5000_issues_through_a_server_limiting_20_per_10_seconds(benchmark, tmp_path, client_limit):
    with JiraEmulator(flavor="cloud", issues=ISSUES, seed=42, rate_limit=(20, 10.0)) as jira:
        settings = settings_for(jira)
        if client_limit.startswith("matched"):
            settings["rate_limit"].update(requests=20, per_seconds=10, burst=20)
        summaries = []

        def one_fetch() -> None:
            clear_memory()
            summaries.append(fetch_project(fresh_dir(tmp_path, "limited"), settings))

        benchmark.pedantic(one_fetch, rounds=1, iterations=1)
        summary = summaries[-1]
        refused = jira.counters["by_status"].get(429, 0)
        assert summary.issues == ISSUES  # every request in the end succeeded
        benchmark.extra_info.update(
            api_calls=summary.api_calls, seconds=summary.seconds, server_429s=refused,
            retries=summary.retries,
        )  # fmt: skip
        print(f"\n20/10 s server, client {client_limit}: {summary.line()}; {refused} x 429")
