"""The data-quality rules, each on hand-built issues: the one bad issue is found, a good one not."""

from __future__ import annotations

import copy

import orjson
import pytest

from configuration.settings import default_settings
from data.engine.quality import RULES, badge_text, quality_for_cli, quality_report
from data.storage.project_data import ProjectData
from tests.issue_builder import issue, link, statuses, version

T = "2024-03-{:02d}T09:00:00.000+0000"


def good(key: str = "G-1") -> dict:
    """A story that went To Do -> In Progress -> Done: no rule may flag it."""
    return issue(
        key,
        "Story",
        created=T.format(1),
        transitions=[(T.format(2), "To Do", "In Progress"), (T.format(5), "In Progress", "Done")],
        resolution="Done",
    )


def deployment(key: str, **fields) -> dict:
    return issue(
        key,
        "Deployment",
        created=T.format(3),
        transitions=[(T.format(4), "To Do", "Done")],
        resolution="Done",
        fields=fields,
    )


def incident(key: str, links=()) -> dict:
    return issue(
        key,
        "Incident",
        created=T.format(6),
        transitions=[(T.format(6), "To Do", "In Progress"), (T.format(7), "In Progress", "Done")],
        resolution="Done",
        links=links,
    )


def found(issues: list[dict], settings: dict | None = None, status_rows=None) -> dict[str, list]:
    project = ProjectData(
        issues=issues,
        statuses=statuses(status_rows) if status_rows is not None else statuses(),
        source="file",
    )
    report = quality_report(project, settings or default_settings(), tz="UTC")
    return {rule["rule"]: rule["keys"] for rule in report["rules"]}


def test_a_clean_project_has_no_problem_and_the_badge_says_so():
    project = ProjectData(issues=[good("G-1"), good("G-2")], statuses=statuses(), source="file")
    report = quality_report(project, default_settings(), tz="UTC")
    assert report["problems"] == 0 and all(rule["count"] == 0 for rule in report["rules"])
    assert badge_text(report["problems"]) == "No data-quality problems"
    assert badge_text(3) == "3 data-quality problems" and badge_text(1) == "1 data-quality problem"


def test_done_without_ever_being_active_or_waiting():
    skipped = issue(
        "S-1", "Story", created=T.format(1), transitions=[(T.format(3), "To Do", "Done")],
        resolution="Done",
    )  # fmt: skip
    assert found([good(), skipped])["done_without_active"] == ["S-1"]


def test_moved_backwards_from_done():
    reopened = issue(
        "R-1",
        "Story",
        created=T.format(1),
        transitions=[
            (T.format(2), "To Do", "In Progress"),
            (T.format(3), "In Progress", "Done"),
            (T.format(4), "Done", "In Progress"),
            (T.format(5), "In Progress", "Done"),
        ],
        resolution="Done",
    )
    closed = issue(
        "C-1",
        "Story",
        created=T.format(1),
        transitions=[
            (T.format(2), "To Do", "In Progress"),
            (T.format(3), "In Progress", "Done"),
            (T.format(4), "Done", "Closed"),  # Done -> Done is not backwards
        ],
        resolution="Done",
    )
    assert found([good(), reopened, closed])["moved_back_from_done"] == ["R-1"]


def test_negative_durations():
    backwards = incident("I-1")
    backwards["fields"]["customfield_detected"] = "2024-03-20T09:00:00.000+0000"
    settings = default_settings()
    settings["mappings"]["incident_detected_field"] = "customfield_detected"
    assert found([good(), backwards], settings)["negative_durations"] == ["I-1"]


def test_statuses_with_no_known_category():
    odd = issue(
        "U-1",
        "Story",
        created=T.format(1),
        transitions=[(T.format(2), "To Do", "Triage"), (T.format(3), "Triage", "Done")],
        resolution="Done",
    )  # "Triage" is in no status list, and only the current status carries a category
    assert found([good(), odd])["status_without_category"] == ["U-1"]


def test_truncated_changelogs():
    cut = good("T-1")
    cut["changelog"]["total"] = 40
    assert found([good(), cut])["truncated_changelog"] == ["T-1"]


