"""The JIRA client against the emulator: flavors, paging, changelogs, waits and every error."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime

import pytest

from data.jira.fetcher import incremental_jql
from data.jira.jira_client import (
    CLOUD,
    DATACENTER,
    JiraAuthError,
    JiraCancelled,
    JiraClient,
    JiraEndpointGoneError,
    JiraQueryError,
    JiraRateLimitedError,
    JiraServerError,
    JiraSiteNotFoundError,
    JiraTimeoutError,
    JiraTLSError,
    strip_order_by,
)
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import cloud_jira, dc_jira  # noqa: F401 - fixtures
from ui.settings_panel import VERIFY_TLS_LABEL

FAST = {"requests": 1000, "per_seconds": 1, "burst": 1000, "max_attempts": 3,
        "max_backoff_seconds": 0.05, "workers": 4}  # fmt: skip
FIELDS = ["status", "created", "updated", "issuetype"]


def client_for(emulator: JiraEmulator, **overrides) -> JiraClient:
    """A client with the emulator's own credentials in its flavor's auth style."""
    auth = "basic" if emulator.flavor == "cloud" else "bearer"
    options = {"rate_limit": FAST, "timeout": 10, **overrides}
    return JiraClient(emulator.url, auth, emulator.email, emulator.token, **options)


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest):
    """A 250-issue emulator of each flavor."""
    with JiraEmulator(flavor=request.param, issues=250, seed=7) as emulator:
        yield emulator


def all_issues(emulator: JiraEmulator) -> list[dict]:
    """The emulator's own issues (full changelogs): the truth a fetch is compared with."""
    return [emulator.issue(key) for key in emulator.issue_keys()]


def history_ids(issue: dict) -> list[str]:
    return sorted(h["id"] for h in issue["changelog"]["histories"])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_flavor_comes_from_server_info(jira):
    client = client_for(jira)
    assert client.flavor == (CLOUD if jira.flavor == "cloud" else DATACENTER)


def test_test_connection_reports_site_user_zone_and_count(jira):
    result = client_for(jira).test_connection(f"project = {jira.jql_project} ORDER BY key")
    assert result["flavor"] == (CLOUD if jira.flavor == "cloud" else DATACENTER)
    assert result["server_title"]
    assert result["user"]
    assert result["time_zone"] == jira.user_time_zone
    assert result["matching_issues"] == 250


def test_search_pages_deliver_every_issue_exactly_once_with_complete_changelogs(jira):
    client = client_for(jira)
    pages: list[list[dict]] = []
    outcome = client.search(
        f"project = {jira.jql_project}", FIELDS, expand_changelog=True, on_page=pages.append
    )
    keys = [issue["key"] for page in pages for issue in page]
    assert len(keys) == len(set(keys)) == 250 == outcome.issues
    assert outcome.pages == len(pages) > 1
    assert outcome.server_date is not None
    truth = {issue["key"]: issue for issue in all_issues(jira)}
    assert set(keys) == set(truth)
    for issue in (issue for page in pages for issue in page):
        assert history_ids(issue) == history_ids(truth[issue["key"]])
        assert set(issue["fields"]) <= set(FIELDS)


def test_cloud_truncated_changelogs_are_completed_from_the_changelog_endpoint(cloud_jira):  # noqa: F811
    long_keys = cloud_jira.issue_keys()[:5]
    cloud_jira.lengthen_changelogs(long_keys, 150)
    client = client_for(cloud_jira)
    cloud_jira.reset_counters()
    pages: list[list[dict]] = []
    client.search(f"project = {cloud_jira.jql_project}", FIELDS, expand_changelog=True,
                  on_page=pages.append)  # fmt: skip
    got = {i["key"]: i for page in pages for i in page}
    for key in long_keys:
        truth = cloud_jira.issue(key)["changelog"]["histories"]
        assert len(truth) > 150
        assert history_ids(got[key]) == sorted(h["id"] for h in truth)
        assert got[key]["changelog"]["total"] == len(truth)
    changelog_calls = sum(
        n for path, n in cloud_jira.counters["by_path"].items() if path.endswith("/changelog")
    )
    assert changelog_calls == 5 * 2  # 150+ histories: two pages of at most 100 each
    assert client.stats.changelogs == 5


