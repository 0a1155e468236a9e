"""The offline HTML report's page: what it names, what it never holds, what it inlines.

Built from a real report of the sample project (the page Chromium opens is tested in
tests/browser/test_html_report.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from configuration.metric_defaults import ALL_METRICS
from configuration.settings import default_settings
from data.export import csv_rows
from data.metrics_service import report_for_project
from data.project import ProjectData
from data.quality import quality_report
from data.sample_project import generate_issues, statuses
from data.shared_report import share_context
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


@pytest.fixture(scope="module")
def shared(settings: dict) -> dict:
    project = ProjectData(generate_issues(300, 4, now=NOW), statuses(), source="jira")
    report = report_for_project(project, settings, "30d", now=NOW, tz="UTC")
    return {
        "report": report,
        "context": share_context(settings, "jira"),
        "statistics": list(csv_rows(report)),
        "quality": quality_report(project, settings, tz="UTC"),
    }


def test_report_names_the_site_the_jql_and_changed_mappings_never_a_credential(shared) -> None:
    page = report_html(shared)
    assert "Workspace: https://acme.atlassian.net" in page
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
    assert page.count("data-figure=") == len(ALL_METRICS)
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
