"""Forecast speed: 10,000 trials over a 12-week window, and the track record over a year.

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_forecast_benchmarks.py
Targets (issue 14): 10,000 trials over a 12-week window within 50 ms; the track record over
a year of history within 1 s. Data: the daily throughput of the 5,000-issue benchmark sample
(completed flow items per day in UTC), as `data.services.forecast_service` derives it from the
normalized dataset; the year of history before the benchmark's "now".
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

from data.engine import forecast
from data.engine.dataset import build_dataset
from data.engine.field_mapper import full_mappings
from data.engine.forecast_options import forecast_options
from data.engine.periods import resolve_time_zone
from data.services.forecast_service import forecast_for_project, throughput_series
from data.storage.project_data import ProjectData
from tests.benchmarks.conftest import BENCH_NOW, BENCH_SETTINGS, judged

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

WINDOW = 84
#: A year of replays plus the window before the first one.
HISTORY_DAYS = 364 + WINDOW
HORIZON_DAYS = 61  # e.g. from 2 Dec to 31 Jan
ITEMS = 40


@pytest.fixture(scope="module")
def series(sample_project: Callable[[int], ProjectData]) -> np.ndarray:
    """Daily throughput of the 5,000-issue sample over the year and 12 weeks before now."""
    zone = resolve_time_zone("UTC")
    ds = build_dataset(sample_project(5_000), full_mappings(BENCH_SETTINGS["mappings"]), zone)
    found = throughput_series(ds, zone, BENCH_NOW.date(), HISTORY_DAYS, forecast_options(None))
    assert len(found.counts) >= 300 and found.counts[-WINDOW:].sum() > 0
    return found.counts


def test_how_many_10000_trials_over_12_weeks(benchmark, series: np.ndarray) -> None:
    window = series[-WINDOW:]

    def run() -> list[int]:
        rng = np.random.default_rng(1)
        return forecast.items_at_least(forecast.how_many(window, HORIZON_DAYS, 10_000, rng))

    levels = benchmark(run)
    assert levels == sorted(levels, reverse=True)
    benchmark.extra_info.update(window_days=WINDOW, horizon_days=HORIZON_DAYS, levels=levels)
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert benchmark.stats.stats.median < 0.050


def test_when_10000_trials_over_12_weeks(benchmark, series: np.ndarray) -> None:
    window = series[-WINDOW:]

    def run() -> list[int]:
        rng = np.random.default_rng(1)
        return forecast.days_within(forecast.days_needed(window, ITEMS, 10_000, rng))

    levels = benchmark(run)
    assert levels == sorted(levels)
    benchmark.extra_info.update(window_days=WINDOW, items=ITEMS, levels=levels)
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert benchmark.stats.stats.median < 0.050


def test_track_record_how_many_over_a_year(benchmark, series: np.ndarray) -> None:
    record = benchmark.pedantic(
        forecast.track_record_how_many,
        args=(series, WINDOW, HORIZON_DAYS, forecast.TRIALS, 1),
        rounds=5,
    )
    benchmark.extra_info.update(replays=record.replays, held=list(record.held))
    assert record.replays > 30
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert benchmark.stats.stats.median < 1.0


def test_track_record_when_over_a_year(benchmark, series: np.ndarray) -> None:
    record = benchmark.pedantic(
        forecast.track_record_when,
        args=(series, WINDOW, ITEMS, forecast.TRIALS, 1),
        rounds=5,
    )
    benchmark.extra_info.update(replays=record.replays, held=list(record.held))
    assert record.replays > 30
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert benchmark.stats.stats.median < 1.0


def test_whole_forecast_with_track_record_on_5000_issues(
    benchmark, sample_project: Callable[[int], ProjectData]
) -> None:
    project = sample_project(5_000)
    forecast_for_project(project, BENCH_SETTINGS, "when", BENCH_NOW, items=ITEMS)  # normalize

    result = benchmark.pedantic(
        forecast_for_project,
        args=(project, BENCH_SETTINGS, "when", BENCH_NOW),
        kwargs={"items": ITEMS},
        rounds=5,
    )
    benchmark.extra_info.update(replays=result["track_record"]["replays"])
    assert result["items"] == ITEMS