def test_data_center_pages_follow_the_max_results_the_server_echoes(dc_jira):  # noqa: F811
    client = client_for(dc_jira)
    dc_jira.reset_counters()
    outcome = client.search(f"project = {dc_jira.jql_project}", FIELDS, page_size=1000)
    cap = dc_jira.max_results_cap
    assert outcome.total == dc_jira.issue_count
    assert outcome.pages == -(-dc_jira.issue_count // cap)


def test_list_keys_and_count_cost_few_calls(jira):
    client = client_for(jira)
    jira.reset_counters()
    keys = client.list_keys(f"project = {jira.jql_project}")
    assert sorted(keys) == sorted(i["key"] for i in all_issues(jira))
    assert client.count_matching(f"project = {jira.jql_project}") == 250


def test_wrong_token_says_wrong_credentials_and_never_shows_the_token(jira):
    auth = "basic" if jira.flavor == "cloud" else "bearer"
    secret = "wrong-" + jira.token
    client = JiraClient(jira.url, auth, jira.email, secret, rate_limit=FAST)
    with pytest.raises(JiraAuthError) as caught:
        client.myself()
    assert "Wrong credentials" in str(caught.value)
    assert secret not in str(caught.value)


def test_bad_jql_carries_jiras_own_message(jira):
    client = client_for(jira)
    with pytest.raises(JiraQueryError) as caught:
        client.search("project = = nonsense(", FIELDS)
    assert "JQL" in str(caught.value)
    assert "JIRA says:" in str(caught.value)


def test_closed_port_is_site_not_found():
    client = JiraClient(f"http://127.0.0.1:{closed_port()}", "bearer", token="t0ken-xyz",
                        rate_limit=FAST)  # fmt: skip
    with pytest.raises(JiraSiteNotFoundError, match="nothing answers"):
        client.server_info()


def test_unresolvable_host_is_site_not_found():
    client = JiraClient("https://nonexistent.invalid", "bearer", token="t0ken-xyz",
                        rate_limit=FAST)  # fmt: skip
    with pytest.raises(JiraSiteNotFoundError, match="does not resolve"):
        client.server_info()


def test_a_url_that_is_not_a_url_is_refused_before_any_request():
    with pytest.raises(JiraSiteNotFoundError, match="not valid"):
        JiraClient("acme.atlassian.net", "bearer", token="t0ken-xyz")


def test_cloud_old_search_endpoint_answers_gone(cloud_jira):  # noqa: F811
    client = client_for(cloud_jira)
    client.flavor = DATACENTER  # a client that believes the site still has /rest/api/2/search
    with pytest.raises(JiraEndpointGoneError, match="410"):
        client.search(f"project = {cloud_jira.jql_project}", FIELDS)


def test_https_to_a_plain_http_site_is_a_tls_error(dc_jira):  # noqa: F811
    url = dc_jira.url.replace("http://", "https://")
    client = JiraClient(url, "bearer", token=dc_jira.token, rate_limit=FAST)
    with pytest.raises(JiraTLSError, match="TLS error") as caught:
        client.server_info()
    assert VERIFY_TLS_LABEL in str(caught.value)  # the page's checkbox that fixes it
    assert "jira.verify_tls" in str(caught.value)


def test_slow_answers_time_out_after_the_retries(dc_jira):  # noqa: F811
    client = client_for(dc_jira, timeout=0.3, rate_limit={**FAST, "max_attempts": 2})
    dc_jira.set_faults(slow_seconds=1.0)
    with pytest.raises(JiraTimeoutError, match=r"did not answer within 0\.3 s"):
        client.myself()
    assert client.stats.retries == 1


def test_a_429_waits_for_retry_after_announces_it_and_succeeds():
    with JiraEmulator(flavor="cloud", issues=20, rate_limit=(3, 2.0)) as emulator:
        waits: list[tuple[float, str]] = []
        client = client_for(emulator, rate_limit={**FAST, "max_attempts": 6},
                            on_wait=lambda s, why: waits.append((s, why)))  # fmt: skip
        for _ in range(6):
            client.myself()
        assert emulator.counters["by_status"].get(429, 0) >= 1
        assert any(why == "rate limited" and seconds >= 0 for seconds, why in waits)
        assert client.stats.retries >= 1


def test_persistent_429_says_rate_limited():
    with JiraEmulator(flavor="datacenter", issues=20, rate_limit=(1, 30.0)) as emulator:
        client = client_for(emulator, rate_limit={**FAST, "max_attempts": 1})
        client.myself()
        with pytest.raises(JiraRateLimitedError, match="rate limiting"):
            client.myself()


def test_503_bursts_are_retried(jira):
    client = client_for(jira)
    jira.set_faults(error_503_every=2)
    pages: list[list[dict]] = []
    client.search(f"project = {jira.jql_project}", FIELDS, on_page=pages.append)
    assert sum(len(p) for p in pages) == 250
    assert client.stats.retries >= 1


def test_a_broken_json_page_is_asked_again(jira):
    client = client_for(jira)
    jira.set_faults(malformed_json_on=3)
    pages: list[list[dict]] = []
    client.search(f"project = {jira.jql_project}", FIELDS, on_page=pages.append)
    assert sum(len(p) for p in pages) == 250


def test_json_that_never_comes_right_fails_clearly(dc_jira):  # noqa: F811
    client = client_for(dc_jira, rate_limit={**FAST, "max_attempts": 2})
    dc_jira.set_faults(malformed_json_on=lambda request: True)
    with pytest.raises(JiraServerError, match="not valid JSON"):
        client.myself()


def test_a_cancel_stops_the_next_request(dc_jira):  # noqa: F811
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JiraCancelled):
        client_for(dc_jira, cancel_event=cancel).myself()


