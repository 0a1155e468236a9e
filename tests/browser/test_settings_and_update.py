"""The settings panel, the mapping dialog and "Update data", driven in Chromium.

The walk of the issue: settings -> test connection -> update data (progress seen) -> metrics,
against the JIRA emulator (a real HTTP server), with the dashboard served in-process. Also:
the token never reaches the browser, incompatible fields are refused, saved mappings survive
a restart, cancel and a wrong token keep the previous data, two tabs share one fetch.
"""

from __future__ import annotations

import contextlib
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from configuration.settings import settings_path
from data.jira.fetcher import fetch_project
from data.services.metrics_service import report_for_view
from data.storage.cache_manager import IssueCache
from data.storage.persistence import load_settings, save_settings
from tests.browser.conftest import ConsoleLog, Served, sample_now, serve
from tests.jira_emulator import JiraEmulator
from ui.formatting import format_value

pytestmark = pytest.mark.browser

TOKEN = "ATATT3xFfGF0-browser-walk-secret-token-4711"
WAIT_MS = 30_000


class Wire:
    """Every `_dash-update-component` response body the page received, for secret checks."""

    def __init__(self, page: Page) -> None:
        self.bodies: list[str] = []
        page.on("response", self._keep)

    def _keep(self, response: Response) -> None:
        if "_dash-update-component" in response.url or "_dash-layout" in response.url:
            # a response the page dropped (navigation) has no body: nothing to check
            with contextlib.suppress(Exception):
                self.bodies.append(response.text())

    def holds(self, secret: str) -> bool:
        return any(secret in body for body in self.bodies)


