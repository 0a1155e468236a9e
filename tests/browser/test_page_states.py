"""The page tells the truth about its data: the period in the URL, numbers kept with a banner.

Driven in Chromium against the dashboard served in-process on the bundled sample project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from configuration.metric_defaults import ALL_METRICS
from data.jira.fetcher import CONNECT_FIRST, fetch_project
from data.services.metrics_service import NO_JIRA_DATA
from data.storage.persistence import load_settings, save_settings
from tests.browser.conftest import ConsoleLog, DashboardPage, Served, sample_now, serve
from tests.browser.test_settings_and_update import (
    TOKEN,
    close_settings,
    fill_connection,
    headlines,
    open_settings,
    save_connection,
)
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import settings_for
from ui.settings_panel import VERIFY_TLS_LABEL

pytestmark = pytest.mark.browser

WAIT_MS = 30_000


def test_chosen_period_is_kept_in_the_url_across_reload_and_back(dash_page: DashboardPage):
    page = dash_page.page
    dash_page.choose_period("Last 7 days")
    expect(page).to_have_url(dash_page.served.url + "?period=7d")
    seven = headlines(page)

    page.reload()
    expect(page.locator("#period-label")).to_contain_text("Last 7 days", timeout=WAIT_MS)
    expect(page.locator("#period-choice input[value='7d']")).to_be_checked()
    assert headlines(page) == seven

    dash_page.choose_period("Last 90 days")
    expect(page).to_have_url(dash_page.served.url + "?period=90d")
    page.go_back()
    expect(page).to_have_url(dash_page.served.url + "?period=7d")
    expect(page.locator("#period-label")).to_contain_text("Last 7 days", timeout=WAIT_MS)
    expect(page.locator("#period-choice input[value='7d']")).to_be_checked()
    assert dash_page.console.errors == []


def test_a_shared_link_with_a_custom_range_opens_on_that_range(
    dash_page: DashboardPage, cli_report
):
    page = dash_page.page
    report = cli_report("30d")
    first = report["period"]["start"][:10]
    last = "2026-01-01" if first > "2026-01-01" else first
    start, end = sorted([first, last])
    dash_page.page.goto(f"{dash_page.served.url}?period={start}:{end}")

    expect(page.locator("#period-label")).to_contain_text(start, timeout=WAIT_MS)
    expect(page.locator("#period-choice input[value='custom']")).to_be_checked()
    expect(page.locator("#custom-start")).to_have_value(start)
    expect(page.locator("#custom-end")).to_have_value(end)
    expect(page.locator("#custom-range")).to_be_visible()
    expected = cli_report(f"{start}:{end}")
    for key in ("deployment_frequency", "flow_velocity"):
        expect(dash_page.card(key).locator("[data-role=n]")).to_have_text(
            f"n = {expected[key]['n']:,}"
        )
    assert dash_page.console.errors == []


def test_apply_of_a_custom_range_puts_it_in_the_url(dash_page: DashboardPage):
    page = dash_page.page
    dash_page.choose_period("Custom range")
    expect(page).to_have_url(dash_page.served.url)  # nothing chosen until Apply
    dash_page.apply_custom("2026-03-01", "2026-03-10")
    expect(page).to_have_url(dash_page.served.url + "?period=2026-03-01:2026-03-10")
    expect(page.locator("#period-label")).to_contain_text("2026-03-01", timeout=WAIT_MS)


def _chart_values(page, key: str) -> str:
    return page.locator(f"#trend-{key} .js-plotly-plot").evaluate(
        "el => JSON.stringify(el.data.map(trace => trace.y))"
    )


@pytest.fixture
def jira_dashboard(data_dir: Path, jira: JiraEmulator) -> Iterator[Served]:
    """The dashboard on a JIRA project fetched from the emulator."""
    settings = settings_for(jira)
    save_settings(data_dir, settings)
    fetch_project(data_dir, settings)
    yield from serve(data_dir, sample_now())


def test_saving_a_query_not_fetched_yet_keeps_the_jira_numbers_and_says_so(
    page: Page, console_errors: ConsoleLog, jira_dashboard: Served, jira: JiraEmulator
):
    DashboardPage(page, jira_dashboard, console_errors).open()
    expect(page.locator("#dataset-info")).to_contain_text(jira.url)
    shown = headlines(page)
    chart_before = _chart_values(page, "flow_velocity")

    open_settings(page)
    fill_connection(page, jira.url, jira.email, TOKEN, "project = OTHER")
    save_connection(page)
    close_settings(page)

    alert = page.locator("#data-state")
    expect(alert).to_be_visible(timeout=WAIT_MS)
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text(NO_JIRA_DATA)
    expect(alert).to_contain_text("previous data")
    assert headlines(page) == shown  # nine cards still there, unchanged
    assert _chart_values(page, "flow_velocity") == chart_before  # same data as the cards
    expect(page.locator("[data-role=no-data]")).to_have_count(0)
    assert console_errors.errors == []


def test_jira_fields_not_mapped_are_offered_with_the_metrics_they_would_change(
    page: Page, console_errors: ConsoleLog, jira_dashboard: Served
):
    DashboardPage(page, jira_dashboard, console_errors).open()
    offer = page.locator("#mapping-offer")
    expect(offer).to_be_visible(timeout=WAIT_MS)
    expect(offer).to_contain_text(
        "Environment (customfield_10050) as Environment would change Deployment frequency, "
        "Change failure rate and Lead time for changes"
    )
    expect(offer).to_contain_text("Story Points (customfield_10016) as Story points")

    page.locator("#offer-mappings").click()  # opens the mapping dialog from the page
    dialog = page.locator("#mapping-dialog")
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    select = dialog.locator("""[id='{"key":"environment_field","type":"mapping"}']""")
    expect(select).to_be_visible(timeout=WAIT_MS)
    expect(select.locator("option[value=customfield_10050]")).to_be_enabled()
    assert console_errors.errors == []


def test_the_sample_project_offers_no_fields(dash_page: DashboardPage):
    expect(dash_page.card("deployment_frequency")).to_be_visible()
    expect(dash_page.page.locator("#mapping-offer")).not_to_be_visible()


def test_saving_a_site_after_the_sample_empties_cards_and_charts_alike(
    dash_page: DashboardPage,
):
    page = dash_page.page
    open_settings(page)
    fill_connection(page, "https://jira.example.net", "me@example.net", "t0ken", "project = X")
    save_connection(page)
    close_settings(page)

    expect(page.locator("[data-role=no-data]")).to_have_text(NO_JIRA_DATA, timeout=WAIT_MS)
    expect(page.locator("[data-metric]")).to_have_count(0)
    graph = page.locator("#trend-flow_velocity .js-plotly-plot")
    expect(graph.locator(".barlayer .trace")).to_have_count(0)  # no sample charts left
    assert dash_page.console.errors == []


def test_header_line_names_the_data_source(dash_page: DashboardPage):
    line = dash_page.page.locator("#dataset-info")
    expect(line).to_contain_text("sample project")
    expect(line).to_contain_text("1,500 issues")


def _wednesday_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 2) % 7 or 7)


def test_partial_last_week_is_marked_in_every_trend_with_its_day_count(dash_page: DashboardPage):
    end = _wednesday_before(dash_page.served.now.date())  # Monday to Wednesday: 3 days
    start = end - timedelta(days=40)
    dash_page.page.goto(f"{dash_page.served.url}?period={start}:{end}")
    expect(dash_page.page.locator("#period-label")).to_contain_text(str(start), timeout=WAIT_MS)
    for key in ALL_METRICS:
        graph = dash_page.page.locator(f"#trend-{key} .js-plotly-plot")
        expect(graph.locator(".annotation-text")).to_have_text("partial: 3 of 7 days")
        assert graph.evaluate("el => el.layout.shapes.length") == 1
    sparklines = dash_page.page.locator("#metric-cards [data-role=sparkline]")
    assert sparklines.count() >= 5
    for index in range(sparklines.count()):  # the cards' small trends mark it too
        expect(sparklines.nth(index)).to_have_attribute("data-partial-days", "3")
        expect(sparklines.nth(index)).to_have_attribute("title", re.compile(r"partial: 3 of 7"))
    assert dash_page.console.errors == []


def test_a_whole_last_week_is_not_marked_partial(dash_page: DashboardPage):
    sunday = _wednesday_before(dash_page.served.now.date()) - timedelta(days=3)
    start = sunday - timedelta(days=40)
    dash_page.page.goto(f"{dash_page.served.url}?period={start}:{sunday}")
    expect(dash_page.page.locator("#period-label")).to_contain_text(str(start), timeout=WAIT_MS)
    graph = dash_page.page.locator("#trend-flow_velocity .js-plotly-plot")
    expect(graph.locator(".xtick")).not_to_have_count(0)
    expect(graph.locator(".annotation-text")).to_have_count(0)
    sparklines = dash_page.page.locator("#metric-cards [data-role=sparkline]")
    expect(sparklines.first).to_be_visible()
    expect(dash_page.page.locator("#metric-cards [data-partial-days]")).to_have_count(0)


def test_tiers_from_fewer_than_10_items_say_few_data(dash_page: DashboardPage, cli_report):
    dash_page.choose_period("Last 7 days")
    report = cli_report("7d")
    for key in ("deployment_frequency", "lead_time_for_changes", "change_failure_rate"):
        caveat = dash_page.card(key).locator("[data-role=caveat]")
        if report[key]["status"] == "ok" and report[key]["n"] < 10:
            expect(caveat).to_contain_text("few data")
            if report[key]["tier"]:
                expect(caveat).to_contain_text("tier indicative")
        else:
            expect(caveat).to_have_count(0)
    assert any(report[key]["n"] < 10 for key in ("deployment_frequency", "change_failure_rate"))


def test_a_period_before_or_after_the_data_says_so_instead_of_low_tiers(
    dash_page: DashboardPage, cli_report
):
    page = dash_page.page
    first = cli_report("30d")["dataset"]["span"]["first"][:10]
    end = date.fromisoformat(first) - timedelta(days=10)
    start = end - timedelta(days=30)
    page.goto(f"{dash_page.served.url}?period={start}:{end}")

    notice = page.locator("#metric-cards [data-role=out-of-data]")
    expect(notice).to_contain_text(
        f"No data in this period: it ends before the first issue (created {first})",
        timeout=WAIT_MS,
    )
    expect(notice).to_contain_text("choose a period inside it")
    expect(page.locator("#metric-cards [data-role=tier]")).to_have_count(0)
    expect(page.locator("#metric-cards [data-metric]")).to_have_count(0)

    later = dash_page.served.now.date() + timedelta(days=2)  # after the last recorded change
    page.goto(f"{dash_page.served.url}?period={later}:{later + timedelta(days=6)}")
    expect(notice).to_contain_text(
        "No data in this period: it starts after the last recorded change", timeout=WAIT_MS
    )
    expect(page.locator("#metric-cards [data-role=tier]")).to_have_count(0)

    dash_page.choose_period("Last 30 days")  # back inside the data: the cards return
    expect(dash_page.card("deployment_frequency")).to_be_visible(timeout=WAIT_MS)
    expect(notice).to_have_count(0)
    assert dash_page.console.errors == []


def test_update_data_before_any_connection_says_to_connect_first(dash_page: DashboardPage):
    shown = headlines(dash_page.page)
    dash_page.page.click("#update-data")
    alert = dash_page.page.locator("#update-alert")
    expect(alert).to_be_visible(timeout=WAIT_MS)
    expect(alert).to_contain_text(CONNECT_FIRST)
    assert headlines(dash_page.page) == shown
    assert dash_page.console.errors == []


@pytest.fixture
def jira() -> Iterator[JiraEmulator]:
    """A Cloud JIRA emulator whose user's time zone differs from the dashboard's (UTC)."""
    with JiraEmulator(flavor="cloud", issues=60, seed=5, token=TOKEN) as emulator:
        yield emulator


def test_test_connection_shows_the_jira_time_zone_and_offers_to_use_it(
    dash_page: DashboardPage, jira: JiraEmulator
):
    page = dash_page.page
    zone = jira.user_time_zone
    assert zone not in dash_page.period_label()
    open_settings(page)
    fill_connection(page, jira.url, jira.email, TOKEN, "project = DEMO")
    page.click("#conn-test")
    expect(page.locator("#conn-tz")).to_have_text(zone, timeout=WAIT_MS)
    page.click("#conn-use-tz")
    expect(page.locator("#conn-tz-result")).to_contain_text(f"Time zone set to {zone}")
    assert load_settings(dash_page.served.root)["time_zone"] == zone
    close_settings(page)
    expect(page.locator("#period-label")).to_contain_text(zone, timeout=WAIT_MS)
    assert dash_page.console.errors == []


def test_the_tls_check_named_by_the_tls_error_is_in_the_settings_panel(dash_page: DashboardPage):
    page = dash_page.page
    open_settings(page)
    box = page.get_by_label(VERIFY_TLS_LABEL)
    expect(box).to_be_checked()
    fill_connection(page, "https://jira.example.net", "me@example.net", "t0ken", "project = X")
    box.uncheck()
    save_connection(page)
    assert load_settings(dash_page.served.root)["jira"]["verify_tls"] is False
    close_settings(page)
    open_settings(page)
    expect(page.get_by_label(VERIFY_TLS_LABEL)).not_to_be_checked()