def test_every_request_is_logged_without_the_token(jira, caplog):
    caplog.set_level(logging.INFO)
    client = client_for(jira)
    client.search(f"project = {jira.jql_project}", FIELDS)
    records = [r for r in caplog.records if getattr(r, "operation", "") == "jira_request"]
    assert records
    for record in records:
        assert record.method in ("GET", "POST")
        assert record.url.startswith(jira.url)
        assert isinstance(record.http_status, int)
        assert record.attempt >= 1
        assert record.bytes > 0
        assert record.duration_ms >= 0
    searches = [r for r in records if "search" in r.url]
    assert all(getattr(r, "jql", None) for r in searches)
    assert jira.token not in caplog.text


@pytest.mark.parametrize(
    "jql, expected",
    [
        ("project = DEMO ORDER BY created DESC", "project = DEMO"),
        ("project = DEMO order by key", "project = DEMO"),
        ('summary ~ "ORDER BY" AND project = DEMO', 'summary ~ "ORDER BY" AND project = DEMO'),
        ("  project = DEMO  ", "project = DEMO"),
        ("ORDER BY created", ""),
        ("project = DEMO order  by created", "project = DEMO"),
        ("project = DEMO\nORDER\n  BY created DESC", "project = DEMO"),
        ("project = DEMO ORDER\tBY key", "project = DEMO"),
        (r'summary ~ "say \"hi\" ORDER BY x" ORDER BY key', r'summary ~ "say \"hi\" ORDER BY x"'),
        (r"summary ~ 'it\'s ORDER BY' order by key", r"summary ~ 'it\'s ORDER BY'"),
        ("reorder_by = 1 AND project = DEMO", "reorder_by = 1 AND project = DEMO"),
        ("project = DEMO AND summary ~ orderly", "project = DEMO AND summary ~ orderly"),
    ],
)
def test_strip_order_by_cuts_the_clause_only_outside_quoted_text(jql, expected):
    assert strip_order_by(jql) == expected


def test_refresh_jql_built_from_an_order_by_split_over_lines_is_one_valid_condition():
    refresh = incremental_jql(
        'summary ~ "a \\" order by" \nORDER  BY created', datetime(2024, 5, 1, tzinfo=UTC), "UTC"
    )
    assert refresh.startswith('(summary ~ "a \\" order by") AND updated >= "2024/04/')
    assert refresh.upper().count("ORDER") == 1


@pytest.mark.parametrize(
    ("flavor", "auth", "advice"),
    [
        ("datacenter", "basic", "choose 'Personal access token'"),
        ("cloud", "bearer", "choose 'E-mail + API token'"),
    ],
)
def test_the_other_flavors_authentication_says_which_to_choose(flavor, auth, advice):
    with JiraEmulator(flavor=flavor, issues=20, seed=1) as emulator:
        client = JiraClient(emulator.url, auth, emulator.email, emulator.token, rate_limit=FAST)
        with pytest.raises(JiraAuthError) as caught:
            client.test_connection()
    assert advice in str(caught.value)
    assert emulator.token not in str(caught.value)


def test_the_right_flavors_wrong_token_gives_no_flavor_advice(jira):
    auth = "basic" if jira.flavor == "cloud" else "bearer"
    client = JiraClient(jira.url, auth, jira.email, "wrong-" + jira.token, rate_limit=FAST)
    with pytest.raises(JiraAuthError) as caught:
        client.test_connection()
    assert "choose" not in str(caught.value)
