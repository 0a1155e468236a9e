"""`python app.py fetch` end to end: a real process, the token from an environment variable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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
    report = run_app(data_dir, "metrics", "--period", "90d", "--format", "json")
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["dataset"]["source"] == "jira"
    assert document["dataset"]["issues"] == 300


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
