"""The settings panel's data layer: validating and merging forms, field compatibility, warnings."""

from __future__ import annotations

import csv
import json
import os
import socket
import stat
from pathlib import Path

import pytest

from configuration.settings import default_settings, settings_path
from data.errors import UserError
from data.jira import sample_project
from data.services.settings_service import (
    NO_FIELD,
    NOT_FLOW,
    SettingsFormError,
    check_connection_form,
    connection_form_values,
    field_kind,
    field_options,
    mapping_dialog_model,
    merge_mappings_form,
    save_connection_form,
    save_mappings_form,
    status_rows,
    unavailable_metrics,
)
from data.storage.persistence import load_settings, save_settings
from tests.conftest import JIRA_SAMPLES
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator import fixtures as emulator

cloud_jira = emulator.cloud_jira  # pytest fixtures: a started emulator per test
dc_jira = emulator.dc_jira

TOKEN = "ATATT3xFfGF0-settings-service-secret-0123456789"
CONNECTION = {
    "url": "https://example.atlassian.net/",
    "auth": "basic",
    "email": "user@example.com",
    "jql": "project = DEMO ORDER BY created",
    "token": TOKEN,
}


def devlake_fields() -> list[dict]:
    """The real `/field` entries recorded from a JIRA site (DevLake's test data)."""
    path = JIRA_SAMPLES / "devlake" / "_raw_jira_api_issue_fields.csv"
    lines = path.read_text(encoding="utf-8").lstrip("\n").splitlines()
    return [json.loads(row["data"]) for row in csv.DictReader(lines)]


def sample_fields() -> list[dict]:
    return sample_project.fields()


def choices(options: list[dict]) -> dict[str, bool]:
    """field id -> selectable, for the options of one mapping."""
    return {o["value"]: not o.get("disabled", False) for o in options if o["value"] != NO_FIELD}


# ----------------------------------------------------------------------------- field types


def test_field_kind_reads_schema_types_of_real_jira_fields():
    kinds = {f["id"]: field_kind(f) for f in devlake_fields()}
    assert "user" in kinds.values()
    assert all(kind != "" for kind in kinds.values())
    by_id = {f["id"]: field_kind(f) for f in sample_fields()}
    assert by_id["resolutiondate"] == "datetime"
    assert by_id["customfield_10061"] == "date"
    assert by_id["labels"] == "array:string"
    assert by_id["issuekey"] == "unknown"  # no schema


def test_date_mapping_offers_only_date_and_datetime_fields():
    allowed = choices(field_options("deployed_date_field", sample_fields(), None))
    enabled = {fid for fid, ok in allowed.items() if ok}
    assert enabled == {
        "created",
        "updated",
        "resolutiondate",
        "duedate",
        "customfield_10060",
        "customfield_10061",
    }
    assert allowed["customfield_10016"] is False  # Story Points, a number


def test_story_points_takes_only_number_fields_and_environment_takes_option_or_text():
    points = choices(field_options("story_points_field", sample_fields(), None))
    assert {fid for fid, ok in points.items() if ok} == {"customfield_10016"}
    environment = choices(field_options("environment_field", sample_fields(), None))
    assert environment["customfield_10050"] and environment["summary"] and environment["labels"]
    assert not environment["created"] and not environment["customfield_10016"]


def test_the_flag_field_takes_checkbox_option_or_text_fields_and_is_saved(data_dir: Path):
    options = field_options("flagged_field", sample_fields(), None)
    assert options[0]["value"] == NO_FIELD  # "(none)": JIRA's own Flagged field, by name
    flagged = choices(options)
    assert flagged["customfield_10021"] is True  # Flagged, a checkbox (list of option)
    assert flagged["customfield_10062"] is True  # Team, a text field
    assert not flagged["customfield_10016"] and not flagged["created"]
    settings = load_settings(data_dir)
    merged = merge_mappings_form(settings, {"flagged_field": "customfield_10021"}, sample_fields())
    assert merged["mappings"]["flagged_field"] == "customfield_10021"
    with pytest.raises(SettingsFormError) as caught:
        merge_mappings_form(settings, {"flagged_field": "customfield_10016"}, sample_fields())
    assert "Flagged" in str(caught.value) and "number" in str(caught.value)


