"""The export buttons in Chromium: the downloaded CSV and JSON equal the cards on screen."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from configuration.metric_defaults import ALL_METRICS
from tests.browser.conftest import DashboardPage
from ui.formatting import format_number, format_value

pytestmark = pytest.mark.browser


def download(dash_page: DashboardPage, button: str, folder: Path) -> tuple[str, str]:
    """Click an export button; the suggested file name and the file's text."""
    with dash_page.page.expect_download(timeout=30_000) as info:
        dash_page.page.click(button)
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return info.value.suggested_filename, target.read_text(encoding="utf-8")


def headline_rows(text: str) -> dict[str, dict[str, str]]:
    """metric -> its CSV rows keyed by statistic."""
    rows: dict[str, dict[str, dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        rows.setdefault(row["metric"], {})[row["statistic"]] = row
    return rows


def card_state(dash_page: DashboardPage, key: str) -> dict[str, str]:
    card = dash_page.card(key)
    return {
        "headline": card.locator("[data-role=headline]").inner_text().strip(),
        "n": card.locator("[data-role=n]").inner_text().strip(),
        "tier": card.get_attribute("data-tier") or "",
        "status": card.get_attribute("data-status") or "",
    }


def assert_csv_equals_cards(dash_page: DashboardPage, text: str, report: dict[str, Any]) -> None:
    rows = headline_rows(text)
    assert set(rows) == set(ALL_METRICS)
    for key in ALL_METRICS:
        shown = card_state(dash_page, key)
        headline = report[key]["headline"]
        any_row = next(iter(rows[key].values()))
        assert shown["n"] == f"n = {format_number(int(any_row['n']))}", key
        assert shown["tier"] == any_row["tier"], key
        assert shown["status"] == any_row["status"], key
        if headline is not None and rows[key][headline]["value"]:
            row = rows[key][headline]
            assert shown["headline"] == format_number(float(row["value"])), key
            assert row["unit"] == report[key]["unit"], key
        elif headline is not None:
            assert shown["headline"] == format_value(report[key]), key
        else:
            shares = {
                statistic.removeprefix("shares."): float(row["value"])
                for statistic, row in rows[key].items()
                if statistic.startswith("shares.")
            }
            assert shown["headline"] == format_value(
                {"values": {"shares": shares}, "headline": None}
            )


def test_csv_export_holds_the_values_tiers_and_n_of_the_cards(
    dash_page: DashboardPage, cli_report, tmp_path: Path
):
    name, text = download(dash_page, "#export-csv", tmp_path)

    report = cli_report("30d")
    assert name.endswith(".csv") and name.startswith("flowdash-metrics-")
    assert_csv_equals_cards(dash_page, text, report)
    header = text.splitlines()[0]
    assert header == (
        "metric,statistic,value,unit,tier,n,status,period_start,period_end,time_zone,"
        "deployment_source"
    )
    first = next(csv.DictReader(io.StringIO(text)))
    assert first["period_start"] == report["period"]["start"]
    assert first["period_end"] == report["period"]["end"]
    assert dash_page.console.errors == []


def test_json_export_equals_the_cards_and_the_cli_report(
    dash_page: DashboardPage, cli_report, tmp_path: Path
):
    name, text = download(dash_page, "#export-json", tmp_path)

    exported = json.loads(text)
    report = cli_report("30d")
    assert name.endswith(".json")
    for key in ALL_METRICS:
        assert exported[key] == report[key], key
        assert card_state(dash_page, key)["headline"] == format_value(exported[key])
    assert exported["period"] == report["period"]
    assert exported["settings"] == report["settings"]
    assert exported["dataset"]["source"] == "sample"
    assert dash_page.console.errors == []


def test_export_after_a_period_switch_holds_the_new_period(
    dash_page: DashboardPage, cli_report, tmp_path: Path
):
    dash_page.choose_period("Last 7 days")
    expect(dash_page.page.locator("#period-label")).to_contain_text("Last 7 days")

    _, text = download(dash_page, "#export-csv", tmp_path)

    report = cli_report("7d")
    assert_csv_equals_cards(dash_page, text, report)
    first = next(csv.DictReader(io.StringIO(text)))
    assert first["period_start"] == report["period"]["start"]
    assert dash_page.console.errors == []
