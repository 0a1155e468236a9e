"""`python app.py fetch` end to end: a real process, the token from an environment variable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jira_emulator import JiraEmulator

PROJECT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"^fetched (\d+) issues \((full|incremental)[^)]*\) in [\d.]+ s: (\d+) API calls, [\d.]+ MB$"
)


def run_app(data_dir: Path, *args: str, env: dict[str, str] | None = None):
    environment = {**os.environ, "FLOWDASH_DATA_DIR": str(data_dir), **(env or {})}
    environment.pop("FLOWDASH_JIRA_TOKEN", None) if env is None else None
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest):
    with JiraEmulator(flavor=request.param, issues=300, seed=5) as emulator:
        yield emulator


def connection_flags(emulator: JiraEmulator) -> list[str]:
    flags = ["--jira-url", emulator.url, "--jql", f"project = {emulator.jql_project}",
             "--token-env", "MY_JIRA_TOKEN"]  # fmt: skip
    if emulator.flavor == "cloud":
        return [*flags, "--email", emulator.email, "--auth", "basic"]
    return [*flags, "--auth", "bearer"]


def test_fetch_prints_one_summary_line_then_refreshes_incrementally(data_dir, jira):
    env = {"MY_JIRA_TOKEN": jira.token}
    first = run_app(data_dir, "fetch", *connection_flags(jira), env=env)
    assert first.returncode == 0, first.stderr
    line = first.stdout.strip()
    match = SUMMARY.match(line)
    assert match, line
    assert match.group(1) == "300"
    assert match.group(2) == "full"
    assert int(match.group(3)) == jira.counters["total"]

    jira.change_issues(4, seed=1)
    second = run_app(data_dir, "fetch", *connection_flags(jira), env=env)
    assert second.returncode == 0, second.stderr
    match = SUMMARY.match(second.stdout.strip())
    assert match, second.stdout
    assert (match.group(1), match.group(2)) == ("4", "incremental")

    saved = json.loads((data_dir / "settings.json").read_text())
    assert saved["jira"]["url"] == jira.url
    assert jira.token not in (data_dir / "settings.json").read_text()
    for log_file in (data_dir / "logs").glob("*.log"):
        assert jira.token not in log_file.read_text(), log_file.name


def test_metrics_without_input_computes_from_the_fetched_cache(data_dir, jira):
    fetched = run_app(data_dir, "fetch", *connection_flags(jira), env={"MY_JIRA_TOKEN": jira.token})
    assert fetched.returncode == 0, fetched.stderr
    # the fetch kept the normalized table: the next process reads it instead of normalizing
    assert len(list((data_dir / "cache" / "tables").glob("issues-*.npz"))) == 1
    report = run_app(data_dir, "metrics", "--period", "90d", "--format", "json")
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["dataset"]["source"] == "jira"
    assert document["dataset"]["issues"] == 300
    normalize = [
        json.loads(line)
        for line in (data_dir / "logs" / "performance.log").read_text().splitlines()
        if '"operation": "normalize"' in line or '"operation":"normalize"' in line
    ]
    assert [(entry["table"], entry["rebuilt"]) for entry in normalize] == [
        ("normalized", 300),  # the fetch
        ("disk", 0),  # the metrics command
    ]


def test_wrong_token_prints_one_error_line_and_exits_2(data_dir, jira):
    result = run_app(data_dir, "fetch", *connection_flags(jira), env={"MY_JIRA_TOKEN": "nope-x1"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: Wrong credentials")
    assert "nope-x1" not in result.stderr
    assert not list((data_dir / "cache").glob("issues-*.json"))


def test_missing_token_variable_says_which_variable_to_set(data_dir, jira):
    result = run_app(data_dir, "fetch", *connection_flags(jira), env={"MY_JIRA_TOKEN": ""})
    assert result.returncode == 2
    assert "MY_JIRA_TOKEN" in result.stderr


def test_the_page_cannot_start_a_second_fetch_while_the_cli_fetches(data_dir, jira):
    from configuration.settings import default_settings
    from data.jira.fetcher import start_update, wait_for_update
    from data.storage.locks import is_fetch_running

    jira.set_faults(slow_seconds=0.2)
    cli = subprocess.Popen(
        [sys.executable, "app.py", "fetch", *connection_flags(jira)],
        cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir), "MY_JIRA_TOKEN": jira.token},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not is_fetch_running(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert is_fetch_running(data_dir), "the CLI never took the fetch lock"
        settings = default_settings()
        settings["jira"].update(url=jira.url, jql=f"project = {jira.jql_project}",
                                token=jira.token, email=jira.email,
                                auth="basic" if jira.flavor == "cloud" else "bearer")  # fmt: skip
        assert start_update(data_dir, settings) is False
        out, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, err
    assert SUMMARY.match(out.strip())
    assert start_update(data_dir, settings) is True  # free once the CLI is done
    progress = wait_for_update(data_dir, 60)
    assert progress["state"] == "done", progress["message"]
    assert progress["summary"]["mode"] == "incremental"  # it builds on the CLI's cache


def test_report_from_the_fetched_cache_names_the_site_and_jql_and_equals_metrics(
    data_dir, jira, tmp_path
):
    from datetime import UTC, datetime

    fetched = run_app(data_dir, "fetch", *connection_flags(jira), env={"MY_JIRA_TOKEN": jira.token})
    assert fetched.returncode == 0, fetched.stderr
    today = datetime.now(UTC).date().isoformat()
    options = ("--period", "365d", "--now", f"{today}T00:00:00+00:00", "--tiers", "2024")
    out = tmp_path / "report.html"
    written = run_app(data_dir, "report", *options, "--out", str(out))
    assert written.returncode == 0, written.stderr
    metrics = json.loads(run_app(data_dir, "metrics", *options).stdout)
    page = out.read_text(encoding="utf-8")
    embedded = re.search(
        r'<script type="application/json" id="flowdash-report">(.*?)</script>', page
    )
    assert embedded is not None
    document = json.loads(embedded.group(1))
    for key in ("deployment_rework_rate", "failed_deployment_recovery_time", "recovery_time"):
        assert document[key] == metrics[key], key
    # the emulator serves the sample's rework deployments (hotfix labels, fixes of open incidents)
    assert document["deployment_rework_rate"]["values"]["rework"] > 0
    assert "Workspace: Default</p>" in page
    assert f"Data: {jira.url.rstrip('/')}" in page
    assert f"project = {jira.jql_project}" in page
    assert jira.token not in page and jira.email not in page
