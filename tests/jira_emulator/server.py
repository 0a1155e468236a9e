"""A real, threaded HTTP server on 127.0.0.1 speaking JIRA's REST API (Cloud or Data Center).

Everything in the tests and benchmarks that talks to "JIRA" talks to this. See the package
docstring (`tests/jira_emulator/__init__.py`) and `specs/jira-integration.md` for the API.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import orjson

from data.jira.sample_project import fields as sample_fields
from data.jira.sample_project import generate_issues
from data.jira.sample_project import statuses as sample_statuses
from tests.jira_emulator.jql import JqlError, Query, parse_jql, sort_key
from tests.jira_emulator.store import IssueStore, Record

log = logging.getLogger(__name__)

CLOUD = "cloud"
DATACENTER = "datacenter"
#: Cloud cuts an expanded changelog in search results to this many newest histories.
CLOUD_CHANGELOG_LIMIT = 40
#: Cloud's page cap when only ids (or keys) are asked for.
CLOUD_ID_PAGE_CAP = 5000
CHANGELOG_PAGE_CAP = 100
DEFAULT_PAGE = 50

JSON = "application/json;charset=UTF-8"
GONE_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
CLOUD_401_BODY = b"Client must be authenticated to access this resource."
DC_ANONYMOUS_MESSAGE = (
    "You are not authenticated. Authentication required to perform this operation."
)
DC_401_PAGE = b"""<!DOCTYPE html>
<html><head><title>Unauthorized (401)</title>
<meta name="application-name" content="JIRA" data-name="jira" data-version="9.12.4"></head>
<body id="jira" class="aui-layout aui-style-default page-type-message">
<h1>Unauthorized (401)</h1>
<p>Encountered a <code>&quot;401 - Unauthorized&quot;</code> error while loading this page.</p>
<p>Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</p>
</body></html>
"""

FaultSpec = int | Iterable[int] | Callable[[dict[str, Any]], bool] | None


@dataclass
class Faults:
    """Injected failures. Request numbers count from 1 at the last `set_faults` call.

    `drop_connection_on` / `malformed_json_on` / `slow_on`: a request number, a collection of
    numbers, or a predicate taking the request's info dict (number, method, path, query, jql).
    """

    error_503_every: int = 0
    slow_seconds: float = 0.0
    slow_on: FaultSpec = None  # None with slow_seconds > 0: every request is slow
    drop_connection_on: FaultSpec = None
    malformed_json_on: FaultSpec = None


def _matches(spec: FaultSpec, info: dict[str, Any]) -> bool:
    if spec is None:
        return False
    if callable(spec):
        return bool(spec(info))
    if isinstance(spec, int):
        return info["number"] == spec
    return info["number"] in set(spec)


@dataclass
class Reply:
    """One HTTP answer before it is sent."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, value: Any, **headers: str) -> Reply:
    return Reply(status, orjson.dumps(value), JSON, dict(headers))


def _errors(status: int, *messages: str) -> Reply:
    return _json(status, {"errorMessages": list(messages), "errors": {}})


class TokenBucket:
    """`requests` per `per_seconds`, refilled continuously, bursting up to `requests`."""

    def __init__(self, requests: int, per_seconds: float) -> None:
        self.capacity = max(1, int(requests))
        self.rate = self.capacity / float(per_seconds)
        self.tokens = float(self.capacity)
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, float, int]:
        """(allowed, seconds until a token is free, tokens left)."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True, 0.0, int(self.tokens)
            return False, (1 - self.tokens) / self.rate, 0


@dataclass
class _FieldSelection:
    everything: bool = False
    names: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    @property
    def ids_only(self) -> bool:
        return not self.everything and self.names <= {"id", "key"}


def _field_selection(value: Any, default: str | None) -> _FieldSelection | None:
    """JIRA's `fields` parameter: a list or comma string of names, `*all`, `*navigable`, `-x`."""
    if value is None or value == "" or value == []:
        value = default
    if value is None:
        return None
    names = [str(v).strip() for v in value] if isinstance(value, list) else str(value).split(",")
    names = [n.strip() for n in names if n.strip()]
    everything = any(n in ("*all", "*navigable") for n in names)
    return _FieldSelection(
        everything=everything,
        names=frozenset(n for n in names if not n.startswith(("*", "-"))),
        excluded=frozenset(n[1:] for n in names if n.startswith("-")),
    )


