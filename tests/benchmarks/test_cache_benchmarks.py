"""Issue cache speed on sample projects: cold load, memo hit, full and incremental commit.

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_cache_benchmarks.py
No targets of its own: the numbers go to specs/performance-and-logging.md ("## Cache").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from configuration.settings import default_settings
from data.jira.sample_project import fields, statuses
from data.storage.cache_manager import IssueCache, cache_status, load_project
from data.storage.cache_memory import clear_memory
from tests.benchmarks.conftest import bench_rounds, bench_sizes

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

SIZES = bench_sizes(5_000, 20_000)
SETTINGS = default_settings()
SETTINGS["jira"].update(url="https://bench.atlassian.net", jql="project = DEMO")


def write_cache(root: Path, issues: list[dict]) -> IssueCache:
    cache = IssueCache.for_settings(root, SETTINGS)
    with cache.begin_update("full") as update:
        for at in range(0, len(issues), 100):  # pages as the fetcher writes them
            update.add_issues(issues[at : at + 100])
        update.commit("2024-06-01T00:00:00+00:00", statuses(), fields(), "UTC")
    return cache


@pytest.mark.parametrize("size", SIZES)
def test_cold_load_of_the_cache_file(
    benchmark, sample_issues: Callable[[int], list[dict]], tmp_path: Path, size: int
) -> None:
    write_cache(tmp_path, sample_issues(size))

    def cold() -> object:
        clear_memory()  # as a freshly started process
        return load_project(tmp_path, SETTINGS)

    project = benchmark.pedantic(cold, rounds=bench_rounds(3), iterations=1)
    assert len(project.issues) == size
    benchmark.extra_info["file_mb"] = round(
        IssueCache.for_settings(tmp_path, SETTINGS).path.stat().st_size / 1e6, 1
    )


@pytest.mark.parametrize("size", SIZES)
def test_memo_hit_of_an_unchanged_cache(
    benchmark, sample_issues: Callable[[int], list[dict]], tmp_path: Path, size: int
) -> None:
    write_cache(tmp_path, sample_issues(size))
    first = load_project(tmp_path, SETTINGS)
    assert benchmark(load_project, tmp_path, SETTINGS) is first


@pytest.mark.parametrize("size", SIZES)
def test_full_commit_from_staged_pages(
    benchmark, sample_issues: Callable[[int], list[dict]], tmp_path: Path, size: int
) -> None:
    issues = sample_issues(size)
    cache = benchmark.pedantic(
        write_cache, args=(tmp_path, issues), rounds=bench_rounds(3), iterations=1
    )
    assert cache.read_meta()["issue_count"] == size


@pytest.mark.parametrize("size", SIZES)
def test_incremental_commit_of_50_changed_issues(
    benchmark, sample_issues: Callable[[int], list[dict]], tmp_path: Path, size: int
) -> None:
    issues = sample_issues(size)
    cache = write_cache(tmp_path, issues)

    def increment() -> None:
        with cache.begin_update("incremental") as update:
            update.add_issues(issues[:50])
            update.commit("2024-06-02T00:00:00+00:00", None, None, "UTC")

    benchmark.pedantic(increment, rounds=bench_rounds(3), iterations=1)
    assert cache.read_meta()["syncs"] == 1 + bench_rounds(3)  # the full write, then each round


def test_cache_status_reads_only_the_head(
    benchmark, sample_issues: Callable[[int], list[dict]], tmp_path: Path
) -> None:
    write_cache(tmp_path, sample_issues(20_000))
    status = benchmark(cache_status, tmp_path, SETTINGS)
    assert status["issues"] == 20_000
