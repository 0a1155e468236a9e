"""The offline HTML report in Chromium with the network blocked: its numbers equal `app.py
metrics`, its charts draw from the inlined plotly.js (the flow analytics with the numbers the
page's section gets from the data layer, a partial last week marked as on the page), and
printed it keeps every chart whole.

The file is written by the real command (`python app.py report`) or downloaded from the page's
"Download report" button; every request other than the file itself is aborted and recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from configuration.metric_defaults import ALL_METRICS
from data.services.analytics_service import analytics_for_view
from data.storage.workspaces import create_workspace, switch_workspace
from tests.browser.conftest import (
    PROJECT,
    ConsoleLog,
    DashboardPage,
    downloaded_png_name,
    period_days_of,
    sample_now,
)
from ui.flow_analytics import CHARTS
from ui.formatting import format_number, format_value, partial_week

pytestmark = pytest.mark.browser

#: A4's printable width with 12 mm margins, in CSS pixels (96 per inch).
A4_PRINTABLE_PX = (210 - 24) / 25.4 * 96


def write_report(data_dir: Path, sample_file: Path, out: Path, period: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "app.py"),
            "report",
            "--input",
            str(sample_file),
            "--now",
            sample_now().isoformat(),
            "--period",
            period,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def quality_report(data_dir: Path, sample_file: Path) -> dict[str, Any]:
    """`python app.py quality --input FILE --format json`."""
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "quality", "--input", str(sample_file)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def open_offline(page: Page, path: Path) -> list[str]:
    """Open a local file with every other request aborted; the list collects those requests."""
    outside: list[str] = []

    def only_the_file(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_file)
    page.context.set_offline(True)
    page.goto(path.as_uri())
    expect(page.locator("body")).to_have_attribute("data-charts", "drawn", timeout=30_000)
    return outside


def assert_report_equals(page: Page, report: dict[str, Any]) -> None:
    """Cards, charts and the embedded data of the open file equal the CLI report."""
    embedded = json.loads(page.locator("#flowdash-report").text_content() or "{}")
    for key in ALL_METRICS:
        metric = report[key]
        assert embedded[key] == metric, key
        card = page.locator(f'[data-metric="{key}"]')
        expect(card.locator("[data-role=headline]")).to_have_text(format_value(metric))
        expect(card.locator("[data-role=n]")).to_have_text(f"n = {format_number(metric['n'])}")
        expect(card).to_have_attribute("data-tier", metric.get("tier") or "")
        chart = page.locator(f'[data-figure="{key}"] .js-plotly-plot')
        expect(chart).to_have_count(1)
        lengths = chart.evaluate("el => el.data.map(trace => trace.x.length)")
        assert lengths and all(n == len(metric["weekly"]) for n in lengths), key
        days = partial_week(report["period"], metric["weekly"])
        notes = page.locator(f'[data-figure="{key}"] .annotation-text')
        if days is None:  # the period ends on a Monday: no partial week to mark
            expect(notes).to_have_count(0)
        else:
            expect(notes).to_have_text(f"partial: {days} of 7 days")
        spark = card.locator("[data-role=sparkline]")
        if key != "flow_distribution" and metric["status"] != "insufficient_data":
            expect(spark).to_have_attribute("data-partial-days", str(days or ""))
            expect(spark.locator("rect, line")).to_have_count(len(metric["weekly"]))
    assert embedded["period"] == report["period"]


def drawn(page: Page, graph_id: str) -> list[dict[str, Any]]:
    """The traces Plotly drew in one of the report's charts."""
    return page.locator(f'[data-figure="{graph_id}"] .js-plotly-plot').evaluate(
        "el => el.data.map(t => ({name: t.name, x: t.x, y: t.y}))"
    )


def assert_analytics_drawn(page: Page, expected: dict[str, Any]) -> None:
    """The report's flow analytics charts are drawn with the numbers the page's section gets
    from the data layer for the same data and period."""
    for graph_id, title, _ in CHARTS:
        expect(page.locator(f'[data-figure="{graph_id}"] .gtitle')).to_contain_text(title)
    n = expected["scatter"]["n"]
    expect(page.locator('[data-figure="fa-scatter"] .gtitle')).to_contain_text(f"{n:,} items")
    scatter = sorted(y for trace in drawn(page, "fa-scatter") for y in trace["y"])
    assert scatter == sorted(expected["scatter"]["days"]) and len(scatter) == n
    assert drawn(page, "fa-histogram")[0]["y"] == expected["histogram"]["counts"]
    assert drawn(page, "fa-aging")[0]["y"] == expected["aging"]["ages"]
    cfd = list(reversed(drawn(page, "fa-cfd")))
    bands = expected["cfd"]["bands"]
    assert [trace["name"] for trace in cfd] == [band["name"] for band in bands]
    assert [trace["y"] for trace in cfd] == [band["counts"] for band in bands]
    rows = expected["time_in_state"]["rows"]
    assert drawn(page, "fa-time-in-state")[0]["x"] == [row["total_days"] for row in rows]
    items = expected["blocked"]["items"]
    assert drawn(page, "fa-blocked")[0]["x"] == [item["blocked_days"] for item in items]
    table = page.locator("[data-role=aging-table] tbody tr")
    expect(table).to_have_count(len(expected["aging"]["table"]))
    expect(table.first).to_have_attribute("data-key", expected["aging"]["table"][0]["key"])


