"""Calculation speed and memory on sample projects of 1,000 to 100,000 issues, 90-day period.

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_calculation_benchmarks.py
Targets (issue "Calculation performance"): all nine metrics on a normalized dataset <= 20 ms at
5,000 issues and <= 400 ms at 100,000; normalization <= 150 ms at 5,000, linear; cold path
(cache file on disk to all nine metrics) <= 500 ms at 5,000 and <= 8 s at 100,000; peak memory
at 5,000 issues under 50 MB above the idle footprint.
Data: the sample generator's issues (about 8 status transitions each) as the app caches them
(`jira_parser.lean_issue`, as the fetcher applies it), written and read by
`data.storage.cache_manager`. Each benchmark records CPU time (median/min, `extra_info`) beside
pytest-benchmark's wall time.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from data.engine import dataset as dataset_module
from data.engine.dataset import build_dataset
from data.jira.sample_project import statuses
from data.services import metrics_service
from data.services.metrics_service import METRIC_KEYS, report_for_project
from data.storage.cache_manager import load_project
from data.storage.cache_memory import clear_memory
from data.storage.project_data import ProjectData
from tests.benchmarks.conftest import (
    BENCH_NOW,
    BENCH_SETTINGS,
    bench_rounds,
    bench_sizes,
    bench_warmup,
)
from tests.reference_metrics import comparable, fast_report, first_difference, reference_report

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

SIZES = bench_sizes(1_000, 5_000, 20_000, 100_000)
#: The size of the memory and refresh benchmarks.
MID_SIZE = bench_sizes(5_000)[0]
UTC_ZONE = ZoneInfo("UTC")
SETTINGS = BENCH_SETTINGS
PERIOD = "90d"


def rounds_for(size: int) -> int:
    return bench_rounds(3 if size >= 100_000 else 5 if size >= 20_000 else 15)


def measured(
    benchmark: Any,
    function: Callable[[], Any],
    rounds: int,
    warmup: int = 1,
    setup: Callable[[], None] | None = None,
) -> Any:
    """`benchmark.pedantic` that also records CPU time (`time.process_time`) per round: on a
    shared machine wall time includes waiting for a core, CPU time does not. `setup` runs
    before each round, untimed."""
    cpu: list[float] = []

    def run() -> Any:
        start = time.process_time()
        try:
            return function()
        finally:
            cpu.append(time.process_time() - start)

    warmup = bench_warmup(warmup)
    result = benchmark.pedantic(run, setup=setup, rounds=rounds, warmup_rounds=warmup)
    timed_rounds = cpu[warmup:]
    benchmark.extra_info["cpu_median_ms"] = round(statistics.median(timed_rounds) * 1e3, 1)
    benchmark.extra_info["cpu_min_ms"] = round(min(timed_rounds) * 1e3, 1)
    benchmark.extra_info["load_average"] = round(os.getloadavg()[0], 1)
    return result


def fresh_report(project: ProjectData) -> dict:
    metrics_service.clear_report_cache()
    return report_for_project(project, SETTINGS, PERIOD, now=BENCH_NOW)


def check(report: dict) -> None:
    assert all(report[key]["status"] == "ok" for key in METRIC_KEYS)
    assert len(report["deployment_frequency"]["weekly"]) >= 13


@pytest.mark.parametrize("size", SIZES)
def test_all_nine_metrics_on_a_normalized_dataset(
    benchmark, sample_project: Callable[[int], ProjectData], size: int
) -> None:
    project = sample_project(size)
    dataset_module.clear_caches()
    build_dataset(project, SETTINGS["mappings"], UTC_ZONE)  # normalized once, as in the app
    report = measured(benchmark, lambda: fresh_report(project), bench_rounds(rounds_for(size) * 2))
    check(report)
    benchmark.extra_info["issues"] = size


@pytest.mark.parametrize("size", SIZES)
def test_normalization_from_parsed_cache_data(
    benchmark, sample_project: Callable[[int], ProjectData], size: int
) -> None:
    # no table kept on disk: this measures normalizing, not reading a kept table
    project = dataclasses.replace(sample_project(size), table_file=None)

    def normalize() -> dataset_module.Dataset:
        return build_dataset(project, SETTINGS["mappings"], UTC_ZONE)

    # the previous round's dataset is freed before the clock starts: a cold start has none
    dataset = measured(benchmark, normalize, rounds_for(size), setup=dataset_module.clear_caches)
    assert dataset.records_built == size
    benchmark.extra_info["issues"] = size
    benchmark.extra_info["us_per_issue"] = round(benchmark.stats["median"] * 1e6 / size, 1)


def cold_path(benchmark: Any, root: Path, size: int, *, kept_table: bool) -> None:
    """What a fresh process does: read and validate the issue cache file (`load_project`),
    normalize (or read the table kept beside the cache) and compute the nine metrics. Each
    round starts with nothing in memory: the previous round's project is freed untimed."""
    project = load_project(root, SETTINGS)
    assert project is not None and project.table_file is not None
    table_file = project.table_file

    def forget() -> None:
        clear_memory()
        dataset_module.clear_caches()
        metrics_service.clear_report_cache()
        if not kept_table:
            table_file.unlink(missing_ok=True)
        gc.collect()

    def cold() -> dict:
        project = load_project(root, SETTINGS)
        assert project is not None
        return fresh_report(project)

    forget()
    cold()  # writes the table the kept-table rounds read
    report = measured(benchmark, cold, rounds_for(size), warmup=0, setup=forget)
    check(report)
    benchmark.extra_info["issues"] = size
    cache_files = list((root / "cache").glob("issues-*.json"))
    benchmark.extra_info["file_mb"] = round(cache_files[0].stat().st_size / 1e6, 1)
    if kept_table:
        benchmark.extra_info["table_mb"] = round(table_file.stat().st_size / 1e6, 1)


