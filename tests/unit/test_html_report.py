"""The offline HTML report's page: what it names, what it never holds, what it inlines.

Built from a real report of the sample project (the page Chromium opens is tested in
tests/browser/test_html_report.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from configuration.metric_defaults import ALL_METRICS
from configuration.settings import default_settings
from data.engine.quality import quality_report
from data.jira.sample_project import generate_issues, statuses
from data.services.analytics_service import (
    analytics_for_report,
    analytics_for_view,
    save_service_level,
)
from data.services.export import csv_rows
from data.services.metrics_service import report_for_project
from data.services.shared_report import share_context, shared_report_for_cli, shared_report_for_view
from data.services.source_options import SourceOptions
from data.storage.persistence import load_settings
from data.storage.project_data import ProjectData
from data.storage.workspaces import create_workspace, switch_workspace
from ui.flow_analytics import CHARTS
from ui.html_report import REPORT_DATA_ID, header_section, report_filename, report_html

NOW = datetime(2024, 6, 1, tzinfo=UTC)
TOKEN = "s3cr3t-t0ken-value"
EMAIL = "manager@example.com"


@pytest.fixture(scope="module")
def settings() -> dict:
    settings = default_settings()
    settings["jira"].update(
        url="https://bot:pa55word@acme.atlassian.net/",
        jql="project = PAY",
        email=EMAIL,
        token=TOKEN,
    )
    settings["mappings"]["rework_labels"] = ["hotfix", "revert"]
    return settings


def shared_for(project: ProjectData, settings: dict, period: str, now: datetime) -> dict:
    """What `data.services.shared_report` hands the page builder, for a project read in memory."""
    report = report_for_project(project, settings, period, now=now, tz="UTC")
    return {
        "report": report,
        "context": share_context(settings, "jira", workspace="Team Pay"),
        "statistics": list(csv_rows(report)),
        "analytics": analytics_for_report(project, settings, report),
        "quality": quality_report(project, settings, tz="UTC"),
    }


@pytest.fixture(scope="module")
def project() -> ProjectData:
    return ProjectData(generate_issues(300, 4, now=NOW), statuses(), source="jira")


@pytest.fixture(scope="module")
def shared(project: ProjectData, settings: dict) -> dict:
    return shared_for(project, settings, "30d", NOW)


def figures(page: str) -> dict[str, dict[str, Any]]:
    """Every chart's figure in the written page, by its `data-figure` name."""
    found = re.findall(
        r'<div class="chart" data-figure="([^"]+)" data-filename="([^"]+)">'
        r'<div class="chart-plot"[^>]*></div><script type="application/json">(.*?)</script>',
        page,
    )
    return {name: {**json.loads(text), "filename": filename} for name, filename, text in found}


