"""Issue 10.4: settings are checked against a schema on load; a broken file can be repaired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from configuration.settings import default_settings, settings_path
from data.services.settings_service import panel_model, save_connection_form
from data.storage.persistence import SettingsError, load_settings, load_settings_for_repair

BROKEN = [
    ({"jira": "oops"}, "jira:"),
    ({"rate_limit": {"requests": "many"}}, "rate_limit.requests:"),
    ({"mappings": {"flow_types": "x"}}, "mappings.flow_types:"),
    ({"mappings": {"deployment_types": "deployment"}}, "mappings.deployment_types:"),
    ({"server": {"port": "eighty"}}, "server.port:"),
    ({"jira": {"auth": "kerberos"}}, "jira.auth:"),
    ({"logging": {"max_bytes": -1}}, "logging.max_bytes:"),
    ({"mappings": {"status_states": {"In Progress": 5}}}, "mappings.status_states.In Progress:"),
    ({"mappings": {"flagged_field": ["customfield_10021"]}}, "mappings.flagged_field:"),
    ({"analytics": {"sle_percent": 300}}, "analytics.sle_percent:"),
    ({"analytics": {"sle_days": -2}}, "analytics.sle_days:"),
]


def write(root: Path, saved: dict) -> None:
    settings_path(root).write_text(json.dumps(saved))


@pytest.mark.parametrize("saved,key", BROKEN, ids=[key for _, key in BROKEN])
def test_a_wrong_type_is_one_line_naming_the_key(data_dir: Path, saved: dict, key: str) -> None:
    write(data_dir, saved)
    with pytest.raises(SettingsError) as caught:
        load_settings(data_dir)
    message = str(caught.value)
    assert key in message and "\n" not in message
    assert str(settings_path(data_dir)) in message


def test_valid_and_unknown_keys_load(data_dir: Path) -> None:
    write(data_dir, {"rate_limit": {"requests": 10}, "future_feature": {"x": 1}})
    settings = load_settings(data_dir)
    assert settings["rate_limit"]["requests"] == 10
    assert settings["future_feature"] == {"x": 1}


def test_repair_resets_only_the_wrong_keys(data_dir: Path) -> None:
    write(data_dir, {"rate_limit": {"requests": "many", "workers": 2}, "jira": {"jql": "a = 1"}})
    settings, problems = load_settings_for_repair(data_dir)
    assert len(problems) == 1 and problems[0].startswith("rate_limit.requests:")
    assert settings["rate_limit"]["requests"] == default_settings()["rate_limit"]["requests"]
    assert settings["rate_limit"]["workers"] == 2
    assert settings["jira"]["jql"] == "a = 1"


def test_the_settings_panel_opens_on_a_broken_file_and_says_why(data_dir: Path) -> None:
    write(data_dir, {"mappings": {"deployment_types": "deployment"}, "jira": {"jql": "p = 1"}})
    model = panel_model(data_dir)
    assert "mappings.deployment_types" in model["problem"]
    assert model["form"]["jql"] == "p = 1"


def test_saving_the_panel_repairs_the_file_and_keeps_the_old_one(data_dir: Path) -> None:
    broken = {"jira": "oops", "rate_limit": {"workers": 3}}
    write(data_dir, broken)
    save_connection_form(data_dir, {"url": "", "auth": "basic", "email": "", "jql": ""})
    assert load_settings(data_dir)["rate_limit"]["workers"] == 3
    kept = settings_path(data_dir).with_name("settings.json.invalid")
    assert json.loads(kept.read_text()) == broken
