"""The dashboard page in Chromium: cards equal the CLI report, periods, custom range, banner.

Every test runs the real app in-process on the bundled sample project with "now" fixed at
today 00:00 UTC, and compares the page with `python app.py metrics` on the same data and
period. Each test also asserts the browser console stayed free of errors.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from configuration.metric_defaults import ALL_METRICS
from data.services.metrics_service import NO_JIRA_DATA
from data.storage.persistence import load_settings, save_settings
from tests.browser.conftest import DashboardPage, downloaded_png_name, period_days_of, sample_now
from ui.cards import DEFINITIONS
from ui.formatting import (
    INSUFFICIENT_DATA,
    format_counts,
    format_number,
    format_value,
)

pytestmark = pytest.mark.browser


def assert_cards_equal(dash_page: DashboardPage, report: dict[str, Any]) -> None:
    """Each card's headline, unit, tier, `n` and exclusions equal the report's metric."""
    for key in ALL_METRICS:
        metric = report[key]
        card = dash_page.card(key)
        expect(card.locator("[data-role=headline]")).to_have_text(format_value(metric))
        expect(card.locator("[data-role=n]")).to_have_text(f"n = {format_number(metric['n'])}")
        expect(card).to_have_attribute("data-status", metric["status"])
        expect(card).to_have_attribute("data-tier", metric.get("tier") or "")
        if metric.get("tier"):
            expect(card.locator("[data-role=tier]")).to_have_text(metric["tier"])
        if metric["excluded"]:
            expect(card.locator("[data-role=excluded]")).to_have_text(
                f"Excluded: {format_counts(metric['excluded'])}"
            )
        else:
            expect(card.locator("[data-role=excluded]")).to_have_count(0)


def headlines(dash_page: DashboardPage) -> dict[str, str]:
    return {key: dash_page.headline(key) for key in ALL_METRICS}


def test_page_shows_every_card_equal_to_the_cli_report(dash_page: DashboardPage, cli_report):
    report = cli_report("30d")

    expect(dash_page.page.locator("[data-metric]")).to_have_count(len(ALL_METRICS))
    assert_cards_equal(dash_page, report)
    for key in ("deployment_frequency", "lead_time_for_changes", "flow_time", "flow_load"):
        unit = dash_page.card(key).locator("[data-role=unit]").inner_text().strip()
        assert unit == report[key]["unit"]
    assert "Last 30 days" in dash_page.period_label()
    assert dash_page.console.errors == []


def test_switching_the_period_recomputes_every_card(dash_page: DashboardPage, cli_report):
    before = headlines(dash_page)

    dash_page.choose_period("Last 7 days")
    assert_cards_equal(dash_page, cli_report("7d"))
    after_week = headlines(dash_page)

    dash_page.choose_period("Last 90 days")
    assert_cards_equal(dash_page, cli_report("90d"))

    assert after_week != before
    assert headlines(dash_page) != after_week
    assert dash_page.console.errors == []


def test_custom_range_shows_the_numbers_of_that_range(dash_page: DashboardPage, cli_report):
    now = sample_now().date()
    start, end = (now - timedelta(days=60)).isoformat(), (now - timedelta(days=20)).isoformat()

    before = headlines(dash_page)
    dash_page.choose_period("Custom range")
    expect(dash_page.page.locator("#custom-start")).to_be_visible()
    dash_page.page.wait_for_timeout(500)  # room for a computation that must not happen
    assert "Last 30 days" in dash_page.period_label()  # nothing computed before Apply
    assert headlines(dash_page) == before
    dash_page.apply_custom(start, end)

    expect(dash_page.page.locator("#period-label")).to_contain_text(start, timeout=30_000)
    assert_cards_equal(dash_page, cli_report(f"{start}:{end}"))
    assert dash_page.console.errors == []


def test_custom_range_ending_before_it_starts_says_so_and_keeps_the_numbers(
    dash_page: DashboardPage,
):
    shown = headlines(dash_page)
    label = dash_page.period_label()

    dash_page.choose_period("Custom range")
    dash_page.apply_custom("2026-03-10", "2026-03-01")

    alert = dash_page.page.locator("#metrics-error")
    expect(alert).to_be_visible(timeout=30_000)
    assert "before" in alert.inner_text().lower() or "after" in alert.inner_text().lower()
    assert headlines(dash_page) == shown
    assert dash_page.period_label() == label
    assert dash_page.console.errors == []


def test_a_custom_range_before_the_data_says_so_never_a_zero(dash_page: DashboardPage, cli_report):
    now = sample_now().date()
    start, end = (now - timedelta(days=800)).isoformat(), (now - timedelta(days=770)).isoformat()
    report = cli_report(f"{start}:{end}")
    assert report["deployment_frequency"]["values"]["count"] == 0  # the report: nothing in it

    dash_page.choose_period("Custom range")
    dash_page.apply_custom(start, end)
    expect(dash_page.page.locator("#period-label")).to_contain_text(start, timeout=30_000)

    # the page does not show that as a "0" or a "Low" tier: the period lies before the data
    notice = dash_page.page.locator("#metric-cards [data-role=out-of-data]")
    expect(notice).to_contain_text("it ends before the first issue")
    expect(dash_page.page.locator("#metric-cards [data-role=headline]")).to_have_count(0)
    assert dash_page.console.errors == []


def test_sample_project_banner_says_so_and_how_to_connect_jira(dash_page: DashboardPage):
    banner = dash_page.page.locator("#sample-banner")

    expect(banner).to_be_visible()
    text = banner.inner_text()
    assert "sample project" in text.lower()
    assert "Settings" in text and "JIRA" in text and "Update data" in text


def test_each_card_tooltip_shows_its_definition(dash_page: DashboardPage):
    for key in ALL_METRICS:
        dash_page.card(key).locator("[data-role=info]").hover()
        expect(dash_page.page.get_by_role("tooltip")).to_have_text(DEFINITIONS[key])
        dash_page.page.mouse.move(0, 0)
        expect(dash_page.page.get_by_role("tooltip")).to_have_count(0)
    assert dash_page.console.errors == []


def test_each_metric_has_a_weekly_trend_chart_of_its_series(dash_page: DashboardPage, cli_report):
    report = cli_report("30d")
    for key in ALL_METRICS:
        graph = dash_page.page.locator(f"#trend-{key} .js-plotly-plot")
        expect(graph).to_have_count(1)
        weeks = len(report[key]["weekly"])
        expect(graph.locator(".xtick")).not_to_have_count(0, timeout=30_000)
        lengths = graph.evaluate("el => el.data.map(trace => trace.x.length)")
        assert lengths and all(length == weeks for length in lengths), key
    sparkline = dash_page.card("flow_load").locator("[data-role=sparkline]")
    expect(sparkline).to_have_attribute("data-weeks", str(len(report["flow_load"]["weekly"])))
    assert dash_page.console.errors == []


def test_distribution_shows_reference_ranges_beside_actual_shares(
    dash_page: DashboardPage, cli_report
):
    values = cli_report("30d")["flow_distribution"]["values"]
    rows = dash_page.card("flow_distribution").locator("[data-role=share]")

    for name, (low, high) in values["reference"].items():
        row = rows.and_(dash_page.page.locator(f'[data-type="{name}"]'))
        expect(row).to_contain_text(f"ref {low}–{high} %")
        if name in values["shares"]:
            expect(row).to_contain_text(f"{values['shares'][name]:.1f} %")


def test_a_metric_without_data_says_insufficient_data_and_names_what_is_missing(
    dash_page: DashboardPage, cli_report, data_dir
):
    settings = load_settings(data_dir)
    settings["mappings"]["incident_types"] = ["no-such-type"]
    save_settings(data_dir, settings)
    report = cli_report("30d")
    assert report["recovery_time"]["status"] == "insufficient_data"

    dash_page.open()
    card = dash_page.card("recovery_time")

    expect(card.locator("[data-role=headline]")).to_have_text(INSUFFICIENT_DATA)
    expect(card.locator("[data-role=message]")).to_have_text(report["recovery_time"]["message"])
    expect(card.locator("[data-role=tier]")).to_have_count(0)
    expect(card.locator("[data-role=unit]")).to_have_text("")
    assert_cards_equal(dash_page, report)
    assert dash_page.console.errors == []


#: Click a period and resolve with what the cards region looked like while it was computed.
WATCH_LOADING_JS = """
(label) => new Promise((resolve) => {
  const cards = document.querySelector('#metric-cards');
  const seen = {loading: false, spinner: ''};
  const observer = new MutationObserver(() => {
    if (cards.getAttribute('data-dash-is-loading')) {
      seen.loading = true;
      seen.spinner = getComputedStyle(cards, '::after').animationName;
    }
    if (document.querySelector('#period-label').innerText.includes(label)
        && !cards.getAttribute('data-dash-is-loading')) {
      observer.disconnect();
      resolve(seen);
    }
  });
  observer.observe(document.querySelector('.app-main'),
                   {subtree: true, childList: true, characterData: true, attributes: true});
  [...document.querySelectorAll('#period-choice label')]
    .find((element) => element.innerText.trim() === label).click();
})
"""


def test_cards_show_a_loading_state_while_a_period_is_computed(dash_page: DashboardPage):
    seen = dash_page.page.evaluate(WATCH_LOADING_JS, "Last 90 days")

    assert seen == {"loading": True, "spinner": "flowdash-spin"}
    expect(dash_page.page.locator("#metric-cards")).not_to_have_attribute(
        "data-dash-is-loading", "true"
    )
    assert dash_page.console.errors == []


def test_jira_configured_without_data_yet_says_to_click_update_data(
    dash_page: DashboardPage, data_dir
):
    settings = load_settings(data_dir)
    settings["jira"].update({"url": "https://jira.example.net", "jql": "project = DEMO"})
    save_settings(data_dir, settings)

    dash_page.page.goto(dash_page.served.url)

    notice = dash_page.page.locator("[data-role=no-data]")
    expect(notice).to_have_text(NO_JIRA_DATA, timeout=30_000)
    expect(dash_page.page.locator("#metrics-error")).to_be_hidden()
    expect(dash_page.page.locator("#sample-banner")).to_be_hidden()
    expect(dash_page.page.locator("[data-metric]")).to_have_count(0)
    assert dash_page.console.errors == []


def test_each_chart_toolbar_has_only_the_camera_and_downloads_a_png_named_after_metric_and_period(
    dash_page: DashboardPage, cli_report
):
    days = period_days_of(cli_report("30d"))
    for key in ("change_failure_rate", "deployment_rework_rate"):
        graph = dash_page.page.locator(f"#trend-{key} .js-plotly-plot")
        expect(graph.locator(".xtick")).not_to_have_count(0, timeout=30_000)
        assert downloaded_png_name(dash_page.page, graph) == f"{key}_{days}.png"
    assert dash_page.console.errors == []


def test_cards_show_rework_rate_and_both_recovery_times_with_the_tier_on_the_failed_one(
    dash_page: DashboardPage, cli_report
):
    report = cli_report("90d")
    dash_page.choose_period("Last 90 days")
    rework = report["deployment_rework_rate"]
    card = dash_page.card("deployment_rework_rate")
    expect(card.locator("[data-role=headline]")).to_have_text(format_value(rework))
    expect(card.locator("[data-stat=rework]")).to_have_text(
        f"{rework['values']['rework']} rework of {rework['values']['deployments']} deployments"
    )
    expect(card.locator("[data-role=tier]")).to_have_count(0)
    expect(dash_page.card("recovery_time").locator(".card-title-text")).to_have_text(
        "Incident recovery time"
    )
    expect(dash_page.card("recovery_time").locator("[data-role=tier]")).to_have_count(0)
    failed = dash_page.card("failed_deployment_recovery_time")
    expect(failed).to_have_attribute("data-tier", report["failed_deployment_recovery_time"]["tier"])
    assert dash_page.console.errors == []


def test_tier_year_2024_rates_by_nearest_cluster_and_the_card_says_so(
    dash_page: DashboardPage, cli_report, data_dir
):
    settings = load_settings(data_dir)
    settings["tier_year"] = 2024
    save_settings(data_dir, settings)
    report = cli_report("90d")  # the CLI reads the same settings
    assert report["settings"]["tier_year"] == 2024

    dash_page.choose_period("Last 90 days")

    cfr = report["change_failure_rate"]
    card = dash_page.card("change_failure_rate")
    assert cfr["tier"] and "nearest cluster" in cfr["tier_note"]  # the sample has deployments
    expect(card).to_have_attribute("data-tier", cfr["tier"])
    expect(card.locator("[data-role=tier-note]")).to_have_text(cfr["tier_note"])
    failed = report["failed_deployment_recovery_time"]
    expect(dash_page.card("failed_deployment_recovery_time")).to_have_attribute(
        "data-tier", failed["tier"] or ""
    )
    assert dash_page.console.errors == []
