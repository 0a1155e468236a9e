"""Export and import of a workspace: settings and mappings travel, the token never, data only
when asked; bad files and name conflicts are refused with a message and change nothing."""

from __future__ import annotations

import base64

import orjson
import pytest

from configuration.settings import default_settings
from data.services.workspace_views import import_action
from data.storage import workspaces as store
from data.storage.persistence import load_settings, save_settings
from data.storage.workspace_transfer import export_workspace, import_upload, import_workspace

SECRET = "ATATT-export-never-0007"
SITE = "https://acme.atlassian.net"


@pytest.fixture
def configured(data_dir):
    settings = default_settings()
    settings["jira"].update(url=SITE, email="me@acme.com", jql="project = ACME", token=SECRET)
    settings["jira"]["token_for"] = {"url": SITE, "auth": "basic"}
    settings["mappings"]["deployment_source"] = "fixversions"
    save_settings(data_dir, settings)
    cache = data_dir / "cache"
    cache.mkdir()
    (cache / "issues-0123abcd.json").write_bytes(b'{"meta": {}, "issues": []}')
    return data_dir


def test_the_export_holds_settings_and_mappings_but_never_the_token(configured):
    payload = export_workspace(configured, "default")
    assert SECRET.encode() not in payload
    document = orjson.loads(payload)
    assert (document["kind"], document["format"], document["name"]) == (
        "flowdash-workspace",
        1,
        "Default",
    )
    assert document["settings"]["jira"]["jql"] == "project = ACME"
    assert "token" not in document["settings"]["jira"]
    assert document["settings"]["mappings"]["deployment_source"] == "fixversions"
    assert "data" not in document
    with_data = orjson.loads(export_workspace(configured, "default", with_data=True))
    assert base64.b64decode(with_data["data"]["issues-0123abcd.json"]) == (
        b'{"meta": {}, "issues": []}'
    )


def test_an_import_recreates_the_workspace_with_its_data_and_shares_the_sites_token(
    configured,
):
    payload = export_workspace(configured, "default", with_data=True)
    made = import_workspace(configured, payload, name="Imported")
    settings = load_settings(made.root)
    assert settings["mappings"]["deployment_source"] == "fixversions"
    assert settings["jira"]["token"] == SECRET  # shared from the default workspace's site
    assert SECRET not in (made.root / "settings.json").read_text()
    cached = made.root / "cache" / "issues-0123abcd.json"
    assert cached.read_bytes() == b'{"meta": {}, "issues": []}'
    assert (cached.stat().st_mode & 0o777) == 0o600


def test_a_name_that_exists_is_refused_and_nothing_is_created(configured):
    payload = export_workspace(configured, "default")
    with pytest.raises(store.WorkspaceError, match=r"exists already\. Import it under another"):
        import_workspace(configured, payload)
    assert [w.slug for w in store.list_workspaces(configured)] == ["default"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "is not a JSON file"),
        (b"[1, 2]", "is not a flowdash workspace"),
        (b'{"kind": "flowdash-workspace", "format": 9, "settings": {}}', "format 9"),
        (b'{"kind": "flowdash-workspace", "format": 1, "name": "X"}', "holds no settings"),
        (
            b'{"kind": "flowdash-workspace", "format": 1, "name": "X",'
            b' "settings": {"rate_limit": {"requests": "many"}}}',
            "invalid settings: rate_limit.requests",
        ),
        (
            b'{"kind": "flowdash-workspace", "format": 1, "name": "X", "settings": {},'
            b' "data": {"../../etc/passwd": "eA=="}}',
            "cannot read",
        ),
        (
            b'{"kind": "flowdash-workspace", "format": 1, "name": "X", "settings": {},'
            b' "data": {"issues-0123abcd.json": "%%%"}}',
            "damaged data",
        ),
        (b'{"kind": "flowdash-workspace", "format": 1, "settings": {}}', "names no workspace"),
    ],
)
def test_bad_files_are_refused_with_a_message_and_change_nothing(data_dir, payload, message):
    with pytest.raises(store.WorkspaceError, match=message):
        import_workspace(data_dir, payload, source="team.json")
    assert [w.slug for w in store.list_workspaces(data_dir)] == ["default"]
    assert not (data_dir / "workspaces").exists() or not list((data_dir / "workspaces").iterdir())


def test_a_token_in_an_imported_file_is_ignored(data_dir):
    document = {
        "kind": "flowdash-workspace",
        "format": 1,
        "name": "Sneaky",
        "settings": {"jira": {"url": SITE, "token": SECRET, "token_for": {"url": SITE}}},
    }
    made = import_workspace(data_dir, orjson.dumps(document))
    assert SECRET not in (made.root / "settings.json").read_text()
    assert load_settings(made.root)["jira"]["token"] == ""


def test_the_page_upload_is_decoded_and_a_refusal_names_the_file(configured):
    payload = export_workspace(configured, "default")
    contents = "data:application/json;base64," + base64.b64encode(payload).decode()
    with pytest.raises(store.WorkspaceError, match="Choose a workspace file"):
        import_upload(configured, None, None)
    refused = import_action(configured, contents, "team.json")
    assert refused["error"].startswith("A workspace called 'Default' exists already")
    broken = import_action(configured, "data:application/json;base64,bm90IGpzb24=", "x.json")
    assert broken["error"] == "x.json is not a JSON file."