def today() -> datetime:
    """Today 00:00 UTC: the instant the bundled sample project is generated up to."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def test_report_names_the_site_the_jql_and_changed_mappings_never_a_credential(shared) -> None:
    page = report_html(shared)
    assert "Workspace: Team Pay</p>" in page
    assert "Data: https://acme.atlassian.net" in page
    assert "project = PAY" in page
    assert "mappings.rework_labels</td><td>hotfix, revert" in page
    assert TOKEN not in page and EMAIL not in page and "pa55word" not in page


def test_report_is_self_contained_with_plotly_and_the_data_inlined(shared) -> None:
    page = report_html(shared)
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(http" not in page
    assert len(page) > 3_000_000  # plotly.js itself
    embedded = re.search(
        rf'<script type="application/json" id="{REPORT_DATA_ID}">(.*?)</script>', page
    )
    assert embedded is not None
    assert json.loads(embedded.group(1)) == json.loads(json.dumps(shared["report"]))
    assert page.count("data-figure=") == len(ALL_METRICS) + len(CHARTS)
    assert "@media print" in page and "break-inside:avoid" in page


def test_sections_compose_the_page(shared) -> None:
    only_header = report_html(shared, sections=(header_section,))
    assert "data-metric=" not in only_header
    assert "Last 30 days" in only_header


def test_report_file_is_named_after_the_period(shared) -> None:
    assert report_filename(shared["report"]) == "flowdash-report-2024-05-02_2024-05-31.html"


def test_quality_section_lists_every_check_of_the_data_quality_report(shared) -> None:
    page = report_html(shared)
    for rule in shared["quality"]["rules"]:
        assert f'<tr data-rule="{rule["rule"]}"><td>{rule["title"]}</td>' in page
    assert shared["quality"]["summary"] in page


def assert_charts_draw(page: str, expected: dict[str, Any]) -> None:
    """The report's flow analytics charts and aging table hold the numbers of `expected`
    (the service's result), chart by chart."""
    drawn = figures(page)
    scatter = drawn["fa-scatter"]["data"]
    assert sorted(y for trace in scatter for y in trace["y"]) == sorted(expected["scatter"]["days"])
    assert all(trace["type"] == "scatter" for trace in scatter)  # SVG: prints, no WebGL
    assert drawn["fa-histogram"]["data"][0]["y"] == expected["histogram"]["counts"]
    assert drawn["fa-aging"]["data"][0]["y"] == expected["aging"]["ages"]
    cfd = list(reversed(drawn["fa-cfd"]["data"]))
    assert [trace["name"] for trace in cfd] == [band["name"] for band in expected["cfd"]["bands"]]
    assert [trace["y"] for trace in cfd] == [band["counts"] for band in expected["cfd"]["bands"]]
    tis = drawn["fa-time-in-state"]["data"][0]
    assert tis["x"] == [row["total_days"] for row in expected["time_in_state"]["rows"]]
    blocked = drawn["fa-blocked"]["data"][0]
    assert blocked["x"] == [item["blocked_days"] for item in expected["blocked"]["items"]]
    keys = re.findall(r'<tr data-key="([^"]+)"', page)
    assert keys == [row["key"] for row in expected["aging"]["table"]]


def test_page_report_holds_the_flow_analytics_the_page_shows_for_the_same_period(
    data_dir: Path,
) -> None:
    save_service_level(data_dir, "12", "80")
    now = today() - timedelta(days=3)
    shown = {"period": "30d", "now": now.isoformat()}

    shared = shared_report_for_view(data_dir, shown)
    expected = analytics_for_view(data_dir, "30d", now)

    assert shared["analytics"] == expected
    page = report_html(shared)
    assert expected["scatter"]["n"] > 0 and expected["aging"]["n"] > 0
    assert expected["cfd"]["bands"] and expected["time_in_state"]["rows"]
    assert_charts_draw(page, expected)
    sle = expected["scatter"]["sle"]
    assert f"SLE 80 % within 12 d: {sle['share']:.1f} % within" in page
    assert f"{expected['scatter']['n']:,} items completed" in page
    assert "<td>service level (flow analytics)</td><td>80 % within 12 days</td>" in page


def test_settings_used_say_when_no_service_level_is_set(shared) -> None:
    assert "<td>service level (flow analytics)</td><td>off</td>" in report_html(shared)


def test_cli_report_holds_the_flow_analytics_the_page_shows_for_the_same_period(
    data_dir: Path,
) -> None:
    now = today() - timedelta(days=1)
    shared = shared_report_for_cli(
        data_dir,
        load_settings(data_dir),
        SourceOptions(period="90d", now=now.isoformat()),
        workspace="Default",
    )

    expected = analytics_for_view(data_dir, "90d", now)
    assert shared["analytics"] == expected
    assert_charts_draw(report_html(shared), expected)


def test_flow_analytics_pngs_are_named_after_the_chart_and_the_period(shared) -> None:
    drawn = figures(report_html(shared))
    assert drawn["fa-scatter"]["filename"] == "cycle_time_scatter_2024-05-02_2024-05-31"
    assert drawn["fa-cfd"]["filename"] == "cumulative_flow_2024-05-02_2024-05-31"
    assert drawn["lead_time_for_changes"]["filename"] == (
        "lead_time_for_changes_2024-05-02_2024-05-31"
    )


def partial_notes(figure: dict[str, Any]) -> list[str]:
    return [note["text"] for note in figure["layout"].get("annotations") or []]


def test_trend_charts_mark_a_partial_last_week_as_the_page_does(shared) -> None:
    # 30 days to Saturday 2024-06-01 00:00: the week of Monday 27 May holds 5 of its 7 days
    page = report_html(shared)
    drawn = figures(page)
    for key in ALL_METRICS:
        figure = drawn[key]
        assert partial_notes(figure) == ["partial: 5 of 7 days"], key
        shade = figure["layout"]["shapes"][0]
        assert (shade["x0"], shade["x1"]) == ("2024-05-23T12:00", "2024-05-30T12:00")
    assert "The last week is partial: 5 of 7 days in the period." in page


def test_a_period_ending_on_a_monday_has_no_partial_mark(project, settings) -> None:
    monday = datetime(2024, 6, 3, tzinfo=UTC)
    drawn = figures(report_html(shared_for(project, settings, "28d", monday)))
    for key in ALL_METRICS:
        assert partial_notes(drawn[key]) == [], key
        assert not drawn[key]["layout"].get("shapes"), key


def sparklines(page: str) -> dict[str, tuple[str, str]]:
    """Each card's sparkline: (its partial-days attribute, its SVG), by metric."""
    cards = re.findall(
        r'<div class="card" data-metric="([^"]+)".*?'
        r'<div class="spark" data-role="sparkline" data-weeks="\d+" data-partial-days="(\d*)"'
        r"[^>]*>(<svg.*?</svg>)",
        page,
    )
    return {key: (days, svg) for key, days, svg in cards}


def last_shape(svg: str) -> str:
    return re.findall(r"<(?:rect|line)[^>]*/>", svg)[-1]


def test_card_sparklines_draw_a_partial_last_week_hollow_as_the_page_does(
    project, settings, shared
) -> None:
    monday = datetime(2024, 6, 3, tzinfo=UTC)
    whole_shared = shared_for(project, settings, "28d", monday)
    for item, days in ((shared, "5"), (whole_shared, "")):
        report = item["report"]
        drawn = sparklines(report_html(item))
        expected = {
            key
            for key in ALL_METRICS
            if key != "flow_distribution"
            and report[key].get("headline")
            and report[key]["status"] != "insufficient_data"
        }
        assert drawn and set(drawn) == expected
        hollows = []
        for key, (partial_days, svg) in drawn.items():
            metric = report[key]
            assert partial_days == days, key
            assert len(re.findall(r"<(?:rect|line)", svg)) == len(metric["weekly"]), key
            last_value = metric["weekly"][-1]["values"].get(metric["headline"])
            hollow = days != "" and last_value is not None
            assert ("fill='none'" in last_shape(svg)) is hollow, key
            assert svg.count("fill='none'") == int(hollow), key
            hollows.append(hollow)
        assert any(hollows) is (days != "")


def test_a_period_before_the_data_has_empty_analytics_charts_and_says_nothing_is_in_progress(
    project, settings
) -> None:
    page = report_html(shared_for(project, settings, "2020-01-01:2020-01-31", NOW))
    drawn = figures(page)
    assert [len(trace["y"]) for trace in drawn["fa-scatter"]["data"]] == []
    assert drawn["fa-histogram"]["data"][0]["y"] == []
    assert "No item is in progress at the end." in page
    assert "0 items completed · 0 in progress at the period&#x27;s end · 31 days" in page


def test_page_report_names_the_workspace_the_dashboard_shows_and_holds_its_numbers(
    data_dir: Path,
) -> None:
    team = create_workspace(data_dir, "Team Pay")
    save_service_level(team.root, "9", "70")  # only this workspace has a service level
    now = today() - timedelta(days=2)
    shown = {"period": "30d", "now": now.isoformat()}
    default_page = report_html(shared_report_for_view(data_dir, shown))

    switch_workspace(data_dir, "Team Pay")
    shared = shared_report_for_view(data_dir, shown)

    page = report_html(shared)
    assert shared["context"]["workspace"] == "Team Pay"
    assert '<p class="meta" data-role="workspace">Workspace: Team Pay</p>' in page
    assert shared["analytics"] == analytics_for_view(team.root, "30d", now)
    assert "<td>service level (flow analytics)</td><td>70 % within 9 days</td>" in page
    assert '<p class="meta" data-role="workspace">Workspace: Default</p>' in default_page
    assert "<td>service level (flow analytics)</td><td>off</td>" in default_page