def test_field_options_show_each_type_and_keep_a_saved_field_jira_no_longer_lists():
    options = field_options("commit_date_field", sample_fields(), "customfield_99999")
    labels = {o["value"]: o["label"] for o in options}
    assert labels[NO_FIELD] == "(none)"
    assert (
        "datetime" in labels["customfield_10060"] and "Deployed At" in labels["customfield_10060"]
    )
    assert "not found" in labels["customfield_99999"]


def test_deployment_time_has_no_none_choice():
    options = field_options("deployment_time_field", sample_fields(), "resolutiondate")
    assert NO_FIELD not in [o["value"] for o in options]


# ----------------------------------------------------------------------------- mapping form


def test_a_number_field_is_refused_for_a_date_mapping_with_a_clear_message(data_dir: Path):
    settings = load_settings(data_dir)
    with pytest.raises(SettingsFormError) as caught:
        merge_mappings_form(settings, {"deployed_date_field": "customfield_10016"}, sample_fields())
    message = str(caught.value)
    assert "Story Points" in message and "number" in message and "date or datetime" in message
    assert "\n" not in message


def test_compatible_field_mappings_are_merged_and_others_kept(data_dir: Path):
    settings = load_settings(data_dir)
    merged = merge_mappings_form(
        settings,
        {
            "deployed_date_field": "customfield_10060",
            "story_points_field": "customfield_10016",
            "environment_field": "customfield_10050",
            "production_values": "Production, live , ",
            "deployment_types": ["Deployment"],
            "failure_by_time_window": False,
        },
        sample_fields(),
    )
    mappings = merged["mappings"]
    assert mappings["deployed_date_field"] == "customfield_10060"
    assert mappings["story_points_field"] == "customfield_10016"
    assert mappings["production_values"] == ["production", "live"]
    assert mappings["deployment_types"] == ["deployment"]
    assert mappings["failure_by_time_window"] is False
    assert mappings["incident_types"] == ["incident"]  # not in the form: kept
    assert merged["jira"] == settings["jira"]


def test_clearing_an_optional_field_mapping_sets_it_to_none(data_dir: Path):
    settings = load_settings(data_dir)
    settings["mappings"]["story_points_field"] = "customfield_10016"
    merged = merge_mappings_form(settings, {"story_points_field": NO_FIELD}, sample_fields())
    assert merged["mappings"]["story_points_field"] is None


def test_type_table_moves_types_between_flow_types_other_and_not_flow(data_dir: Path):
    settings = load_settings(data_dir)
    merged = merge_mappings_form(
        settings,
        {"type_flows": {"Story": "Defect", "Epic": "Other", "Task": NOT_FLOW, "Spike": "Risk"}},
        sample_fields(),
    )
    mappings = merged["mappings"]
    assert mappings["flow_types"]["story"] == "Defect"
    assert "epic" not in mappings["non_flow_types"] and "epic" not in mappings["flow_types"]
    assert "task" in mappings["non_flow_types"] and "task" not in mappings["flow_types"]
    assert mappings["flow_types"]["spike"] == "Risk"
    with pytest.raises(SettingsFormError, match="not a flow type"):
        merge_mappings_form(settings, {"type_flows": {"Story": "Bogus"}}, sample_fields())


def test_status_table_saves_only_states_that_differ_from_the_category_default(data_dir: Path):
    settings = load_settings(data_dir)
    merged = merge_mappings_form(
        settings,
        {"status_states": {"In Review": "Waiting", "In Progress": "Active", "Done": "Done"}},
        sample_fields(),
        sample_project.statuses(),
    )
    assert merged["mappings"]["status_states"] == {"in review": "Waiting"}
    rows = {r["name"]: r for r in status_rows(sample_project.statuses(), merged["mappings"])}
    assert rows["In Review"]["state"] == "Waiting" and rows["In Review"]["default"] == "Active"
    assert rows["Blocked"]["state"] == "Waiting"  # default rule: "blocked" is a waiting word
    assert rows["To Do"]["state"] == "New" and rows["Closed"]["state"] == "Done"