@pytest.mark.parametrize("size", SIZES)
def test_cold_path_from_cache_file_to_all_nine_metrics(
    benchmark, sample_cache: Callable[[int], Path], size: int
) -> None:
    """The first start after a fetch: no normalized table on disk yet."""
    cold_path(benchmark, sample_cache(size), size, kept_table=False)


@pytest.mark.parametrize("size", SIZES)
def test_restart_with_the_kept_table_to_all_nine_metrics(
    benchmark, sample_cache: Callable[[int], Path], size: int
) -> None:
    """Any later start: the table normalized by an earlier run is read from disk."""
    cold_path(benchmark, sample_cache(size), size, kept_table=True)


def test_refresh_of_one_percent_renormalizes_only_those(
    benchmark, cached_issues: Callable[[int], list[dict]]
) -> None:
    issues = cached_issues(MID_SIZE)
    dataset_module.clear_caches()
    build_dataset(ProjectData(issues, statuses()), SETTINGS["mappings"], UTC_ZONE)
    changed = list(issues)
    for index in range(0, MID_SIZE, 100):  # 1 % of the issues updated
        raw = dict(changed[index])
        raw["fields"] = {**raw["fields"], "updated": "2030-01-01T00:00:00.000+0000"}
        changed[index] = raw
    state = {"flip": False}

    def refresh() -> dataset_module.Dataset:
        state["flip"] = not state["flip"]
        project = ProjectData(changed if state["flip"] else issues, statuses())
        return build_dataset(project, SETTINGS["mappings"], UTC_ZONE)

    dataset = measured(benchmark, refresh, rounds=bench_rounds(10), warmup=0)
    assert dataset.records_built == MID_SIZE // 100
    benchmark.extra_info["issues"] = MID_SIZE
    benchmark.extra_info["rebuilt"] = MID_SIZE // 100


def test_peak_memory_at_5000_issues_stays_under_50_mb(
    benchmark, sample_cache: Callable[[int], Path]
) -> None:
    root = sample_cache(MID_SIZE)
    peaks: dict[str, float] = {}

    def measured_once() -> dict:
        clear_memory()
        dataset_module.clear_caches()
        gc.collect()
        project = load_project(root, SETTINGS)
        assert project is not None and project.table_file is not None
        project.table_file.unlink(missing_ok=True)  # the first start: normalized, then kept
        project.issues.parsed()  # what the idle app holds before normalizing: the issues
        tracemalloc.start()
        try:
            report = fresh_report(project)
            peaks["engine_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
        return report

    report = benchmark.pedantic(measured_once, rounds=1, warmup_rounds=0)
    check(report)
    benchmark.extra_info["engine_peak_mb"] = round(peaks["engine_mb"], 1)
    # normalizing and computing add this on top of the loaded project
    assert peaks["engine_mb"] < 50


@pytest.mark.parametrize("size", SIZES)
def test_fast_engine_equals_the_reference_on_the_benchmark_datasets(
    cached_issues: Callable[[int], list[dict]], size: int
) -> None:
    """Every field and weekly point of the fast report equals the reference implementation's
    on the very data the benchmarks measure (normalized in blocks from 5,000 issues on)."""
    dataset_module.clear_caches()
    metrics_service.clear_report_cache()
    issues = cached_issues(size)
    options: dict[str, Any] = {"period": PERIOD, "now": BENCH_NOW, "tz": "UTC"}
    fast = comparable(fast_report(issues, statuses(), **options))
    reference = comparable(reference_report(issues, statuses(), **options))
    assert first_difference(fast, reference) is None
