"""Shared browser fixtures: the dashboard served in-process by waitress, and console watching.

`dashboard` starts `create_app(data_dir, now=NOW)` on a free port and yields its base URL;
`console_errors` collects console errors, uncaught page errors and failed requests of `page`
so that every browser test can assert the page stayed clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import waitress
from playwright.sync_api import Locator, Page, Request, expect

from callbacks.dashboard_app import create_app
from configuration.metric_defaults import ALL_METRICS


@pytest.fixture(autouse=True)
def patient_expectations() -> None:
    """Playwright's 5 s default for `expect` is short for a 2-core machine whose other core
    runs the server's computations; a real failure still fails, only later (set per test:
    pytest-playwright resets it)."""
    expect.set_options(timeout=15_000)


PROJECT = Path(__file__).resolve().parent.parent.parent


def period_days_of(report: dict[str, Any]) -> str:
    """`<first day>_<last day>` of a report's half-open period, as chart PNG names end."""
    period = report["period"]
    last = datetime.fromisoformat(period["end"]) - timedelta(milliseconds=1)
    return f"{period['start'][:10]}_{last.date().isoformat()}"


def downloaded_png_name(page: Page, chart: Locator) -> str:
    """Click the only toolbar button of a Plotly chart (the camera) and return the name of
    the PNG it downloads, checking the file is a PNG."""
    chart.hover()
    buttons = chart.locator(".modebar-btn")
    expect(buttons).to_have_count(1)
    with page.expect_download(timeout=30_000) as download:
        buttons.first.click()
    saved = download.value
    assert Path(saved.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return saved.suggested_filename


def sample_now() -> datetime:
    """Today 00:00 UTC: the instant the bundled sample project is generated up to."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


@dataclass
class Served:
    """A dashboard being served: its URL, data directory and fixed "now"."""

    url: str
    root: Path
    now: datetime


@dataclass
class ConsoleLog:
    """Console errors, page errors and failed requests seen by one page.

    A request the browser itself aborted because the test navigated away (`net::ERR_ABORTED`)
    is not a failure of the page and is not recorded.
    """

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("requestfailed", self._request_failed)

    def _request_failed(self, request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} ({request.failure})")


def serve(root: Path, now: datetime) -> Iterator[Served]:
    """Serve `create_app(root, now=now)` on 127.0.0.1 in a daemon thread until the caller ends."""
    app = create_app(root, now=now)
    server = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Served(url=f"http://127.0.0.1:{server.effective_port}/", root=root, now=now)
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def dashboard(data_dir: Path) -> Iterator[Served]:
    """The dashboard on the bundled sample project, with "now" fixed at today 00:00 UTC."""
    yield from serve(data_dir, sample_now())


@pytest.fixture
def console_errors(page: Page) -> ConsoleLog:
    """Everything the page reports as an error; tests assert it stays empty."""
    log = ConsoleLog()
    log.watch(page)
    return log


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample project (1,500 issues, seed 42, today) written as a search response."""
    from data.jira.sample_project import write_sample

    path = tmp_path_factory.mktemp("sample") / "sample.json"
    write_sample(path, issues=1500, seed=42)
    return path


@pytest.fixture
def cli_report(data_dir: Path, sample_file: Path) -> Callable[[str], dict[str, Any]]:
    """`python app.py metrics` on the sample file with the page's "now" and data directory."""

    def run(period: str) -> dict[str, Any]:
        done = subprocess.run(
            [
                sys.executable,
                str(PROJECT / "app.py"),
                "metrics",
                "--input",
                str(sample_file),
                "--now",
                sample_now().isoformat(),
                "--period",
                period,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=PROJECT,
            env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


@dataclass
class DashboardPage:
    """The dashboard as a user sees it, with the reads and clicks the tests need."""

    page: Page
    served: Served
    console: ConsoleLog

    def open(self) -> DashboardPage:
        """Load the page and wait until every card shows numbers."""
        self.page.goto(self.served.url)
        self.page.locator("[data-metric]").nth(len(ALL_METRICS) - 1).wait_for(timeout=60_000)
        return self

    def headline(self, metric: str) -> str:
        return self.card(metric).locator("[data-role=headline]").inner_text().strip()

    def card(self, metric: str) -> Locator:
        return self.page.locator(f'[data-metric="{metric}"]')

    def period_label(self) -> str:
        return self.page.locator("#period-label").inner_text()

    def choose_period(self, label: str) -> None:
        """Click one of the period buttons and wait for the cards of that period."""
        self.page.locator("#period-choice label", has_text=label).click()
        if label != "Custom range":
            expect(self.page.locator("#period-label")).to_contain_text(label, timeout=30_000)

    def apply_custom(self, start: str, end: str) -> None:
        """Fill the custom range and click Apply (the custom controls must be visible)."""
        self.page.fill("#custom-start", start)
        self.page.fill("#custom-end", end)
        self.page.click("#apply-custom")


@pytest.fixture
def dash_page(page: Page, dashboard: Served, console_errors: ConsoleLog) -> DashboardPage:
    """The sample dashboard opened in Chromium, its console watched."""
    return DashboardPage(page, dashboard, console_errors).open()