@pytest.fixture
def jira() -> Iterator[JiraEmulator]:
    """A Cloud JIRA emulator with a few hundred issues and our token."""
    with JiraEmulator(flavor="cloud", issues=600, seed=11, token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def app(data_dir: Path) -> Iterator[Served]:
    yield from serve(data_dir, sample_now())


@pytest.fixture
def watched(page: Page, console_errors: ConsoleLog) -> Iterator[Page]:
    """The page, with room for a cold first computation and a slowed-down JIRA."""
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    yield page
    expect.set_options(timeout=5_000)  # Playwright's default, for other modules' tests


def open_settings(page: Page) -> None:
    page.click("#open-settings")
    expect(page.locator("#settings-panel")).to_be_visible()


def fill_connection(page: Page, url: str, email: str, token: str, jql: str) -> None:
    page.fill("#conn-url", url)
    page.locator("#conn-auth").get_by_label("E-mail + API token (Cloud)").check()
    page.fill("#conn-email", email)
    page.fill("#conn-token", token)
    page.fill("#conn-jql", jql)


def save_connection(page: Page) -> None:
    page.click("#conn-save")
    expect(page.locator("#conn-result")).to_contain_text("Saved")


def close_settings(page: Page) -> None:
    page.locator("#settings-panel .btn-close").click()
    expect(page.locator("#settings-panel")).to_be_hidden()


def connect(page: Page, jira: JiraEmulator, token: str = TOKEN) -> None:
    open_settings(page)
    fill_connection(page, jira.url, jira.email, token, "project = DEMO ORDER BY created")
    save_connection(page)
    close_settings(page)


def update_and_wait(page: Page, outcome: str = "Updated") -> None:
    page.click("#update-data")
    expect(page.locator("#update-status")).to_contain_text(outcome)
    expect(page.locator("#update-data")).to_be_enabled()


def headlines(page: Page) -> dict[str, str]:
    cards = page.locator("[data-metric]")
    return {
        cards.nth(i).get_attribute("data-metric"): cards.nth(i)
        .locator("[data-role=headline]")
        .inner_text()
        for i in range(cards.count())
    }


def expect_cards_from_cache(page: Page, app: Served) -> dict[str, str]:
    """Wait until every card shows the report computed from the JIRA cache; the headlines."""
    report = report_for_view(app.root, "30d", app.now)
    assert report["dataset"]["source"] == "jira"
    # the cards come in a callback after the update's last poll: wait for them to be drawn
    expect(page.locator("[data-metric]")).not_to_have_count(0)
    expected = {key: format_value(report[key]) for key in headlines(page)}
    for key, text in expected.items():
        expect(page.locator(f"[data-metric={key}] [data-role=headline]")).to_have_text(text)
    assert headlines(page) == expected
    return expected


def watch_progress(page: Page) -> tuple[list[int], set[str]]:
    """Read the status line and the bar until the update ends: issue counts seen, bar values."""
    counts: list[int] = []
    widths: set[str] = set()
    status = page.locator("#update-status")
    bar = page.locator("#update-progress .progress-bar")
    while "Updated" not in (text := status.inner_text()) and "failed" not in text:
        match = re.search(r"([\d,]+) of ([\d,]+) issues", text)
        if match and (not counts or counts[-1] != int(match[1].replace(",", ""))):
            counts.append(int(match[1].replace(",", "")))
        if bar.count() and (value := bar.first.get_attribute("aria-valuenow")):
            widths.add(value)
        page.wait_for_timeout(100)
    return counts, widths


def cache_bytes(root: Path) -> bytes:
    cache = IssueCache.for_settings(root, load_settings(root))
    return cache.path.read_bytes()


# ----------------------------------------------------------------------------- the walk


def test_walk_settings_test_connection_update_with_progress_then_jira_metrics(
    watched: Page, app: Served, jira: JiraEmulator, console_errors: ConsoleLog
):
    page = watched
    wire = Wire(page)
    jira.set_faults(slow_seconds=0.4)  # slow pages: the progress bar has time to move
    page.goto(app.url)
    expect(page.locator("#sample-banner")).to_be_visible()

    open_settings(page)
    fill_connection(page, jira.url, jira.email, TOKEN, "project = DEMO ORDER BY created")
    page.click("#conn-test")
    facts = page.locator("#conn-facts")
    expect(facts).to_contain_text("Cloud")
    expect(facts).to_contain_text(f"{jira.issue_count:,}")
    expect(facts.locator("dd").first).not_to_have_text("-")  # the server title
    save_connection(page)
    expect(page.locator("#conn-token")).to_have_value("")
    close_settings(page)
    # saved but not fetched yet: no sample numbers pretending to be the team's
    expect(page.locator("[data-role=no-data]")).to_be_visible()
    expect(page.locator("#sample-banner")).to_be_hidden()
    expect(page.locator("[data-metric]")).to_have_count(0)

    page.click("#update-data")
    bar = page.locator("#update-progress")
    expect(bar).to_be_visible()
    expect(page.locator("#cancel-update")).to_be_visible()
    counts, widths = watch_progress(page)
    assert len(counts) >= 2 and counts == sorted(counts), counts  # issues of total, rising
    assert len(widths) >= 2, widths  # the bar itself moved
    expect(page.locator("#update-status")).to_contain_text("Updated")
    expect(bar).to_be_hidden()

    statistics = page.locator("#fetch-statistics")
    expect(statistics).to_contain_text("API calls")
    expect(statistics).to_contain_text(f"{jira.issue_count:,} issues (full)")
    expect(statistics).to_contain_text("hits")
    expect(page.locator("#sample-banner")).to_be_hidden()

    expect_cards_from_cache(page, app)

    # a mapping that needs no new field: the metrics are recomputed, JIRA is not asked
    open_settings(page)
    page.click("#open-mappings")
    blocked = page.locator('#mapping-dialog select[id*="Blocked"][id*="status-state"]')
    expect(blocked).to_be_visible()  # filled from JIRA's /field and /status (2 calls)
    assert page.locator("#mapping-dialog").inner_text().count("Fields and statuses from JIRA")
    jira.reset_counters()
    blocked.select_option("Active")
    dialog = page.locator("#mapping-dialog")
    dialog.locator("#mapping-save").click()
    expect(page.locator("#mappings-saved")).to_contain_text("recomputed")
    close_settings(page)
    expect_cards_from_cache(page, app)
    assert jira.counters["total"] == 0

    assert TOKEN not in page.content()
    assert not wire.holds(TOKEN)
    assert console_errors.errors == []


def test_token_is_write_only_and_saved_for_the_owner_only(
    watched: Page, app: Served, console_errors: ConsoleLog
):
    page = watched
    wire = Wire(page)
    page.goto(app.url)
    open_settings(page)
    fill_connection(page, "https://example.atlassian.net", "me@example.com", TOKEN, "project = X")
    save_connection(page)
    expect(page.locator("#conn-token")).to_have_value("")

    # a fresh tab (no reload: it would cut the recompute the save started) sees no token
    fresh = page.context.new_page()
    fresh.set_default_timeout(WAIT_MS)
    console_errors.watch(fresh)
    fresh_wire = Wire(fresh)
    fresh.goto(app.url)
    open_settings(fresh)
    expect(fresh.locator("#conn-url")).to_have_value("https://example.atlassian.net")
    expect(fresh.locator("#conn-token")).to_have_value("")
    assert fresh.locator("#conn-token").get_attribute("type") == "password"
    expect(fresh.locator("#conn-token")).to_have_attribute("placeholder", re.compile("^saved"))

    fresh.fill("#conn-jql", "project = Y")
    save_connection(fresh)  # empty token field: the saved token stays
    assert load_settings(app.root)["jira"]["token"] == TOKEN
    assert stat.S_IMODE(settings_path(app.root).stat().st_mode) == 0o600
    for tab, seen in ((page, wire), (fresh, fresh_wire)):
        assert TOKEN not in tab.content()
        assert not seen.holds(TOKEN)
    assert console_errors.errors == []


def test_bad_connection_form_shows_one_line_and_saves_nothing(
    watched: Page, app: Served, console_errors: ConsoleLog
):
    page = watched
    page.goto(app.url)
    open_settings(page)
    fill_connection(page, "example.atlassian.net", "me@example.com", TOKEN, "project = X")
    page.click("#conn-save")
    expect(page.locator("#conn-result")).to_contain_text("must start with https://")
    assert not settings_path(app.root).exists()
    assert console_errors.errors == []


# ----------------------------------------------------------------------------- mappings


def test_mapping_dialog_refuses_incompatible_fields_and_mappings_survive_a_restart(
    watched: Page, app: Served, data_dir: Path, console_errors: ConsoleLog
):
    page = watched
    page.goto(app.url)
    open_settings(page)
    page.click("#open-mappings")
    dialog = page.locator("#mapping-dialog")
    expect(dialog).to_be_visible()
    deployed = dialog.locator('select[id*="deployed_date_field"]')
    expect(deployed.locator("option", has_text="Story Points")).to_be_disabled()
    expect(deployed.locator("option", has_text="Deployed At")).to_be_enabled()
    expect(deployed.locator("option", has_text="Story Points")).to_contain_text("number")
    deployed.select_option("customfield_10060")
    dialog.locator('select[id*="story_points_field"]').select_option("customfield_10016")
    for box in dialog.locator('[id*="incident_types"] input[type=checkbox]').all():
        box.uncheck()
    dialog.locator("#mapping-save").click()
    expect(dialog).to_be_hidden()
    warnings = page.locator("#unavailable-metrics")
    expect(warnings).to_contain_text("Failed deployment recovery time")
    expect(warnings).to_contain_text("no incident types")

    saved = load_settings(data_dir)["mappings"]
    assert saved["deployed_date_field"] == "customfield_10060"
    assert saved["story_points_field"] == "customfield_10016"
    assert saved["incident_types"] == []
    assert console_errors.errors == []

    # a restart: a new app on the same data directory (in a fresh tab, so that nothing the
    # first page still computes is cut off) shows what was saved
    for restarted in serve(data_dir, sample_now()):
        fresh = page.context.new_page()
        fresh.set_default_timeout(WAIT_MS)
        console_errors.watch(fresh)
        fresh.goto(restarted.url)
        open_settings(fresh)
        expect(fresh.locator("#unavailable-metrics")).to_contain_text(
            "Failed deployment recovery time"
        )
        fresh.click("#open-mappings")
        expect(fresh.locator('#mapping-dialog select[id*="deployed_date_field"]')).to_have_value(
            "customfield_10060"
        )
    assert console_errors.errors == []


def test_status_and_type_tables_save_and_the_dashboard_recomputes(
    watched: Page, app: Served, console_errors: ConsoleLog
):
    page = watched
    page.goto(app.url)
    load = page.locator("[data-metric=flow_load] [data-role=headline]")
    expect(load).not_to_have_text("")
    before = load.inner_text()
    open_settings(page)
    page.click("#open-mappings")
    dialog = page.locator("#mapping-dialog")
    dialog.locator('select[id*="Blocked"][id*="status-state"]').select_option("Done")
    dialog.locator('select[id*="In Review"][id*="status-state"]').select_option("Done")
    dialog.locator("#mapping-save").click()
    expect(dialog).to_be_hidden()
    mappings = load_settings(app.root)["mappings"]
    assert mappings["status_states"] == {"blocked": "Done", "in review": "Done"}
    report = report_for_view(app.root, "30d", app.now)
    expect(load).to_have_text(format_value(report["flow_load"]))
    assert format_value(report["flow_load"]) != before
    assert console_errors.errors == []


# ----------------------------------------------------------------------------- failures


def test_cancel_keeps_the_previous_data(
    watched: Page, app: Served, jira: JiraEmulator, console_errors: ConsoleLog
):
    page = watched
    page.goto(app.url)
    connect(page, jira)
    update_and_wait(page)
    shown = expect_cards_from_cache(page, app)
    before = cache_bytes(app.root)

    jira.change_issues(350, seed=3)  # a refresh of several pages ...
    jira.set_faults(slow_seconds=1.0)  # ... of a second each: time to cancel in the middle
    page.click("#update-data")
    expect(page.locator("#cancel-update")).to_be_visible()
    page.click("#cancel-update")
    expect(page.locator("#update-status")).to_contain_text("cancelled")
    expect(page.locator("#update-status")).to_contain_text("previous data is kept")
    alert = page.locator("#update-alert")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("Update cancelled: the numbers on screen are from the previous")
    assert cache_bytes(app.root) == before
    assert headlines(page) == shown
    assert console_errors.errors == []


def test_wrong_token_shows_the_message_and_keeps_the_previous_data(
    watched: Page, app: Served, jira: JiraEmulator, console_errors: ConsoleLog
):
    page = watched
    wire = Wire(page)
    page.goto(app.url)
    connect(page, jira)
    update_and_wait(page)
    shown = expect_cards_from_cache(page, app)
    before = cache_bytes(app.root)

    wrong = "ATATT3xFfGF0-not-the-right-token-0000"
    connect(page, jira, token=wrong)
    update_and_wait(page, "Update failed")
    status = page.locator("#update-status")
    expect(status).to_contain_text(re.compile("credentials", re.IGNORECASE))
    expect(status).to_contain_text("previous data is kept")
    alert = page.locator("#update-alert")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text(re.compile("credentials", re.IGNORECASE))
    expect(alert).to_contain_text("numbers on screen are from the previous data")
    assert cache_bytes(app.root) == before
    assert headlines(page) == shown
    assert not wire.holds(wrong) and wrong not in page.content()
    assert console_errors.errors == []


def test_a_second_tab_follows_the_running_fetch_instead_of_starting_one(
    watched: Page, app: Served, jira: JiraEmulator, console_errors: ConsoleLog
):
    page = watched
    page.goto(app.url)
    connect(page, jira)
    other = page.context.new_page()
    other.goto(app.url)
    for tab in (page, other):  # both tabs idle: their first computation is done
        expect(tab.locator("[data-role=no-data]")).to_be_visible()  # none fetched yet
    jira.set_faults(slow_seconds=1.0)  # a fetch of several seconds
    jira.reset_counters()
    page.click("#update-data")
    expect(page.locator("#update-progress")).to_be_visible()
    other.click("#update-data")
    expect(other.locator("#update-status")).to_contain_text("already running")
    expect(other.locator("#update-status")).to_contain_text("Updated", timeout=WAIT_MS)
    expect(page.locator("#update-status")).to_contain_text("Updated")
    myself_calls = jira.counters["by_path"].get("/rest/api/2/myself", 0)
    assert myself_calls == 1  # one fetch checked the credentials once
    assert console_errors.errors == []


def test_page_says_rate_limited_while_waiting_then_finishes(
    watched: Page, app: Served, console_errors: ConsoleLog
):
    page = watched
    with JiraEmulator(flavor="cloud", issues=300, seed=5, rate_limit=(4, 4.0)) as limited:
        page.goto(app.url)
        connect(page, limited, token=limited.token)
        page.click("#update-data")
        status = page.locator("#update-status")
        expect(status).to_contain_text(re.compile(r"rate limited, waiting \d+ s"))
        expect(status).to_contain_text("Updated")
        assert limited.counters["by_status"].get(429, 0) >= 1
        expect(page.locator("#fetch-statistics")).to_contain_text("300 issues (full)")
    assert console_errors.errors == []


def test_data_center_with_a_personal_access_token(
    watched: Page, app: Served, console_errors: ConsoleLog
):
    page = watched
    with JiraEmulator(flavor="datacenter", issues=250, seed=9, token=TOKEN) as dc:
        page.goto(app.url)
        open_settings(page)
        fill_connection(page, dc.url, "", TOKEN, "project = DEMO")
        page.locator("#conn-auth").get_by_label("Personal access token (Data Center)").check()
        page.click("#conn-test")
        expect(page.locator("#conn-facts")).to_contain_text("Data Center")
        expect(page.locator("#conn-facts")).to_contain_text("250")
        save_connection(page)
        close_settings(page)
        update_and_wait(page)
        expect(page.locator("#fetch-statistics")).to_contain_text("250 issues (full)")
        expect_cards_from_cache(page, app)
    assert load_settings(app.root)["jira"]["auth"] == "bearer"
    assert console_errors.errors == []


def test_opening_the_page_refreshes_a_stale_cache_incrementally(
    watched: Page, app: Served, jira: JiraEmulator, data_dir: Path, console_errors: ConsoleLog
):
    settings = load_settings(data_dir)
    settings["jira"].update({"url": jira.url, "auth": "basic", "email": jira.email, "token": TOKEN})
    settings["jira"]["jql"] = "project = DEMO ORDER BY created"
    settings["cache"]["ttl_hours"] = 0.0001  # stale after 0.36 s
    save_settings(data_dir, settings)
    fetch_project(data_dir, settings)
    time.sleep(0.5)
    jira.change_issues(2, seed=3)
    jira.reset_counters()

    watched.goto(app.url)

    expect(watched.locator("#update-status")).to_contain_text("Updated")
    listings = [e["jql"] for e in jira.requests if e["path"].endswith("/search/jql")]
    assert listings and all("updated >=" in jql for jql in listings)  # incremental, not full
    expect(watched.locator("#fetch-statistics")).to_contain_text("(incremental)")
    assert console_errors.errors == []
