"""The "Flow analytics" section in Chromium: the charts draw the counts the CLI report and the
data layer give, and a click on a mark opens the item panel with exactly its items.

The app runs in-process on the bundled sample project with "now" fixed at today 00:00 UTC
(the `dash_page` fixture); the period is the default, "Last 30 days".
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from data.services.analytics_service import analytics_for_view, items_for_view
from data.storage.persistence import load_settings
from tests.browser.conftest import DashboardPage, downloaded_png_name, period_days_of

pytestmark = pytest.mark.browser


def figure_data(page: Page, graph_id: str) -> list[dict[str, Any]]:
    """The traces Plotly drew in a graph (what the user sees)."""
    return page.evaluate(
        """(id) => document.getElementById(id).querySelector('.js-plotly-plot').data
            .map(t => ({name: t.name, x: t.x, y: t.y, customdata: t.customdata}))""",
        graph_id,
    )


def wait_for_charts(page: Page) -> None:
    expect(page.locator("#fa-scatter .gtitle")).to_contain_text("items", timeout=60_000)
    expect(page.locator("#fa-time-in-state .gtitle")).to_contain_text("items", timeout=30_000)


def panel_keys(page: Page) -> list[str]:
    """The keys the item panel lists, page by page of its table."""
    panel = page.locator("#item-panel")
    expect(panel).to_be_visible(timeout=15_000)
    expect(panel.locator("[data-role=item-count]")).to_be_visible(timeout=15_000)
    expect(panel.locator("td[data-dash-column=key]").first).to_be_visible(timeout=15_000)
    keys: list[str] = []
    while True:
        cells = panel.locator("td[data-dash-column=key]")
        keys += [text.strip() for text in cells.all_inner_texts()]
        following = panel.locator("button.next-page")
        if not following.count() or following.is_disabled():
            return keys
        first = cells.first.inner_text()
        following.click()
        expect(cells.first).not_to_have_text(first)


def test_charts_show_the_counts_of_the_cli_report(dash_page: DashboardPage, cli_report) -> None:
    page = dash_page.page
    wait_for_charts(page)
    report = cli_report("30d")
    expected = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)
    n = report["flow_time"]["n"]

    expect(page.locator("#fa-scatter .gtitle")).to_contain_text(f"Cycle-time scatter · {n:,} items")
    assert sum(len(trace["y"]) for trace in figure_data(page, "fa-scatter")) == n
    assert sum(figure_data(page, "fa-histogram")[0]["y"]) == n
    expect(page.locator("#fa-time-in-state .gtitle")).to_contain_text(f"{n:,} items")
    aging = expected["aging"]
    expect(page.locator("#fa-aging .gtitle")).to_contain_text(f"{aging['n']:,} items")
    assert len(figure_data(page, "fa-aging")[0]["y"]) == aging["n"]
    expect(page.locator("#fa-aging-table tbody tr")).to_have_count(len(aging["table"]))
    oldest = aging["table"][0]
    expect(page.locator("#fa-aging-table tbody tr").first).to_have_attribute(
        "data-key", oldest["key"]
    )
    cfd = figure_data(page, "fa-cfd")
    assert [trace["name"] for trace in reversed(cfd)] == [
        band["name"] for band in expected["cfd"]["bands"]
    ]
    assert [trace["y"][-1] for trace in reversed(cfd)] == [
        band["counts"][-1] for band in expected["cfd"]["bands"]
    ]
    assert not dash_page.console.errors


def test_each_analytics_chart_downloads_a_png_named_after_it_and_the_period(
    dash_page: DashboardPage, cli_report
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    days = period_days_of(cli_report("30d"))
    for graph_id, name in (("fa-scatter", "cycle_time_scatter"), ("fa-cfd", "cumulative_flow")):
        chart = page.locator(f"#{graph_id} .js-plotly-plot")
        assert downloaded_png_name(page, chart) == f"{name}_{days}.png"
    assert not dash_page.console.errors


def test_clicking_a_scatter_point_opens_the_panel_with_that_item(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    traces = figure_data(page, "fa-scatter")
    point = page.locator("#fa-scatter .scatterlayer .trace").first.locator(".point").nth(2)
    point.click(force=True)

    assert panel_keys(page) == [traces[0]["customdata"][2]]
    assert not dash_page.console.errors


def test_clicking_a_histogram_bar_lists_the_items_of_that_bar(dash_page: DashboardPage) -> None:
    page = dash_page.page
    wait_for_charts(page)
    bars = figure_data(page, "fa-histogram")[0]
    tallest = max(range(len(bars["y"])), key=lambda index: bars["y"][index])
    page.locator("#fa-histogram .barlayer .point").nth(tallest).click(force=True)

    keys = panel_keys(page)
    assert len(keys) == bars["y"][tallest]
    scatter = figure_data(page, "fa-scatter")
    width = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)["histogram"][
        "width_days"
    ]
    low = bars["customdata"][tallest]
    expected = sorted(
        key
        for trace in scatter
        for key, days in zip(trace["customdata"], trace["y"], strict=True)
        if low <= days < low + width
    )
    assert sorted(keys) == expected
    assert not dash_page.console.errors


def test_clicking_a_time_in_state_bar_lists_the_items_that_waited_there(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    expected = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)
    first = expected["time_in_state"]["rows"][0]
    page.locator("#fa-time-in-state .barlayer .point").first.click(force=True)

    expect(page.locator("#item-panel .offcanvas-title")).to_have_text(f"Time in {first['status']}")
    assert len(panel_keys(page)) == first["items"]
    assert not dash_page.console.errors


def test_a_saved_service_level_is_drawn_and_scored_and_a_bad_one_is_refused(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    page.fill("#sle-days", "10")
    page.fill("#sle-percent", "80")
    page.click("#sle-save")
    expect(page.locator("#sle-message")).to_have_text("Saved.")
    expected = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)
    sle = expected["scatter"]["sle"]
    assert (sle["days"], sle["percent"]) == (10.0, 80.0)
    expect(page.locator("#fa-scatter .gtitle")).to_contain_text(
        f"SLE 80 % within 10 d: {sle['share']:.1f} % within", timeout=30_000
    )

    page.fill("#sle-days", "-3")
    page.click("#sle-save")
    expect(page.locator("#sle-message")).to_have_text(
        "Service level days must be above 0 (or empty to turn it off)."
    )
    again = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)
    assert again["scatter"]["sle"]["days"] == 10.0  # the saved one is kept
    assert not dash_page.console.errors


def band_point(page: Page, day: str, below: int, count: int) -> dict[str, float]:
    """The page coordinates of the middle of a band's area on `day` in the cumulative flow
    (`below` items stacked under it, `count` in it), after zooming the y axis onto the band
    as a user would (the Done band below holds every item ever done: unzoomed, a band of a
    few items is thinner than a pixel)."""
    return page.evaluate(
        """async ([day, low, high, middle]) => {
            const gd = document.querySelector('#fa-cfd .js-plotly-plot');
            await Plotly.relayout(gd, {'yaxis.range': [low, high]});
            const layout = gd._fullLayout, box = gd.getBoundingClientRect();
            return {
                x: box.left + layout.xaxis._offset + layout.xaxis.l2p(layout.xaxis.d2l(day)),
                y: box.top + layout.yaxis._offset + layout.yaxis.l2p(middle),
            };
        }""",
        [day, below - count, below + 2 * count, below + count / 2],
    )


def test_clicking_a_cumulative_flow_band_lists_the_items_in_it_that_day(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    served = dash_page.served
    cfd = analytics_for_view(served.root, "30d", served.now)["cfd"]
    day_index = len(cfd["days"]) // 2
    day = cfd["days"][day_index]
    # stacked from the bottom: Done first, New on top (the drawing order); pick a working
    # status (not Done or New) with a few items, between two others, so that a wrong band
    # would show
    stack = list(reversed(cfd["bands"]))
    below = 0
    chosen = None
    for band in stack:
        count = band["counts"][day_index]
        if band["state"] in ("Active", "Waiting") and count >= 2 and chosen is None:
            chosen = (band["name"], below, count)
        below += count
    assert chosen is not None, "the sample has work in progress mid-period"
    name, under, count = chosen
    page.locator("#fa-cfd").scroll_into_view_if_needed()
    spot = band_point(page, day, under, count)
    page.mouse.move(spot["x"], spot["y"])
    page.mouse.click(spot["x"], spot["y"])

    expect(page.locator("#item-panel .offcanvas-title")).to_have_text(
        f"{name} at the end of {day}", timeout=15_000
    )
    keys = panel_keys(page)
    expected = items_for_view(
        served.root, "30d", served.now, {"chart": "cfd", "band": name, "day": day}
    )
    assert len(keys) == count
    assert sorted(keys) == sorted(expected["keys"])
    assert not dash_page.console.errors


def test_blocked_time_shows_the_flagged_items_and_a_bar_opens_its_item(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    blocked = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)["blocked"]
    assert blocked["n"], "the sample project has items flagged in the last 30 days"
    expect(page.locator("#fa-blocked .gtitle")).to_contain_text(
        f"Blocked time · {blocked['total_days']:.1f} days over {blocked['n']:,} items"
    )
    bars = figure_data(page, "fa-blocked")[0]
    assert bars["customdata"] == [item["key"] for item in blocked["items"]]
    page.locator("#fa-blocked .barlayer .point").first.click(force=True)
    assert panel_keys(page) == [blocked["items"][0]["key"]]
    assert not dash_page.console.errors


def test_the_service_level_is_set_in_the_settings_panel_too(dash_page: DashboardPage) -> None:
    page = dash_page.page
    wait_for_charts(page)
    page.click("#open-settings")
    expect(page.locator("#settings-panel")).to_be_visible()
    expect(page.locator("#settings-sle-percent")).to_have_value("85")
    page.fill("#settings-sle-days", "12")
    page.fill("#settings-sle-percent", "70")
    page.click("#settings-sle-save")
    expect(page.locator("#settings-sle-result")).to_have_text("Saved.")
    expected = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)
    sle = expected["scatter"]["sle"]
    assert (sle["days"], sle["percent"]) == (12.0, 70.0)
    expect(page.locator("#fa-scatter .gtitle")).to_contain_text(
        f"SLE 70 % within 12 d: {sle['share']:.1f} % within", timeout=30_000
    )
    # the controls beside the section title show the same setting
    expect(page.locator("#sle-days")).to_have_value("12")
    expect(page.locator("#sle-percent")).to_have_value("70")

    page.fill("#settings-sle-days", "soon")
    page.click("#settings-sle-save")
    expect(page.locator("#settings-sle-result")).to_have_text(
        "Service level days: 'soon' is not a number."
    )
    again = analytics_for_view(dash_page.served.root, "30d", dash_page.served.now)
    assert again["scatter"]["sle"]["days"] == 12.0  # the saved one is kept

    page.locator("#settings-panel .btn-close").click()
    page.click("#open-settings")  # opened again: the saved values, the message gone
    expect(page.locator("#settings-sle-days")).to_have_value("12")
    expect(page.locator("#settings-sle-result")).to_have_text("")
    assert not dash_page.console.errors


def test_the_flag_field_is_chosen_in_the_mapping_dialog_and_blocked_time_follows(
    dash_page: DashboardPage,
) -> None:
    page = dash_page.page
    wait_for_charts(page)
    expect(page.locator("#fa-blocked .gtitle")).not_to_contain_text("over 0 items")
    page.click("#open-settings")
    page.click("#open-mappings")
    dialog = page.locator("#mapping-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    flag = dialog.locator('select[id*="flagged_field"]')
    expect(flag.locator("option", has_text="Flagged (customfield_10021)")).to_be_enabled()
    expect(flag.locator("option", has_text="Story Points")).to_be_disabled()
    flag.select_option("customfield_10062")  # Team: a text field the sample never changes
    dialog.locator("#mapping-save").click()
    expect(dialog).to_be_hidden(timeout=30_000)

    assert load_settings(dash_page.served.root)["mappings"]["flagged_field"] == "customfield_10062"
    expect(page.locator("#fa-blocked .gtitle")).to_contain_text(
        "Blocked time · 0.0 days over 0 items", timeout=60_000
    )
    assert not dash_page.console.errors