def _expands_changelog(value: Any) -> bool:
    if value is None:
        return False
    parts = value if isinstance(value, list) else str(value).split(",")
    return any(str(p).strip().lower() == "changelog" for p in parts)


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _BadRequest(f"The '{name}' parameter must be a number, not '{value}'.") from None


class _BadRequest(Exception):
    """A request the emulated JIRA answers with 400 and this message."""


class JiraEmulator:
    """An emulated JIRA site serving a sample project. Start it, point a client at `url`.

    >>> with JiraEmulator("cloud", issues=200) as jira:
    ...     requests.get(f"{jira.url}/rest/api/2/myself", auth=(jira.email, jira.token))
    """

    def __init__(
        self,
        flavor: str = CLOUD,
        issues: int | list[dict[str, Any]] = 500,
        seed: int = 42,
        email: str = "user@example.com",
        token: str = "emulator-token-0123456789",
        user_time_zone: str = "Europe/Berlin",
        rate_limit: tuple[int, float] | None = None,
        max_results_cap: int = 100,
        jql_project: str = "DEMO",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        long_changelogs: int = 0,
    ) -> None:
        flavor = {"dc": DATACENTER, "server": DATACENTER}.get(flavor.lower(), flavor.lower())
        if flavor not in (CLOUD, DATACENTER):
            raise ValueError(f"flavor must be 'cloud' or 'datacenter', not {flavor!r}")
        self.flavor = flavor
        self.email = email
        self.token = token
        self.user_time_zone = user_time_zone
        self.max_results_cap = max_results_cap
        self.jql_project = jql_project
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.emulator = self  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._clock_offset = 0.0
        if isinstance(issues, int):
            data = generate_issues(issues, seed, project_key=jql_project, base_url=self.url)
        else:
            data = orjson.loads(orjson.dumps(issues))
        self.store = IssueStore(data)
        if long_changelogs:
            keys = [r.key for r in sorted(self.store.snapshot(), key=lambda r: r.number)]
            self.store.lengthen(keys[:long_changelogs], 100)
        self._statuses = sample_statuses()
        self._fields = sample_fields()
        self._bucket = TokenBucket(*rate_limit) if rate_limit else None
        self._lock = threading.Lock()
        self._faults = Faults()
        self._fault_number = 0
        self._number = 0
        self._log: list[dict[str, Any]] = []
        self._match_cache: dict[tuple[str, int], list[Record]] = {}
        self._counters: dict[str, Any] = {"total": 0, "by_path": {}, "by_status": {}}

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> JiraEmulator:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="jira-emulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread (the command line uses this)."""
        self._server.serve_forever()

    def __enter__(self) -> JiraEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- clock -------------------------------------------------------------------------

    def clock(self) -> float:
        """The emulator's time (epoch seconds): the wall clock plus `advance_clock` steps."""
        return time.time() + self._clock_offset

    def now(self) -> datetime:
        """The emulator's clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock (Date header, changes, relative JQL dates) forward."""
        self._clock_offset += seconds

    # -- test controls -------------------------------------------------------------------

    @property
    def issue_count(self) -> int:
        """How many issues the site holds now."""
        return len(self.store)

    def issue(self, key: str) -> dict[str, Any]:
        """A copy of one issue as the emulator holds it (full changelog)."""
        record = self.store.get(key)
        if record is None:
            raise KeyError(key)
        return orjson.loads(orjson.dumps(record.issue))

    def issue_keys(self) -> list[str]:
        """Every issue key, in key order."""
        return [r.key for r in sorted(self.store.snapshot(), key=lambda r: r.number)]

    def change_issues(self, k: int, seed: int = 0) -> list[str]:
        """Move `k` issues (chosen by `seed`) one status on at the emulator's now: `updated`
        bumps and a status transition is added. Returns their keys."""
        now_ms = int(self.clock() * 1000)
        return self.store.change(k, seed, now_ms)

    def remove_issues(self, keys: Iterable[str]) -> int:
        """Delete issues so that they leave every JQL; returns how many existed."""
        return self.store.remove(keys)

    def lengthen_changelogs(self, keys: Iterable[str], extra: int = 100) -> None:
        """Add `extra` old non-status histories to each issue (Cloud then truncates them)."""
        self.store.lengthen(keys, extra)

    def set_faults(
        self,
        *,
        error_503_every: int = 0,
        slow_seconds: float = 0.0,
        slow_on: FaultSpec = None,
        drop_connection_on: FaultSpec = None,
        malformed_json_on: FaultSpec = None,
    ) -> None:
        """Replace the injected faults (omitted ones are off); request numbers restart at 1."""
        with self._lock:
            self._faults = Faults(
                error_503_every, slow_seconds, slow_on, drop_connection_on, malformed_json_on
            )
            self._fault_number = 0

    def clear_faults(self) -> None:
        """Switch every injected fault off."""
        self.set_faults()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request log: dicts with number, method, path, query, jql, body, status, bytes."""
        with self._lock:
            return list(self._log)

    @property
    def counters(self) -> dict[str, Any]:
        """{"total": n, "by_path": {path: n}, "by_status": {status: n}}."""
        with self._lock:
            return {
                "total": self._counters["total"],
                "by_path": dict(self._counters["by_path"]),
                "by_status": dict(self._counters["by_status"]),
            }

    def reset_counters(self) -> None:
        """Empty the request log and zero the counters."""
        with self._lock:
            self._log.clear()
            self._counters = {"total": 0, "by_path": {}, "by_status": {}}

    # -- serving -----------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, method: str, raw: bytes) -> None:
        """Answer one request on `handler`: faults, rate limit, auth, then the route."""
        url = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with self._lock:
            self._fault_number += 1
            self._number += 1
            faults = self._faults
            info = {"number": self._fault_number, "method": method, "path": url.path,
                    "query": query, "jql": None}  # fmt: skip
        body: Any = None
        reply: Reply | None = None
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                reply = _errors(400, "Unexpected character in the request body: not JSON.")
        if isinstance(body, dict) and body.get("jql") is not None:
            info["jql"] = body.get("jql")
        elif "jql" in query:
            info["jql"] = query["jql"]

        if faults.slow_seconds and (faults.slow_on is None or _matches(faults.slow_on, info)):
            time.sleep(faults.slow_seconds)
        extra_headers: dict[str, str] = {}
        if self._bucket is not None:
            allowed, wait, remaining = self._bucket.take()
            extra_headers = {
                "X-RateLimit-Limit": str(self._bucket.capacity),
                "X-RateLimit-Remaining": str(remaining),
            }
            if remaining < self._bucket.capacity // 5:
                extra_headers["X-RateLimit-NearLimit"] = "true"
            if not allowed:
                reset = self.now() + timedelta(seconds=wait)
                extra_headers |= {
                    "Retry-After": str(max(1, math.ceil(wait))),
                    "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                    "RateLimit-Reason": "jira-burst-based",
                }
                reply = _errors(429, "Rate limit exceeded.")
        if (
            reply is None
            and faults.error_503_every
            and info["number"] % faults.error_503_every == 0
        ):
            reply = _errors(503, "Service Unavailable: the emulator injected this failure.")
        if reply is None:
            try:
                reply = self._route(method, url.path, query, body, handler.headers)
            except _BadRequest as exc:
                reply = _errors(400, str(exc))
            except JqlError as exc:
                reply = _errors(400, str(exc))
            except Exception as exc:  # a bug in the emulator: say so instead of hanging up
                log.exception("emulator failure", extra={"operation": "jira_emulator"})
                reply = _errors(500, f"The JIRA emulator failed: {exc!r}")
        reply.headers |= extra_headers

        payload = reply.body
        if (
            reply.status == 200
            and reply.content_type == JSON
            and _matches(faults.malformed_json_on, info)
        ):
            payload = payload[: max(1, len(payload) // 2)]
        drop = _matches(faults.drop_connection_on, info)
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("X-AREQUESTID", f"emu-{self._number}")
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if drop:
            handler.send_header("Connection", "close")
        sent = payload[: len(payload) // 2] if drop else payload
        try:
            handler.end_headers()
            handler.wfile.write(sent)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            handler.close_connection = True
        if drop:
            handler.close_connection = True
        self._record(method, url.path, query, body, info, reply.status, len(sent))

    def _record(self, method: str, path: str, query: dict, body: Any, info: dict, status: int,
                sent: int) -> None:  # fmt: skip
        entry = {
            "number": info["number"],
            "method": method,
            "path": path,
            "query": query,
            "jql": info["jql"],
            "body": body,
            "status": status,
            "bytes": sent,
        }
        with self._lock:
            self._log.append(entry)
            c = self._counters
            c["total"] += 1
            c["by_path"][path] = c["by_path"].get(path, 0) + 1
            c["by_status"][status] = c["by_status"].get(status, 0) + 1
        log.debug("emulator request", extra={"operation": "jira_emulator", **entry})

    # -- routes ------------------------------------------------------------------------

    def _authenticated(self, headers: Any) -> Reply | None:
        """None when the credentials fit this flavor; else the flavor's own 401."""
        given = headers.get("Authorization")
        if self.flavor == CLOUD:
            expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            if given == expected:
                return None
            reply = Reply(401, CLOUD_401_BODY, "text/plain;charset=UTF-8")
            reply.headers["WWW-Authenticate"] = 'Basic realm="Jira"'
            if given:
                reply.headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
            return reply
        if given == f"Bearer {self.token}":
            return None
        if not given:
            reply = _errors(401, DC_ANONYMOUS_MESSAGE)
        else:
            reply = Reply(401, DC_401_PAGE, "text/html;charset=UTF-8")
            reply.headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        reply.headers["WWW-Authenticate"] = f'OAuth realm="{quote(self.url, safe="")}"'
        return reply

    def _route(self, method: str, path: str, query: dict[str, str], body: Any,
               headers: Any) -> Reply:  # fmt: skip
        match = re.fullmatch(r"/rest/api/(2|3|latest)/(.+?)/?", path)
        if match is None or (match.group(1) == "3" and self.flavor == DATACENTER):
            return _errors(404, f"null for uri: {self.url}{path}")
        rest = match.group(2)
        if rest == "serverInfo":  # answers anonymously, as JIRA does
            return _json(200, self._server_info())
        denied = self._authenticated(headers)
        if denied is not None:
            return denied
        params = body if isinstance(body, dict) else {}
        if method == "GET":
            params = query
        elif method != "POST":
            return _errors(405, f"Method {method} is not allowed here.")

        if rest == "search":
            if self.flavor == CLOUD:
                return _errors(410, GONE_MESSAGE)
            return self._search_dc(params)
        if rest == "search/jql" and self.flavor == CLOUD:
            return self._search_cloud(params)
        if rest == "search/approximate-count" and self.flavor == CLOUD and method == "POST":
            return _json(200, {"count": len(self._matching(params.get("jql") or ""))})
        if method != "GET":
            return _errors(405, f"Method {method} is not allowed here.")
        if rest == "myself":
            return _json(200, self._myself())
        if rest == "field":
            return _json(200, self._fields)
        if rest == "status":
            return _json(200, self._statuses)
        changelog = re.fullmatch(r"issue/([^/]+)/changelog", rest)
        if changelog and self.flavor == CLOUD:
            return self._changelog(changelog.group(1), query)
        single = re.fullmatch(r"issue/([^/]+)", rest)
        if single:
            return self._issue(single.group(1), query)
        return _errors(404, f"null for uri: {self.url}{path}")

    def _server_info(self) -> dict[str, Any]:
        cloud = self.flavor == CLOUD
        version = [1001, 0, 0] if cloud else [9, 12, 4]
        return {
            "baseUrl": self.url,
            "version": ".".join(map(str, version)) + ("-SNAPSHOT" if cloud else ""),
            "versionNumbers": version,
            "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": 100280 if cloud else 9120004,
            "buildDate": "2025-01-01T00:00:00.000+0000",
            "serverTime": self.now().strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "scmInfo": "emulator",
            "serverTitle": "Jira Emulator",
        }

    def _myself(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "self": f"{self.url}/rest/api/2/user?accountId=emulator",
            "emailAddress": self.email,
            "displayName": "Emulator User",
            "active": True,
            "timeZone": self.user_time_zone,
            "locale": "en_US",
        }
        if self.flavor == CLOUD:
            user |= {"accountId": "5b10ac8d82e05b22cc7d0000", "accountType": "atlassian"}
        else:
            user |= {"self": f"{self.url}/rest/api/2/user?username=emulator",
                     "key": "JIRAUSER10000", "name": "emulator", "deleted": False}  # fmt: skip
        return user

    # JQL evaluation context
    def known_values(self, field_name: str) -> set[str] | None:
        """Lower-case names that exist for a JQL field (None: any value is accepted)."""
        return self.store.known_values(field_name)

    def issue_exists(self, key: str) -> bool:
        """Whether an issue key exists (JQL `key =` and `parent =` refuse unknown keys)."""
        return self.store.get(key) is not None

    @property
    def time_zone(self) -> str:
        """The zone JQL dates are read in: the JIRA user's."""
        return self.user_time_zone

    def now_ms(self) -> int:
        """The emulator's clock in epoch milliseconds."""
        return int(self.clock() * 1000)

    def _matching(self, jql: str) -> list[Record]:
        """Records matching `jql` in its order; cached per (JQL, store version) for paging."""
        version, snapshot = self.store.versioned_snapshot()
        cached = self._match_cache.get((jql, version))
        if cached is not None:
            return cached
        query: Query = parse_jql(str(jql), self)
        records = [r for r in snapshot if query.predicate(r)]
        order = query.order or (("key", False),)
        for name, descending in reversed(order):
            records.sort(key=sort_key(name), reverse=descending)
        with self._lock:
            if len(self._match_cache) >= 16:
                self._match_cache.clear()
            self._match_cache[(jql, version)] = records
        return records

    def _render(self, record: Record, selection: _FieldSelection | None, changelog: bool,
                truncate: bool) -> dict[str, Any]:  # fmt: skip
        issue = record.issue
        if selection is None or (self.flavor == CLOUD and selection.ids_only and not changelog):
            out: dict[str, Any] = {"id": issue["id"]}
            if selection is not None and "key" in selection.names:
                out["key"] = issue["key"]
            if selection is None and not changelog:
                return out
        else:
            out = {
                "expand": issue.get("expand", "operations,changelog,renderedFields"),
                "id": issue["id"],
                "self": issue.get("self", f"{self.url}/rest/api/2/issue/{issue['id']}"),
                "key": issue["key"],
            }
            all_fields = issue.get("fields") or {}
            if selection.everything:
                chosen = {k: v for k, v in all_fields.items() if k not in selection.excluded}
            else:
                chosen = {k: all_fields[k] for k in selection.names if k in all_fields}
            out["fields"] = chosen
        if changelog:
            full = issue.get("changelog") or {"histories": []}
            histories = full.get("histories") or []
            total = len(histories)
            if truncate and total > CLOUD_CHANGELOG_LIMIT:
                newest = record.histories_oldest_first()[-CLOUD_CHANGELOG_LIMIT:][::-1]
                out["changelog"] = {"startAt": 0, "maxResults": len(newest), "total": total,
                                    "histories": newest}  # fmt: skip
            else:
                out["changelog"] = {"startAt": 0, "maxResults": total, "total": total,
                                    "histories": histories}  # fmt: skip
        return out

    def _page_token(self, offset: int, jql: str) -> str:
        digest = hashlib.sha256(jql.encode()).hexdigest()[:16]
        return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")

    def _token_offset(self, token: str, jql: str) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            offset, digest = base64.urlsafe_b64decode(padded).decode().split(":")
            if digest != hashlib.sha256(jql.encode()).hexdigest()[:16]:
                raise ValueError(digest)
            return int(offset)
        except (ValueError, UnicodeDecodeError):
            raise _BadRequest("The provided next page token is invalid or expired.") from None

    def _search_cloud(self, params: dict[str, Any]) -> Reply:
        jql = str(params.get("jql") or "")
        records = self._matching(jql)
        selection = _field_selection(params.get("fields"), None)
        changelog = _expands_changelog(params.get("expand"))
        ids_only = (selection is None or selection.ids_only) and not changelog
        cap = CLOUD_ID_PAGE_CAP if ids_only else self.max_results_cap
        size = max(1, min(_int_param(params, "maxResults", DEFAULT_PAGE), cap))
        token = params.get("nextPageToken")
        offset = self._token_offset(str(token), jql) if token else 0
        page = records[offset : offset + size]
        result: dict[str, Any] = {
            "issues": [self._render(r, selection, changelog, truncate=True) for r in page]
        }
        if offset + size < len(records):
            result["nextPageToken"] = self._page_token(offset + size, jql)
            result["isLast"] = False
        else:
            result["isLast"] = True
        return _json(200, result)

    def _search_dc(self, params: dict[str, Any]) -> Reply:
        jql = str(params.get("jql") or "")
        records = self._matching(jql)
        start = max(0, _int_param(params, "startAt", 0))
        size = max(0, min(_int_param(params, "maxResults", DEFAULT_PAGE), self.max_results_cap))
        selection = _field_selection(params.get("fields"), "*navigable")
        changelog = _expands_changelog(params.get("expand"))
        page = records[start : start + size]
        return _json(
            200,
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(records),
                "issues": [self._render(r, selection, changelog, truncate=False) for r in page],
            },
        )

    def _issue(self, key: str, query: dict[str, str]) -> Reply:
        record = self.store.get(key)
        if record is None:
            return _errors(404, "Issue does not exist or you do not have permission to see it.")
        selection = _field_selection(query.get("fields"), "*all")
        changelog = _expands_changelog(query.get("expand"))
        rendered = self._render(record, selection, changelog, truncate=self.flavor == CLOUD)
        return _json(200, rendered)

    def _changelog(self, key: str, query: dict[str, str]) -> Reply:
        record = self.store.get(key)
        if record is None:
            return _errors(404, "Issue does not exist or you do not have permission to see it.")
        start = max(0, _int_param(query, "startAt", 0))
        size = max(1, min(_int_param(query, "maxResults", CHANGELOG_PAGE_CAP), CHANGELOG_PAGE_CAP))
        histories = record.histories_oldest_first()
        values = histories[start : start + size]
        base = f"{self.url}/rest/api/3/issue/{record.key}/changelog"
        result: dict[str, Any] = {
            "self": f"{base}?maxResults={size}&startAt={start}",
            "maxResults": size,
            "startAt": start,
            "total": len(histories),
            "isLast": start + size >= len(histories),
            "values": values,
        }
        if not result["isLast"]:
            result["nextPage"] = f"{base}?maxResults={size}&startAt={start + size}"
        return _json(200, result)


class _Handler(BaseHTTPRequestHandler):
    """Reads the request and hands it to the emulator; keep-alive HTTP/1.1."""

    protocol_version = "HTTP/1.1"
    server_version = "JiraEmulator/1.0"
    sys_version = ""

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.emulator.handle(self, method, raw)  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header from the emulator's clock (clients use it as their sync cursor)."""
        return email.utils.formatdate(self.server.emulator.clock(), usegmt=True)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's stderr line per request; the emulator keeps its own log."""
