"""One normalized site URL for the settings, the client and the issue cache key."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.cache_manager import issue_cache_key
from data.jira_client import JiraSiteNotFoundError, normalize_site_url
from data.persistence import load_settings
from data.settings_service import save_connection_form
from data.site_url import safe_url, site_url

SPELLINGS = [
    "https://acme.atlassian.net",
    "https://ACME.Atlassian.net/",
    "  HTTPS://acme.atlassian.net//  ",
    "https://me:secret@acme.atlassian.net/#top",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_a_site_is_one_url_one_client_base_and_one_cache_key(spelling: str):
    assert site_url(spelling) == "https://acme.atlassian.net"
    assert normalize_site_url(spelling) == "https://acme.atlassian.net"
    fields = ["status"]
    assert issue_cache_key(spelling, "project = A", fields) == issue_cache_key(
        SPELLINGS[0], "project = A", fields
    )


def test_a_context_path_and_a_port_are_kept():
    assert site_url("https://Jira.Example.com:8443/jira/") == "https://jira.example.com:8443/jira"


def test_the_settings_save_the_url_in_the_same_form(data_dir: Path):
    form = {"url": "https://ACME.atlassian.net/", "auth": "bearer", "jql": "project = A"}
    save_connection_form(data_dir, form)
    assert load_settings(data_dir)["jira"]["url"] == "https://acme.atlassian.net"


def test_a_shown_url_never_holds_credentials():
    assert safe_url("https://me:s3cret@acme.atlassian.net/rest?x=1#f") == (
        "https://acme.atlassian.net/rest?x=1"
    )


def test_the_client_refuses_a_port_that_is_not_a_number():
    with pytest.raises(JiraSiteNotFoundError, match="is not valid"):
        normalize_site_url("https://acme.atlassian.net:84x3")
