"""The JIRA REST client: both flavors, paging, changelog completion, retries and clear errors.

    client = JiraClient("https://acme.atlassian.net", "basic", "me@acme.com", token)
    client.test_connection("project = DEMO")   # title, flavor, user, time zone, matching count
    client.search("project = DEMO", ["status", "created"], expand_changelog=True, on_page=save)

Flavors (from `/rest/api/2/serverInfo` `deploymentType`):
- **cloud**: `POST /rest/api/3/search/jql` paged by `nextPageToken` / `isLast` (the old
  `/search` answers 410 there); changelogs come cut to the newest entries, so an issue whose
  `changelog.total` exceeds its histories is completed from `/rest/api/3/issue/{key}/changelog`.
- **datacenter**: `POST /rest/api/2/search` paged by `startAt` in steps of the `maxResults`
  the server echoes; once `total` is known the remaining pages run in parallel.

Every request waits for a token from the site's bucket (`data.rate_limiter`), and is logged
once per attempt: method, URL without credentials, JQL, page, status, duration, bytes, attempt,
rate-limit headers. Every failure becomes a `JiraError` (a `UserError`) whose message says what
to do; the token never appears in a message or a log line.
"""

from __future__ import annotations

import email.utils
import errno
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, ReadTimeoutError
from urllib3.util import Retry

from configuration.sensitive_data_filter import register_secret
from configuration.settings import jira_token
from configuration.site_url import safe_url, site_url
from data.errors import UserError
from data.performance_utils import timed
from data.rate_limiter import DEFAULT_PER_SECONDS, DEFAULT_REQUESTS, limiter_for

log = logging.getLogger(__name__)

CLOUD = "cloud"
DATACENTER = "datacenter"

#: Statuses worth asking again: rate limited or the server (or a proxy) briefly unavailable.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Response headers worth logging: what the server says about its rate limit.
RATE_LIMIT_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-NearLimit",
    "RateLimit-Reason",
)
#: Page sizes asked for; servers cap them and the client follows what they echo.
SEARCH_PAGE_SIZE = 100
LIST_PAGE_SIZE = 5000
CHANGELOG_PAGE_SIZE = 100
#: A bucket wait at least this long is announced ("rate limited, waiting N s").
ANNOUNCE_WAIT_SECONDS = 1.0

OnWait = Callable[[float, str], None]
OnPage = Callable[[list[dict[str, Any]]], None]


# -- errors -------------------------------------------------------------------------------


class JiraError(UserError):
    """A JIRA request failed in a way the user can act on; the message says how."""


class JiraAuthError(JiraError):
    """401, or an anonymous answer: the e-mail / token are wrong."""


class JiraPermissionError(JiraError):
    """403: the credentials work but may not do this."""


class JiraQueryError(JiraError):
    """400 on a search: JIRA could not run the JQL (its own message is included)."""


class JiraSiteNotFoundError(JiraError):
    """Nothing answers at the URL, or what answers is not JIRA."""


class JiraNotFoundError(JiraError):
    """404 on an endpoint of a site that otherwise answers."""


class JiraEndpointGoneError(JiraError):
    """410: JIRA removed the endpoint (Cloud's old `/search`)."""


class JiraTLSError(JiraError):
    """The TLS handshake or certificate check failed."""


class JiraTimeoutError(JiraError):
    """JIRA did not answer in time, after every retry."""


class JiraRateLimitedError(JiraError):
    """JIRA kept answering 429 after every retry."""


class JiraServerError(JiraError):
    """JIRA kept failing (5xx, dropped connections, broken JSON) after every retry."""


class Cancelled(Exception):
    """Work stopped on purpose (the user cancelled); not an error."""


class JiraCancelled(Cancelled):
    """The caller's cancel event was set while talking to JIRA; nothing was changed."""


# -- small helpers ---------------------------------------------------------------------------


