"""Accessibility in Chromium: axe-core finds no serious violation, keyboard and small screens.

axe-core's JavaScript comes with the `axe-playwright-python` package (requirements.txt).
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import DashboardPage

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
PHONE_WIDTH = 390


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations of the page as it is now, one line each."""
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({[node['target'] for node in v['nodes']][:3]})"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_dashboard_has_no_serious_accessibility_violation(dash_page: DashboardPage):
    page = dash_page.page
    expect(page.locator("#trend-flow_velocity .js-plotly-plot .trace")).not_to_have_count(0)
    assert page.locator("html").get_attribute("lang") == "en"
    assert serious_violations(page) == []


def test_settings_panel_has_no_serious_violation_and_gives_focus_back(dash_page: DashboardPage):
    page = dash_page.page
    page.focus("#open-settings")
    page.keyboard.press("Enter")
    expect(page.locator("#settings-panel")).to_be_visible()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    expect(page.locator("#settings-panel")).to_be_hidden()
    expect(page.locator("#open-settings")).to_be_focused()


def test_every_definition_is_reachable_by_keyboard_and_named_for_screen_readers(
    dash_page: DashboardPage,
):
    page = dash_page.page
    info = dash_page.card("lead_time_for_changes").locator("[data-role=info]")
    label = info.get_attribute("aria-label")
    assert label and label.startswith("Definition: ") and "deployed date" in label
    info.focus()
    expect(page.get_by_role("tooltip")).to_contain_text("deployed date")
    page.keyboard.press("Tab")
    for key in ("deployment_frequency", "flow_load"):
        name = dash_page.card(key).locator("[data-role=info]").get_attribute("aria-label")
        assert name and len(name) > len("Definition: ") + 20


def test_each_chart_has_a_table_of_its_weekly_values(dash_page: DashboardPage, cli_report):
    report = cli_report("30d")
    cell = dash_page.page.locator("[data-trend=flow_load]")
    cell.locator("summary").click()
    rows = cell.locator("tbody tr")
    expect(rows).to_have_count(len(report["flow_load"]["weekly"]))
    first = report["flow_load"]["weekly"][0]
    expect(rows.first.locator("th")).to_have_text(first["week_start"])


def test_at_390_px_wide_nothing_overflows(dash_page: DashboardPage):
    page = dash_page.page
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.reload()
    page.locator("[data-metric]").nth(8).wait_for(timeout=60_000)
    page.evaluate(
        "() => { document.querySelector('#update-status').innerText ="
        " '4,200 of 5,000 issues · 42 pages · 17 s · rate limited, waiting 7 s'"
        "; document.querySelector('#fetch-statistics').innerText = 'Last update: 5,000 issues"
        " (incremental), 55 API calls, cache 35 hits / 3 misses, 27.6 MB, 4.2 s'; }"
    )  # the longest lines the header shows during and after an update
    for shown in ("#update-progress", "#cancel-update"):  # as while an update runs
        page.locator(shown).evaluate("el => el.classList.remove('d-none')")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH
    box = page.locator("#open-settings").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE_WIDTH