def test_unknown_time_zone_is_refused_and_a_known_one_saved(data_dir: Path):
    settings = load_settings(data_dir)
    with pytest.raises(UserError):
        merge_mappings_form(settings, {"time_zone": "Mars/Olympus"}, sample_fields())
    assert merge_mappings_form(settings, {"time_zone": "Europe/Berlin"}, [])["time_zone"] == (
        "Europe/Berlin"
    )
    assert merge_mappings_form(settings, {"time_zone": " "}, [])["time_zone"] is None


def test_refused_mapping_form_leaves_the_saved_settings_file_untouched(data_dir: Path):
    save_settings(data_dir, load_settings(data_dir))
    before = settings_path(data_dir).read_bytes()
    with pytest.raises(SettingsFormError):
        save_mappings_form(data_dir, {"commit_date_field": "customfield_10050"})
    assert settings_path(data_dir).read_bytes() == before


def test_saved_mappings_survive_a_reload_and_come_with_warnings(data_dir: Path):
    result = save_mappings_form(
        data_dir, {"deployed_date_field": "customfield_10060", "incident_types": []}
    )
    reloaded = load_settings(data_dir)
    assert reloaded["mappings"]["deployed_date_field"] == "customfield_10060"
    assert reloaded["mappings"]["incident_types"] == []
    assert any(w["metric"] == "recovery_time" for w in result["warnings"])


def test_rework_labels_pattern_field_and_tier_year_are_saved_from_the_dialog(data_dir: Path):
    save_mappings_form(
        data_dir,
        {
            "rework_labels": "Hotfix, revert, ,hotfix",
            "hotfix_version_pattern": r"-hf\d+$",
            "rework_field": "customfield_10050",  # the sample's environment: an option field
            "tier_year": "2024",
        },
    )
    reloaded = load_settings(data_dir)
    assert reloaded["mappings"]["rework_labels"] == ["hotfix", "revert"]
    assert reloaded["mappings"]["hotfix_version_pattern"] == r"-hf\d+$"
    assert reloaded["mappings"]["rework_field"] == "customfield_10050"
    assert reloaded["tier_year"] == 2024


def test_bad_hotfix_pattern_or_tier_year_is_refused_and_nothing_saved(data_dir: Path):
    save_settings(data_dir, load_settings(data_dir))
    before = settings_path(data_dir).read_bytes()
    with pytest.raises(SettingsFormError, match=r"Hotfix version pattern '1\.4\(' is not a valid"):
        save_mappings_form(data_dir, {"hotfix_version_pattern": "1.4("})
    with pytest.raises(SettingsFormError, match="Unknown tier year '2019': use 2023 or 2024"):
        save_mappings_form(data_dir, {"tier_year": "2019"})
    with pytest.raises(SettingsFormError, match="Rework"):
        save_mappings_form(data_dir, {"rework_field": "customfield_10016"})  # a number field
    assert settings_path(data_dir).read_bytes() == before


# ----------------------------------------------------------------------------- warnings


def test_default_mappings_on_the_sample_project_lack_nothing():
    mappings = load_settings(Path(os.environ["FLOWDASH_DATA_DIR"]))["mappings"]
    types = ["Story", "Bug", "Task", "Epic", "Incident", "Deployment"]
    assert unavailable_metrics(mappings, sample_fields(), sample_project.statuses(), types) == []


def test_warnings_name_each_metric_the_mappings_cannot_compute_and_why(data_dir: Path):
    mappings = load_settings(data_dir)["mappings"]
    mappings.update(deployment_types=[], incident_types=[], production_impact_field=None)
    warned = {(w["metric"], w["reason"]) for w in unavailable_metrics(mappings)}
    assert ("deployment_frequency", "no issue type is mapped as a deployment") in warned
    assert ("recovery_time", "no incident types and no production-impact field are mapped") in (
        warned
    )
    assert any(metric == "change_failure_rate" for metric, _ in warned)
    assert not any(metric.startswith("flow_") for metric, _ in warned)


