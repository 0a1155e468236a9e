"""`python app.py metrics` run for real on a file written by `python app.py sample`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.reference_metrics import METRIC_KEYS, reference_report

ROOT = Path(__file__).resolve().parents[2]
DORA = METRIC_KEYS[:6]
TODAY = datetime.now(UTC).date().isoformat()
NOW = f"{TODAY}T00:00:00+00:00"


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a fresh interpreter, with its own data directory."""
    env = {**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-issue sample project written by `app.py sample`."""
    folder = tmp_path_factory.mktemp("cli")
    out = folder / "sample.json"
    done = run(folder / "data", "sample", "--issues", "300", "--seed", "5", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote 300 issues" in done.stdout
    return out


@pytest.fixture(scope="module")
def sample_issues(sample_file: Path) -> list[dict]:
    return json.loads(sample_file.read_text(encoding="utf-8"))["issues"]


def metrics(data_dir: Path, sample_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(data_dir, "metrics", "--input", str(sample_file), *args)


def test_metrics_json_has_every_metric_with_values_and_weekly_series(
    data_dir: Path, sample_file: Path, sample_issues: list[dict]
) -> None:
    done = metrics(data_dir, sample_file, "--period", "30d", "--now", NOW, "--tz", "UTC")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {*METRIC_KEYS, "period", "settings", "dataset"}
    for key in METRIC_KEYS:
        metric = report[key]
        assert {"values", "unit", "n", "excluded", "weekly", "status", "label"} <= set(metric)
        assert len(metric["weekly"]) >= 12
        assert ("tier" in metric) == (key in DORA)
    assert report["dataset"]["issues"] == 300
    # the same numbers as the reference implementation computes from the same file
    expected = reference_report(
        sample_issues, period="30d", now=datetime.fromisoformat(NOW), tz="UTC"
    )
    for key in METRIC_KEYS:
        assert report[key] == expected[key], key


def test_metrics_csv_holds_the_same_values_as_the_json(data_dir: Path, sample_file: Path) -> None:
    common = ("--period", "90d", "--now", NOW, "--tz", "Europe/Berlin")
    as_json = json.loads(metrics(data_dir, sample_file, *common).stdout)
    done = metrics(data_dir, sample_file, *common, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "metric,statistic,value,unit,tier,n,status,period_start,period_end,time_zone,"
        "deployment_source\n"
    )
    rows = {(r["metric"], r["statistic"]): r for r in csv.DictReader(io.StringIO(done.stdout))}
    for key in METRIC_KEYS:
        for statistic, value in as_json[key]["values"].items():
            if isinstance(value, (dict, list)):
                continue
            cell = rows[(key, statistic)]["value"]
            assert cell == ("" if value is None else str(value)), (key, statistic)
    velocity_total = rows[("flow_velocity", "total")]
    assert velocity_total["time_zone"] == "Europe/Berlin"
    assert velocity_total["period_end"] == as_json["period"]["end"]


def test_deployments_from_fixversions_change_the_deployment_numbers(
    data_dir: Path, sample_file: Path, sample_issues: list[dict]
) -> None:
    common = ("--period", "90d", "--now", NOW, "--tz", "UTC")
    by_issues = json.loads(metrics(data_dir, sample_file, *common).stdout)
    done = metrics(data_dir, sample_file, *common, "--deployments", "fixversions")
    assert done.returncode == 0, done.stderr
    by_versions = json.loads(done.stdout)
    assert by_issues["settings"]["deployment_source"] == "issues"
    assert by_versions["settings"]["deployment_source"] == "fixversions"
    issue_count = by_issues["deployment_frequency"]["values"]["count"]
    version_count = by_versions["deployment_frequency"]["values"]["count"]
    assert issue_count != version_count
    expected = reference_report(
        sample_issues,
        period="90d",
        now=datetime.fromisoformat(NOW),
        tz="UTC",
        deployment_source="fixversions",
    )
    assert version_count == expected["deployment_frequency"]["values"]["count"]
    assert by_versions["change_failure_rate"] == expected["change_failure_rate"]


def test_now_without_offset_is_read_in_the_given_zone(data_dir: Path, sample_file: Path) -> None:
    done = metrics(
        data_dir,
        sample_file,
        "--period",
        "7d",
        "--now",
        f"{TODAY}T12:00:00",
        "--tz",
        "Asia/Kolkata",
    )
    assert done.returncode == 0, done.stderr
    period = json.loads(done.stdout)["period"]
    assert period["end"] == f"{TODAY}T12:00:00+05:30"
    assert period["time_zone"] == "Asia/Kolkata"
    assert period["days"] == 7.0
    other = json.loads(
        metrics(
            data_dir,
            sample_file,
            "--period",
            "7d",
            "--now",
            f"{TODAY}T12:00:00",
            "--tz",
            "America/Los_Angeles",
        ).stdout
    )
    assert other["period"]["end"].startswith(f"{TODAY}T12:00:00-0")  # -07:00 or -08:00
    weeks = [p["week_start"] for p in other["flow_velocity"]["weekly"]]
    assert all(datetime.fromisoformat(w).weekday() == 0 for w in weeks)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "fortnight"), "Unknown period 'fortnight'"),
        (("--period", "2024-05-31:2024-05-01"), "ends before it starts"),
        (("--tz", "Mars/Olympus"), "Unknown time zone 'Mars/Olympus'"),
        (("--now", "yesterday"), "Cannot read --now 'yesterday'"),
    ],
)
def test_bad_arguments_print_one_clear_line_and_exit_non_zero(
    data_dir: Path, sample_file: Path, args: tuple[str, ...], message: str
) -> None:
    (data_dir / "settings.json").write_text('{"logging": {"level": "WARNING"}}')
    done = metrics(data_dir, sample_file, *args)
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert message in done.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ('{"issues": [', "is not valid JSON")],
)
def test_missing_or_broken_input_file_prints_one_clear_line(
    data_dir: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    (data_dir / "settings.json").write_text('{"logging": {"level": "WARNING"}}')
    target = tmp_path / "input.json"
    if content is not None:
        target.write_text(content)
    done = run(data_dir, "metrics", "--input", str(target))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: Input file {target} {message}")


def test_bad_argument_with_default_logging_prints_only_the_error_line(
    data_dir: Path, sample_file: Path
) -> None:
    # headless commands keep the console at WARNING: INFO goes to the log files only
    done = metrics(data_dir, sample_file, "--tz", "Mars/Olympus")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: Unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Berlin or UTC."
    ]
    assert "Mars/Olympus" in (data_dir / "logs" / "errors.log").read_text()


def test_successful_metrics_run_keeps_stderr_empty_and_logs_to_files(
    data_dir: Path, sample_file: Path
) -> None:
    done = metrics(data_dir, sample_file, "--period", "30d", "--now", NOW)
    assert done.returncode == 0
    assert done.stderr == ""
    records = (data_dir / "logs" / "performance.log").read_text().splitlines()
    operations = {json.loads(line)["operation"] for line in records}
    assert {"normalize", "metric", "report"} <= operations


def test_metrics_on_a_written_sample_know_every_status_category(
    data_dir: Path, sample_file: Path
) -> None:
    done = metrics(data_dir, sample_file, "--period", "90d", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dataset"]["warnings"] == []


def test_metrics_without_jira_computes_the_sample_project_as_the_page_and_says_so(
    data_dir: Path,
) -> None:
    from data.services.metrics_service import report_for_view

    done = run(data_dir, "metrics", "--period", "30d", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if line.startswith("note:")
    ]
    assert "sample project" in done.stderr
    report = json.loads(done.stdout)
    assert report["dataset"]["source"] == "sample"
    page = report_for_view(data_dir, "30d", datetime.fromisoformat(NOW))
    for key in METRIC_KEYS:
        assert report[key]["values"] == page[key]["values"], key


def test_serving_on_a_busy_port_says_so_in_one_line(data_dir: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(data_dir, "--port", str(port))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Dashboard at" not in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: port {port} on 127.0.0.1 is in use: stop what listens there or "
        "start with --port N."
    ]


def test_tiers_2024_rate_change_failure_by_the_nearest_cluster_and_say_so(
    data_dir: Path, sample_file: Path, sample_issues: list[dict]
) -> None:
    common = ("--period", "90d", "--now", NOW, "--tz", "UTC")
    done = metrics(data_dir, sample_file, *common, "--tiers", "2024")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["settings"]["tier_year"] == 2024
    expected = reference_report(
        sample_issues, period="90d", now=datetime.fromisoformat(NOW), tz="UTC", tier_year=2024
    )
    for key in ("change_failure_rate", "failed_deployment_recovery_time", "deployment_rework_rate"):
        assert report[key] == expected[key], key
    assert "nearest cluster" in report["change_failure_rate"]["tier_note"]
    bad = metrics(data_dir, sample_file, *common, "--tiers", "2019")
    assert bad.returncode == 2
    assert "invalid choice: '2019'" in bad.stderr


def test_report_writes_the_html_file_and_an_unwritable_path_is_one_error_line(
    data_dir: Path, sample_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shared" / "report.html"
    common = ("report", "--input", str(sample_file), "--period", "30d", "--now", NOW)
    done = run(data_dir, *common, "--out", str(out), "--tiers", "2024")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out} (") and done.stderr == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '"tier_year": 2024' in page
    blocked = run(data_dir, *common, "--out", str(sample_file / "report.html"))
    assert blocked.returncode == 2
    assert blocked.stderr.startswith(f"error: cannot write {sample_file / 'report.html'}")
    assert len(blocked.stderr.strip().splitlines()) == 1


def test_report_names_the_workspace_it_was_made_for(
    data_dir: Path, sample_file: Path, tmp_path: Path
) -> None:
    from data.storage.workspaces import create_workspace

    create_workspace(data_dir, "Team Pay")
    common = ("report", "--input", str(sample_file), "--period", "30d", "--now", NOW)
    named, shown = tmp_path / "named.html", tmp_path / "shown.html"
    done = run(data_dir, *common, "--workspace", "team pay", "--out", str(named))
    assert done.returncode == 0, done.stderr
    assert run(data_dir, *common, "--out", str(shown)).returncode == 0
    workspace = '<p class="meta" data-role="workspace">Workspace: {}</p>'
    assert workspace.format("Team Pay") in named.read_text(encoding="utf-8")
    assert workspace.format("Default") in shown.read_text(encoding="utf-8")
    unknown = run(data_dir, *common, "--workspace", "Nobody", "--out", str(named))
    assert unknown.returncode == 2 and "No workspace called 'Nobody'" in unknown.stderr