def normalize_site_url(url: str) -> str:
    """The site's base URL (`configuration.site_url.site_url`), checked first: http(s), a host and a
    readable port."""
    text = (url or "").strip()
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JiraSiteNotFoundError(
            f"JIRA URL {safe_url(text) or '(empty)'!r} is not valid: "
            "use the full address, e.g. https://your-company.atlassian.net"
        )
    return site_url(text)


_ORDER_BY = re.compile(r"order\s+by\b", re.IGNORECASE)


def strip_order_by(jql: str) -> str:
    """The JQL without its trailing `ORDER BY ...`, trimmed.

    `ORDER` and `BY` may be split by any whitespace (spaces, line breaks); text inside a quoted
    string (where a backslash escapes the next character) is never taken for the clause, so an
    incremental refresh can append its own condition to what is left.
    """
    text = jql.strip()
    quote_char, escaped = "", False
    for i, ch in enumerate(text):
        if quote_char:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote_char:
                quote_char = ""
        elif ch in "\"'":
            quote_char = ch
        elif (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and _ORDER_BY.match(
            text, i
        ):
            return text[:i].strip()
    return text


def parse_http_date(value: str | None) -> datetime | None:
    """A `Date` response header as an aware UTC datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_text(body: Any) -> str:
    """JIRA's own error message(s) from an error body, one line."""
    if not isinstance(body, dict):
        return ""
    parts = [str(m) for m in body.get("errorMessages") or [] if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    if not parts and body.get("message"):
        parts.append(str(body["message"]))
    return " ".join(" ".join(parts).split())[:500]


def _int_header(response: requests.Response, name: str) -> int | None:
    """A header's integer value; None when absent or not a number."""
    try:
        return int(str(response.headers.get(name, "")).strip())
    except ValueError:
        return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything in its cause/context/args/reason chain, each once."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend([item.__cause__, item.__context__, *item.args])
        stack.append(getattr(item, "reason", None))


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """True when `exc` or anything in its chain is one of `kinds`."""
    return any(isinstance(item, kinds) for item in _chain(exc))


def _refused(exc: BaseException) -> bool:
    """True when the connection was refused: nothing listens at that address."""
    return any(
        isinstance(item, ConnectionRefusedError)
        or (isinstance(item, OSError) and item.errno == errno.ECONNREFUSED)
        for item in _chain(exc)
    )


@dataclass
class RequestStats:
    """What a client has cost so far; thread-safe counters read by the fetch summary."""

    calls: int = 0
    bytes: int = 0
    retries: int = 0
    changelogs: int = 0
    waited_s: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, status: str, size: int) -> None:
        """Count one finished attempt."""
        with self._lock:
            self.calls += 1
            self.bytes += size
            self.by_status[status] = self.by_status.get(status, 0) + 1

    def add_retry(self, waited: float) -> None:
        """Count one retry and the time it waited."""
        with self._lock:
            self.retries += 1
            self.waited_s += waited

    def add_changelogs(self, count: int) -> None:
        """Count changelogs completed from their own endpoint."""
        with self._lock:
            self.changelogs += count

    def snapshot(self) -> dict[str, Any]:
        """A plain copy for summaries and logs."""
        with self._lock:
            return {
                "calls": self.calls,
                "bytes": self.bytes,
                "retries": self.retries,
                "changelogs": self.changelogs,
                "waited_s": round(self.waited_s, 3),
                "by_status": dict(self.by_status),
            }


@dataclass(frozen=True)
class _Retryable:
    """An attempt that may succeed when asked again: which error if not, why, how long to wait."""

    kind: type[JiraError]
    text: str
    wait: float | None = None
    limit: int | None = None  # X-RateLimit-Limit of a 429


@dataclass
class SearchOutcome:
    """What a search saw: issues delivered, pages, JIRA's clock at the first page, DC total."""

    issues: int = 0
    pages: int = 0
    server_date: datetime | None = None
    total: int | None = None


# -- the client ----------------------------------------------------------------------------


class JiraClient:
    """One JIRA site with one set of credentials.

    Retries are an explicit loop rather than urllib3's `Retry` mounted in the adapter, because
    that `Retry` sleeps inside the adapter without telling anyone: the page must say "rate
    limited, waiting N s", every retry must be logged with its attempt number, a `Retry-After`
    must pause *every* thread through the shared bucket (not only the one that got the 429),
    a wait must stop when the user cancels, and a connection dropped mid-body or a malformed
    JSON page only shows up after the adapter has returned. urllib3's `Retry` still parses
    `Retry-After` (seconds or HTTP date).
    """

    def __init__(
        self,
        url: str,
        auth: str = "basic",
        email: str = "",
        token: str = "",
        *,
        verify_tls: bool = True,
        timeout: float = 30,
        rate_limit: dict[str, Any] | None = None,
        on_wait: OnWait | None = None,
        cancel_event: threading.Event | None = None,
    ) -> None:
        if auth not in ("basic", "bearer"):
            raise JiraError(f"Unknown JIRA authentication {auth!r}: use 'basic' or 'bearer'.")
        if not token:
            raise JiraAuthError(
                "No JIRA token: type it in the settings or set the environment variable "
                "named there."
            )
        if auth == "basic" and not email:
            raise JiraAuthError(
                "No e-mail for JIRA: basic authentication (Cloud) needs the account's e-mail."
            )
        register_secret(token)  # before any message can hold it: errors and logs redact it
        self.url = normalize_site_url(url)
        self.auth = auth
        self.email = email
        self._secret = token
        self.timeout = float(timeout)
        cfg = rate_limit or {}
        self.max_attempts = max(1, int(cfg.get("max_attempts", 6)))
        self.max_backoff = float(cfg.get("max_backoff_seconds", 60))
        self.workers = max(1, int(cfg.get("workers", 4)))
        self.bucket = limiter_for(self.url, cfg)
        self.rate_setting = (
            int(cfg.get("requests", DEFAULT_REQUESTS)),
            float(cfg.get("per_seconds", DEFAULT_PER_SECONDS)),
        )
        self.on_wait = on_wait
        self.cancel_event = cancel_event
        self.stats = RequestStats()
        self._retry_after = Retry(total=0)
        self._flavor: str | None = None
        self._server_info: dict[str, Any] | None = None
        self.session = requests.Session()
        self.session.verify = verify_tls
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.workers + 2, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json"})
        if auth == "basic":
            self.session.auth = (email, token)
        else:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the request loop --------------------------------------------------------------------

    def _wait(self, seconds: float, reason: str) -> None:
        """Sleep `seconds` (cut short by cancel), announcing waits a person would notice."""
        if seconds <= 0:
            return
        if self.on_wait is not None and seconds >= ANNOUNCE_WAIT_SECONDS:
            self.on_wait(seconds, reason)
        if self.cancel_event is not None:
            if self.cancel_event.wait(seconds):
                raise JiraCancelled("cancelled")
        else:
            time.sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: about 1, 2, 4, 8 ... s, capped."""
        base = min(self.max_backoff, 2.0 ** (attempt - 1))
        return min(self.max_backoff, base * (0.75 + 0.5 * random.random()))

    def _retry_after_seconds(self, response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            return float(self._retry_after.parse_retry_after(value))
        except Exception:  # an unreadable header: fall back to backoff
            return None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        jql: str | None = None,
        page: int | str | None = None,
        retry_bad_json: bool = True,
    ) -> tuple[Any, requests.Response]:
        """One JIRA call with waiting, retries and error translation; returns (JSON, response)."""
        shown = safe_url(self.url + path)
        context: dict[str, Any] = {"method": method, "url": shown, "cache": "miss"}
        if jql is not None:
            context["jql"] = jql
        if page is not None:
            context["page"] = page
        problem = _Retryable(JiraServerError, "")
        attempt = 0
        # a 429 caused by the rate before the bucket slowed down is not counted as an attempt;
        # the bound keeps a server that never stops complaining from holding the fetch forever
        for _ in range(3 * self.max_attempts):
            attempt += 1
            if self.cancel_event is not None and self.cancel_event.is_set():
                raise JiraCancelled("cancelled")
            self._wait(self.bucket.reserve(), "rate limited")
            sent_at = self.bucket.now()
            with timed("jira_request", attempt=attempt, **context) as timer:
                outcome = self._attempt(method, path, params, body, jql, retry_bad_json, timer)
            if not isinstance(outcome, _Retryable):
                return outcome
            problem = outcome
            limited = problem.kind is JiraRateLimitedError
            if limited and not self.bucket.slow_down(sent_at, problem.limit):
                attempt -= 1
            if attempt >= self.max_attempts:
                break
            wait = problem.wait if problem.wait is not None else self._backoff(attempt)
            if limited:
                self.bucket.pause_for(wait)
            self.stats.add_retry(wait)
            log.warning(
                "jira retry in %.1f s: %s",
                wait,
                problem.text,
                extra={
                    "operation": "jira_retry",
                    "method": method,
                    "url": shown,
                    "attempt": attempt,
                    "wait_s": round(wait, 3),
                    "reason": problem.text,
                },
            )
            self._wait(wait, "rate limited" if limited else "retrying")
        advice = "Try later."
        if problem.kind is JiraRateLimitedError:
            requests_, per_seconds = self.rate_setting
            advice = (
                f"Lower rate_limit.requests (now {requests_} per {per_seconds:g} s) or "
                f"rate_limit.workers (now {self.workers}) in the settings, or try later."
            )
        raise problem.kind(f"{problem.text}; gave up after {attempt} attempts. {advice}")

    def _attempt(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        jql: str | None,
        retry_bad_json: bool,
        timer: timed,
    ) -> tuple[Any, requests.Response] | _Retryable:
        """One HTTP exchange: the parsed answer, what to retry, or a JiraError raised."""
        fields = timer.fields
        try:
            response = self.session.request(
                method,
                self.url + path,
                params=params,
                data=orjson.dumps(body) if body is not None else None,
                headers={"Content-Type": "application/json"} if body is not None else None,
                timeout=self.timeout,
            )
            content = response.content  # a body cut short raises here, inside the try
        except requests.exceptions.SSLError as exc:
            self._count(fields, "tls_error", 0)
            raise JiraTLSError(
                f"TLS error talking to {self.url}: {exc.__class__.__name__}. Check that the "
                "address really uses https (or http); for a self-signed certificate, untick "
                '"Check the site\'s TLS certificate" in Settings (jira.verify_tls = false).'
            ) from None
        except (
            requests.exceptions.Timeout,
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,  # the body stopped half-way
            requests.exceptions.ContentDecodingError,
        ) as exc:
            timed_out = isinstance(exc, requests.exceptions.Timeout) or _caused_by(
                exc, (ReadTimeoutError, TimeoutError)
            )
            if not timed_out and _caused_by(exc, (NameResolutionError,)):
                self._count(fields, "dns_error", 0)
                host = urlsplit(self.url).hostname
                raise JiraSiteNotFoundError(
                    f"JIRA site not found: the name {host!r} does not resolve. Check the JIRA URL."
                ) from None
            if not timed_out and _refused(exc):
                self._count(fields, "connection_refused", 0)
                raise JiraSiteNotFoundError(
                    f"JIRA site not found: nothing answers at {self.url} (connection "
                    "refused). Check the JIRA URL and port."
                ) from None
            if timed_out:
                self._count(fields, "timeout", 0)
                return _Retryable(
                    JiraTimeoutError, f"JIRA did not answer within {self.timeout:g} s"
                )
            self._count(fields, "connection_error", 0)
            return _Retryable(
                JiraServerError, f"the connection to JIRA broke ({exc.__class__.__name__})"
            )
        status = response.status_code
        self._count(fields, status, len(content), response)
        if 200 <= status < 300:
            try:
                return (orjson.loads(content) if content else None), response
            except orjson.JSONDecodeError:
                if not retry_bad_json:
                    raise JiraSiteNotFoundError(
                        f"{self.url} answered, but not like JIRA (no JSON from {path}). "
                        "Check the JIRA URL."
                    ) from None
                fields["bad_json"] = True
                return _Retryable(
                    JiraServerError, f"JIRA sent a page that is not valid JSON ({path})"
                )
        if status == 429:
            return _Retryable(
                JiraRateLimitedError,
                "JIRA kept rate limiting the requests (429)",
                self._retry_after_seconds(response),
                _int_header(response, "X-RateLimit-Limit"),
            )
        if status in RETRY_STATUSES:
            return _Retryable(
                JiraServerError,
                f"JIRA is unavailable ({status})",
                self._retry_after_seconds(response),
            )
        self._raise_for(status, content, path, jql)
        raise AssertionError("unreachable")  # _raise_for always raises

    def _count(
        self,
        fields: dict[str, Any],
        status: int | str,
        size: int,
        response: requests.Response | None = None,
    ) -> None:
        """Record one exchange in the stats and in the request's log record."""
        fields["http_status"] = status
        fields["bytes"] = size
        if response is not None:
            limits = {h: response.headers[h] for h in RATE_LIMIT_HEADERS if h in response.headers}
            if limits:
                fields["rate_limit"] = limits
        self.stats.record(str(status), size)

    def _auth_hint(self) -> str:
        """When the site's flavor is known and the authentication is the other flavor's:
        which one to choose (Cloud takes e-mail + API token, Data Center a personal token)."""
        known = self._flavor is not None or self._server_info is not None
        flavor = self.flavor if known else None  # never a request from inside an error
        if flavor == DATACENTER and self.auth == "basic":
            return (
                " This JIRA is Data Center / Server: choose 'Personal access token' "
                "(jira.auth = bearer) and enter a personal access token."
            )
        if flavor == CLOUD and self.auth == "bearer":
            return (
                " This JIRA is Cloud: choose 'E-mail + API token' (jira.auth = basic) and "
                "enter your Atlassian e-mail and an API token."
            )
        return ""

    def _raise_for(self, status: int, content: bytes, path: str, jql: str | None) -> None:
        try:
            detail = _error_text(orjson.loads(content)) if content else ""
        except orjson.JSONDecodeError:
            detail = ""
        said = f" JIRA says: {detail}" if detail else ""
        if status == 401:
            what = (
                "the e-mail and API token" if self.auth == "basic" else "the personal access token"
            )
            raise JiraAuthError(
                f"Wrong credentials: JIRA rejected {what} (401). Check {what}.{self._auth_hint()}"
            )
        if status == 403:
            raise JiraPermissionError(
                f"No permission: the JIRA user may not use {path} (403).{said}"
            )
        if status == 400 and jql is not None:
            raise JiraQueryError(f"JIRA rejected the JQL.{said or ' Check the JQL.'}")
        if status == 404:
            raise JiraNotFoundError(f"JIRA has no {path} (404).{said}")
        if status == 410:
            raise JiraEndpointGoneError(
                f"JIRA removed the endpoint {path} (410 Gone).{said} This JIRA needs a newer "
                "client API; check the site's flavor."
            )
        raise JiraServerError(f"JIRA answered {status} to {path}.{said}")

    # -- site, user, metadata ------------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        """`/rest/api/2/serverInfo` (once per client); a 404 or non-JIRA answer: site not found."""
        if self._server_info is None:
            try:
                info, _ = self.request("GET", "/rest/api/2/serverInfo", retry_bad_json=False)
            except JiraNotFoundError:
                raise JiraSiteNotFoundError(
                    f"JIRA site not found: {self.url} has no /rest/api/2/serverInfo (404). "
                    "Check the JIRA URL."
                ) from None
            if not isinstance(info, dict) or "deploymentType" not in info:
                raise JiraSiteNotFoundError(
                    f"{self.url} answered, but not like JIRA. Check the JIRA URL."
                )
            self._server_info = info
        return self._server_info

    @property
    def flavor(self) -> str:
        """The flavor, CLOUD or DATACENTER: serverInfo's deploymentType, unless set already."""
        if self._flavor is None:
            kind = str(self.server_info().get("deploymentType", "")).lower()
            self._flavor = CLOUD if kind == "cloud" else DATACENTER
        return self._flavor

    @flavor.setter
    def flavor(self, value: str) -> None:
        if value not in (CLOUD, DATACENTER):
            raise ValueError(f"unknown JIRA flavor {value!r}")
        self._flavor = value

    def forget_flavor(self) -> None:
        """Ask `/serverInfo` again on next use (the flavor set or learned earlier was wrong)."""
        self._flavor = None
        self._server_info = None

    def myself(self) -> dict[str, Any]:
        """The authenticated user; an anonymous answer counts as wrong credentials."""
        user, _ = self.request("GET", "/rest/api/2/myself")
        if not isinstance(user, dict) or not (
            user.get("accountId") or user.get("name") or user.get("key")
        ):
            raise JiraAuthError(
                "Wrong credentials: JIRA answered anonymously. Check the e-mail and token."
            )
        return user

    def fields(self) -> list[dict[str, Any]]:
        """`/rest/api/2/field`: every system and custom field with its schema."""
        result, _ = self.request("GET", "/rest/api/2/field")
        return list(result or [])

    def statuses(self) -> list[dict[str, Any]]:
        """`/rest/api/2/status`: every status with its category."""
        result, _ = self.request("GET", "/rest/api/2/status")
        return list(result or [])

    # -- search ------------------------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="jira")

    def search(
        self,
        jql: str,
        fields: Iterable[str],
        *,
        expand_changelog: bool = False,
        on_page: OnPage | None = None,
        on_total: Callable[[int], None] | None = None,
        page_size: int = SEARCH_PAGE_SIZE,
    ) -> SearchOutcome:
        """Every issue matching `jql`, handed to `on_page` one page at a time (never all held).

        Truncated changelogs are completed before a page is handed over. Page order is not
        guaranteed on Data Center (pages after the first run in parallel).
        """
        wanted = list(dict.fromkeys(fields))
        deliver = on_page or (lambda _page: None)
        lock = threading.Lock()

        def sink(page: list[dict[str, Any]]) -> None:
            if expand_changelog:
                self.complete_changelogs(page)
            with lock:  # pages may arrive from several threads; the receiver sees one at a time
                deliver(page)

        if self.flavor == CLOUD:
            return self._search_cloud(jql, wanted, expand_changelog, sink, page_size)
        return self._search_dc(jql, wanted, expand_changelog, sink, page_size, on_total)

    def _search_cloud(
        self, jql: str, fields: list[str], expand: bool, sink: OnPage, page_size: int
    ) -> SearchOutcome:
        outcome = SearchOutcome()
        body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if expand:
            body["expand"] = "changelog"

        def fetch(token: str | None, number: int) -> tuple[Any, requests.Response]:
            page_body = {**body, "nextPageToken": token} if token else body
            return self.request(
                "POST", "/rest/api/3/search/jql", body=page_body, jql=jql, page=number
            )

        # the next page is asked for while this one's changelogs are completed and written
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-page") as ahead:
            result, response = fetch(None, 1)
            outcome.server_date = parse_http_date(response.headers.get("Date"))
            while True:
                result = result or {}
                issues = list(result.get("issues") or [])
                outcome.pages += 1
                outcome.issues += len(issues)
                token = result.get("nextPageToken")
                last = bool(result.get("isLast", not token)) or not token or not issues
                upcoming = None if last else ahead.submit(fetch, token, outcome.pages + 1)
                try:
                    if issues:
                        sink(issues)
                except BaseException:
                    if upcoming is not None:
                        upcoming.cancel()
                    raise
                if upcoming is None:
                    return outcome
                result, _ = upcoming.result()

    def _dc_page(
        self, jql: str, fields: list[str], expand: bool, start: int, size: int
    ) -> tuple[dict[str, Any], requests.Response]:
        body: dict[str, Any] = {
            "jql": jql,
            "startAt": start,
            "maxResults": size,
            "fields": fields,
        }
        if expand:
            body["expand"] = ["changelog"]
        result, response = self.request(
            "POST", "/rest/api/2/search", body=body, jql=jql, page=start // max(size, 1) + 1
        )
        return result or {}, response

    def _search_dc(
        self,
        jql: str,
        fields: list[str],
        expand: bool,
        sink: OnPage,
        page_size: int,
        on_total: Callable[[int], None] | None = None,
    ) -> SearchOutcome:
        outcome = SearchOutcome()
        first, response = self._dc_page(jql, fields, expand, 0, page_size)
        outcome.server_date = parse_http_date(response.headers.get("Date"))
        issues = list(first.get("issues") or [])
        total = int(first.get("total") or 0)
        step = int(first.get("maxResults") or len(issues) or page_size)
        outcome.total, outcome.pages, outcome.issues = total, 1, len(issues)
        if on_total is not None:
            on_total(total)
        if issues:
            sink(issues)
        if step <= 0 or len(issues) >= total:
            return outcome
        starts = list(range(step, total, step))
        lock = threading.Lock()

        def one(start: int) -> None:
            page, _ = self._dc_page(jql, fields, expand, start, step)
            got = list(page.get("issues") or [])
            with lock:
                outcome.pages += 1
                outcome.issues += len(got)
            if got:
                sink(got)

        self._run_parallel(one, starts)
        return outcome

    def _run_parallel(self, job: Callable[[Any], None], items: list[Any]) -> None:
        """Run `job` over `items` on the bounded pool; the first error cancels the rest."""
        if not items:
            return
        if len(items) == 1 or self.workers == 1:
            for item in items:
                job(item)
            return
        with self._pool() as pool:
            futures = [pool.submit(job, item) for item in items]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    # -- changelogs ---------------------------------------------------------------------------

    @staticmethod
    def changelog_truncated(issue: dict[str, Any]) -> bool:
        """True when the issue's changelog says it holds fewer histories than exist."""
        changelog = issue.get("changelog")
        if not isinstance(changelog, dict):
            return False
        histories = changelog.get("histories") or []
        return int(changelog.get("total") or 0) > len(histories)

    def complete_changelog(self, key: str) -> list[dict[str, Any]]:
        """Every history entry of one issue, oldest first."""
        if self.flavor == DATACENTER:
            result, _ = self.request(
                "GET",
                f"/rest/api/2/issue/{quote(key)}",
                params={"fields": "id", "expand": "changelog"},
                page=key,
            )
            return list(((result or {}).get("changelog") or {}).get("histories") or [])
        histories: list[dict[str, Any]] = []
        start = 0
        while True:
            result, _ = self.request(
                "GET",
                f"/rest/api/3/issue/{quote(key)}/changelog",
                params={"startAt": start, "maxResults": CHANGELOG_PAGE_SIZE},
                page=f"{key}@{start}",
            )
            values = list((result or {}).get("values") or [])
            histories.extend(values)
            total = int((result or {}).get("total") or 0)
            start += len(values)
            if not values or (result or {}).get("isLast") or start >= total:
                return histories

    def complete_changelogs(self, issues: list[dict[str, Any]]) -> int:
        """Complete every truncated changelog in `issues` in place (in parallel); count them."""
        todo = [issue for issue in issues if self.changelog_truncated(issue)]

        def one(issue: dict[str, Any]) -> None:
            histories = self.complete_changelog(issue["key"])
            issue["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }

        self._run_parallel(one, todo)
        self.stats.add_changelogs(len(todo))
        return len(todo)

    # -- listings and counts ------------------------------------------------------------------

    def iter_ids(self, jql: str) -> Iterator[tuple[str, str | None]]:
        """(id, key or None) of every issue matching `jql`: the cheapest listing JIRA offers."""
        if self.flavor == CLOUD:
            body: dict[str, Any] = {
                "jql": jql,
                "fields": ["id", "key"],
                "maxResults": LIST_PAGE_SIZE,
            }
            page = 0
            while True:
                page += 1
                result, _ = self.request(
                    "POST", "/rest/api/3/search/jql", body=body, jql=jql, page=f"ids-{page}"
                )
                issues = (result or {}).get("issues") or []
                for issue in issues:
                    yield str(issue.get("id")), issue.get("key")
                token = (result or {}).get("nextPageToken")
                if (result or {}).get("isLast", not token) or not token or not issues:
                    return
                body["nextPageToken"] = token
        pages: list[list[dict[str, Any]]] = []
        lock = threading.Lock()

        def keep(issues: list[dict[str, Any]]) -> None:
            with lock:
                pages.append([{"id": i.get("id"), "key": i.get("key")} for i in issues])

        self._search_dc(jql, ["id", "key"], False, keep, LIST_PAGE_SIZE)
        for issues in pages:
            for issue in issues:
                yield str(issue.get("id")), issue.get("key")

    def list_keys(self, jql: str) -> list[str]:
        """Keys (or ids when JIRA sends no key) of every issue matching `jql`."""
        return [key or issue_id for issue_id, key in self.iter_ids(jql)]

    def approximate_count(self, jql: str) -> int | None:
        """Cloud's cheap approximate count (None where the endpoint does not exist)."""
        try:
            result, _ = self.request(
                "POST", "/rest/api/3/search/approximate-count", body={"jql": jql}, jql=jql
            )
        except JiraNotFoundError:
            return None
        return int((result or {}).get("count") or 0)

    def count_matching(self, jql: str) -> int:
        """How many issues match `jql`: Cloud's approximate count, or Data Center's `total`."""
        if self.flavor == CLOUD:
            count = self.approximate_count(jql)
            return count if count is not None else sum(1 for _ in self.iter_ids(jql))
        result, _ = self.request(
            "POST",
            "/rest/api/2/search",
            body={"jql": jql, "startAt": 0, "maxResults": 0, "fields": ["id"]},
            jql=jql,
            page="count",
        )
        return int((result or {}).get("total") or 0)

    # -- the settings panel's check -------------------------------------------------------------

    def test_connection(self, jql: str | None = None) -> dict[str, Any]:
        """Check site, credentials and (when given) the JQL; what the settings panel shows."""
        info = self.server_info()
        user = self.myself()
        result: dict[str, Any] = {
            "server_title": info.get("serverTitle") or "",
            "version": info.get("version") or "",
            "flavor": self.flavor,
            "user": user.get("displayName") or user.get("name") or "",
            "time_zone": user.get("timeZone"),
            "matching_issues": None,
        }
        if jql and jql.strip():
            result["matching_issues"] = self.count_matching(strip_order_by(jql))
        log.info(
            "jira connection checked",
            extra={
                "operation": "test_connection",
                "url": self.url,
                "flavor": result["flavor"],
                "matching_issues": result["matching_issues"],
                **self.stats.snapshot(),
            },
        )
        return result


def client_from_settings(
    settings: dict[str, Any],
    *,
    on_wait: OnWait | None = None,
    cancel_event: threading.Event | None = None,
) -> JiraClient:
    """A client for the JIRA configured in `settings` (token from the settings or its env var)."""
    jira = settings.get("jira", {})
    token = jira_token(settings)
    if token:
        register_secret(token)
    return JiraClient(
        jira.get("url", ""),
        jira.get("auth", "basic"),
        jira.get("email", ""),
        token,
        verify_tls=bool(jira.get("verify_tls", True)),
        timeout=float(jira.get("timeout_seconds", 30)),
        rate_limit=settings.get("rate_limit"),
        on_wait=on_wait,
        cancel_event=cancel_event,
    )
