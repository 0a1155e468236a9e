"""Flow analytics speed on the normalized table: every chart of the section, 90-day period.

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_flow_analytics_benchmarks.py
Targets (issue 13): all of the charts for 5,000 issues within 50 ms, for 100,000 within 1 s.
Two figures per size: "window" is a period switch on a dataset already seen (the
window-independent preparation, `flow_analytics.prepared`, memoized per dataset version), and
"first" includes that preparation (the first view after the data or the mappings changed).
Data: the benchmark sample cache of `tests/benchmarks/conftest.py`, normalized once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from zoneinfo import ZoneInfo

import orjson
import pytest

from data.engine import dataset as dataset_module
from data.engine import flow_analytics
from data.engine.dataset import Dataset, build_dataset
from data.engine.field_mapper import full_mappings
from data.engine.periods import parse_period
from data.storage.project_data import ProjectData
from tests.benchmarks.conftest import BENCH_NOW, BENCH_SETTINGS
from tests.benchmarks.test_calculation_benchmarks import measured
from ui.flow_analytics import aging_table, analytics_figures

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

UTC_ZONE = ZoneInfo("UTC")
TARGET_MS = {5_000: 50, 100_000: 1000}


def normalized(project: ProjectData) -> Dataset:
    dataset_module.clear_caches()
    return build_dataset(project, full_mappings(BENCH_SETTINGS["mappings"]), UTC_ZONE)


@pytest.mark.parametrize("size", sorted(TARGET_MS))
@pytest.mark.parametrize("kind", ["window", "first"])
def test_flow_analytics_speed(
    benchmark, sample_project: Callable[[int], ProjectData], size: int, kind: str
) -> None:
    ds = normalized(sample_project(size))
    period = parse_period("90d", BENCH_NOW, UTC_ZONE)

    def forget() -> None:
        flow_analytics._prepared.clear()

    result = measured(
        benchmark,
        lambda: flow_analytics.flow_analytics(
            ds, period.start_ms, period.end_ms, UTC_ZONE, sle_days=10
        ),
        rounds=3 if size >= 100_000 else 15,
        setup=forget if kind == "first" else None,
    )
    benchmark.extra_info["target_ms"] = TARGET_MS[size]
    benchmark.extra_info["completed"] = result["scatter"]["n"]
    benchmark.extra_info["in_progress"] = result["aging"]["n"]
    assert result["scatter"]["n"] > 0 and result["cfd"]["days"]


@pytest.mark.parametrize("size", sorted(TARGET_MS))
def test_flow_analytics_figures_stay_small(
    benchmark, sample_project: Callable[[int], ProjectData], size: int
) -> None:
    """What the section's callback does after the data call: the five figures and the aging
    table from the result, and the JSON that travels to the browser (recorded in bytes)."""
    ds = normalized(sample_project(size))
    period = parse_period("90d", BENCH_NOW, UTC_ZONE)
    result = flow_analytics.flow_analytics(ds, period.start_ms, period.end_ms, UTC_ZONE)

    def build() -> bytes:
        return orjson.dumps(
            [*analytics_figures(result), aging_table(result).to_plotly_json()],
            option=orjson.OPT_SERIALIZE_NUMPY,
            default=lambda value: value.to_plotly_json(),
        )

    payload = measured(benchmark, build, rounds=5)
    benchmark.extra_info["payload_kb"] = round(len(payload) / 1024)
    assert len(payload) < 4 * 1024 * 1024  # at most MAX_POINTS points per chart
