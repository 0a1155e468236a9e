"""One normalized site URL for the settings, the client and the issue cache key."""

from __future__ import annotations

from pathlib import Path

import pytest

from configuration.settings import token_fits
from configuration.site_url import safe_url, site_url
from data.jira.jira_client import JiraSiteNotFoundError, normalize_site_url
from data.rate_limiter import site_key
from data.services.settings_service import save_connection_form
from data.storage.cache_manager import issue_cache_key
from data.storage.persistence import load_settings

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


def test_a_default_port_is_the_same_site_for_the_cache_key_the_limiter_and_the_saved_token():
    plain, with_port = "https://acme.atlassian.net", "HTTPS://acme.atlassian.net:443/"
    assert site_url(with_port) == plain
    assert site_url("http://jira.example.com:80/jira/") == "http://jira.example.com/jira"
    assert issue_cache_key(with_port, "project = A", ["status"]) == issue_cache_key(
        plain, "project = A", ["status"]
    )
    assert site_key(with_port) == site_key(plain)
    jira = {"url": plain, "auth": "bearer", "token_for": {"url": plain, "auth": "bearer"}}
    assert token_fits(jira, with_port, "bearer")
    assert not token_fits(jira, "https://acme.atlassian.net:8443", "bearer")


def test_a_site_url_drops_its_query_a_shown_url_keeps_it():
    assert site_url("https://acme.atlassian.net/jira/?x=1#top") == "https://acme.atlassian.net/jira"
    assert safe_url("https://acme.atlassian.net/jira/?x=1#top") == (
        "https://acme.atlassian.net/jira/?x=1"
    )
