"""The workspace store: names, folders, atomic registry writes, duplicate, rename, delete."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from configuration.settings import default_settings
from data.services.workspace_views import workspace_action, workspaces_for_cli
from data.storage import workspaces as store
from data.storage.persistence import load_settings, save_settings


def test_a_data_directory_without_a_registry_is_the_one_default_workspace(data_dir):
    (only,) = store.list_workspaces(data_dir)
    assert (only.slug, only.name, only.root, only.current) == ("default", "Default", data_dir, True)
    assert store.active_root(data_dir) == data_dir
    assert not store.registry_path(data_dir).exists()  # reading writes nothing


def test_created_workspaces_get_their_own_folder_and_are_found_by_name_or_slug(data_dir):
    made = store.create_workspace(data_dir, "  Team  Ähre ")
    assert made.name == "Team Ähre"
    assert made.root == data_dir / "workspaces" / "team-ahre"
    assert made.root.is_dir() and (made.root.stat().st_mode & 0o777) == 0o700
    assert store.find_workspace(data_dir, "TEAM ÄHRE") == made
    assert store.find_workspace(data_dir, "team-ahre") == made
    assert [w.name for w in store.list_workspaces(data_dir)] == ["Default", "Team Ähre"]


def test_names_must_be_new_non_empty_and_short(data_dir):
    store.create_workspace(data_dir, "Payments")
    with pytest.raises(store.WorkspaceError, match="exists already"):
        store.create_workspace(data_dir, "payments")
    with pytest.raises(store.WorkspaceError, match="Give the workspace a name"):
        store.create_workspace(data_dir, "   ")
    with pytest.raises(store.WorkspaceError, match="at most 60"):
        store.create_workspace(data_dir, "x" * 61)
    with pytest.raises(store.WorkspaceError, match=r"No workspace called 'Nope'.*Payments"):
        store.find_workspace(data_dir, "Nope")


def test_two_names_with_the_same_slug_get_two_folders(data_dir):
    first = store.create_workspace(data_dir, "Team A")
    second = store.create_workspace(data_dir, "team-a!")
    assert (first.root.name, second.root.name) == ("team-a", "team-a-2")


def test_a_workspace_named_default_does_not_take_the_data_directory(data_dir):
    store.rename_workspace(data_dir, "default", "Platform")
    made = store.create_workspace(data_dir, "Default")
    assert made.slug == "default-2" and made.root != data_dir


def test_a_failed_registry_write_leaves_the_previous_registry_and_no_temporary_file(
    data_dir, monkeypatch
):
    store.create_workspace(data_dir, "Kept")
    before = store.registry_path(data_dir).read_bytes()

    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        store.rename_workspace(data_dir, "Kept", "Lost")
    monkeypatch.undo()
    assert store.registry_path(data_dir).read_bytes() == before
    assert [p.name for p in data_dir.iterdir() if p.name.endswith(".tmp")] == []
    assert store.find_workspace(data_dir, "Kept").name == "Kept"


def test_the_registry_is_private_and_a_damaged_one_says_what_to_do(data_dir):
    store.create_workspace(data_dir, "A")
    assert (store.registry_path(data_dir).stat().st_mode & 0o777) == 0o600
    store.registry_path(data_dir).write_text("{not json")
    with pytest.raises(store.WorkspaceError, match="not valid JSON; fix it or delete it"):
        store.list_workspaces(data_dir)


def test_switching_changes_the_active_root_and_survives_a_new_process(data_dir):
    made = store.create_workspace(data_dir, "B")
    store.switch_workspace(data_dir, "b")
    assert store.active_root(data_dir) == made.root
    saved = orjson.loads(store.registry_path(data_dir).read_bytes())
    assert saved["current"] == "b"


def test_each_workspace_keeps_its_own_settings(data_dir):
    other = store.create_workspace(data_dir, "Other")
    settings = default_settings()
    settings["time_zone"] = "Asia/Tokyo"
    save_settings(other.root, settings)
    assert load_settings(other.root)["time_zone"] == "Asia/Tokyo"
    assert load_settings(data_dir)["time_zone"] != "Asia/Tokyo"


def test_duplicate_copies_settings_and_cache_but_not_locks_or_temporary_files(data_dir):
    settings = default_settings()
    settings["time_zone"] = "Europe/Oslo"
    save_settings(data_dir, settings)
    cache = data_dir / "cache"
    (cache / "tables").mkdir(parents=True)
    (cache / "issues-abc.json").write_bytes(b'{"issues": []}')
    (cache / "tables" / "issues-abc.npz").write_bytes(b"table")
    (cache / "fetch.lock").write_bytes(b"")
    (cache / ".issues-abc.json.123-x.tmp").write_bytes(b"half")
    copy = store.duplicate_workspace(data_dir, "default", "Default copy")
    assert load_settings(copy.root)["time_zone"] == "Europe/Oslo"
    assert ((copy.root / "settings.json").stat().st_mode & 0o777) == 0o600
    assert (copy.root / "cache" / "issues-abc.json").read_bytes() == b'{"issues": []}'
    assert (copy.root / "cache" / "tables" / "issues-abc.npz").read_bytes() == b"table"
    assert not (copy.root / "cache" / "fetch.lock").exists()
    assert not list((copy.root / "cache").glob(".*.tmp"))


def test_rename_keeps_the_folder(data_dir):
    made = store.create_workspace(data_dir, "Old name")
    renamed = store.rename_workspace(data_dir, "old name", "New name")
    assert renamed.root == made.root and renamed.name == "New name"
    with pytest.raises(store.WorkspaceError):
        store.find_workspace(data_dir, "Old name")


def test_delete_removes_the_folder_and_falls_back_to_default_when_it_was_shown(data_dir):
    made = store.create_workspace(data_dir, "Gone")
    (made.root / "cache").mkdir()
    (made.root / "cache" / "issues-x.json").write_bytes(b"{}")
    store.switch_workspace(data_dir, "gone")
    store.delete_workspace(data_dir, "gone")
    assert not made.root.exists()
    assert not list((data_dir / "workspaces").iterdir())  # no trash left behind
    assert store.active_root(data_dir) == data_dir
    with pytest.raises(store.WorkspaceError, match="cannot be deleted"):
        store.delete_workspace(data_dir, "default")


def test_the_listing_shows_each_workspace_its_source_and_last_update(data_dir):
    store.create_workspace(data_dir, "Mobile")
    settings = default_settings()
    settings["jira"].update(url="https://example.atlassian.net", jql="project = MOB")
    save_settings(store.find_workspace(data_dir, "mobile").root, settings)
    text = workspaces_for_cli(data_dir)
    assert text.splitlines() == [
        "* Default  sample project  (never updated)",
        "  Mobile   https://example.atlassian.net · project = MOB  (0 issues, never updated)",
    ]
    rows = orjson.loads(workspaces_for_cli(data_dir, "json"))
    assert [(r["slug"], r["current"], r["updated"]) for r in rows] == [
        ("default", True, None),
        ("mobile", False, None),
    ]


def test_a_refused_action_changes_nothing_and_says_why(data_dir):
    result = workspace_action(data_dir, "create", None, "")
    assert result["error"] == "Give the workspace a name."
    assert [row["slug"] for row in result["workspaces"]] == ["default"]
    made = workspace_action(data_dir, "create", None, "Web")
    assert made["error"] is None and made["current"] == "web"
    assert "Created Web" in made["message"]


def test_settings_of_an_unreadable_workspace_do_not_break_the_listing(data_dir: Path):
    made = store.create_workspace(data_dir, "Broken")
    (made.root / "settings.json").write_text("[not an object")
    rows = orjson.loads(workspaces_for_cli(data_dir, "json"))
    assert rows[1]["source"] == "unreadable settings"


def jira_settings(url: str, token: str = "") -> dict:
    settings = default_settings()
    settings["jira"].update(url=url, email="me@example.com", jql="project = A", token=token)
    if token:
        settings["jira"]["token_for"] = {"url": url, "auth": "basic"}
    return settings


SITE = "https://acme.atlassian.net"
SECRET = "ATATT-shared-token-0042"


def test_workspaces_on_the_same_site_share_the_token_saved_once(data_dir):
    save_settings(data_dir, jira_settings(SITE, SECRET))
    other = store.create_workspace(data_dir, "Other team")
    save_settings(other.root, jira_settings(SITE + "/"))
    assert load_settings(other.root)["jira"]["token"] == SECRET
    save_settings(other.root, load_settings(other.root))  # a save from the page
    assert SECRET not in (other.root / "settings.json").read_text()  # stored once
    assert load_settings(other.root)["jira"]["token"] == SECRET

    elsewhere = store.create_workspace(data_dir, "Elsewhere")
    save_settings(elsewhere.root, jira_settings("https://evil.example.net"))
    assert load_settings(elsewhere.root)["jira"]["token"] == ""  # bound to its site
    bearer = jira_settings(SITE)
    bearer["jira"]["auth"] = "bearer"
    save_settings(elsewhere.root, bearer)
    assert load_settings(elsewhere.root)["jira"]["token"] == ""  # and to its auth type


def test_a_duplicate_shares_the_token_instead_of_copying_it(data_dir):
    save_settings(data_dir, jira_settings(SITE, SECRET))
    copy = store.duplicate_workspace(data_dir, "default", "Copy")
    assert SECRET not in (copy.root / "settings.json").read_text()
    assert load_settings(copy.root)["jira"]["token"] == SECRET


def test_deleting_the_workspace_holding_the_token_hands_it_to_one_that_uses_it(data_dir):
    holder = store.create_workspace(data_dir, "Holder")
    save_settings(holder.root, jira_settings(SITE, SECRET))
    user = store.create_workspace(data_dir, "User")
    save_settings(user.root, jira_settings(SITE))
    store.delete_workspace(data_dir, "holder")
    assert SECRET in (user.root / "settings.json").read_text()
    assert load_settings(user.root)["jira"]["token"] == SECRET
    assert load_settings(data_dir)["jira"]["token"] == ""  # the sample default has none
