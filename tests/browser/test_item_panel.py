"""The item panel in Chromium: every kind of figure opens the items `app.py items` lists.

Cards, sparkline weeks, trend chart points and "Excluded:" reasons are clicked on the sample
dashboard ("now" fixed at today 00:00 UTC); the panel's count and keys are compared with
`python app.py items` on the same data and period. Also: the table sorts, filters and
downloads as CSV, and the data-quality badge opens its items.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from data.engine.evidence import SAMPLE_NOTE
from data.services.item_view import PAGE_SIZE
from tests.browser.conftest import PROJECT, DashboardPage, sample_now
from ui.item_panel import iso_week_of

pytestmark = pytest.mark.browser

CliItems = Callable[..., dict[str, Any]]


@pytest.fixture
def cli_items(data_dir: Path, sample_file: Path) -> CliItems:
    """`python app.py items` (or `quality`) on the sample file with the page's "now"."""

    def run(*options: str, command: str = "items") -> dict[str, Any]:
        clock = ["--now", sample_now().isoformat(), "--period", "30d"] if command == "items" else []
        done = subprocess.run(
            [sys.executable, str(PROJECT / "app.py"), command, "--input", str(sample_file),
             *clock, "--format", "json", *options],
            capture_output=True, text=True, check=False, cwd=PROJECT, timeout=120,
            env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


def panel(dash_page: DashboardPage) -> Locator:
    return dash_page.page.locator("#item-panel")


def panel_keys(dash_page: DashboardPage) -> list[str]:
    """The keys in the panel's table, page by page."""
    page = dash_page.page
    keys: list[str] = []
    while True:
        cells = panel(dash_page).locator("td[data-dash-column=key]")
        keys += [text.strip() for text in cells.all_inner_texts()]
        following = panel(dash_page).locator("button.next-page")
        if not following.count() or following.is_disabled():
            return keys
        first = cells.first.inner_text()
        following.click()
        expect(cells.first).not_to_have_text(first)
        page.wait_for_timeout(50)


def assert_panel_lists(dash_page: DashboardPage, expected: dict[str, Any]) -> None:
    """The panel is open with the CLI answer's title, count and keys (in the same order)."""
    expect(panel(dash_page)).to_be_visible(timeout=30_000)
    expect(panel(dash_page).locator(".offcanvas-title")).to_have_text(expected["title"])
    count = panel(dash_page).locator("[data-role=item-count]")
    expect(count).to_have_text(f"{expected['count']:,}")
    if expected["items"]:
        first_key = panel(dash_page).locator("td[data-dash-column=key]").first
        expect(first_key).to_have_text(expected["items"][0]["key"])
    assert panel_keys(dash_page) == [item["key"] for item in expected["items"]]


def close_panel(dash_page: DashboardPage) -> None:
    panel(dash_page).locator(".btn-close").click()
    expect(panel(dash_page)).to_be_hidden()


def test_clicking_each_card_lists_exactly_its_n_items(dash_page: DashboardPage, cli_items):
    for metric in ("lead_time_for_changes", "change_failure_rate", "flow_load", "recovery_time"):
        expected = cli_items("--metric", metric)
        card = dash_page.card(metric)
        shown_n = card.locator("[data-role=n]").inner_text()
        assert shown_n == f"n = {expected['count']:,}"
        card.locator("[data-role=figure]").click()
        assert_panel_lists(dash_page, expected)
        note = panel(dash_page).locator("[data-role=jira-note]")
        expect(note).to_have_text(SAMPLE_NOTE)
        close_panel(dash_page)
    assert dash_page.console.errors == []


def test_clicking_a_sparkline_week_lists_that_weeks_items(dash_page: DashboardPage, cli_items):
    card = dash_page.card("flow_velocity")
    week = card.locator("[data-role=spark-week]").nth(-2)
    monday = week.get_attribute("data-week")
    expected = cli_items("--metric", "flow_velocity", "--week", iso_week_of(monday))
    assert expected["count"] > 0
    week.click()
    assert_panel_lists(dash_page, expected)
    assert dash_page.console.errors == []


def test_clicking_an_excluded_reason_lists_the_items_left_out(dash_page: DashboardPage, cli_items):
    reason = dash_page.card("flow_velocity").locator("[data-role=excluded] [data-reason=canceled]")
    expected = cli_items("--metric", "flow_velocity", "--excluded", "canceled")
    assert expected["count"] > 0
    expect(reason).to_have_text(f"canceled {expected['count']:,}")
    reason.click()
    assert_panel_lists(dash_page, expected)
    assert {item["reason"] for item in expected["items"]} == {"canceled"}
    assert dash_page.console.errors == []


def test_enter_on_a_focused_figure_or_reason_opens_its_items_after_a_period_change(
    dash_page: DashboardPage, cli_items
):
    dash_page.choose_period("Last 90 days")
    dash_page.choose_period("Last 30 days")  # the cards drawn anew: targets still answer
    card = dash_page.card("flow_velocity")
    card.locator("[data-role=figure]").focus()
    dash_page.page.keyboard.press("Enter")
    assert_panel_lists(dash_page, cli_items("--metric", "flow_velocity", "--period", "30d"))
    close_panel(dash_page)
    card.locator("[data-role=excluded] [data-reason=canceled]").focus()
    dash_page.page.keyboard.press(" ")
    expected = cli_items("--metric", "flow_velocity", "--excluded", "canceled")
    assert_panel_lists(dash_page, expected)
    assert dash_page.console.errors == []


def test_clicking_a_trend_chart_point_lists_that_weeks_items(dash_page: DashboardPage, cli_items):
    chart = dash_page.page.locator("#trend-flow_time")
    points = chart.locator(".scatterlayer .trace").first.locator(".point")
    expect(points.first).to_be_visible(timeout=30_000)
    count = points.count()
    point = points.nth(count - 2)
    chart.scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None
    dash_page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dash_page.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(panel(dash_page)).to_be_visible(timeout=30_000)
    title = panel(dash_page).locator(".offcanvas-title").inner_text()
    week = title.split("week ", 1)[1].split(":", 1)[0]
    expected = cli_items("--metric", "flow_time", "--week", week)
    assert_panel_lists(dash_page, expected)
    assert dash_page.console.errors == []


def test_the_table_sorts_filters_and_downloads_as_csv(dash_page: DashboardPage, cli_items):
    expected = cli_items("--metric", "flow_time", "--period", "90d")
    assert expected["count"] > PAGE_SIZE  # more than one page
    dash_page.choose_period("Last 90 days")
    dash_page.card("flow_time").locator("[data-role=figure]").click()
    assert_panel_lists(dash_page, expected)
    table = panel(dash_page)
    # sort by duration, descending: the first row is the longest flow time of all pages
    sort = table.locator("th[data-dash-column=duration_days] .column-header--sort")
    first_duration = table.locator("td[data-dash-column=duration_days]").first
    sort.click()
    shortest = min(item["duration_days"] for item in expected["items"])
    expect(first_duration).to_have_text(str(shortest))
    sort.click()
    longest = max(item["duration_days"] for item in expected["items"])
    expect(first_duration).to_have_text(str(longest))
    # filter by a word of the summaries: only the matching rows remain, the count says so
    word = expected["items"][0]["summary"].split()[0]
    matching = [item for item in expected["items"] if word.lower() in item["summary"].lower()]
    assert 0 < len(matching) < expected["count"]
    table.locator("#item-filter").fill(word)
    table.locator("#item-filter").press("Enter")
    expect(table.locator("#item-matching")).to_have_text(f"{len(matching):,} match")
    cells = table.locator("td[data-dash-column=summary]")
    expect(cells).to_have_count(min(len(matching), PAGE_SIZE))
    assert all(word.lower() in text.lower() for text in cells.all_inner_texts())
    # the download holds every matching row (all pages), in the table's order
    with dash_page.page.expect_download() as download:
        table.locator("#item-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert download.value.suggested_filename == "flowdash-items-flow_time.csv"
    assert sorted(row["key"] for row in rows) == sorted(item["key"] for item in matching)
    durations = [float(row["duration_days"]) for row in rows]
    assert durations == sorted(durations, reverse=True)
    assert dash_page.console.errors == []


def test_the_quality_badge_counts_problems_and_opens_each_rules_items(
    dash_page: DashboardPage, cli_items
):
    report = cli_items(command="quality")
    badge = dash_page.page.locator("#quality-badge")
    expect(badge).to_have_text(report["summary"], timeout=30_000)
    badge.click()
    quality = dash_page.page.locator("#quality-panel")
    expect(quality).to_be_visible()
    rule = next(rule for rule in report["rules"] if rule["count"])
    row = quality.locator(f"[data-rule={rule['rule']}]")
    expect(row.locator("[data-role=rule-count]")).to_have_text(f"{rule['count']:,}")
    row.get_by_role("button", name="Items").click()
    expect(panel(dash_page)).to_be_visible(timeout=30_000)
    expect(panel(dash_page).locator(".offcanvas-title")).to_have_text(rule["title"])
    assert panel_keys(dash_page) == rule["keys"]
    assert dash_page.console.errors == []
