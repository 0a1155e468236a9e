"""The report as JSON and CSV: every statistic reaches the CSV unchanged, JSON round-trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from data.services.export import CSV_HEADER, export_filename, report_to_csv, report_to_json
from tests.issue_builder import issue, statuses
from tests.reference_metrics import METRIC_KEYS, reference_report

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _small_project() -> list[dict]:
    """A deployment, an incident, two completed stories (one canceled), one item in progress."""
    t = "2024-05-{:02d}T10:00:00.000+0000".format
    return [
        issue(
            "D-1",
            "Deployment",
            created=t(10),
            transitions=[(t(10), "To Do", "Done")],
            resolution="Done",
        ),
        issue(
            "I-1",
            "Incident",
            created=t(11),
            transitions=[(t(12), "To Do", "Done")],
            resolution="Done",
        ),
        issue(
            "S-1",
            "Story",
            created=t(1),
            transitions=[
                (t(2), "To Do", "In Progress"),
                (t(4), "In Progress", "Blocked"),
                (t(5), "Blocked", "In Progress"),
                (t(9), "In Progress", "Done"),
            ],
            resolution="Done",
        ),
        issue(
            "S-2",
            "Story",
            created=t(1),
            transitions=[(t(2), "To Do", "In Progress"), (t(3), "In Progress", "Done")],
            resolution="Won't Do",
        ),
        issue("S-3", "Bug", created=t(1), transitions=[(t(20), "To Do", "In Progress")]),
    ]


@pytest.fixture
def report() -> dict:
    built = reference_report(
        _small_project(), statuses(), period="2024-05-01:2024-05-31", now=NOW, tz="Europe/Berlin"
    )
    built["dataset"] = {"issues": 5, "source": "test", "version": "t", "warnings": []}
    return built


def _csv(report: dict) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(report_to_csv(report))))


def _flat(prefix: str, value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flat(f"{prefix}.{key}" if prefix else key, inner)
    elif isinstance(value, list):
        yield f"{prefix}.low", value[0]
        yield f"{prefix}.high", value[1]
    else:
        yield prefix, value


def test_csv_header_is_the_one_the_spec_fixes(report: dict) -> None:
    first_line = report_to_csv(report).splitlines()[0]
    assert first_line == (
        "metric,statistic,value,unit,tier,n,status,period_start,period_end,time_zone,"
        "deployment_source"
    )
    assert tuple(first_line.split(",")) == CSV_HEADER


def test_csv_holds_every_statistic_of_every_metric_with_its_value(report: dict) -> None:
    rows = _csv(report)
    by_metric_statistic = {(row["metric"], row["statistic"]): row for row in rows}
    expected_count = 0
    for key in METRIC_KEYS:
        metric = report[key]
        for statistic, value in _flat("", metric["values"]):
            expected_count += 1
            row = by_metric_statistic[(key, statistic)]
            if value is None:
                assert row["value"] == ""
            else:
                assert float(row["value"]) == value
                assert type(value)(row["value"]) == value
            assert row["n"] == str(metric["n"])
            assert row["status"] == metric["status"]
            assert row["tier"] == (metric.get("tier") or "")
        for reason, count in metric["excluded"].items():
            expected_count += 1
            assert by_metric_statistic[(key, f"excluded.{reason}")]["value"] == str(count)
    assert len(rows) == expected_count


def test_csv_rows_carry_the_period_zone_and_deployment_source(report: dict) -> None:
    for row in _csv(report):
        assert row["period_start"] == "2024-05-01T00:00:00+02:00"
        assert row["period_end"] == "2024-06-01T00:00:00+02:00"
        assert row["time_zone"] == "Europe/Berlin"
        assert row["deployment_source"] == "issues"


def test_csv_flattens_nested_values_with_dots_and_counts_canceled_as_excluded(
    report: dict,
) -> None:
    rows = {(row["metric"], row["statistic"]): row for row in _csv(report)}
    # Completed: S-1 (Story -> Feature) and I-1 (Incident -> Defect); S-2 (Won't Do) is canceled.
    assert rows[("flow_velocity", "by_type.Feature.count")]["value"] == "1"
    assert rows[("flow_distribution", "shares.Feature")]["value"] == "50.0"
    assert rows[("flow_distribution", "shares.Feature")]["unit"] == "%"
    assert rows[("flow_distribution", "reference.Debt.low")]["value"] == "20"
    assert rows[("flow_distribution", "reference.Debt.high")]["value"] == "25"
    assert rows[("flow_velocity", "excluded.canceled")]["value"] == "1"
    assert rows[("lead_time_for_changes", "median_hours")]["unit"] == "hours"
    assert rows[("lead_time_for_changes", "median_days")]["unit"] == "days"
    assert rows[("deployment_frequency", "per_day")]["unit"] == "per day"
    assert (
        rows[("deployment_frequency", "per_day")]["tier"] == report["deployment_frequency"]["tier"]
    )


def test_csv_leaves_out_the_weekly_series(report: dict) -> None:
    text = report_to_csv(report)
    assert "week_start" not in text
    assert not any(row["statistic"].startswith("weekly.") for row in _csv(report))
    assert "2024-05-27" not in text  # a week_start of the weekly series


def test_csv_writes_a_missing_value_as_an_empty_cell() -> None:
    built = reference_report([], statuses(), period="30d", now=NOW, tz="UTC")
    rows = {(row["metric"], row["statistic"]): row for row in _csv(built)}
    assert rows[("recovery_time", "median_hours")]["value"] == ""
    assert rows[("recovery_time", "median_hours")]["status"] == "insufficient_data"
    assert rows[("recovery_time", "median_hours")]["tier"] == ""


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_exports_of_insufficient_data_have_no_values_null_in_json_empty_in_csv(engine) -> None:
    from tests.reference_metrics import ENGINES

    # deployments only: no incidents, no flow items (revision 3, reading 7)
    only = [raw for raw in _small_project() if raw["key"] == "D-1"]
    built = ENGINES[engine](only, statuses(), period="2024-05-01:2024-05-31", now=NOW, tz="UTC")
    insufficient = [key for key in METRIC_KEYS if built[key]["status"] == "insufficient_data"]
    assert "change_failure_rate" in insufficient and "flow_load" in insufficient
    exported = json.loads(report_to_json(built))
    rows = _csv(built)
    for key in insufficient:
        assert all(
            value is None for name, value in exported[key]["values"].items() if name != "reference"
        ), key
        cells = [row for row in rows if row["metric"] == key]
        assert cells and all(
            row["value"] == "" for row in cells if not row["statistic"].startswith("reference.")
        ), key
    by_metric_statistic = {(row["metric"], row["statistic"]): row for row in rows}
    assert by_metric_statistic[("flow_distribution", "reference.Feature.low")]["value"] == "40"


def test_json_round_trips_to_the_same_report(report: dict) -> None:
    assert json.loads(report_to_json(report)) == report


def test_json_puts_period_settings_dataset_then_metrics_whatever_the_input_order(
    report: dict,
) -> None:
    shuffled = dict(reversed(list(report.items())))
    text = report_to_json(shuffled)
    assert text == report_to_json(report)
    assert list(json.loads(text)) == ["period", "settings", "dataset", *METRIC_KEYS]
    assert text.startswith('{\n  "period": {')


def test_json_keeps_non_ascii_text_readable() -> None:
    built = {"period": {"label": "Zeitraum für Größen"}, "dataset": {"warnings": ["状态"]}}
    text = report_to_json(built)
    assert "für Größen" in text and "状态" in text
    assert json.loads(text) == built


def test_export_filename_names_the_first_and_last_day_of_a_custom_range(report: dict) -> None:
    assert export_filename(report, "csv") == "flowdash-metrics-2024-05-01_2024-05-31.csv"
    assert export_filename(report, "json") == "flowdash-metrics-2024-05-01_2024-05-31.json"


def test_export_filename_of_last_days_uses_the_days_in_the_zone() -> None:
    built = reference_report([], statuses(), period="30d", now=NOW, tz="America/Los_Angeles")
    # now = 2024-06-01 00:00 UTC = 2024-05-31 17:00 in Los Angeles; start 30 days earlier.
    assert export_filename(built, "csv") == "flowdash-metrics-2024-05-01_2024-05-31.csv"


def test_export_filename_rejects_an_unknown_format(report: dict) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        export_filename(report, "xlsx")
