"""The JIRA emulator behaves like JIRA where the app depends on it: paging in both styles,
changelog truncation and paging, errors and their shapes, rate limits, faults and changes.
Everything here goes over real HTTP with `requests`."""

from __future__ import annotations

import base64
import email.utils
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import requests

from tests.jira_emulator import JiraEmulator, fixtures
from tests.jira_emulator.store import parse_ms

ROOT = Path(__file__).resolve().parents[2]
cloud_jira = fixtures.cloud_jira
dc_jira = fixtures.dc_jira


def session(jira: JiraEmulator) -> requests.Session:
    """A session with the flavor's own credentials."""
    s = requests.Session()
    if jira.flavor == "cloud":
        s.auth = (jira.email, jira.token)
    else:
        s.headers["Authorization"] = f"Bearer {jira.token}"
    return s


def cloud_search_all(jira: JiraEmulator, body: dict[str, Any]) -> tuple[list[dict], int]:
    """Every issue through nextPageToken paging; also the number of pages."""
    s = session(jira)
    issues: list[dict] = []
    token = None
    pages = 0
    while True:
        page_body = dict(body, **({"nextPageToken": token} if token else {}))
        response = s.post(f"{jira.url}/rest/api/3/search/jql", json=page_body, timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        assert "total" not in page
        pages += 1
        issues += page["issues"]
        if page["isLast"]:
            assert "nextPageToken" not in page
            return issues, pages
        token = page["nextPageToken"]


def dc_search(jira: JiraEmulator, **body: Any) -> dict[str, Any]:
    response = session(jira).post(f"{jira.url}/rest/api/2/search", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


# -- paging ---------------------------------------------------------------------------------


def test_cloud_paging_with_next_page_token_returns_every_issue_once() -> None:
    with JiraEmulator("cloud", issues=430, max_results_cap=100) as jira:
        issues, pages = cloud_search_all(
            jira,
            {
                "jql": "project = DEMO ORDER BY key ASC",
                "fields": ["status"],
                "maxResults": 500,
            },
        )
        keys = [i["key"] for i in issues]
        assert keys == [f"DEMO-{n}" for n in range(1, 431)]
        assert pages == 5  # 500 asked, capped at 100 because fields were asked for


def test_cloud_get_search_pages_the_same_way(cloud_jira: JiraEmulator) -> None:
    s = session(cloud_jira)
    seen: list[str] = []
    params: dict[str, Any] = {"jql": "project = DEMO", "fields": "key,status", "maxResults": 50}
    while True:
        page = s.get(f"{cloud_jira.url}/rest/api/3/search/jql", params=params).json()
        seen += [i["key"] for i in page["issues"]]
        if page["isLast"]:
            break
        params["nextPageToken"] = page["nextPageToken"]
    assert sorted(seen) == sorted(cloud_jira.issue_keys())
    assert len(seen) == len(set(seen)) == cloud_jira.issue_count


def test_cloud_search_returns_only_ids_unless_fields_are_given(cloud_jira: JiraEmulator) -> None:
    s = session(cloud_jira)
    url = f"{cloud_jira.url}/rest/api/3/search/jql"
    bare = s.post(url, json={"jql": "project = DEMO", "maxResults": 5000}).json()
    assert len(bare["issues"]) == cloud_jira.issue_count  # ids only: the big page cap
    assert all(set(issue) == {"id"} for issue in bare["issues"])
    with_fields = s.post(url, json={"jql": "project = DEMO", "fields": ["summary"]}).json()
    first = with_fields["issues"][0]
    assert {"id", "key", "self", "fields"} <= set(first)
    assert set(first["fields"]) == {"summary"}
    assert "changelog" not in first


def test_cloud_page_with_an_unknown_token_is_a_400(cloud_jira: JiraEmulator) -> None:
    response = session(cloud_jira).post(
        f"{cloud_jira.url}/rest/api/3/search/jql",
        json={"jql": "project = DEMO", "nextPageToken": "bm9wZQ"},
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"]


def test_dc_paging_with_start_at_returns_every_issue_once_and_echoes_the_cap() -> None:
    with JiraEmulator("datacenter", issues=250, max_results_cap=40) as jira:
        keys: list[str] = []
        start = 0
        while True:
            page = dc_search(jira, jql="project = DEMO ORDER BY created ASC", startAt=start,
                             maxResults=1000, fields=["created"])  # fmt: skip
            assert page["maxResults"] == 40  # silently capped, echoed back
            assert page["total"] == 250
            assert page["startAt"] == start
            keys += [i["key"] for i in page["issues"]]
            start += page["maxResults"]
            if start >= page["total"]:
                break
        assert sorted(keys, key=lambda k: int(k.split("-")[1])) == jira.issue_keys()
        created = [parse_ms(jira.issue(k)["fields"]["created"]) for k in keys]
        assert created == sorted(created)


def test_dc_get_search_defaults_to_navigable_fields(dc_jira: JiraEmulator) -> None:
    page = (
        session(dc_jira)
        .get(f"{dc_jira.url}/rest/api/2/search", params={"jql": "project = DEMO", "maxResults": 3})
        .json()
    )
    assert len(page["issues"]) == 3
    assert {"status", "created", "issuelinks", "customfield_10016"} <= set(
        page["issues"][0]["fields"]
    )
    assert dc_search(dc_jira, jql="project = DEMO", maxResults=0)["issues"] == []
    assert dc_search(dc_jira, jql="project = DEMO", maxResults=0)["total"] == 120


# -- changelogs -----------------------------------------------------------------------------


def test_cloud_search_cuts_changelogs_to_the_newest_40_with_the_true_total() -> None:
    with JiraEmulator("cloud", issues=30) as jira:
        jira.lengthen_changelogs(["DEMO-5"], extra=100)
        full = jira.issue("DEMO-5")["changelog"]["histories"]
        assert len(full) > 100
        issues, _ = cloud_search_all(
            jira, {"jql": "key = DEMO-5", "fields": ["status"], "expand": "changelog"}
        )
        changelog = issues[0]["changelog"]
        assert changelog["total"] == len(full)
        assert len(changelog["histories"]) == 40
        newest = sorted(full, key=lambda h: (parse_ms(h["created"]), int(h["id"])))[-40:]
        assert {h["id"] for h in changelog["histories"]} == {h["id"] for h in newest}
        short, _ = cloud_search_all(
            jira, {"jql": "key = DEMO-6", "fields": ["status"], "expand": "changelog"}
        )
        assert len(short[0]["changelog"]["histories"]) == short[0]["changelog"]["total"]


def test_cloud_changelog_endpoint_pages_oldest_first_at_most_100() -> None:
    with JiraEmulator("cloud", issues=30) as jira:
        jira.lengthen_changelogs(["DEMO-7"], extra=150)
        total = len(jira.issue("DEMO-7")["changelog"]["histories"])
        s = session(jira)
        values: list[dict] = []
        start = 0
        while True:
            page = s.get(
                f"{jira.url}/rest/api/3/issue/DEMO-7/changelog",
                params={"startAt": start, "maxResults": 500},
            ).json()
            assert page["maxResults"] == 100
            assert page["total"] == total
            values += page["values"]
            start += len(page["values"])
            if page["isLast"]:
                break
        assert len(values) == total > 150
        order = [(parse_ms(h["created"]), int(h["id"])) for h in values]
        assert order == sorted(order)
        assert len({h["id"] for h in values}) == total


def test_dc_search_returns_the_full_changelog() -> None:
    with JiraEmulator("datacenter", issues=30) as jira:
        jira.lengthen_changelogs(["DEMO-5"], extra=100)
        page = dc_search(jira, jql="key = DEMO-5", expand=["changelog"], fields=["status"])
        changelog = page["issues"][0]["changelog"]
        assert changelog["total"] == len(changelog["histories"]) > 100


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/rest/api/2/search", "/rest/api/3/search"])
def test_cloud_old_search_endpoints_answer_410_gone(cloud_jira: JiraEmulator, path: str) -> None:
    response = session(cloud_jira).get(f"{cloud_jira.url}{path}", params={"jql": "project = DEMO"})
    assert response.status_code == 410
    assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]


def test_cloud_wrong_token_answers_401_in_plain_text(cloud_jira: JiraEmulator) -> None:
    response = requests.get(
        f"{cloud_jira.url}/rest/api/2/myself", auth=(cloud_jira.email, "wrong"), timeout=10
    )
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == "Client must be authenticated to access this resource."
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert "wrong" not in response.text


def test_cloud_refuses_a_bearer_token(cloud_jira: JiraEmulator) -> None:
    response = requests.get(
        f"{cloud_jira.url}/rest/api/2/myself",
        headers={"Authorization": f"Bearer {cloud_jira.token}"},
        timeout=10,
    )
    assert response.status_code == 401


def test_dc_without_credentials_answers_401_json(dc_jira: JiraEmulator) -> None:
    response = requests.get(f"{dc_jira.url}/rest/api/2/myself", timeout=10)
    assert response.status_code == 401
    assert "not authenticated" in response.json()["errorMessages"][0]


def test_dc_wrong_token_answers_401_html_page(dc_jira: JiraEmulator) -> None:
    response = requests.post(
        f"{dc_jira.url}/rest/api/2/search",
        json={"jql": "project = DEMO"},
        headers={"Authorization": "Bearer nope"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Unauthorized (401)" in response.text
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    basic = base64.b64encode(f"{dc_jira.email}:{dc_jira.token}".encode()).decode()
    as_basic = requests.get(
        f"{dc_jira.url}/rest/api/2/myself", headers={"Authorization": f"Basic {basic}"}, timeout=10
    )
    assert as_basic.status_code == 401


@pytest.mark.parametrize(
    ("flavor", "deployment"), [("cloud", "Cloud"), ("datacenter", "Server")]
)  # fmt: skip
def test_server_info_names_the_flavor_even_anonymously(flavor: str, deployment: str) -> None:
    with JiraEmulator(flavor, issues=5) as jira:
        info = requests.get(f"{jira.url}/rest/api/2/serverInfo", timeout=10).json()
        assert info["deploymentType"] == deployment
        assert info["baseUrl"] == jira.url


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_myself_field_and_status_lists(flavor: str) -> None:
    with JiraEmulator(flavor, issues=5, user_time_zone="Asia/Kolkata") as jira:
        s = session(jira)
        me = s.get(f"{jira.url}/rest/api/2/myself").json()
        assert me["timeZone"] == "Asia/Kolkata"
        assert me["emailAddress"] == jira.email
        assert ("accountId" in me) == (flavor == "cloud")
        fields = {f["id"]: f for f in s.get(f"{jira.url}/rest/api/2/field").json()}
        assert fields["customfield_10016"]["schema"]["type"] == "number"
        statuses = s.get(f"{jira.url}/rest/api/2/status").json()
        assert {s["statusCategory"]["key"] for s in statuses} == {"new", "indeterminate", "done"}


@pytest.mark.parametrize(
    ("jql", "fragment"),
    [
        ("project = DEMO AND (status = Done", "Expecting ')'"),
        ("project = DEMO AND", "<EOF>"),
        ("project DEMO", "Expecting operator"),
        ("projekt = DEMO", "Field 'projekt' does not exist"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'"),
        ('updated >= "yesterday-ish"', "Date value 'yesterday-ish' for field 'updated'"),
        ("project = DEMO ORDER BY colour", "Not able to sort using field 'colour'"),
        ("project = DEMO status = Done", "Expecting either 'OR' or 'AND'"),
        ("summary ~ login", "Field 'summary' does not exist"),
    ],
)
def test_jql_it_cannot_parse_answers_400_with_error_messages(
    cloud_jira: JiraEmulator, jql: str, fragment: str
) -> None:
    response = session(cloud_jira).post(
        f"{cloud_jira.url}/rest/api/3/search/jql", json={"jql": jql}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {}
    assert fragment in body["errorMessages"][0]


def test_dc_bad_jql_is_a_400_too(dc_jira: JiraEmulator) -> None:
    response = session(dc_jira).get(
        f"{dc_jira.url}/rest/api/2/search", params={"jql": "project = DEMO AND AND"}
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"][0].startswith("Error in the JQL Query")


# -- JQL ------------------------------------------------------------------------------------


def test_jql_filters_and_orders_like_jira(dc_jira: JiraEmulator) -> None:
    everything = [dc_jira.issue(k) for k in dc_jira.issue_keys()]

    def keys(jql: str) -> list[str]:
        return [i["key"] for i in dc_search(dc_jira, jql=jql, maxResults=100)["issues"]]

    done = [i["key"] for i in everything if i["fields"]["status"]["name"] == "Done"]
    assert keys("project = DEMO AND status = Done ORDER BY key ASC") == done[:100]
    assert keys('status = "done" AND project = demo ORDER BY key') == done[:100]
    deployments = {i["key"] for i in everything if i["fields"]["issuetype"]["name"] == "Deployment"}
    assert set(keys("issuetype = Deployment")) == deployments
    assert set(keys("project = DEMO AND NOT issuetype = Deployment")).isdisjoint(deployments)
    assert keys("key in (DEMO-3, DEMO-1, demo-2) ORDER BY key DESC") == [
        "DEMO-3",
        "DEMO-2",
        "DEMO-1",
    ]
    assert keys("key in (DEMO-1) OR key = DEMO-9 ORDER BY key") == ["DEMO-1", "DEMO-9"]
    by_updated = keys("project = DEMO ORDER BY updated DESC")
    stamps = [parse_ms(dc_jira.issue(k)["fields"]["updated"]) for k in by_updated]
    assert stamps == sorted(stamps, reverse=True)
    unresolved = [i["key"] for i in everything if i["fields"]["resolutiondate"] is None]
    assert keys("project in (DEMO) AND resolved is EMPTY ORDER BY key") == unresolved


def test_jql_knows_parent_epic_link_and_status_category_and_refuses_unknown_keys(
    dc_jira: JiraEmulator,
) -> None:
    everything = [dc_jira.issue(k) for k in dc_jira.issue_keys()]
    child = next(i for i in everything if i["fields"].get("parent"))
    parent = child["fields"]["parent"]["key"]
    children = {
        i["key"] for i in everything if (i["fields"].get("parent") or {}).get("key") == parent
    }

    def keys(jql: str) -> set[str]:
        return {i["key"] for i in dc_search(dc_jira, jql=jql, maxResults=100)["issues"]}

    assert keys(f"parent = {parent}") == children
    assert keys(f'"Epic Link" = {parent}') == children

    def total(jql: str) -> int:
        return dc_search(dc_jira, jql=jql, maxResults=0)["total"]

    categories = [i["fields"]["status"]["statusCategory"]["key"] for i in everything]
    assert total("project = DEMO AND statusCategory != Done") == len(
        [c for c in categories if c != "done"]
    )
    assert total("statusCategory = indeterminate") == categories.count("indeterminate")
    for jql in ("key = DEMO-99999", "parent = DEMO-99999"):
        response = session(dc_jira).get(f"{dc_jira.url}/rest/api/2/search", params={"jql": jql})
        assert response.status_code == 400
        assert "DEMO-99999' does not exist" in response.json()["errorMessages"][0]


def test_updated_jql_reads_the_date_in_the_users_time_zone() -> None:
    with JiraEmulator("cloud", issues=150, user_time_zone="America/Los_Angeles") as jira:
        updated = sorted(parse_ms(jira.issue(k)["fields"]["updated"]) for k in jira.issue_keys())
        pivot = updated[100]
        local = datetime.fromtimestamp(pivot / 1000, ZoneInfo("America/Los_Angeles"))
        text = local.strftime("%Y/%m/%d %H:%M")
        bound = int(local.replace(second=0, microsecond=0).timestamp() * 1000)
        expected = sum(1 for u in updated if u >= bound)
        issues, _ = cloud_search_all(
            jira, {"jql": f'project = DEMO AND updated >= "{text}"', "fields": ["updated"]}
        )
        assert len(issues) == expected
        assert 40 <= expected <= 60
        # the same wall-clock text read in UTC would be 7-8 hours off
        assert all(parse_ms(i["fields"]["updated"]) >= bound for i in issues)


# -- rate limit and faults --------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_and_rate_limit_headers() -> None:
    with JiraEmulator("cloud", issues=5, rate_limit=(3, 30.0)) as jira:
        s = session(jira)
        statuses = [s.get(f"{jira.url}/rest/api/2/myself").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        limited = s.get(f"{jira.url}/rest/api/2/myself")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 10
        assert limited.headers["X-RateLimit-Limit"] == "3"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert "X-RateLimit-Reset" in limited.headers
        assert limited.json()["errorMessages"]
        assert jira.counters["by_status"] == {200: 3, 429: 3}


def test_rate_limit_refills_over_time() -> None:
    with JiraEmulator("cloud", issues=5, rate_limit=(2, 0.2)) as jira:
        s = session(jira)
        assert [s.get(f"{jira.url}/rest/api/2/myself").status_code for _ in range(3)][-1] == 429
        time.sleep(0.25)
        assert s.get(f"{jira.url}/rest/api/2/myself").status_code == 200


def test_every_kth_request_fails_with_503(cloud_jira: JiraEmulator) -> None:
    cloud_jira.set_faults(error_503_every=3)
    s = session(cloud_jira)
    codes = [s.get(f"{cloud_jira.url}/rest/api/2/myself").status_code for _ in range(7)]
    assert codes == [200, 200, 503, 200, 200, 503, 200]
    cloud_jira.clear_faults()
    assert [s.get(f"{cloud_jira.url}/rest/api/2/myself").status_code for _ in range(3)] == [200] * 3


def test_slow_responses_take_at_least_the_delay(cloud_jira: JiraEmulator) -> None:
    cloud_jira.set_faults(slow_seconds=0.3)
    s = session(cloud_jira)
    with pytest.raises(requests.exceptions.ReadTimeout):
        s.get(f"{cloud_jira.url}/rest/api/2/myself", timeout=0.1)
    cloud_jira.set_faults(slow_seconds=0.3, slow_on=2)
    assert s.get(f"{cloud_jira.url}/rest/api/2/myself", timeout=0.2).status_code == 200
    with pytest.raises(requests.exceptions.ReadTimeout):
        s.get(f"{cloud_jira.url}/rest/api/2/myself", timeout=0.1)


def test_a_dropped_connection_cuts_the_body_mid_way(cloud_jira: JiraEmulator) -> None:
    cloud_jira.set_faults(drop_connection_on=2)
    s = session(cloud_jira)
    body = {"jql": "project = DEMO", "fields": ["*all"], "maxResults": 100}
    url = f"{cloud_jira.url}/rest/api/3/search/jql"
    assert s.post(url, json=body).status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        s.post(url, json=body)  # requests reads the body eagerly: the cut shows here
    assert s.post(url, json=body).status_code == 200
    dropped = cloud_jira.requests[1]
    assert 0 < dropped["bytes"] < len(s.post(url, json=body).content)


def test_a_malformed_json_page_is_served_as_200(cloud_jira: JiraEmulator) -> None:
    cloud_jira.set_faults(malformed_json_on=lambda info: info["path"].endswith("/search/jql"))
    s = session(cloud_jira)
    assert s.get(f"{cloud_jira.url}/rest/api/2/myself").json()["emailAddress"]
    response = s.post(f"{cloud_jira.url}/rest/api/3/search/jql", json={"jql": "project = DEMO"})
    assert response.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


# -- changes, clock, log --------------------------------------------------------------------


def test_changed_issues_come_back_through_updated_jql(cloud_jira: JiraEmulator) -> None:
    tz = ZoneInfo(cloud_jira.user_time_zone)
    since = (cloud_jira.now() - timedelta(minutes=1)).astimezone(tz).strftime("%Y/%m/%d %H:%M")
    jql = f'project = DEMO AND updated >= "{since}"'
    before, _ = cloud_search_all(cloud_jira, {"jql": jql, "fields": ["updated"]})
    assert before == []
    old = {k: cloud_jira.issue(k) for k in cloud_jira.issue_keys()}
    changed = cloud_jira.change_issues(7, seed=3)
    assert len(changed) == 7
    assert changed == [k for k in cloud_jira.issue_keys() if k in set(changed)]  # in key order
    after, _ = cloud_search_all(cloud_jira, {"jql": jql, "fields": ["status"],
                                             "expand": "changelog"})  # fmt: skip
    assert sorted(i["key"] for i in after) == sorted(changed)
    for issue in after:
        previous = old[issue["key"]]
        assert issue["changelog"]["total"] == previous["changelog"]["total"] + 1
        newest = max(issue["changelog"]["histories"], key=lambda h: int(h["id"]))
        status_item = next(i for i in newest["items"] if i["field"] == "status")
        assert status_item["from"] == previous["fields"]["status"]["id"]
        assert status_item["to"] == issue["fields"]["status"]["id"]
    relative, _ = cloud_search_all(cloud_jira, {"jql": 'updated >= "-2m"', "fields": ["key"]})
    assert sorted(i["key"] for i in relative) == sorted(changed)
    assert cloud_jira.change_issues(7, seed=3) == changed  # same seed, same issues


def test_removed_issues_leave_the_jql(dc_jira: JiraEmulator) -> None:
    assert dc_jira.remove_issues(["DEMO-1", "DEMO-2", "DEMO-999"]) == 2
    page = dc_search(dc_jira, jql="project = DEMO", fields=["id"], maxResults=100)
    assert page["total"] == 118 == dc_jira.issue_count
    assert not {"DEMO-1", "DEMO-2"} & {i["key"] for i in page["issues"]}
    missing = session(dc_jira).get(f"{dc_jira.url}/rest/api/2/issue/DEMO-1")
    assert missing.status_code == 404


def test_date_header_is_the_emulators_clock(cloud_jira: JiraEmulator) -> None:
    s = session(cloud_jira)
    first = email.utils.parsedate_to_datetime(s.get(f"{cloud_jira.url}/rest/api/2/myself")
                                              .headers["Date"])  # fmt: skip
    cloud_jira.advance_clock(7200)
    later = email.utils.parsedate_to_datetime(s.get(f"{cloud_jira.url}/rest/api/2/myself")
                                              .headers["Date"])  # fmt: skip
    assert timedelta(hours=2) <= later - first < timedelta(hours=2, seconds=30)
    changed = cloud_jira.change_issues(1, seed=1)[0]
    updated = datetime.fromisoformat(cloud_jira.issue(changed)["fields"]["updated"])
    assert abs(updated - later) < timedelta(seconds=30)


def test_request_log_and_counters_record_every_request(cloud_jira: JiraEmulator) -> None:
    s = session(cloud_jira)
    s.get(f"{cloud_jira.url}/rest/api/2/myself")
    s.post(f"{cloud_jira.url}/rest/api/3/search/jql", json={"jql": "project = DEMO"})
    s.get(f"{cloud_jira.url}/rest/api/2/search")
    log = cloud_jira.requests
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", "/rest/api/2/myself", 200),
        ("POST", "/rest/api/3/search/jql", 200),
        ("GET", "/rest/api/2/search", 410),
    ]
    assert log[1]["jql"] == "project = DEMO"
    assert all(e["bytes"] > 0 for e in log)
    assert "Authorization" not in str(log) and cloud_jira.token not in str(log)
    assert cloud_jira.counters == {
        "total": 3,
        "by_path": {"/rest/api/2/myself": 1, "/rest/api/3/search/jql": 1,
                    "/rest/api/2/search": 1},
        "by_status": {200: 2, 410: 1},
    }  # fmt: skip
    cloud_jira.reset_counters()
    assert cloud_jira.requests == [] and cloud_jira.counters["total"] == 0


def test_cloud_approximate_count_counts_the_jql(cloud_jira: JiraEmulator) -> None:
    response = session(cloud_jira).post(
        f"{cloud_jira.url}/rest/api/3/search/approximate-count",
        json={"jql": "project = DEMO AND issuetype = Deployment"},
    )
    deployments = [
        k for k in cloud_jira.issue_keys()
        if cloud_jira.issue(k)["fields"]["issuetype"]["name"] == "Deployment"
    ]  # fmt: skip
    assert response.json() == {"count": len(deployments)}


def test_a_given_issue_list_is_served_as_is() -> None:
    issue = {
        "id": "501", "key": "OPS-7", "self": "x",
        "fields": {"summary": "given", "project": {"key": "OPS"}, "status": {"name": "To Do"},
                   "issuetype": {"name": "Task"}, "created": "2024-01-15T10:30:00.000+0000",
                   "updated": "2024-01-16T10:30:00.000Z"},
        "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": []},
    }  # fmt: skip
    with JiraEmulator("datacenter", issues=[issue], jql_project="OPS") as jira:
        page = dc_search(jira, jql="project = OPS", expand="changelog")
        assert page["total"] == 1
        assert page["issues"][0]["fields"]["summary"] == "given"


# -- by hand ----------------------------------------------------------------------------------


def test_command_line_prints_url_and_credentials_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.jira_emulator", "--flavor", "cloud", "--issues", "50",
         "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("JIRA emulator (cloud, 50 issues) at http://127.0.0.1:")
        url = lines[0].rsplit(" ", 1)[1].strip()
        email_line, token_line = lines[1].strip(), lines[2].strip()
        assert email_line == "email: user@example.com"
        token = token_line.removeprefix("token: ")
        me = requests.get(f"{url}/rest/api/2/myself", auth=("user@example.com", token), timeout=10)
        assert me.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
