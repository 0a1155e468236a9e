"""The offline HTML report for 5,000 issues: written within 2 s (issue 16, "A report to share").

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_report_benchmark.py
Measured: what `python app.py report --period 90d --out FILE` does after `fetch`, from a cold
process state (no report or dataset in memory, no stored report): read the issue cache and
the normalized table `fetch` kept, compute every metric and the flow analytics, build the page
(plotly.js inlined) and write it atomically. A second benchmark takes the
report as computed and measures the page and the write alone. The file size is recorded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from configuration.settings import cache_dir
from data.engine import dataset as dataset_module
from data.engine import flow_analytics
from data.services import metrics_service
from data.services.shared_report import shared_report_for_cli
from data.services.source_options import SourceOptions
from data.storage.cache_memory import clear_memory
from data.storage.persistence import atomic_write_bytes
from tests.benchmarks.conftest import BENCH_NOW, BENCH_SETTINGS, judged
from tests.benchmarks.test_calculation_benchmarks import measured
from ui.html_report import report_html

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

SIZE = 5_000
#: the source options `app.py report --period 90d --now ... --tz UTC` passes
OPTIONS = SourceOptions(period="90d", now=BENCH_NOW.isoformat(), tz="UTC")


def cold_state(root: Path) -> None:
    """A fresh process after `fetch`: nothing in memory (the flow analytics' per-dataset
    preparation included), no stored report for the period (the normalized table `fetch`
    keeps stays)."""
    clear_memory()
    dataset_module.clear_caches()
    flow_analytics._prepared.clear()
    metrics_service.clear_report_cache()
    shutil.rmtree(cache_dir(root) / "metrics", ignore_errors=True)


def test_html_report_for_5000_issues_from_the_cache_to_the_file(
    benchmark, sample_cache: Callable[[int], Path], tmp_path: Path
) -> None:
    root = sample_cache(SIZE)
    out = tmp_path / "report.html"

    def write() -> int:
        content = report_html(
            shared_report_for_cli(root, BENCH_SETTINGS, OPTIONS, workspace="Default")
        ).encode()
        atomic_write_bytes(out, content, durable=False)
        return len(content)

    size = measured(benchmark, write, rounds=7, setup=lambda: cold_state(root))
    assert out.stat().st_size == size
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert benchmark.stats["median"] < 2.0
    benchmark.extra_info["issues"] = SIZE
    benchmark.extra_info["bytes"] = size


def test_html_page_and_write_alone_for_5000_issues(
    benchmark, sample_cache: Callable[[int], Path], tmp_path: Path
) -> None:
    shared = shared_report_for_cli(sample_cache(SIZE), BENCH_SETTINGS, OPTIONS, workspace="Default")
    out = tmp_path / "report.html"

    def write() -> None:
        atomic_write_bytes(out, report_html(shared).encode(), durable=False)

    measured(benchmark, write, rounds=15)
    benchmark.extra_info["bytes"] = out.stat().st_size