def test_written_report_opens_with_the_network_blocked_and_equals_app_py_metrics(
    page: Page, console_errors: ConsoleLog, data_dir: Path, sample_file: Path, cli_report, tmp_path
):
    out = tmp_path / "report.html"
    printed = write_report(data_dir, sample_file, out, "30d")
    assert printed.startswith(f"wrote {out} (")
    report = cli_report("30d")

    outside = open_offline(page, out)

    assert outside == []
    assert_report_equals(page, report)
    assert_analytics_drawn(page, analytics_for_view(data_dir, "30d", sample_now()))
    expect(page.locator("[data-role=workspace]")).to_have_text("Workspace: Default")
    expect(page.locator("[data-role=source]")).to_have_text(f"Data: File {sample_file.name}")
    expect(page.locator("[data-role=period]")).to_contain_text("Last 30 days")
    settings = page.locator("[data-section=settings]")
    expect(settings).to_contain_text(f"tier_year{report['settings']['tier_year']}")
    quality = page.locator("[data-section=quality]")
    expect(quality.locator("[data-role=left-out] tr")).to_have_count(len(ALL_METRICS) + 1)
    checks = quality_report(data_dir, sample_file)  # `app.py quality` on the same file
    expect(quality.locator("[data-role=quality-summary]")).to_contain_text(checks["summary"])
    for rule in checks["rules"]:
        count = quality.locator(f'[data-rule="{rule["rule"]}"] td').nth(1)
        expect(count).to_have_text(format_number(rule["count"]))
    assert console_errors.errors == []


def test_printed_report_keeps_every_chart_whole_on_a4(
    page: Page, data_dir: Path, sample_file: Path, tmp_path
):
    out = tmp_path / "report.html"
    write_report(data_dir, sample_file, out, "90d")
    open_offline(page, out)

    page.emulate_media(media="print")
    charts = page.locator(".chart")
    expect(charts).to_have_count(len(ALL_METRICS) + len(CHARTS))
    for index in range(len(ALL_METRICS) + len(CHARTS)):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None and box["width"] <= A4_PRINTABLE_PX
        assert chart.evaluate("el => getComputedStyle(el).breakInside") == "avoid"
    expect(page.locator(".modebar-container").first).to_be_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000


def test_download_report_button_gives_the_file_of_the_period_on_screen(
    dash_page: DashboardPage, cli_report, tmp_path
):
    report = cli_report("30d")
    with dash_page.page.expect_download(timeout=60_000) as download:
        dash_page.page.click("#download-report")
    saved = download.value
    first = report["period"]["start"][:10]
    end = datetime.fromisoformat(report["period"]["end"]) - timedelta(milliseconds=1)
    assert saved.suggested_filename == f"flowdash-report-{first}_{end.date().isoformat()}.html"
    path = tmp_path / saved.suggested_filename
    saved.save_as(path)
    assert dash_page.console.errors == []

    outside = open_offline(dash_page.page, path)

    assert outside == []
    assert_report_equals(dash_page.page, report)
    served = dash_page.served
    assert_analytics_drawn(dash_page.page, analytics_for_view(served.root, "30d", served.now))
    expect(dash_page.page.locator("[data-role=workspace]")).to_have_text("Workspace: Default")
    expect(dash_page.page.locator("[data-role=source]")).to_contain_text("sample project")


def test_each_report_chart_downloads_a_png_named_after_it_and_the_period(
    page: Page, data_dir: Path, sample_file: Path, cli_report, tmp_path
):
    out = tmp_path / "report.html"
    write_report(data_dir, sample_file, out, "30d")
    days = period_days_of(cli_report("30d"))
    open_offline(page, out)

    for name, stem in (
        ("deployment_rework_rate", "deployment_rework_rate"),
        ("fa-scatter", "cycle_time_scatter"),
    ):
        chart = page.locator(f'[data-figure="{name}"] .js-plotly-plot')
        assert downloaded_png_name(page, chart) == f"{stem}_{days}.png"


def test_download_report_names_the_workspace_the_page_shows(dash_page: DashboardPage, tmp_path):
    root = dash_page.served.root
    team = create_workspace(root, "Team Pay")
    switch_workspace(root, "Team Pay")
    dash_page.open()
    with dash_page.page.expect_download(timeout=60_000) as download:
        dash_page.page.click("#download-report")
    path = tmp_path / "report.html"
    download.value.save_as(path)

    open_offline(dash_page.page, path)

    expect(dash_page.page.locator("[data-role=workspace]")).to_have_text("Workspace: Team Pay")
    expected = analytics_for_view(team.root, "30d", dash_page.served.now)
    assert_analytics_drawn(dash_page.page, expected)
    assert dash_page.console.errors == []
