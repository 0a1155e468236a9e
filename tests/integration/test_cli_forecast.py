"""`python app.py forecast` run for real: on a file, and on a cache fetched from the emulator
with epic and JQL counts asked of JIRA (Cloud's `parent`, Data Center's "Epic Link")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from data.jira.sample_project import generate_issues, write_sample
from tests.issue_builder import issue
from tests.jira_emulator import JiraEmulator

PROJECT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
NOW = f"{TODAY.isoformat()}T12:00:00+00:00"


def run_app(data_dir: Path, *args: str, env: dict[str, str] | None = None):
    environment = {**os.environ, "FLOWDASH_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("forecast") / "sample.json"
    write_sample(path, issues=600, seed=7)
    return path


def test_how_many_as_json_and_text_from_a_file(data_dir: Path, sample_file: Path) -> None:
    until = TODAY.replace(year=TODAY.year + 1, month=1, day=31).isoformat()
    args = ["forecast", "how-many", "--until", until, "--input", str(sample_file), "--now", NOW]
    as_json = run_app(data_dir, *args, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    levels = [row["items"] for row in result["likelihoods"]]
    assert [row["likelihood"] for row in result["likelihoods"]] == [50, 70, 85, 95]
    assert levels == sorted(levels, reverse=True) and levels[0] > 0
    assert sum(row["trials"] for row in result["histogram"]) == 10_000
    assert result["track_record"]["replays"] > 0
    text = run_app(data_dir, *args)
    assert text.returncode == 0, text.stderr
    assert f"How many by {until}" in text.stdout
    assert f"85 % likely: at least {levels[2]} items" in text.stdout
    assert "past forecasts" in text.stdout
    # deterministic: the same data and seed print the same forecast
    assert run_app(data_dir, *args).stdout == text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["how-many", "--until", "2001-01-01"], "2001-01-01 is in the past"),
        (["when", "--items", "0"], "at least 1, not 0"),
        (["when", "--epic", "NOPE-1"], "Epic NOPE-1 is not in the data"),
        (["how-many", "--until", "2099-01-01", "--history-weeks", "0"], "1 to 104 weeks"),
    ],
)
def test_bad_input_prints_one_error_line_and_exits_2(data_dir, sample_file, args, message):
    done = run_app(data_dir, "forecast", *args, "--input", str(sample_file), "--now", NOW)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def other_project() -> list[dict]:
    """Epic OTHER-1 with two open children and one done; OTHER-5 open, not in the epic."""
    day = f"{TODAY.isoformat()}T08:00:00.000+0000"
    moves = [(day, "To Do", "In Progress"), (day, "In Progress", "Done")]

    def child(key: str, **kwargs) -> dict:
        return issue(key, "Story", created=day, fields={"parent": {"key": "OTHER-1"}}, **kwargs)

    epic_link = {"customfield_10014": "OTHER-1"}  # what Data Center's Epic Link holds
    issues = [
        issue("OTHER-1", "Epic", created=day),
        child("OTHER-2"),
        child("OTHER-3"),
        child("OTHER-4", transitions=moves, resolution="Done"),
        issue("OTHER-5", "Story", created=day),
    ]
    for item in issues[1:4]:
        item["fields"].update(epic_link)
    return issues


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest):
    issues = generate_issues(300, 5, project_key="DEMO") + other_project()
    with JiraEmulator(flavor=request.param, issues=issues) as emulator:
        yield emulator


def fetched(data_dir: Path, jira: JiraEmulator) -> dict[str, str]:
    """Fetch `project = DEMO` into the cache; the environment that holds the token."""
    env = {"MY_JIRA_TOKEN": jira.token}
    flags = ["--jira-url", jira.url, "--jql", "project = DEMO", "--token-env", "MY_JIRA_TOKEN"]
    flags += (
        ["--email", jira.email, "--auth", "basic"]
        if jira.flavor == "cloud"
        else ["--auth", "bearer"]
    )
    done = run_app(data_dir, "fetch", *flags, env=env)
    assert done.returncode == 0, done.stderr
    return env


def test_when_for_an_epic_outside_the_cache_asks_jira_for_its_open_children(data_dir, jira):
    env = fetched(data_dir, jira)
    before = jira.counters["total"]
    done = run_app(data_dir, "forecast", "when", "--epic", "OTHER-1", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["items"], result["items_source"]) == (2, "epic")
    assert jira.counters["total"] > before  # it did ask JIRA
    assert all(row["date"] >= TODAY.isoformat() for row in result["likelihoods"])


def test_when_for_a_jql_counts_the_open_issues_jira_matches(data_dir, jira):
    env = fetched(data_dir, jira)
    done = run_app(data_dir, "forecast", "when", "--jql", "project = OTHER", env=env)
    assert done.returncode == 0, done.stderr
    # OTHER-1 (the epic), OTHER-2, OTHER-3, OTHER-5 are not done
    assert "When will 4 items (JQL project = OTHER) be done" in done.stdout


def test_an_unknown_epic_or_a_bad_jql_is_a_clear_error_and_no_token_leaks(data_dir, jira):
    env = fetched(data_dir, jira)
    unknown = run_app(data_dir, "forecast", "when", "--epic", "OTHER-99", env=env)
    assert unknown.returncode == 2
    assert "Epic OTHER-99 was not found in JIRA" in unknown.stderr
    bad = run_app(data_dir, "forecast", "when", "--jql", "project = = x", env=env)
    assert bad.returncode == 2 and "JIRA rejected the JQL" in bad.stderr
    for log_file in (data_dir / "logs").glob("*.log"):
        assert jira.token not in log_file.read_text(), log_file.name
