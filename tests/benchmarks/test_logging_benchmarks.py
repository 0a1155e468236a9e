"""Logging costs: start-up with retention clean-up, and one INFO line through the filter.

Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_logging_benchmarks.py
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from configuration.logging_config import setup_logging, shutdown_logging
from configuration.sensitive_data_filter import SensitiveDataFilter, forget_secrets
from configuration.settings import default_settings
from data.performance_utils import timed
from tests.benchmarks.conftest import bench_rounds, judged

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

TOKEN = "ATATT3xFfGF0" + "aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1z" * 6


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    shutdown_logging()
    yield
    shutdown_logging()
    forget_secrets()


def settings() -> dict:
    chosen = default_settings()
    chosen["jira"]["token"] = TOKEN
    return chosen


def old_logs(folder: Path, count: int = 200) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.time() - 40 * 86400
    for i in range(count):
        path = folder / f"{('app', 'errors', 'performance')[i % 3]}.{i}.log.{i % 5 + 1}"
        path.write_text('{"message": "old"}\n')
        os.utime(path, (stamp, stamp))


def test_setup_with_200_old_log_files_to_delete_under_100ms(benchmark, tmp_path: Path):
    rounds = iter(range(1000))

    def fresh_folder() -> tuple[tuple[Path], dict]:
        shutdown_logging()
        folder = tmp_path / f"run{next(rounds)}"
        old_logs(folder)
        return (folder,), {}

    def start(folder: Path) -> None:
        setup_logging(settings(), folder)

    benchmark.pedantic(start, setup=fresh_folder, rounds=bench_rounds(20))
    assert not [
        p for p in (tmp_path / f"run{bench_rounds(20) - 1}").iterdir() if p.name.count(".log.")
    ]
    if judged():
        assert benchmark.stats.stats.median < 0.100


def record() -> logging.LogRecord:
    found = logging.LogRecord(
        "data.jira.jira_client",
        logging.INFO,
        __file__,
        1,
        "GET %s -> %d",
        ("https://acme.atlassian.net/rest/api/3/search/jql?jql=project%3DPROJ", 200),
        None,
    )
    found.__dict__.update(
        {"operation": "jira_request", "page": 3, "duration_ms": 182.4, "bytes": 48213}
    )
    return found


def test_filter_cost_of_one_info_line_under_50us(benchmark):
    redactor = SensitiveDataFilter()
    setup_logging(settings(), Path(os.environ.get("TMPDIR", "/tmp")) / "bench-logs-filter")

    benchmark(lambda: redactor.filter(record()))
    if judged():
        assert benchmark.stats.stats.median < 50e-6


def test_one_info_line_through_every_handler(benchmark, tmp_path: Path):
    setup_logging(settings(), tmp_path)
    root = logging.getLogger()
    log = logging.getLogger("data.jira.jira_client")

    def line() -> None:
        log.info(
            "GET %s -> %d",
            "https://acme.atlassian.net/rest/api/3/search/jql",
            200,
            extra={"operation": "jira_request", "page": 3, "duration_ms": 182.4},
        )

    # the product's handlers only: the console is measured by the terminal, not by us. The
    # list is put back before the clean-up removes the handlers, so none is left behind.
    every = root.handlers
    root.handlers = [h for h in every if hasattr(h, "maxBytes")]
    try:
        benchmark(line)
        root.handlers[0].flush()
    finally:
        root.handlers = every


def test_timed_block_with_performance_log(benchmark, tmp_path: Path):
    setup_logging(settings(), tmp_path)

    def block() -> None:
        with timed("metric", metric="flow_time", period="30d") as timer:
            timer.fields["n"] = 42

    benchmark(block)


def test_redacting_a_100kb_base64_body_stays_linear(benchmark):
    import base64
    import random

    from configuration.sensitive_data_filter import redact_text, register_secret

    register_secret(TOKEN)
    body = base64.b64encode(random.Random(1).randbytes(75_000)).decode()
    inside = base64.b64encode(f"me@example.com:{TOKEN}".encode()).decode()
    text = f"JIRA said 400: {body} Authorization echo {inside} end"

    result = benchmark(redact_text, text)
    assert TOKEN not in result and inside not in result
    if judged():
        assert benchmark.stats.stats.median < 0.5
