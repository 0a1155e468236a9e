"""The comparison of workspaces: each workspace as its own dashboard computes it, sorting, a
workspace without numbers says why, and the CSV and JSON of `metrics --all-workspaces`."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from configuration.settings import default_settings
from data.errors import UserError
from data.services.comparison import (
    compare_workspaces,
    comparison_for_cli,
    comparison_for_shown,
    sorted_entries,
)
from data.services.metrics_service import report_for_view
from data.services.source_options import SourceOptions
from data.storage import workspaces as store
from data.storage.persistence import save_settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def three(data_dir):
    """Default (sample), Releases (fixVersions as deployments) and Empty (JIRA, nothing fetched)."""
    releases = store.create_workspace(data_dir, "Releases")
    settings = default_settings()
    settings["mappings"]["deployment_source"] = "fixversions"
    save_settings(releases.root, settings)
    empty = store.create_workspace(data_dir, "Empty")
    settings = default_settings()
    settings["jira"]["url"] = "https://example.atlassian.net"
    save_settings(empty.root, settings)
    return data_dir


def test_each_workspace_equals_its_own_dashboard_report(three):
    result = compare_workspaces(three, "30d", NOW)
    by_slug = {e["slug"]: e for e in result["workspaces"]}
    assert list(by_slug) == ["default", "empty", "releases"]
    for slug in ("default", "releases"):
        root = store.find_workspace(three, slug).root
        assert by_slug[slug]["report"] == report_for_view(root, "30d", NOW)
    assert (
        by_slug["default"]["report"]["deployment_frequency"]
        != by_slug["releases"]["report"]["deployment_frequency"]
    )


def test_a_workspace_without_data_says_why_and_does_not_hold_the_others_back(three):
    empty = next(
        e for e in compare_workspaces(three, "30d", NOW)["workspaces"] if e["slug"] == "empty"
    )
    assert (empty["status"], empty["report"]) == ("no_data", None)
    assert "Update data" in empty["message"]


def test_sorting_by_a_metric_puts_workspaces_without_a_value_last_either_way(three):
    entries = compare_workspaces(three, "30d", NOW)["workspaces"]
    per_day = {
        e["slug"]: e["report"]["deployment_frequency"]["values"]["per_day"]
        for e in entries
        if e["report"]
    }
    ascending = [e["slug"] for e in sorted_entries(entries, "deployment_frequency")]
    descending = [e["slug"] for e in sorted_entries(entries, "deployment_frequency", True)]
    assert ascending == [*sorted(per_day, key=per_day.get), "empty"]
    assert descending == [*sorted(per_day, key=per_day.get, reverse=True), "empty"]
    assert [e["workspace"] for e in sorted_entries(entries, "name", True)] == [
        "Releases",
        "Empty",
        "Default",
    ]


def test_the_page_store_is_checked_before_any_work(three):
    with pytest.raises(UserError, match="Show some numbers first"):
        comparison_for_shown(three, None)
    with pytest.raises(UserError, match="cannot read"):
        comparison_for_shown(three, {"period": "30d", "now": "yesterday"})
    with pytest.raises(UserError, match="longer than"):
        comparison_for_shown(three, {"period": "100000d", "now": NOW.isoformat()})


def cli_source(**changes: Any) -> SourceOptions:
    """The source options `app.py metrics --all-workspaces` passes, with `changes`."""
    return replace(SourceOptions(now=NOW.isoformat()), **changes)


def test_cli_json_holds_every_workspace_report(three):
    result = orjson.loads(comparison_for_cli(three, cli_source()))
    assert result["period"] == "30d"
    expected = compare_workspaces(three, "30d", NOW)
    assert [e["report"] for e in result["workspaces"]] == [
        e["report"] for e in orjson.loads(orjson.dumps(expected))["workspaces"]
    ]


def test_cli_csv_prefixes_the_metrics_csv_with_the_workspace(three):
    rows = list(csv.DictReader(io.StringIO(comparison_for_cli(three, cli_source(), output="csv"))))
    assert {row["workspace"] for row in rows} == {"Default", "Empty", "Releases"}
    (empty,) = [row for row in rows if row["workspace"] == "Empty"]
    assert empty["status"] == "no_data" and empty["metric"] == ""
    sources = {r["workspace"]: r["deployment_source"] for r in rows if r["workspace"] != "Empty"}
    assert sources == {"Default": "issues", "Releases": "fixversions"}


def test_cli_refuses_options_that_would_not_apply_to_every_workspace(three):
    with pytest.raises(UserError, match="leave out --input"):
        comparison_for_cli(three, cli_source(input_file="x.json"))
    with pytest.raises(UserError, match="leave out --deployments"):
        comparison_for_cli(three, cli_source(deployments="issues"))
