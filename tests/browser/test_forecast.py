"""The Forecast section in Chromium: both forms equal `python app.py forecast` on the same data,
bad input shows a message and keeps the last forecast, the options are saved from the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PROJECT, DashboardPage, sample_now

pytestmark = pytest.mark.browser

LIKELIHOODS = ("50", "70", "85", "95")


def cli_forecast(dash_page: DashboardPage, *args: str) -> dict[str, Any]:
    """`python app.py forecast ... --format json` on the page's data directory and "now"."""
    done = subprocess.run(
        [
            sys.executable,
            "app.py",
            "forecast",
            *args,
            "--now",
            sample_now().isoformat(),
            "--format",
            "json",
        ],
        cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(dash_page.served.root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def shown_levels(dash_page: DashboardPage, result: str) -> dict[str, tuple[str, str]]:
    """likelihood -> (level text, track record text) of a result on screen."""
    rows = {}
    for p in LIKELIHOODS:
        row = dash_page.page.locator(f"#{result} [data-likelihood='{p}']")
        rows[p] = (
            row.locator("[data-role=level]").inner_text().strip(),
            row.locator("[data-role=held]").inner_text().strip(),
        )
    return rows


def held_text(expected: dict[str, Any], likelihood: str) -> str:
    record = expected["track_record"]
    row = next(r for r in record["held"] if str(r["likelihood"]) == likelihood)
    return f"held {row['count']} of {record['replays']} ({row['share'] * 100:.0f} %)"


def test_how_many_by_a_date_shows_the_cli_levels_and_track_record(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    until = (sample_now().date() + timedelta(days=45)).isoformat()
    page.fill("#forecast-until", until)
    page.click("#forecast-how-many-run")
    expect(page.locator("#forecast-how-many-result [data-role=question]")).to_contain_text(
        f"By {until}", timeout=30_000
    )
    expected = cli_forecast(dash_page, "how-many", "--until", until)
    shown = shown_levels(dash_page, "forecast-how-many-result")
    for row in expected["likelihoods"]:
        p = str(row["likelihood"])
        assert shown[p] == (f"at least {row['items']:,} items", held_text(expected, p))
    assert page.locator("#forecast-how-many-result .js-plotly-plot").count() == 1
    assert dash_page.console.errors == []


def test_when_will_n_items_be_done_shows_the_cli_dates(dash_page: DashboardPage) -> None:
    page = dash_page.page
    page.fill("#forecast-items", "40")
    page.click("#forecast-when-run")
    expect(page.locator("#forecast-when-result [data-role=question]")).to_contain_text(
        "40 items", timeout=30_000
    )
    expected = cli_forecast(dash_page, "when", "--items", "40")
    shown = shown_levels(dash_page, "forecast-when-result")
    for row in expected["likelihoods"]:
        p = str(row["likelihood"])
        day = date.fromisoformat(row["date"]).strftime("%a %d %b %Y")
        assert shown[p] == (f"by {day}", held_text(expected, p))
    assert dash_page.console.errors == []


def test_bad_input_shows_a_message_and_keeps_the_last_forecast(dash_page: DashboardPage) -> None:
    page = dash_page.page
    page.click("#forecast-when-run")  # 20 items, the default
    result = page.locator("#forecast-when-result [data-role=question]")
    expect(result).to_contain_text("20 items", timeout=30_000)
    # an epic that is not in the sample (and no JIRA to ask)
    page.locator("#forecast-source label", has_text="Epic key").click()
    page.fill("#forecast-query", "NOPE-1")
    page.click("#forecast-when-run")
    expect(page.locator("#forecast-when-error")).to_contain_text(
        "Epic NOPE-1 is not in the data", timeout=30_000
    )
    expect(result).to_contain_text("20 items")
    # N = 0
    page.locator("#forecast-source label", has_text="Number of items").click()
    page.fill("#forecast-items", "0")
    page.click("#forecast-when-run")
    expect(page.locator("#forecast-when-error")).to_contain_text(
        "at least 1, not 0", timeout=30_000
    )
    # a date in the past
    yesterday = (sample_now().date() - timedelta(days=1)).isoformat()
    page.fill("#forecast-until", yesterday)
    page.click("#forecast-how-many-run")
    expect(page.locator("#forecast-how-many-error")).to_contain_text(
        f"{yesterday} is in the past", timeout=30_000
    )
    assert dash_page.console.errors == []


def test_forecast_options_are_edited_and_saved_from_the_page(dash_page: DashboardPage) -> None:
    page = dash_page.page
    expect(page.locator("#forecast-history-weeks")).to_have_value("12", timeout=30_000)
    page.fill("#forecast-history-weeks", "6")
    page.fill("#forecast-seed", "9")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.locator("#forecast-working-days label", has_text=day).click()
    page.click("#forecast-save")
    expect(page.locator("#forecast-save-status")).to_contain_text("Saved", timeout=30_000)
    saved = json.loads((dash_page.served.root / "settings.json").read_text())["forecast"]
    assert saved["history_weeks"] == 6 and saved["seed"] == 9
    assert saved["working_days"] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    # a new page shows the saved options, and the forecast uses them (6 weeks of 5 days)
    page.reload()
    expect(page.locator("#forecast-history-weeks")).to_have_value("6", timeout=30_000)
    page.click("#forecast-when-run")
    expect(page.locator("#forecast-when-result")).to_contain_text("in 30 days", timeout=30_000)
    # a bad value is refused and nothing is saved
    page.fill("#forecast-history-weeks", "500")
    page.click("#forecast-save")
    expect(page.locator("#forecast-save-status")).to_contain_text("Not saved", timeout=30_000)
    saved = json.loads((dash_page.served.root / "settings.json").read_text())["forecast"]
    assert saved["history_weeks"] == 6
    assert dash_page.console.errors == []