def test_fixversion_deployments_without_time_window_cannot_give_a_failure_rate(data_dir: Path):
    mappings = load_settings(data_dir)["mappings"]
    mappings.update(deployment_source="fixversions", failure_by_time_window=False)
    warned = unavailable_metrics(mappings)
    assert [w["metric"] for w in warned] == ["change_failure_rate"]
    assert "time window" in warned[0]["reason"]


def test_a_mapped_field_missing_from_jira_or_of_the_wrong_type_is_named(data_dir: Path):
    mappings = load_settings(data_dir)["mappings"]
    mappings.update(
        commit_date_field="customfield_404", incident_resolved_field="customfield_10016"
    )
    warned = unavailable_metrics(mappings, sample_fields())
    reasons = {w["metric"]: w["reason"] for w in warned}
    assert "customfield_404 does not exist" in reasons["lead_time_for_changes"]
    assert "Story Points" in reasons["recovery_time"] and "number" in reasons["recovery_time"]


def test_statuses_without_done_or_active_states_warn_about_flow_metrics(data_dir: Path):
    mappings = load_settings(data_dir)["mappings"]
    mappings["status_states"] = {s["name"].lower(): "New" for s in sample_project.statuses()}
    warned = {
        w["metric"] for w in unavailable_metrics(mappings, statuses=sample_project.statuses())
    }
    assert warned == {
        "flow_velocity",
        "flow_time",
        "flow_efficiency",
        "flow_distribution",
        "flow_load",
    }


def test_types_all_outside_the_flow_warn_about_every_flow_metric(data_dir: Path):
    mappings = load_settings(data_dir)["mappings"]
    warned = unavailable_metrics(mappings, issue_types=["Epic", "Deployment"])
    assert {w["metric"] for w in warned} == {
        "flow_velocity",
        "flow_time",
        "flow_efficiency",
        "flow_distribution",
        "flow_load",
    }


# ----------------------------------------------------------------------------- connection form


def test_connection_form_never_holds_the_token(data_dir: Path):
    settings = save_connection_form(data_dir, CONNECTION)
    values = connection_form_values(settings)
    assert TOKEN not in json.dumps(values)
    assert values["url"] == "https://example.atlassian.net"  # trailing slash dropped
    assert values["token_placeholder"].startswith("saved")


def test_saving_with_an_empty_token_field_keeps_the_saved_token(data_dir: Path):
    save_connection_form(data_dir, CONNECTION)
    save_connection_form(data_dir, {**CONNECTION, "token": "", "jql": "project = OPS"})
    saved = load_settings(data_dir)
    assert saved["jira"]["token"] == TOKEN
    assert saved["jira"]["jql"] == "project = OPS"


def test_saved_token_file_is_readable_by_its_owner_only(data_dir: Path):
    save_connection_form(data_dir, CONNECTION)
    assert stat.S_IMODE(settings_path(data_dir).stat().st_mode) == 0o600


def test_token_from_the_environment_is_announced_not_shown(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLOWDASH_JIRA_TOKEN", TOKEN)
    settings = save_connection_form(data_dir, {**CONNECTION, "token": ""})
    values = connection_form_values(settings)
    assert values["token_placeholder"].startswith("from $FLOWDASH_JIRA_TOKEN")
    assert TOKEN not in json.dumps(values)
    assert load_settings(data_dir)["jira"]["token"] == ""


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"url": "example.atlassian.net"}, "https://"),
        ({"url": "https://me:secret@example.atlassian.net"}, "credentials"),
        ({"url": "https://example.atlassian.net:84x3"}, "port that is not a number"),
        ({"email": ""}, "e-mail"),
        ({"jql": "  "}, "JQL is empty"),
        ({"auth": "kerberos"}, "basic or bearer"),
    ],
)
def test_bad_connection_form_is_refused_with_one_line_and_nothing_saved(
    data_dir: Path, change: dict, words: str
):
    with pytest.raises(SettingsFormError) as caught:
        save_connection_form(data_dir, {**CONNECTION, **change})
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert not settings_path(data_dir).exists()


