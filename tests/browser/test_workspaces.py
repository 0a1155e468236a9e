"""The workspace switcher in Chromium: switching shows that workspace's numbers; New, Rename,
Duplicate and Delete go through the dialog and change the folders on disk; Compare shows every
workspace as `app.py metrics --all-workspaces` does, sorts, and a cell opens that card; export
and import; *Update all* shows each workspace's progress."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from configuration.metric_defaults import ALL_METRICS
from configuration.settings import default_settings
from data.services.metrics_service import report_for_view
from data.storage import workspaces as store
from data.storage.persistence import load_settings, save_settings
from tests.browser.conftest import PROJECT, DashboardPage
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import FAST_LIMIT, settings_for
from ui.cards import sparkline_image
from ui.formatting import format_value

pytestmark = pytest.mark.browser

WAIT_MS = 30_000


def expected_headline(root, now, metric: str) -> str:
    return format_value(report_for_view(root, "30d", now)[metric])


def selected_label(dash_page: DashboardPage) -> str:
    return dash_page.page.locator("#workspace-select option:checked").inner_text()


def test_switching_workspace_shows_its_own_numbers(data_dir, page, dashboard, console_errors):
    releases = store.create_workspace(data_dir, "Releases")
    settings = default_settings()
    settings["mappings"]["deployment_source"] = "fixversions"
    save_settings(releases.root, settings)
    dash_page = DashboardPage(page, dashboard, console_errors).open()
    default_value = expected_headline(data_dir, dashboard.now, "deployment_frequency")
    release_value = expected_headline(releases.root, dashboard.now, "deployment_frequency")
    assert default_value != release_value  # the two workspaces really differ
    card = dash_page.card("deployment_frequency").locator("[data-role=headline]")
    expect(card).to_have_text(default_value)
    assert selected_label(dash_page).startswith("Default · ")

    page.select_option("#workspace-select", "releases")
    expect(card).to_have_text(release_value, timeout=WAIT_MS)
    assert store.active_root(data_dir) == releases.root
    page.reload()  # the choice is kept by the server
    expect(page.locator("#workspace-select")).to_have_value("releases", timeout=WAIT_MS)
    expect(card).to_have_text(release_value, timeout=WAIT_MS)

    page.select_option("#workspace-select", "default")
    expect(card).to_have_text(default_value, timeout=WAIT_MS)
    assert console_errors.errors == []


def test_new_rename_duplicate_and_delete_through_the_dialog(
    data_dir, page, dashboard, console_errors
):
    dash_page = DashboardPage(page, dashboard, console_errors).open()
    dialog = page.locator("#workspace-dialog")
    select = page.locator("#workspace-select")

    page.click("#workspace-new")
    expect(dialog).to_contain_text("New workspace")
    page.click("#workspace-confirm")  # no name: refused, the dialog stays open
    expect(page.locator("#workspace-message")).to_have_text("Give the workspace a name.")
    expect(dialog).to_be_visible()
    page.fill("#workspace-name", "Team B")
    page.click("#workspace-confirm")
    expect(select).to_have_value("team-b", timeout=WAIT_MS)
    expect(dialog).to_be_hidden()
    assert (data_dir / "workspaces" / "team-b").is_dir()

    settings = load_settings(data_dir / "workspaces" / "team-b")
    settings["time_zone"] = "Asia/Tokyo"
    save_settings(data_dir / "workspaces" / "team-b", settings)

    page.click("#workspace-rename")
    expect(page.locator("#workspace-name")).to_have_value("Team B")
    page.fill("#workspace-name", "Team C")
    page.click("#workspace-confirm")
    expect(page.locator("#workspace-select option:checked")).to_contain_text("Team C")
    assert store.find_workspace(data_dir, "team c").root.name == "team-b"

    page.click("#workspace-duplicate")
    expect(page.locator("#workspace-name")).to_have_value("Team C copy")
    page.click("#workspace-confirm")
    expect(select).to_have_value("team-c-copy", timeout=WAIT_MS)
    copy_root = store.find_workspace(data_dir, "Team C copy").root
    assert load_settings(copy_root)["time_zone"] == "Asia/Tokyo"
    expect(dash_page.card("flow_load")).to_be_visible()

    page.click("#workspace-delete")
    expect(page.locator("#workspace-dialog-text")).to_contain_text("Delete Team C copy?")
    page.click("#workspace-cancel")  # cancelling deletes nothing
    expect(dialog).to_be_hidden()
    assert copy_root.is_dir()
    page.click("#workspace-delete")
    page.click("#workspace-confirm")
    expect(select).to_have_value("default", timeout=WAIT_MS)
    expect(page.locator("#workspace-message")).to_have_text("Deleted Team C copy.")
    assert not copy_root.exists()
    names = [o.inner_text().split(" · ")[0] for o in select.locator("option[value]").all()]
    assert [name for name in names if name] == [
        "Default",
        "Team C",
    ]
    assert console_errors.errors == []


def cli_all_workspaces(data_dir, now, fmt: str = "json") -> str:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "metrics", "--all-workspaces",
         "--period", "30d", "--now", now.isoformat(), "--format", fmt],
        capture_output=True, text=True, check=False, cwd=PROJECT, timeout=120,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_compare_shows_every_workspace_as_the_cli_and_a_cell_opens_that_card(
    data_dir, page, dashboard, console_errors
):
    releases = store.create_workspace(data_dir, "Releases")
    settings = default_settings()
    settings["mappings"]["deployment_source"] = "fixversions"
    save_settings(releases.root, settings)
    dash_page = DashboardPage(page, dashboard, console_errors).open()
    cli = json.loads(cli_all_workspaces(data_dir, dashboard.now))
    assert [e["workspace"] for e in cli["workspaces"]] == ["Default", "Releases"]

    page.click("#open-compare")
    table = page.locator("#compare-table")
    expect(table.locator("tbody tr")).to_have_count(2, timeout=WAIT_MS)
    for entry in cli["workspaces"]:
        row = table.locator(f'tr[data-workspace="{entry["slug"]}"]')
        for key in ALL_METRICS:
            metric = entry["report"][key]
            cell = row.locator(f'[data-metric="{key}"]')
            expect(cell.locator("[data-role=headline]")).to_have_text(format_value(metric))
            expect(cell.locator("[data-role=n]")).to_have_text(f"n = {metric['n']:,}")
            assert cell.get_attribute("data-tier") == (metric.get("tier") or "")
            drawn = sparkline_image(metric) is not None  # as its card: no single headline, no line
            assert cell.locator("img").count() == int(drawn)

    rows = table.locator("tbody tr")
    per_day = {
        e["slug"]: e["report"]["deployment_frequency"]["values"]["per_day"]
        for e in cli["workspaces"]
    }
    page.select_option("#compare-sort", "deployment_frequency")
    lowest_first = sorted(per_day, key=per_day.get)
    expect(rows.first).to_have_attribute("data-workspace", lowest_first[0], timeout=WAIT_MS)
    page.locator("#compare-descending").check()
    expect(rows.first).to_have_attribute("data-workspace", lowest_first[-1], timeout=WAIT_MS)

    row = table.locator('tr[data-workspace="releases"]')
    row.locator('[data-metric="lead_time_for_changes"]').click()
    expect(page.locator("#compare-dialog")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#workspace-select")).to_have_value("releases", timeout=WAIT_MS)
    card = dash_page.card("deployment_frequency").locator("[data-role=headline]")
    releases_entry = cli["workspaces"][1]["report"]
    expect(card).to_have_text(format_value(releases_entry["deployment_frequency"]), timeout=WAIT_MS)
    expect(dash_page.card("lead_time_for_changes")).to_have_class(re.compile("card-focus"))
    assert console_errors.errors == []


def test_export_then_import_through_the_header(data_dir, tmp_path, page, dashboard, console_errors):
    dash_page = DashboardPage(page, dashboard, console_errors).open()
    settings = load_settings(data_dir)
    settings["time_zone"] = "America/Chicago"
    save_settings(data_dir, settings)
    with page.expect_download() as download:
        page.click("#workspace-export")
    assert download.value.suggested_filename == "flowdash-workspace-default.json"
    document = json.loads(Path(download.value.path()).read_text())
    assert document["settings"]["time_zone"] == "America/Chicago"

    upload = page.locator("#workspace-import input[type=file]")
    same = tmp_path / "same.json"
    same.write_text(json.dumps(document))
    upload.set_input_files(str(same))  # its name is taken: refused, nothing created
    expect(page.locator("#workspace-message")).to_contain_text(
        "A workspace called 'Default' exists already. Import it under another name."
    )
    assert [w.slug for w in store.list_workspaces(data_dir)] == ["default"]

    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps({**document, "name": "Chicago team"}))
    upload.set_input_files(str(renamed))
    expect(page.locator("#workspace-select")).to_have_value("chicago-team", timeout=WAIT_MS)
    expect(page.locator("#workspace-message")).to_have_text("Imported Chicago team.")
    imported = store.find_workspace(data_dir, "Chicago team")
    assert load_settings(imported.root)["time_zone"] == "America/Chicago"
    expect(dash_page.card("flow_load")).to_be_visible()
    assert console_errors.errors == []


def test_update_all_shows_progress_per_workspace_until_each_is_done(
    data_dir, page, dashboard, console_errors
):
    with JiraEmulator(issues=300, seed=3) as jira:
        for name, jql in (("All", ""), ("Done only", " AND status = Done")):
            space = store.create_workspace(data_dir, name)
            settings = settings_for(jira, rate_limit=FAST_LIMIT)
            settings["jira"]["jql"] += jql
            settings["jira"]["token_for"] = {"url": jira.url, "auth": settings["jira"]["auth"]}
            save_settings(space.root, settings)
        jira.set_faults(slow_seconds=0.05)
        DashboardPage(page, dashboard, console_errors).open()
        page.click("#workspace-update-all")
        status = page.locator("#workspace-update-all-status")
        expect(status.locator('[data-workspace="all"]')).to_have_attribute(
            "data-state", re.compile("queued|running|done")
        )
        expect(status.locator('[data-workspace="default"]')).to_have_text(
            "Default: skipped · sample project: nothing to fetch"
        )
        for slug in ("all", "done-only"):
            line = status.locator(f'[data-workspace="{slug}"]')
            expect(line).to_have_attribute("data-state", "done", timeout=60_000)
        expect(status.locator('[data-workspace="all"]')).to_contain_text("All: done, 300 issues")
        expect(page.locator("#workspace-select option", has_text="All · updated")).to_have_count(1)
    assert console_errors.errors == []
