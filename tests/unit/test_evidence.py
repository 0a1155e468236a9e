"""The items behind every figure: counts equal `n` and the excluded counts, on the sample."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from urllib.parse import unquote

import orjson
import pytest

from configuration.metric_defaults import ALL_METRICS
from configuration.settings import default_settings
from data.engine.evidence import (
    MAX_URL_CHARS,
    REASONS,
    SAMPLE_NOTE,
    iso_week,
    item_list,
    items_to_csv,
    jql_links,
    lazy_item_list,
)
from data.errors import UserError
from data.jira import sample_project as sample
from data.services.item_view import items_for_cli
from data.services.metrics_service import report_for_project
from data.services.source_options import SourceOptions
from data.storage.project_data import ProjectData
from tests.issue_builder import issue, link, statuses, version
from tests.unit.test_dora_metrics import deployment, t
from tests.unit.test_flow_metrics import done_story, item

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def project() -> ProjectData:
    """The sample project (1,500 issues) generated up to NOW."""
    return ProjectData(
        issues=sample.generate_issues(1500, 42, now=NOW),
        statuses=sample.statuses(),
        fields=sample.fields(),
        source="sample",
    )


def _settings(deployments: str = "issues") -> dict:
    settings = default_settings()
    settings["time_zone"] = "UTC"
    settings["mappings"] = {**(settings.get("mappings") or {}), "deployment_source": deployments}
    return settings


@pytest.mark.parametrize("deployments", ["issues", "fixversions"])
@pytest.mark.parametrize("period", ["30d", "90d"])
def test_listed_items_equal_n_and_excluded_counts_for_every_metric_and_week(
    project: ProjectData, period: str, deployments: str
) -> None:
    settings = _settings(deployments)
    report = report_for_project(project, settings, period, now=NOW, tz="UTC")
    for metric in ALL_METRICS:
        shown = report[metric]
        listed = item_list(project, settings, {"metric": metric}, period, NOW, tz="UTC")
        assert listed["count"] == len(listed["items"]) == shown["n"], metric
        for reason in REASONS[metric]:
            expected = shown["excluded"].get(reason, shown["notes"].get(reason, 0))
            request = {"metric": metric, "excluded": reason}
            excluded = item_list(project, settings, request, period, NOW, tz="UTC")
            assert excluded["count"] == expected, (metric, reason)
        for week in shown["weekly"]:
            request = {"metric": metric, "week": iso_week(week["week_start"])}
            weekly = item_list(project, settings, request, period, NOW, tz="UTC")
            assert weekly["count"] == week["n"], (metric, week["week_start"])


@pytest.mark.parametrize("deployments", ["issues", "fixversions"])
def test_a_page_described_alone_equals_that_part_of_the_whole_list(
    project: ProjectData, deployments: str
) -> None:
    settings = {**_settings(deployments), "jira": {"url": "https://jira.example.net"}}
    site = ProjectData(project.issues, project.statuses, project.fields, source="jira")
    keys = [raw["key"] for raw in project.issues[::7]] + ["NOPE-1"]
    requests = [{"metric": metric} for metric in ALL_METRICS]
    requests += [{"metric": "deployment_frequency", "excluded": "not_production"}]
    requests += [{"title": "Picked", "keys": keys}]
    for request in requests:
        whole = item_list(site, settings, request, "90d", NOW, tz="UTC")
        for part in (slice(0, 3), slice(5, 9), slice(len(whole["items"]) - 2, None)):
            lazy = lazy_item_list(site, settings, request, "90d", NOW, tz="UTC")
            assert lazy.count == whole["count"]
            assert lazy.rows(part) == whole["items"][part], (request, part)
        assert lazy.header["jira"] == whole["jira"]
        issues = [item for item in whole["items"] if item["type"] != "Version"]
        assert bool(whole["jira"]["links"]) == bool(issues)


def test_change_failure_items_say_which_rule_failed_each_deployment(
    project: ProjectData,
) -> None:
    settings = _settings()
    report = report_for_project(project, settings, "90d", now=NOW, tz="UTC")
    listed = item_list(project, settings, {"metric": "change_failure_rate"}, "90d", NOW, tz="UTC")
    failed = [item for item in listed["items"] if item["failed"]]
    assert len(failed) == report["change_failure_rate"]["values"]["failed"] > 0
    assert {item["failed_by"] for item in failed} <= {"linked incident", "incident window"}
    keys = {item["key"] for item in project.issues}
    assert all(item["incident"] in keys for item in failed)
    assert all(item["failed_by"] is None for item in listed["items"] if not item["failed"])


def test_lead_time_items_carry_the_dates_and_duration_the_median_was_taken_from(
    project: ProjectData,
) -> None:
    settings = _settings()
    report = report_for_project(project, settings, "30d", now=NOW, tz="UTC")
    listed = item_list(project, settings, {"metric": "lead_time_for_changes"}, "30d", NOW)
    durations = sorted(item["duration_days"] for item in listed["items"])
    middle = len(durations) // 2
    median = (
        durations[middle] if len(durations) % 2 else (durations[middle - 1] + durations[middle]) / 2
    )
    assert median == pytest.approx(
        report["lead_time_for_changes"]["values"]["median_days"], abs=1e-3
    )
    first = listed["items"][0]
    start = datetime.fromisoformat(first["work_start"])
    deployed = datetime.fromisoformat(first["deployed"])
    assert (deployed - start).total_seconds() / 86400 == pytest.approx(
        first["duration_days"], abs=1e-3
    )
    assert first["summary"] and first["type"] and first["flow_type"] in ("Feature", "Defect")


def test_sample_items_have_no_links_and_say_the_keys_are_not_a_real_jira(
    project: ProjectData,
) -> None:
    listed = item_list(project, _settings(), {"metric": "flow_time"}, "30d", NOW, tz="UTC")
    assert listed["jira"] == {"site": None, "links": [], "note": SAMPLE_NOTE}
    assert all("url" not in item for item in listed["items"])


def test_jira_items_link_to_browse_and_one_jql_search() -> None:
    raws = [
        issue(
            f"ACME-{i}",
            "Story",
            created="2024-03-01T09:00:00.000+0000",
            transitions=[
                ("2024-03-02T09:00:00.000+0000", "To Do", "In Progress"),
                ("2024-03-05T09:00:00.000+0000", "In Progress", "Done"),
            ],
            resolution="Done",
        )
        for i in range(3)
    ]
    project = ProjectData(issues=raws, statuses=statuses(), source="jira", version="v1")
    settings = _settings()
    settings["jira"] = {**settings.get("jira", {}), "url": "https://acme.atlassian.net/"}
    now = datetime(2024, 3, 10, tzinfo=UTC)
    listed = item_list(project, settings, {"metric": "flow_velocity"}, "30d", now, tz="UTC")
    assert [item["url"] for item in listed["items"]] == [
        f"https://acme.atlassian.net/browse/ACME-{i}" for i in range(3)
    ]
    (search,) = listed["jira"]["links"]
    assert unquote(search) == (
        "https://acme.atlassian.net/issues/?jql=key in (ACME-0, ACME-1, ACME-2)"
    )


def test_jql_links_split_before_eight_thousand_characters_and_keep_every_key() -> None:
    keys = [f"PROJECT-{i}" for i in range(2000)]
    links = jql_links("https://acme.atlassian.net", keys)
    assert len(links) > 1
    assert all(len(url) <= MAX_URL_CHARS for url in links)
    found = []
    for url in links:
        jql = unquote(url.split("jql=", 1)[1])
        found += jql.removeprefix("key in (").removesuffix(")").split(", ")
    assert found == keys


def test_an_explicit_key_list_lists_those_issues_in_order_and_names_unknown_keys(
    project: ProjectData,
) -> None:
    keys = [project.issues[5]["key"], "NOPE-1", project.issues[2]["key"]]
    request = {"title": "Flow time above p85", "keys": keys}
    listed = item_list(project, _settings(), request, "30d", NOW, tz="UTC")
    assert listed["title"] == "Flow time above p85"
    assert [item["key"] for item in listed["items"]] == keys
    assert listed["items"][0]["summary"] == project.issues[5]["fields"]["summary"]
    assert listed["items"][1]["summary"] == "(not in the data)"


def test_deployment_failed_by_a_linked_incident_names_the_incident() -> None:
    raws = [
        issue(
            "OPS-1",
            "Deployment",
            created="2024-03-04T09:00:00.000+0000",
            transitions=[("2024-03-05T09:00:00.000+0000", "To Do", "Done")],
            resolution="Done",
            fields={"customfield_10050": {"value": "production"}},
        ),
        issue(
            "OPS-2",
            "Incident",
            created="2024-03-06T09:00:00.000+0000",
            transitions=[("2024-03-06T12:00:00.000+0000", "To Do", "Done")],
            resolution="Done",
            links=[link("OPS-1")],
        ),
    ]
    project = ProjectData(issues=raws, statuses=statuses(), source="file")
    now = datetime(2024, 3, 10, tzinfo=UTC)
    listed = item_list(
        project, _settings(), {"metric": "change_failure_rate"}, "30d", now, tz="UTC"
    )
    assert [(i["key"], i["failed"], i["failed_by"], i["incident"]) for i in listed["items"]] == [
        ("OPS-1", True, "linked incident", "OPS-2")
    ]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"metric": "speed"}, "Unknown metric"),
        ({"metric": "flow_load", "excluded": "negative"}, "has no reason"),
        ({"metric": "flow_time", "week": "2020-W01"}, "not in this period"),
        ({"metric": "flow_time", "week": "soon"}, "Unknown week"),
    ],
)
def test_a_bad_request_is_a_clear_user_error(
    project: ProjectData, request_: dict, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        item_list(project, _settings(), request_, "30d", NOW, tz="UTC")


def test_cli_items_csv_has_the_same_rows_as_json(project: ProjectData, tmp_path, data_dir) -> None:
    path = tmp_path / "sample.json"
    path.write_bytes(orjson.dumps({"issues": project.issues, "statuses": project.statuses}))

    def run(fmt: str) -> str:
        return items_for_cli(
            data_dir,
            _settings(),
            SourceOptions(input_file=str(path), period="30d", now=NOW.isoformat(), tz="UTC"),
            output=fmt,
            metric="recovery_time",
        )

    answer = orjson.loads(run("json"))
    rows = list(csv.DictReader(io.StringIO(run("csv"))))
    assert [row["key"] for row in rows] == [item["key"] for item in answer["items"]]
    assert rows and list(rows[0]) == answer["columns"]
    assert items_to_csv(answer) == run("csv")


# ------------------------------------------------- revision 3: the lists equal both engines


MIDNIGHT = "T00:00:00.000+0000"
MARCH_END = "2024-03-29" + MIDNIGHT  # the end of "2024-03-01:2024-03-28", exclusive
ENV = "customfield_10100"


def _listed_keys(raws: list, mappings: dict, request: dict, source: str = "issues") -> list:
    """The keys `item_list` gives for March 2024 (the hand-worked tests' period and clock)."""
    settings = _settings(source)
    settings["mappings"].update(mappings)
    project = ProjectData(issues=raws, statuses=statuses(), source="file", version="t")
    listed = item_list(project, settings, request, "2024-03-01:2024-03-28", HAND_NOW, tz="UTC")
    assert listed["count"] == len(listed["items"])
    return [item["key"] for item in listed["items"]]


def _assert_lists_equal_the_report(report, raws: list, mappings: dict, source: str) -> None:
    """Every metric's list (counted, each reason, each week) has the engine's count."""
    shown = report(raws, mappings=mappings, deployment_source=source)
    for metric in ALL_METRICS:
        assert len(_listed_keys(raws, mappings, {"metric": metric}, source)) == shown[metric]["n"]
        for reason in REASONS[metric]:
            expected = shown[metric]["excluded"].get(reason, shown[metric]["notes"].get(reason, 0))
            request = {"metric": metric, "excluded": reason}
            assert len(_listed_keys(raws, mappings, request, source)) == expected, (metric, reason)
        for week in shown[metric]["weekly"]:
            request = {"metric": metric, "week": iso_week(week["week_start"])}
            assert len(_listed_keys(raws, mappings, request, source)) == week["n"], (metric, week)


HAND_NOW = datetime(2024, 4, 15, tzinfo=UTC)


def _left_out_deployments() -> list:
    return [
        deployment("D-1", t(5), fields={ENV: "production"}),
        deployment("D-2", t(6), fields={ENV: "staging"}, resolution="Won't Do"),
        issue("D-3", "Deployment", created=t(7), fields={ENV: "staging"}),  # undated
        issue("D-4", "Deployment", created=t(7), fields={ENV: "prod"}),  # production, undated
        deployment("D-5", t(8), fields={ENV: "prod"}, resolution="Won't Do"),
        deployment("D-6", t(10, month=2), fields={ENV: "staging"}),  # before the period
        deployment("D-7", MARCH_END, fields={ENV: "prod"}),  # at the end: outside
    ]


def test_deployments_left_out_are_listed_by_reason_production_filter_first(report) -> None:
    raws, mappings = _left_out_deployments(), {"environment_field": ENV}
    _assert_lists_equal_the_report(report, raws, mappings, "issues")
    for metric in ("deployment_frequency", "change_failure_rate"):
        assert _listed_keys(raws, mappings, {"metric": metric}) == ["D-1"]

        def left_out(reason: str, metric: str = metric) -> list:
            return _listed_keys(raws, mappings, {"metric": metric, "excluded": reason})

        # the canceled staging D-2 is not_production; undated D-3 counts in every period
        assert sorted(left_out("not_production")) == ["D-2", "D-3"]
        assert left_out("no_deployment_date") == ["D-4"]
        assert left_out("canceled") == ["D-5"]
        assert left_out("released_without_release_date") == []


def test_an_undated_deployment_is_listed_in_every_week_of_the_series(report) -> None:
    raws, mappings = _left_out_deployments(), {"environment_field": ENV}
    request = {"metric": "deployment_frequency", "excluded": "no_deployment_date"}
    for week in ("2024-W01", "2024-W10", "2024-W13"):
        assert _listed_keys(raws, mappings, {**request, "week": week}) == ["D-4"]


def test_released_versions_without_a_date_are_listed_once_by_name(report) -> None:
    raws = [
        done_story("S-1", t(1), t(2), fix_versions=[version("1.0"), version("1.1", "2024-03-05")]),
        done_story(
            "S-2", t(1), t(2), fix_versions=[version("1.0"), version("2.0", released=False)]
        ),
        done_story("S-3", t(1), t(2), fix_versions=[version("1.2")]),
        done_story("S-4", t(1), t(2), fix_versions=[version("1.2", "2024-03-12")]),
    ]
    _assert_lists_equal_the_report(report, raws, {}, "fixversions")
    request = {"metric": "deployment_frequency", "excluded": "released_without_release_date"}
    assert _listed_keys(raws, {}, request, "fixversions") == ["1.0"]
    assert _listed_keys(raws, {}, {"metric": "deployment_frequency"}, "fixversions") == [
        "1.1",
        "1.2",
    ]


def test_flow_efficiency_lists_every_completed_item_its_n_counts(report) -> None:
    raws = [
        done_story("S-1", t(2), t(4)),  # 2 days Active
        # straight from To Do to Done: no Active or Waiting time, still in n (reading 8)
        item("S-2", "Story", (t(3), "To Do", "Done"), resolution="Done"),
    ]
    _assert_lists_equal_the_report(report, raws, {}, "issues")
    assert _listed_keys(raws, {}, {"metric": "flow_efficiency"}) == ["S-2", "S-1"]  # by completion
    request = {"metric": "flow_efficiency", "excluded": "no_active_or_waiting_time"}
    assert _listed_keys(raws, {}, request) == ["S-2"]


def test_flow_load_lists_the_state_just_before_the_period_end(report) -> None:
    raws = [
        done_story("S-1", t(5), MARCH_END),  # done exactly at the end: still Active
        issue("S-2", "Story", created=MARCH_END, status="In Progress"),  # not there yet
        item("S-3", "Story", (t(2), "To Do", "In Progress"), (MARCH_END, "In Progress", "Blocked")),
        # starts exactly at the week end Mar 11: not yet in that week's count
        item("S-4", "Story", ("2024-03-11" + MIDNIGHT, "To Do", "In Progress"), created=t(1)),
    ]
    _assert_lists_equal_the_report(report, raws, {}, "issues")
    assert sorted(_listed_keys(raws, {}, {"metric": "flow_load"})) == ["S-1", "S-3", "S-4"]
    week_to_mar_11 = {"metric": "flow_load", "week": "2024-W10"}
    assert sorted(_listed_keys(raws, {}, week_to_mar_11)) == ["S-1", "S-3"]


def test_failed_deployment_recovery_lists_each_incident_with_the_deployment_it_failed(
    report,
) -> None:
    from tests.unit.test_dora_2024 import failed_deployment_project

    raws = failed_deployment_project()
    _assert_lists_equal_the_report(report, raws, {}, "issues")
    settings = default_settings()
    settings["time_zone"] = "UTC"
    project = ProjectData(issues=raws, statuses=statuses(), source="file", version="t")

    def listed(request: dict) -> list:
        answer = item_list(project, settings, request, "2024-03-01:2024-03-28", HAND_NOW, tz="UTC")
        return answer["items"]

    items = listed({"metric": "failed_deployment_recovery_time"})
    # by resolved time: I-1 from D-1 (its window): 30 h; I-2 from its linked D-1: 204 h;
    # I-3 from D-3: 4 h
    assert [(i["key"], i["failed_deployment"], i["duration_hours"]) for i in items] == [
        ("I-1", "2024-03-04T10:00:00+00:00", 30.0),
        ("I-2", "2024-03-04T10:00:00+00:00", 204.0),
        ("I-3", "2024-03-20T10:00:00+00:00", 4.0),
    ]
    none = listed({"metric": "failed_deployment_recovery_time", "excluded": "no_failed_deployment"})
    assert [i["key"] for i in none] == ["I-4"]
    rework = listed({"metric": "deployment_rework_rate"})
    # D-3 was deployed while I-3 (linked to it) was open: the only rework deployment
    assert [(i["key"], i["rework"]) for i in rework] == [
        ("D-1", False),
        ("D-2", False),
        ("D-3", True),
    ]