def test_bearer_auth_needs_no_email_and_an_empty_url_means_the_sample(data_dir: Path):
    save_connection_form(data_dir, {**CONNECTION, "auth": "bearer", "email": ""})
    assert load_settings(data_dir)["jira"]["auth"] == "bearer"
    save_connection_form(data_dir, {"url": "", "auth": "basic", "email": "", "jql": ""})
    assert load_settings(data_dir)["jira"]["url"] == ""


# ----------------------------------------------------------------------------- mapping dialog


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dialog_without_jira_offers_the_sample_projects_fields_and_statuses(data_dir: Path):
    model = mapping_dialog_model(data_dir)
    deployed = choices(model["field_options"]["deployed_date_field"])
    assert deployed["customfield_10060"] is True and deployed["customfield_10016"] is False
    assert {r["name"] for r in model["statuses"]} >= {"To Do", "In Progress", "Blocked", "Done"}
    assert {"Story", "Bug", "Deployment", "Incident"} <= set(model["type_names"])
    assert "sample" in model["source_note"]
    assert model["warnings"] == []


def test_dialog_with_jira_unreachable_falls_back_to_known_fields(data_dir: Path):
    save_connection_form(data_dir, {**CONNECTION, "url": f"http://127.0.0.1:{closed_port()}"})
    model = mapping_dialog_model(data_dir)
    assert "JIRA did not answer" in model["source_note"]
    assert TOKEN not in json.dumps(model)


# ----------------------------------------------------------------------------- against JIRA


def jira_form(jira: JiraEmulator, token: str | None = None) -> dict[str, str]:
    return {
        "url": jira.url,
        "auth": "basic",
        "email": jira.email,
        "token": jira.token if token is None else token,
        "jql": "project = DEMO ORDER BY created",
    }


def test_check_connection_reports_title_flavor_user_and_matching_count(
    data_dir: Path, cloud_jira: JiraEmulator
):
    result = check_connection_form(data_dir, jira_form(cloud_jira))
    assert result["flavor"] == "cloud"
    assert result["matching_issues"] == cloud_jira.issue_count
    assert result["server_title"] and result["user"]
    assert not settings_path(data_dir).exists()  # testing saves nothing


def test_check_connection_with_a_wrong_token_says_so_without_the_token(
    data_dir: Path, dc_jira: JiraEmulator
):
    wrong = "NjE0OTk2ODU0MzI1Ont-wrong-personal-access-token"
    form = {**jira_form(dc_jira, wrong), "auth": "bearer", "email": ""}
    with pytest.raises(UserError) as caught:
        check_connection_form(data_dir, form)
    assert "credentials" in str(caught.value).lower()
    assert wrong not in str(caught.value)


def test_dialog_lists_come_from_jira_and_a_second_opening_costs_no_call(
    data_dir: Path, cloud_jira: JiraEmulator
):
    save_connection_form(data_dir, jira_form(cloud_jira))
    cloud_jira.reset_counters()
    first = mapping_dialog_model(data_dir)
    second = mapping_dialog_model(data_dir)
    assert first["source_note"] == "Fields and statuses from JIRA."
    assert choices(first["field_options"]["story_points_field"])["customfield_10016"] is True
    assert {r["name"] for r in first["statuses"]} >= {"To Do", "Done"}
    assert second["field_options"] == first["field_options"]
    assert cloud_jira.counters["by_path"].get("/rest/api/2/field") == 1