def test_deployments_without_an_environment_or_a_time():
    settings = default_settings()
    settings["mappings"]["environment_field"] = "customfield_env"
    fine = deployment("D-1", customfield_env={"value": "production"})
    no_env = deployment("D-2")
    no_time = deployment("D-3", customfield_env={"value": "production"}, resolutiondate=None)
    rules = found([fine, no_env, no_time], settings)
    assert rules["deployment_without_environment_or_time"] == ["D-2", "D-3"]


def test_a_deployment_type_written_with_a_curly_apostrophe_is_still_checked():
    settings = default_settings()
    settings["mappings"]["environment_field"] = "customfield_env"
    settings["mappings"]["deployment_types"] = ["Ops' Release"]
    curly = deployment("D-1")
    curly["fields"]["issuetype"]["name"] = "OPS\u2019 RELEASE"  # reading 11: same name
    rules = found([good(), curly], settings)
    assert rules["deployment_without_environment_or_time"] == ["D-1"]


def test_incidents_linked_to_no_deployment():
    linked_out = incident("I-1", links=[link("D-1")])
    linked_in = incident("I-2")
    lonely = incident("I-3", links=[link("G-1")])
    target = deployment("D-1", issuelinks=[link("I-2", direction="inward")])
    rules = found([good(), target, linked_out, linked_in, lonely])
    assert rules["incident_without_deployment"] == ["I-3"]


def test_versions_released_without_a_date():
    undated = good("V-1")
    undated["fields"]["fixVersions"] = [version("1.0", None)]
    dated = good("V-2")
    dated["fields"]["fixVersions"] = [version("1.1", "2024-03-05")]
    unreleased = good("V-3")
    unreleased["fields"]["fixVersions"] = [version("2.0", None, released=False)]
    assert found([undated, dated, unreleased])["version_released_without_date"] == ["V-1"]


def test_a_version_dated_on_another_issue_is_not_undated():
    # reading 12: 1.2 is one deployment at the date another issue gives it
    bare = good("V-1")
    bare["fields"]["fixVersions"] = [version("1.2", None)]
    dated = good("V-2")
    dated["fields"]["fixVersions"] = [version("1.2", "2024-03-12")]
    assert found([bare, dated])["version_released_without_date"] == []


def test_duplicate_keys():
    twin = copy.deepcopy(good("G-1"))
    assert found([good("G-1"), twin, good("G-2")])["duplicate_key"] == ["G-1"]


def test_work_start_before_creation():
    early = issue(
        "E-1",
        "Story",
        created=T.format(10),
        transitions=[(T.format(2), "To Do", "In Progress"), (T.format(12), "In Progress", "Done")],
        resolution="Done",
    )
    assert found([good(), early])["work_start_before_creation"] == ["E-1"]


def test_every_rule_names_the_metrics_it_affects_and_a_jql_finding_its_items():
    cut = good("T-1")
    cut["changelog"]["total"] = 40
    project = ProjectData(issues=[good(), cut], statuses=statuses(), source="file")
    report = quality_report(project, default_settings(), tz="UTC")
    assert [rule["rule"] for rule in report["rules"]] == [rule.key for rule in RULES]
    (truncated,) = [rule for rule in report["rules"] if rule["rule"] == "truncated_changelog"]
    assert truncated["jql"] == "key in (T-1)" and truncated["metrics"]
    assert report["problems"] == 1


def test_cli_quality_reads_a_file(tmp_path, data_dir):
    cut = good("T-1")
    cut["changelog"]["total"] = 40
    path = tmp_path / "issues.json"
    path.write_bytes(orjson.dumps({"issues": [good(), cut], "statuses": statuses()}))
    options = {"input_file": str(path), "tz": "UTC", "deployments": None}
    report = orjson.loads(quality_for_cli(data_dir, default_settings(), **options))
    assert report["problems"] == 1
    lines = quality_for_cli(data_dir, default_settings(), **options, output="csv").splitlines()
    assert lines[0] == "rule,title,count,metrics,keys,jql"
    assert any(line.startswith("truncated_changelog,") and ",1," in line for line in lines)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.key)
def test_every_rule_has_a_title_and_affected_metrics(rule):
    assert rule.title and rule.metrics
