"""Mappings pre-indexed: default state rules, categories, flow types, field values."""

from __future__ import annotations

import pytest

from configuration.metric_defaults import default_mappings
from data.engine.field_mapper import FieldMapper, default_state, mappings_hash, value_texts
from tests.issue_builder import issue, statuses


def mapper(mappings: dict | None = None, issues: list | None = None) -> FieldMapper:
    return FieldMapper(mappings or default_mappings(), statuses(), issues or [])


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("In Progress", "Active"),
        ("Threshold Check", "Active"),  # "threshold" is not "hold"
        ("Blocked", "Waiting"),
        ("On Hold", "Waiting"),
        ("On-Hold", "Waiting"),
        ("Waiting for customer", "Waiting"),
        ("Pending approval", "Waiting"),
        ("Ready for QA", "Waiting"),
        ("Already for QA", "Active"),  # the prefix must start the name
        ("Unblocked", "Active"),
        ("Holding pattern", "Active"),
    ],
)
def test_default_rule_for_in_progress_statuses_uses_whole_waiting_words(
    name: str, state: str
) -> None:
    assert default_state("indeterminate", name) == state


def test_categories_new_and_done_map_to_new_and_done_whatever_the_name() -> None:
    assert default_state("new", "Blocked backlog") == "New"
    assert default_state("done", "Ready for release") == "Done"


def test_status_category_comes_from_the_status_list_by_id_then_by_name() -> None:
    m = mapper()
    assert m.state("9", "Renamed") == "Done"  # id 9 is Done in the list
    assert m.state("999", "in progress") == "Active"  # unknown id, known name (any case)
    assert m.unknown_statuses == set()


def test_unknown_status_takes_an_issue_category_else_counts_as_in_progress() -> None:
    shipped = issue(
        "D-1",
        "Story",
        created="2024-01-01T00:00:00.000+0000",
        status="Shipped",
        category_of_unknown="done",
    )
    m = mapper(issues=[shipped])
    assert m.state(None, "Shipped") == "Done"
    assert m.state(None, "Triage") == "Active"
    assert m.unknown_statuses == {"Triage"}


def test_explicit_status_mapping_wins_over_the_category_rule() -> None:
    m = mapper({**default_mappings(), "status_states": {"in review": "Waiting"}})
    assert m.state("4", "In Review") == "Waiting"


def test_flow_types_by_type_and_label_with_labels_winning() -> None:
    m = mapper()
    assert m.flow_type("story", ()) == "Feature"
    assert m.flow_type("bug", ()) == "Defect"
    assert m.flow_type("story", ("ux", "tech-debt")) == "Debt"
    assert m.flow_type("epic", ()) is None
    assert m.flow_type("deployment", ()) is None
    assert m.flow_type("spike", ()) == "Other"


def test_canceled_needs_a_done_state_and_a_canceling_resolution() -> None:
    m = mapper()
    assert m.is_canceled("Done", "won't do")
    assert not m.is_canceled("Done", "done")
    assert not m.is_canceled("Active", "duplicate")


def test_field_value_texts_cover_strings_options_lists_and_booleans() -> None:
    assert value_texts("prod") == ["prod"]
    assert value_texts({"value": "Production", "id": "1"}) == ["Production"]
    assert value_texts([{"name": "a"}, "b"]) == ["a", "b"]
    assert value_texts(False) == ["false"]
    assert value_texts(None) == []
    assert value_texts(3) == []


def test_environment_success_impact_and_points_fields() -> None:
    m = mapper(
        {
            **default_mappings(),
            "environment_field": "customfield_env",
            "deployment_success_field": "customfield_ok",
            "production_impact_field": "customfield_impact",
            "story_points_field": "customfield_sp",
        }
    )
    assert m.is_production({"customfield_env": {"value": "PROD"}})
    assert not m.is_production({"customfield_env": None})
    assert not m.is_production({"customfield_env": "staging"})
    assert m.success_failed({"customfield_ok": False})
    assert m.success_failed({"customfield_ok": {"value": "Unsuccessful"}})
    assert not m.success_failed({"customfield_ok": "succeeded"})
    assert m.production_impact({"customfield_impact": [{"value": "Yes"}]})
    assert not m.production_impact({"customfield_impact": "no"})
    assert m.story_points({"customfield_sp": 3}) == 3.0
    assert m.story_points({"customfield_sp": "3"}) is None
    assert m.story_points({"customfield_sp": True}) is None


def test_without_an_environment_field_every_deployment_is_production() -> None:
    assert mapper().is_production({})


def test_mappings_hash_is_stable_and_changes_with_any_mapping() -> None:
    base = default_mappings()
    assert mappings_hash(base) == mappings_hash(default_mappings())
    assert mappings_hash(base) != mappings_hash({**base, "failure_by_time_window": False})