def test_saving_a_mapping_names_the_fields_jira_must_now_be_asked_for(
    data_dir: Path, cloud_jira: JiraEmulator
):
    save_connection_form(data_dir, jira_form(cloud_jira))
    states = save_mappings_form(data_dir, {"status_states": {"In Review": "Waiting"}})
    assert states["new_fields"] == []  # the cached issues serve: no fetch needed
    points = save_mappings_form(data_dir, {"story_points_field": "customfield_10016"})
    assert points["new_fields"] == ["customfield_10016"]
    again = save_mappings_form(data_dir, {"story_points_field": "customfield_10016"})
    assert again["new_fields"] == []


def test_without_jira_no_field_ever_needs_fetching(data_dir: Path):
    result = save_mappings_form(data_dir, {"story_points_field": "customfield_10016"})
    assert result["new_fields"] == []


def test_connection_form_saves_the_tls_check_choice_and_absent_keeps_it(tmp_path) -> None:
    from data.services.settings_service import connection_form_values, merge_connection_form

    form = {
        "url": "https://jira.example.net",
        "auth": "bearer",
        "email": "",
        "jql": "project = X",
        "verify_tls": False,
    }
    merged = merge_connection_form(default_settings(), form)
    assert merged["jira"]["verify_tls"] is False
    assert connection_form_values(merged)["verify_tls"] is False
    kept = merge_connection_form(merged, {**form, "verify_tls": None})
    assert kept["jira"]["verify_tls"] is False


def test_resolution_names_keep_jiras_casing_in_the_dialog(data_dir: Path):
    from data.services.settings_service import display_name

    assert display_name("won't fix") == "Won't Fix"
    assert display_name("cannot reproduce") == "Cannot Reproduce"
    labels = mapping_dialog_model(data_dir)["resolutions"]
    assert "Won't Fix" in labels and "Won'T Fix" not in labels


def test_unmapped_custom_fields_are_offered_for_the_mapping_their_name_suggests():
    from configuration.metric_defaults import default_mappings
    from data.jira.sample_project import fields
    from data.services.settings_service import field_offers

    offers = {o["key"]: o for o in field_offers(default_mappings(), fields())}
    assert offers["environment_field"]["field_id"] == "customfield_10050"
    assert offers["environment_field"]["metrics"] == [
        "Deployment frequency",
        "Change failure rate",
        "Lead time for changes",
    ]
    assert offers["deployed_date_field"]["field_name"] == "Deployed At"
    assert offers["story_points_field"]["metrics"] == ["Flow velocity"]
    # "Team" (text) and "Target Date" suggest no mapping; system fields are never offered
    assert set(offers) == {"environment_field", "deployed_date_field", "story_points_field"}


def test_a_mapped_field_or_mapping_is_not_offered_again():
    from configuration.metric_defaults import default_mappings
    from data.jira.sample_project import fields
    from data.services.settings_service import field_offers

    mappings = {**default_mappings(), "environment_field": "customfield_10050"}
    assert "environment_field" not in {o["key"] for o in field_offers(mappings, fields())}
    # the field is taken by another mapping: not offered for this one either
    taken = {
        **default_mappings(),
        "deployed_date_field": None,
        "commit_date_field": "customfield_10060",
    }
    assert "deployed_date_field" not in {o["key"] for o in field_offers(taken, fields())}
    # a field of a type the mapping cannot take is not offered (Environment as a number)
    numeric = [
        {**f, "schema": {"type": "number"}} if f["id"] == "customfield_10050" else f
        for f in fields()
    ]
    assert "environment_field" not in {o["key"] for o in field_offers(default_mappings(), numeric)}


def test_settings_file_with_a_wrong_tier_year_or_rework_labels_is_named_and_repaired() -> None:
    from configuration.settings import default_settings
    from configuration.settings_schema import repaired, settings_problems

    settings = default_settings()
    assert settings_problems(settings) == []
    settings["tier_year"] = 2019
    settings["mappings"]["rework_labels"] = "hotfix"
    problems = settings_problems(settings)
    assert [line.split(":")[0] for line in problems] == ["mappings.rework_labels", "tier_year"]
    fixed, _ = repaired(settings)
    assert fixed["tier_year"] == 2023
    assert fixed["mappings"]["rework_labels"] == ["hotfix", "rework", "rollback"]
