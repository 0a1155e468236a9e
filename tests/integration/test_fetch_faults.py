"""Failures and faults during a fetch: a clear message, and the cache is the old one or the
complete new one, never a mix."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from configuration.settings import cache_dir, default_settings
from data.errors import UserError
from data.jira.fetcher import Progress, _site_file, fetch_project
from data.jira.jira_client import (
    JiraAuthError,
    JiraPermissionError,
    JiraQueryError,
    JiraRateLimitedError,
    JiraServerError,
    JiraSiteNotFoundError,
    JiraTimeoutError,
    JiraTLSError,
)
from data.jira.jira_parser import lean_issue
from data.storage.cache_manager import IssueCache, fields_for_mappings
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import FAST_LIMIT
from tests.jira_emulator.fixtures import settings_for as emulator_settings

ISSUES = 300


def settings_for(emulator: JiraEmulator, **jira) -> dict:
    """Default settings pointed at the emulator, a fast client, short timeouts."""
    return emulator_settings(emulator, rate_limit=FAST_LIMIT, **{"timeout_seconds": 5, **jira})


def cache_files(root: Path) -> dict[str, bytes]:
    """Every cache file's bytes (the lock file and site facts aside)."""
    folder = cache_dir(root)
    if not folder.exists():
        return {}
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and p.name.startswith("issues-")
    }


def assert_complete(root: Path, settings: dict, emulator: JiraEmulator) -> None:
    """The cache holds exactly the emulator's issues, current `updated`, full changelogs."""
    cached = IssueCache.for_settings(root, settings).load()
    assert cached is not None
    got = {issue["key"]: issue for issue in cached.issues}
    assert sorted(got) == sorted(emulator.issue_keys())
    for key in emulator.issue_keys():
        truth = lean_issue(emulator.issue(key), fields_for_mappings(settings["mappings"]))
        assert got[key]["fields"]["updated"] == truth["fields"]["updated"], key
        assert got[key]["changelog"] == truth["changelog"], key  # lean to lean


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest):
    with JiraEmulator(flavor=request.param, issues=ISSUES, seed=9) as emulator:
        yield emulator


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- failures: the message, and the cache untouched -------------------------------------------


@pytest.fixture
def fetched(data_dir: Path, jira: JiraEmulator) -> dict[str, bytes]:
    """A first full fetch done; some issues changed since, so a refresh has work to do."""
    fetch_project(data_dir, settings_for(jira))
    jira.change_issues(5, seed=2)
    jira.advance_clock(600)
    before = cache_files(data_dir)
    assert before
    return before


def test_wrong_token_says_so_and_keeps_the_cache(data_dir, jira, fetched):
    with pytest.raises(JiraAuthError, match="Wrong credentials") as caught:
        fetch_project(data_dir, settings_for(jira, token="wrong-token-123"))
    assert "wrong-token-123" not in str(caught.value)
    assert cache_files(data_dir) == fetched


def test_bad_jql_shows_jiras_message_and_keeps_the_cache(data_dir, jira, fetched):
    with pytest.raises(JiraQueryError, match="JIRA says: Error in the JQL Query"):
        fetch_project(data_dir, settings_for(jira, jql="project = = DEMO"))
    assert cache_files(data_dir) == fetched


@pytest.mark.parametrize("where", ["closed port", "unresolvable host"])
def test_unknown_site_says_site_not_found_and_keeps_the_cache(data_dir, jira, fetched, where):
    url = (
        f"http://127.0.0.1:{closed_port()}"
        if where == "closed port"
        else "https://nonexistent.invalid"
    )
    with pytest.raises(JiraSiteNotFoundError, match="JIRA site not found"):
        fetch_project(data_dir, settings_for(jira, url=url))
    assert cache_files(data_dir) == fetched


def test_tls_to_a_plain_http_site_is_a_tls_error_and_keeps_the_cache(data_dir, jira, fetched):
    url = jira.url.replace("http://", "https://")
    with pytest.raises(JiraTLSError, match="TLS error"):
        fetch_project(data_dir, settings_for(jira, url=url))
    assert cache_files(data_dir) == fetched


def test_timeout_on_refresh_says_so_and_keeps_the_cache(data_dir, jira, fetched):
    jira.set_faults(slow_seconds=1.0)
    settings = settings_for(jira, timeout_seconds=0.3)
    settings["rate_limit"]["max_attempts"] = 2
    with pytest.raises(JiraTimeoutError, match="did not answer"):
        fetch_project(data_dir, settings)
    assert cache_files(data_dir) == fetched


def test_persistent_rate_limit_says_so_and_keeps_the_cache(data_dir, fetched, jira):
    with JiraEmulator(flavor=jira.flavor, issues=ISSUES, seed=9, rate_limit=(1, 60.0)) as tight:
        settings = settings_for(tight)
        settings["rate_limit"]["max_attempts"] = 1
        with pytest.raises(JiraRateLimitedError, match="rate limiting"):
            fetch_project(data_dir, settings)
    assert cache_files(data_dir) == fetched


