"""The report service: report shape, result cache, validation before work, timing logs, CLI."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from configuration.metric_defaults import DORA_METRICS
from configuration.settings import default_settings
from data.engine import dataset as dataset_module
from data.errors import UserError
from data.services import metrics_service
from data.services.metrics_service import METRIC_KEYS, metrics_report_for_cli, report_for_project
from data.services.source_options import SourceOptions
from data.storage.persistence import save_settings
from data.storage.project_data import ProjectData
from tests.issue_builder import issue, search_response, statuses

NOW = datetime(2024, 1, 31, 12, tzinfo=UTC)


def t(day: int, hour: int = 9) -> str:
    return f"2024-01-{day:02d}T{hour:02d}:00:00.000+0000"


def small_project() -> ProjectData:
    issues = [
        issue(
            f"D-{i}",
            "Story" if i % 3 else "Bug",
            created=t(1 + i % 5),
            transitions=[
                (t(6 + i % 5), "To Do", "In Progress"),
                (t(12 + i % 9), "In Progress", "Done"),
            ],
            resolution="Done",
        )
        for i in range(12)
    ]
    issues.append(
        issue(
            "DEP-1",
            "Deployment",
            created=t(20),
            status="Done",
            resolutiondate=t(22),
            resolution="Done",
        )
    )
    return ProjectData(issues, statuses(), version="v1")


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    dataset_module.clear_caches()
    metrics_service.clear_report_cache()


def settings(time_zone: str = "UTC") -> dict:
    return {**default_settings(), "time_zone": time_zone}


def test_report_has_every_metric_and_the_period_settings_and_dataset() -> None:
    report = report_for_project(small_project(), settings(), "30d", now=NOW)
    assert set(report) == {*METRIC_KEYS, "period", "settings", "dataset"}
    assert report["period"]["label"] == "Last 30 days"
    assert report["period"]["end"] == "2024-01-31T12:00:00+00:00"
    assert report["dataset"]["issues"] == 13
    assert report["settings"]["deployment_source"] == "issues"
    for key in METRIC_KEYS:
        metric = report[key]
        assert {
            "label",
            "status",
            "values",
            "headline",
            "unit",
            "n",
            "excluded",
            "notes",
            "weekly",
        } <= set(metric)
        assert len(metric["weekly"]) == 13  # Wed Jan 31 12:00 back 84 days: Nov 8
        assert ("tier" in metric) == (key in DORA_METRICS)
    assert report["flow_velocity"]["values"]["total"] == 12
    assert report["deployment_frequency"]["values"]["count"] == 1


def test_metrics_lacking_data_say_so_and_others_say_none_in_period() -> None:
    report = report_for_project(small_project(), settings(), "2024-01-01:2024-01-03", now=NOW)
    assert report["recovery_time"]["status"] == "insufficient_data"
    assert report["recovery_time"]["message"] == "No incidents"
    assert report["recovery_time"]["tier"] is None
    assert report["flow_time"]["status"] == "none_in_period"
    assert report["flow_time"]["values"]["median_days"] is None
    assert report["deployment_frequency"]["values"]["count"] == 0
    assert report["deployment_frequency"]["tier"] == "Low"


def test_switching_back_to_a_period_already_seen_is_a_cache_hit() -> None:
    project = small_project()
    first = report_for_project(project, settings(), "30d", now=NOW)
    report_for_project(project, settings(), "7d", now=NOW)
    again = report_for_project(project, settings(), "30d", now=NOW)
    assert again is first
    assert metrics_service.report_cache_stats()["hits"] == 1
    assert metrics_service.report_cache_stats()["misses"] == 2


def wait_for_warming() -> None:
    for thread in threading.enumerate():
        if thread.name == "warm-presets":
            thread.join(timeout=60)


def test_after_a_view_the_preset_periods_are_ready_and_warming_is_not_counted(
    data_dir: Path,
) -> None:
    first = metrics_service.report_for_view(data_dir, "90d", NOW)  # the bundled sample
    wait_for_warming()
    assert metrics_service.report_cache_stats() == {"hits": 0, "misses": 1, "entries": 3}

    for period in ("7d", "30d", "90d"):
        metrics_service.report_for_view(data_dir, period, NOW)
    assert metrics_service.report_cache_stats() == {"hits": 3, "misses": 1, "entries": 3}
    assert metrics_service.report_for_view(data_dir, "90d", NOW) is first


def test_warmed_views_are_bounded_however_many_minutes_the_page_is_used(data_dir: Path) -> None:
    for minute in range(metrics_service._WARMED_KEPT + 5):
        metrics_service.report_for_view(data_dir, "30d", NOW.replace(minute=minute))
        wait_for_warming()
    assert len(metrics_service._warmed) == metrics_service._WARMED_KEPT
    latest = metrics_service.report_cache_stats()["misses"]
    metrics_service.report_for_view(data_dir, "7d", NOW.replace(minute=20))  # warmed just now
    assert metrics_service.report_cache_stats()["misses"] == latest


def test_a_view_of_jira_without_fetched_data_says_to_update(data_dir: Path) -> None:
    saved = default_settings()
    saved["jira"].update({"url": "https://jira.example.net", "jql": "project = DEMO"})
    save_settings(data_dir, saved)
    with pytest.raises(metrics_service.NoJiraDataYet, match="click Update data"):
        metrics_service.report_for_view(data_dir, "30d", NOW)


def test_other_mappings_or_zone_are_not_served_from_the_cache() -> None:
    project = small_project()
    first = report_for_project(project, settings(), "30d", now=NOW)
    other_zone = report_for_project(project, settings("Asia/Tokyo"), "30d", now=NOW)
    no_window = settings()
    no_window["mappings"]["failure_by_time_window"] = False
    other_mappings = report_for_project(project, no_window, "30d", now=NOW)
    assert other_zone is not first and other_mappings is not first
    assert other_zone["period"]["time_zone"] == "Asia/Tokyo"
    assert metrics_service.report_cache_stats()["hits"] == 0


def test_a_reloaded_project_with_the_same_content_hits_the_cache() -> None:
    first = report_for_project(small_project(), settings(), "30d", now=NOW)
    assert report_for_project(small_project(), settings(), "30d", now=NOW) is first


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "2024-02-01:2024-01-01"}, "ends before it starts"),
        ({"period": "fortnight"}, "Unknown period"),
        ({"tz": "Atlantis/Capital"}, "Unknown time zone"),
        ({"deployment_source": "git"}, "Unknown deployment source"),
        ({"project": ProjectData([], statuses())}, "No issues"),
    ],
)
def test_bad_input_is_refused_before_any_computation(
    kwargs: dict, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    project = kwargs.pop("project", small_project())
    period = kwargs.pop("period", "30d")
    with (
        caplog.at_level(logging.INFO, logger="performance"),
        pytest.raises(UserError, match=message),
    ):
        report_for_project(project, settings(), period, now=NOW, **kwargs)
    assert [r for r in caplog.records if r.name == "performance"] == []


def test_every_metric_logs_its_name_period_n_and_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="performance"):
        report = report_for_project(small_project(), settings(), "30d", now=NOW)
    metric_records = [r for r in caplog.records if getattr(r, "operation", "") == "metric"]
    assert sorted(r.metric for r in metric_records) == sorted(METRIC_KEYS)
    for record in metric_records:
        assert record.period == "Last 30 days"
        assert record.n == report[record.metric]["n"]
        assert record.duration_ms >= 0
    assert any(getattr(r, "operation", "") == "normalize" for r in caplog.records)


def cli_source(**overrides: Any) -> SourceOptions:
    """The source options `app.py metrics` passes, with `overrides`."""
    return replace(SourceOptions(now="2024-01-31T12:00:00+00:00", tz="UTC"), **overrides)


def test_cli_reads_an_input_file_and_prints_json(tmp_path: Path) -> None:
    path = tmp_path / "issues.json"
    path.write_bytes(orjson.dumps(search_response(small_project().issues)))
    printed = metrics_report_for_cli(tmp_path, settings(), cli_source(input_file=str(path)))
    report = orjson.loads(printed)
    assert report["flow_velocity"]["values"]["total"] == 12
    assert report["period"]["end"] == "2024-01-31T12:00:00+00:00"


def test_cli_csv_has_one_row_per_statistic(tmp_path: Path) -> None:
    path = tmp_path / "issues.json"
    path.write_bytes(orjson.dumps(small_project().issues))
    printed = metrics_report_for_cli(
        tmp_path, settings(), cli_source(input_file=str(path)), output="csv"
    )
    assert printed.splitlines()[0].startswith("metric,statistic,value")
    assert any(line.startswith("flow_velocity,total,12") for line in printed.splitlines())


def test_cli_with_jira_configured_but_no_cache_says_to_fetch_first(tmp_path: Path) -> None:
    configured = settings()
    configured["jira"] = {**configured["jira"], "url": "https://x.example", "jql": "project = X"}
    with pytest.raises(UserError, match="no cached data"):
        metrics_report_for_cli(tmp_path, configured, cli_source())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"input_file": "missing.json"}, "does not exist"),
        ({"now": "soon"}, "--now"),
        ({"period": "3 weeks"}, "Unknown period"),
    ],
)
def test_cli_bad_arguments_are_one_line_user_errors(
    tmp_path: Path, overrides: dict, message: str
) -> None:
    if overrides.get("input_file"):
        overrides["input_file"] = str(tmp_path / overrides["input_file"])
    with pytest.raises(UserError, match=message) as error:
        metrics_report_for_cli(tmp_path, settings(), cli_source(**overrides))
    assert "\n" not in str(error.value)


def test_the_report_says_when_its_data_begins_and_ends() -> None:
    report = report_for_project(small_project(), settings(), "30d", now=NOW)
    # first creation (D-0, 1 January) to the last instant any issue records (DEP-1 resolved)
    assert report["dataset"]["span"] == {
        "first": "2024-01-01T09:00:00+00:00",
        "last": "2024-01-22T09:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("period", "outside"),
    [
        ("2023-12-01:2023-12-31", "before"),  # ends at 1 January 00:00, before the first issue
        ("2024-01-23:2024-01-30", "after"),  # starts after DEP-1's resolution
        ("2023-12-01:2024-01-01", None),  # its last day holds the first issues
        ("2024-01-22:2024-01-30", None),  # its first day holds the last change
    ],
)
def test_a_period_outside_the_data_is_named_before_or_after(period: str, outside) -> None:
    report = report_for_project(small_project(), settings(), period, now=NOW)
    assert metrics_service.outside_data(report) == outside