def test_rate_limited_fetch_waits_says_how_long_and_completes(data_dir):
    messages: list[str] = []

    class Watched(Progress):
        def update(self, **values) -> None:
            if "message" in values:
                messages.append(values["message"])
            super().update(**values)

    with JiraEmulator(flavor="datacenter", issues=ISSUES, seed=9, rate_limit=(3, 1.0)) as jira:
        settings = settings_for(jira)
        settings["rate_limit"]["max_attempts"] = 8
        summary = fetch_project(data_dir, settings, progress=Watched())
        assert summary.retries >= 1
        assert jira.counters["by_status"].get(429, 0) >= 1
        assert any(m.startswith("rate limited, waiting ") and m.endswith(" s") for m in messages)
        assert_complete(data_dir, settings, jira)


def test_stale_flavor_hitting_410_is_detected_again_and_the_refresh_completes(data_dir):
    with JiraEmulator(flavor="cloud", issues=ISSUES, seed=9) as jira:
        settings = settings_for(jira)
        fetch_project(data_dir, settings)
        site = _site_file(data_dir, jira.url)
        facts = orjson.loads(site.read_bytes())
        site.write_bytes(orjson.dumps({**facts, "flavor": "datacenter"}))
        jira.change_issues(3, seed=4)
        summary = fetch_project(data_dir, settings)
        assert summary.mode == "incremental"
        assert jira.counters["by_status"].get(410, 0) >= 1  # search and count, in parallel
        assert_complete(data_dir, settings, jira)


class _Forbidding(BaseHTTPRequestHandler):
    """A JIRA whose user may log in but not search: serverInfo and myself work, the rest 403
    (with the request's Authorization header echoed, as some proxies do)."""

    def _send(self, status: int, value: object) -> None:
        body = orjson.dumps(value)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith("/rest/api/2/serverInfo"):
            self._send(200, {"deploymentType": "Server", "serverTitle": "Locked JIRA"})
        elif self.path.startswith("/rest/api/2/myself"):
            self._send(200, {"name": "viewer", "displayName": "Viewer", "timeZone": "UTC"})
        else:
            echoed = f"(request had Authorization: {self.headers.get('Authorization')})"
            self._send(
                403, {"errorMessages": ["You do not have permission to browse issues.", echoed]}
            )

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_no_permission_says_so_with_jiras_message(data_dir):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidding)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = default_settings()
        settings["jira"].update(
            url=f"http://127.0.0.1:{server.server_address[1]}",
            auth="bearer",
            token="pat-123456",
            jql="project = DEMO",
        )
        with pytest.raises(JiraPermissionError, match="No permission") as caught:
            fetch_project(data_dir, settings)
        assert "You do not have permission to browse issues." in str(caught.value)
        assert "pat-123456" not in str(caught.value)  # the server echoed it; the message not
        assert cache_files(data_dir) == {}
    finally:
        server.shutdown()
        server.server_close()


# -- faults during a full fetch and a refresh ---------------------------------------------------


class NthSearch:
    """A fault predicate: true for the nth search request only (counts are searches too)."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.seen = 0
        self.lock = threading.Lock()

    def __call__(self, request: dict) -> bool:
        if "search" not in request["path"] or "approximate" in request["path"]:
            return False
        with self.lock:
            self.seen += 1
            return self.seen == self.nth


def every_search(request: dict) -> bool:
    return "search" in request["path"] and "approximate" not in request["path"]


FAULTS = {
    "503 bursts": lambda: {"error_503_every": 3},
    "connection dropped mid-page": lambda: {"drop_connection_on": NthSearch(2)},
    "malformed JSON page": lambda: {"malformed_json_on": NthSearch(2)},
    "timeout": lambda: {"slow_seconds": 1.5, "slow_on": NthSearch(1)},
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("phase", ["full fetch", "refresh"])
def test_faults_are_retried_and_the_cache_ends_complete(data_dir, jira, fault, phase):
    settings = settings_for(jira, timeout_seconds=0.5)
    if phase == "refresh":
        fetch_project(data_dir, settings)
        jira.change_issues(150, seed=5)  # two pages of changes at the page cap of 100
        jira.advance_clock(600)
    jira.set_faults(**FAULTS[fault]())
    summary = fetch_project(data_dir, settings)
    assert summary.retries >= 1, "the fault never hit a request"
    assert summary.mode == ("full" if phase == "full fetch" else "incremental")
    jira.clear_faults()
    assert_complete(data_dir, settings, jira)


@pytest.mark.parametrize("fault", ["malformed JSON page", "connection dropped mid-page"])
@pytest.mark.parametrize("phase", ["full fetch", "refresh"])
def test_faults_that_never_clear_fail_clearly_and_keep_the_old_cache(data_dir, jira, fault, phase):
    settings = settings_for(jira)
    settings["rate_limit"]["max_attempts"] = 2
    if phase == "refresh":
        fetch_project(data_dir, settings)
        jira.change_issues(150, seed=5)
        jira.advance_clock(600)
    before = cache_files(data_dir)
    spec = {
        "malformed JSON page": {"malformed_json_on": every_search},
        "connection dropped mid-page": {"drop_connection_on": every_search},
    }[fault]
    jira.set_faults(**spec)
    with pytest.raises(JiraServerError, match="gave up after 2 attempts") as caught:
        fetch_project(data_dir, settings)
    assert isinstance(caught.value, UserError)
    assert cache_files(data_dir) == before
    leftovers = [p.name for p in cache_dir(data_dir).iterdir() if "staging" in p.name]
    assert leftovers == []
