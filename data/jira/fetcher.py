"""Fetching JIRA into the issue cache: full or incremental, as a background job or from the CLI.

    summary = fetch_project(root, settings)              # full the first time, then incremental
    start_update(root, settings) -> bool                 # the page's button: False = running
    update_progress(root) -> dict                        # polled by the page
    refresh_if_stale(root, settings) -> bool             # page load: incremental past the TTL
    cancel_update(root)
    fetch_for_cli(root, settings, ...) -> str            # `python app.py fetch`

**Full** (no valid cache for this site + JQL + fields, or `full=True`): serverInfo, myself,
fields, statuses, then every page of the search (pages written to the cache's staging file as
they arrive, truncated changelogs completed first), committed atomically.

**Incremental** (a valid cache exists): `(<JQL without ORDER BY>) AND updated >= "<cursor -
5 min>"`, the date in the JIRA user's zone; changed issues merged by key (newer `updated`
wins). Issues that left the JQL: the matching count is compared with what the cache plus the
changed issues add up to; only on a mismatch does an id-only listing run (after `/myself`
confirms the answers were not anonymous) and the missing issues are removed. So a refresh
where nothing changed costs two calls at any size: the changed search and the count. The
user's time zone and the site's flavor come from the last full fetch (`/myself` and
`/serverInfo` answers kept in the cache metadata and `cache/site-*.json`).

A failure or a cancel aborts the staging: the previous cache stays byte-identical.

Concurrency: one fetch at a time per data directory (`locks.fetch_lock`). A second
`fetch_project` *waits* for the running one; when that one synced the same cache, its outcome
is returned as "shared" (no API call), otherwise (other settings, or `full=True`) this fetch
runs next. `start_update` instead returns False at once, so the page can say an update is
running.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from configuration.settings import cache_dir, jira_configured, merge_settings
from data.errors import UserError
from data.jira.jira_client import (
    CLOUD,
    DATACENTER,
    JiraCancelled,
    JiraClient,
    JiraEndpointGoneError,
    client_from_settings,
    normalize_site_url,
    strip_order_by,
)
from data.jira.jira_parser import lean_issue
from data.performance_utils import timed
from data.services.metrics_service import prepare_dataset
from data.storage.cache_file import CachedIssues, parse_instant
from data.storage.cache_manager import IssueCache, cache_status, fields_for_mappings
from data.storage.locks import fetch_lock, is_fetch_running
from data.storage.persistence import write_json

log = logging.getLogger(__name__)

#: How far before the last sync cursor an incremental search starts (clock skew, slow commits).
OVERLAP = timedelta(minutes=5)
#: Issues asked for per `id in (...)` search when a refresh finds some missing.
MISSING_CHUNK = 100
#: JQL's date format (minutes are its finest grain).
JQL_DATE_FORMAT = "%Y/%m/%d %H:%M"


class FetchCancelled(UserError):
    """The user cancelled the update; the previous data is kept."""


@dataclass
class Progress:
    """What a running fetch has done so far; written by the fetch, read by the page."""

    state: str = "idle"
    issues: int = 0
    total: int | None = None
    pages: int = 0
    message: str = ""
    summary: dict[str, Any] | None = None
    activity: str = ""  # what `message` returns to after a wait was announced
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **values: Any) -> None:
        """Set some fields at once (thread-safe)."""
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def add_page(self, issues: int) -> None:
        """Count one more page of `issues` issues."""
        with self._lock:
            self.pages += 1
            self.issues += issues
            if self.activity:
                self.message = self.activity

    def as_dict(self) -> dict[str, Any]:
        """The shape `update_progress` returns."""
        with self._lock:
            end = self.finished if self.finished is not None else time.monotonic()
            return {
                "state": self.state,
                "issues": self.issues,
                "total": self.total,
                "pages": self.pages,
                "elapsed_s": round(end - self.started, 1),
                "message": self.message,
                "summary": dict(self.summary) if self.summary else None,
            }


@dataclass
class FetchSummary:
    """One fetch in numbers; logged as one line and shown by the page and the CLI."""

    mode: str  # "full", "incremental" or "shared" (another fetch ran; its result is used)
    issues: int = 0  # issues in the cache afterwards
    fetched: int = 0  # issues JIRA sent (changed ones, on an incremental refresh)
    removed: int = 0
    api_calls: int = 0
    bytes: int = 0
    seconds: float = 0.0
    retries: int = 0
    cache_hits: int = 0  # cached issues kept without asking JIRA for them
    cache_misses: int = 0  # issues that had to be fetched
    changelogs_completed: int = 0
    flavor: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the page and the logs."""
        return asdict(self)

    def line(self) -> str:
        """The CLI's one summary line."""
        megabytes = self.bytes / 1_000_000
        if self.mode == "shared":
            return (
                f"another update was running; it finished with {self.issues} issues "
                "in the cache (no API call made)"
            )
        extra = ""
        if self.mode == "incremental":
            extra = f", {self.issues} in the cache"
            if self.removed:
                extra += f", {self.removed} removed"
        return (
            f"fetched {self.fetched} issues ({self.mode}{extra}) in {self.seconds:.1f} s: "
            f"{self.api_calls} API calls, {megabytes:.1f} MB"
        )


# -- site facts kept between runs ---------------------------------------------------------------


def _site_file(root: Path, url: str) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return cache_dir(root) / f"site-{digest}.json"


def _load_site(root: Path, url: str) -> dict[str, Any]:
    import orjson

    try:
        facts = orjson.loads(_site_file(root, url).read_bytes())
    except (OSError, ValueError):
        return {}
    return facts if isinstance(facts, dict) and facts.get("url") == url else {}


def _save_site(root: Path, url: str, client: JiraClient, user: dict[str, Any]) -> None:
    info = client.server_info()
    write_json(
        _site_file(root, url),
        {
            "url": url,
            "flavor": client.flavor,
            "server_title": info.get("serverTitle"),
            "version": info.get("version"),
            "user_time_zone": user.get("timeZone"),
        },
    )


# -- JQL --------------------------------------------------------------------------------------


def jql_date(moment: datetime, time_zone: str | None) -> str:
    """`moment` as JQL writes dates ("yyyy/MM/dd HH:mm") in the JIRA user's zone."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        log.warning(
            "unknown JIRA user time zone; using UTC",
            extra={"operation": "fetch", "time_zone": time_zone},
        )
        zone = UTC
    return moment.astimezone(zone).strftime(JQL_DATE_FORMAT)


def incremental_jql(jql: str, cursor: datetime, time_zone: str | None) -> str:
    """`(<jql without ORDER BY>) AND updated >= "<cursor - overlap>"`."""
    return f'({strip_order_by(jql)}) AND updated >= "{jql_date(cursor - OVERLAP, time_zone)}"'


# -- the fetch ---------------------------------------------------------------------------------


def _settings_jql(settings: dict[str, Any]) -> str:
    jql = strip_order_by(settings.get("jira", {}).get("jql", "") or "")
    if not jql:
        raise UserError("No JQL in the settings: say which issues to fetch, e.g. project = DEMO")
    return jql


def fetch_project(
    root: Path,
    settings: dict[str, Any],
    *,
    full: bool = False,
    progress: Progress | None = None,
    cancel_event: threading.Event | None = None,
) -> FetchSummary:
    """Bring the issue cache for `settings` up to date; returns what it cost.

    Raises JiraError (a UserError) with an actionable message on failure, FetchCancelled
    when `cancel_event` was set; either way the previous cache is untouched.
    """
    root = Path(root)
    progress = progress or Progress()
    lock = fetch_lock(root)
    if not lock.try_acquire():
        waiting_since = datetime.now(UTC)
        progress.update(state="running", message="Another update is running; waiting for it.")
        lock.acquire()
        meta = IssueCache.for_settings(root, settings).read_meta() or {}
        synced = parse_instant(meta.get("updated"))
        if not full and synced is not None and synced >= waiting_since:
            lock.release()  # that update was for these very settings: its result is ours
            summary = FetchSummary(mode="shared", issues=int(meta.get("issue_count") or 0))
            log.info("fetch shared", extra={"operation": "fetch", **summary.as_dict()})
            return summary
    try:
        return _fetch_locked(root, settings, full, progress, cancel_event)
    finally:
        lock.release()


def _fetch_locked(
    root: Path,
    settings: dict[str, Any],
    full: bool,
    progress: Progress,
    cancel_event: threading.Event | None,
) -> FetchSummary:
    started = time.perf_counter()
    jql = _settings_jql(settings)
    url = normalize_site_url(settings.get("jira", {}).get("url", ""))
    wanted = fields_for_mappings(settings.get("mappings", {}))
    cache = IssueCache.for_settings(root, settings)

    def on_wait(seconds: float, reason: str) -> None:
        progress.update(message=f"{reason}, waiting {math.ceil(seconds)} s")

    client = client_from_settings(settings, on_wait=on_wait, cancel_event=cancel_event)
    cached = None if full else cache.load()
    cursor = parse_instant(cached.sync_cursor) if cached is not None else None
    mode = "incremental" if cached is not None and cursor is not None else "full"
    progress.update(state="running", message=f"Fetching ({mode})", activity=f"Fetching ({mode})")
    with timed("fetch", mode=mode) as timer:
        try:
            with client:
                if mode == "full":
                    summary = _full(root, url, jql, wanted, cache, client, progress)
                else:
                    assert cached is not None and cursor is not None
                    try:
                        summary = _incremental(
                            root, url, jql, wanted, cache, cached, cursor, client, progress
                        )
                    except JiraEndpointGoneError:
                        # the remembered flavor is stale (e.g. the site moved to Cloud): ask
                        # the site again, once
                        log.warning(
                            "search endpoint gone; detecting the JIRA flavor again",
                            extra={"operation": "fetch", "url": url},
                        )
                        _site_file(root, url).unlink(missing_ok=True)
                        client.forget_flavor()
                        summary = _incremental(
                            root, url, jql, wanted, cache, cached, cursor, client, progress
                        )
        except JiraCancelled:
            raise FetchCancelled("Update cancelled; the previous data is kept.") from None
        finally:
            stats = client.stats.snapshot()
            timer.fields.update(
                api_calls=stats["calls"], bytes=stats["bytes"], retries=stats["retries"]
            )
        summary.api_calls = stats["calls"]
        summary.bytes = stats["bytes"]
        summary.retries = stats["retries"]
        summary.changelogs_completed = stats["changelogs"]
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.flavor = client.flavor
        timer.fields.update(issues=summary.issues, fetched=summary.fetched)
    log.info(
        "fetch done: %s",
        summary.line(),
        extra={
            "operation": "fetch_summary",
            **summary.as_dict(),
            "duration_ms": round(summary.seconds * 1000, 1),
        },
    )
    return summary


class _PageWriter:
    """Writes pages to the staging file as they arrive, once per issue and in their lean form
    (`jira_parser.lean_issue`: only what the metrics read, no authors), counting progress."""

    def __init__(self, update: Any, progress: Progress, wanted: list[str]) -> None:
        self.update = update
        self.wanted = wanted
        self.progress = progress
        self.keys: set[str] = set()
        self.ids: dict[str, str] = {}
        self.changelogs = 0

    def __call__(self, page: list[dict[str, Any]]) -> None:
        fresh = [issue for issue in page if issue.get("key") not in self.keys]
        for issue in fresh:
            self.keys.add(issue["key"])
            self.ids[str(issue.get("id"))] = issue["key"]
        self.update.add_issues([lean_issue(issue, self.wanted) for issue in fresh])
        self.progress.add_page(len(fresh))


def _full(
    root: Path,
    url: str,
    jql: str,
    wanted: list[str],
    cache: IssueCache,
    client: JiraClient,
    progress: Progress,
) -> FetchSummary:
    client.server_info()
    user = client.myself()
    tz = user.get("timeZone")
    _save_site(root, url, client, user)
    fields = client.fields()
    statuses = client.statuses()
    if client.flavor == DATACENTER:
        # offsets stay stable while issues are edited: new issues sort last
        search_jql = f"{jql} ORDER BY created ASC, key ASC"
    else:
        search_jql = jql
        total = client.approximate_count(jql)
        if total is not None:
            progress.update(total=total)
    before = datetime.now(UTC)
    with cache.begin_update("full") as update:
        writer = _PageWriter(update, progress, wanted)
        outcome = client.search(
            search_jql,
            wanted,
            expand_changelog=True,
            on_page=writer,
            on_total=lambda total: progress.update(total=total),
        )
        cached = update.commit(outcome.server_date or before, statuses, fields, tz)
    return FetchSummary(
        mode="full",
        issues=len(cached.issues),
        fetched=len(writer.keys),
        cache_misses=len(writer.keys),
    )


def _incremental(
    root: Path,
    url: str,
    jql: str,
    wanted: list[str],
    cache: IssueCache,
    cached: CachedIssues,
    cursor: datetime,
    client: JiraClient,
    progress: Progress,
) -> FetchSummary:
    site = _load_site(root, url)
    if site.get("flavor") in (CLOUD, DATACENTER):
        client.flavor = site["flavor"]
    tz = cached.user_time_zone
    if not tz:
        user = client.myself()
        tz = user.get("timeZone")
        _save_site(root, url, client, user)
    changed_jql = incremental_jql(jql, cursor, tz)
    cached_ids = {str(issue.get("id")): issue.get("key") for issue in cached.issues}
    before = datetime.now(UTC)
    with (
        cache.begin_update("incremental") as update,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-count") as side,
    ):
        counting = side.submit(client.count_matching, jql)  # runs while the search pages
        writer = _PageWriter(update, progress, wanted)
        outcome = client.search(changed_jql, wanted, expand_changelog=True, on_page=writer)
        # an issue moved to another project keeps its id under a new key: drop the old key
        moved = [
            old_key
            for issue_id, new_key in writer.ids.items()
            if (old_key := cached_ids.get(issue_id)) is not None and old_key != new_key
        ]
        expected = len(cached_ids.keys() | writer.ids.keys())
        removed = list(moved)
        count = counting.result()
        if count != expected:
            client.myself()  # an anonymous answer must never delete cached issues
            current = {issue_id for issue_id, _ in client.iter_ids(jql)}
            removed += [
                key
                for issue_id, key in cached_ids.items()
                if issue_id not in current and key is not None
            ]
            # in the JQL but neither cached nor changed (it entered without an edit, or a page
            # shifted under an earlier fetch): fetch those by id
            missing = sorted(current - cached_ids.keys() - writer.ids.keys())
            for start in range(0, len(missing), MISSING_CHUNK):
                ids = ", ".join(missing[start : start + MISSING_CHUNK])
                client.search(f"id in ({ids})", wanted, expand_changelog=True, on_page=writer)
            log.info(
                "matching count differs from the cache",
                extra={
                    "operation": "fetch",
                    "expected": expected,
                    "matching": count,
                    "removed": len(removed),
                    "missing": len(missing),
                },
            )
        if removed:
            update.remove_keys(removed)
        fresh = update.commit(outcome.server_date or before, None, None, tz)
    return FetchSummary(
        mode="incremental",
        issues=len(fresh.issues),
        fetched=len(writer.keys),
        removed=len(set(removed)),
        cache_hits=max(0, len(fresh.issues) - len(writer.keys)),
        cache_misses=len(writer.keys),
    )


# -- the page's background job ------------------------------------------------------------------


@dataclass
class _Job:
    progress: Progress
    cancel: threading.Event
    thread: threading.Thread | None = None
    #: the cache file of the query (site, JQL, fields) the job fetches (`_query_of`)
    query: str = ""


_jobs: dict[str, _Job] = {}
#: the summary of the last successful update of each (data directory, query) in this process
_last_summaries: dict[tuple[str, str], dict[str, Any]] = {}
_jobs_lock = threading.Lock()


def _job_key(root: Path) -> str:
    return str(Path(root).resolve())


#: "Update data" before any connection: what to do instead.
CONNECT_FIRST = (
    "Connect to JIRA first: open Settings, enter your site, e-mail, token and JQL, "
    "save, then click Update data."
)


def start_update(root: Path, settings: dict[str, Any], *, full: bool = False) -> bool:
    """Start a fetch in a daemon thread of this process; False when one is already running
    (here, in another tab, or in another process such as the CLI). UserError (CONNECT_FIRST)
    when JIRA is not configured."""
    if not jira_configured(settings):
        raise UserError(CONNECT_FIRST)
    key = _job_key(root)
    with _jobs_lock:
        job = _jobs.get(key)
        if job is not None and job.thread is not None and job.thread.is_alive():
            return False
        if is_fetch_running(root):
            return False
        job = _Job(
            progress=Progress(state="running", message="Starting"),
            cancel=threading.Event(),
            query=_query_of(root, settings),
        )
        job.thread = threading.Thread(
            target=_run_job, args=(root, settings, full, job), name="fetch", daemon=True
        )
        _jobs[key] = job
        job.thread.start()
    log.info("update started", extra={"operation": "start_update", "full": full})
    return True


def refresh_if_stale(root: Path, settings: dict[str, Any]) -> bool:
    """Start an incremental refresh when the cache is older than its time-to-live.

    Called when a page opens: with JIRA configured, a cache for these settings that
    `cache_status` calls stale (`settings["cache"]["ttl_hours"]`, default 24) and no fetch
    running, the background job starts, incremental because the cache exists. Returns whether
    it started; never a full fetch (no cache: the user clicks Update data).
    """
    if not jira_configured(settings) or is_fetch_running(root):
        return False
    status = cache_status(root, settings)
    if not status["exists"] or not status["stale"]:
        return False
    started = start_update(root, settings)
    log.info(
        "stale cache refresh",
        extra={
            "operation": "refresh_if_stale",
            "started": started,
            "age_hours": status["age_hours"],
            "ttl_hours": status["ttl_hours"],
        },
    )
    return started


def _run_job(root: Path, settings: dict[str, Any], full: bool, job: _Job) -> None:
    progress = job.progress
    try:
        summary = fetch_project(
            root, settings, full=full, progress=progress, cancel_event=job.cancel
        )
    except FetchCancelled as exc:
        progress.update(state="cancelled", message=str(exc), finished=time.monotonic())
    except UserError as exc:
        log.error("update failed: %s", exc, extra={"operation": "update", "error": str(exc)})
        progress.update(state="failed", message=str(exc), finished=time.monotonic())
    except Exception as exc:  # a bug: keep the server alive, tell the page, log the trace
        log.exception("update crashed", extra={"operation": "update"})
        progress.update(
            state="failed",
            message=f"The update failed unexpectedly ({exc.__class__.__name__}); see errors.log.",
            finished=time.monotonic(),
        )
    else:
        with _jobs_lock:
            _last_summaries[(_job_key(root), job.query)] = summary.as_dict()
        progress.update(
            state="done",
            message=summary.line(),
            summary=summary.as_dict(),
            issues=summary.issues,
            finished=time.monotonic(),
        )


def _query_of(root: Path, settings: dict[str, Any]) -> str:
    """Which query (site, JQL, fields) `settings` fetch: the name of its cache file."""
    return IssueCache.for_settings(root, settings).path.name


def update_progress(root: Path, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state of this data directory's update: idle, running, done, failed or cancelled.

    With `settings`, the `summary` (the fetch statistics the header shows) is that of the
    last successful update of their query: never another site's or JQL's, and a failed or
    cancelled update does not erase it. Without, the summary of the last update, if done."""
    key = _job_key(root)
    query = None if settings is None else _query_of(root, settings)
    with _jobs_lock:
        job = _jobs.get(key)
        last = None if query is None else _last_summaries.get((key, query))
    progress = Progress().as_dict() | {"elapsed_s": 0.0} if job is None else job.progress.as_dict()
    if settings is not None:
        progress["summary"] = dict(last) if last else None
    return progress


def cancel_update(root: Path) -> bool:
    """Ask the running update to stop; True when there was one to stop."""
    with _jobs_lock:
        job = _jobs.get(_job_key(root))
    if job is None or job.thread is None or not job.thread.is_alive():
        return False
    job.cancel.set()
    job.progress.update(message="Cancelling")
    log.info("update cancel requested", extra={"operation": "cancel_update"})
    return True


def wait_for_update(root: Path, timeout: float | None = None) -> dict[str, Any]:
    """Block until the background update finishes (for tests and the CLI); its progress."""
    with _jobs_lock:
        job = _jobs.get(_job_key(root))
    if job is not None and job.thread is not None:
        job.thread.join(timeout)
    return update_progress(root)


# -- the CLI --------------------------------------------------------------------------------------


def cli_settings(
    settings: dict[str, Any],
    *,
    jira_url: str | None = None,
    jql: str | None = None,
    email: str | None = None,
    auth: str | None = None,
    token_env: str | None = None,
) -> dict[str, Any]:
    """The settings with the `fetch` flags laid over them (flags win)."""
    jira: dict[str, Any] = {}
    if jira_url:
        jira["url"] = jira_url
    if jql:
        jira["jql"] = jql
    if email:
        jira["email"] = email
    if auth:
        jira["auth"] = auth
    if token_env:
        jira["token_env"] = token_env
        jira["token"] = ""  # the named variable is the token for this run
    return merge_settings(settings, {"jira": jira}) if jira else settings


def fetch_for_cli(
    root: Path,
    settings: dict[str, Any],
    *,
    jira_url: str | None = None,
    jql: str | None = None,
    email: str | None = None,
    auth: str | None = None,
    token_env: str | None = None,
    full: bool = False,
) -> str:
    """`python app.py fetch`: fetch into the cache, return the one summary line.

    Connection flags (URL, JQL, e-mail, auth, token variable; never the token) are saved to
    the settings, so that `python app.py metrics` and the dashboard read the same cache.
    """
    from configuration.settings import jira_token
    from data.storage.persistence import save_settings

    merged = cli_settings(
        settings, jira_url=jira_url, jql=jql, email=email, auth=auth, token_env=token_env
    )
    jira = merged.get("jira", {})
    if not jira.get("url"):
        raise UserError("No JIRA URL: pass --jira-url or set it in the settings.")
    if not jira_token(merged):
        raise UserError(
            f"No JIRA token: set the environment variable {jira.get('token_env')} "
            "(or name another with --token-env)."
        )
    summary = fetch_project(root, merged, full=full)
    if merged is not settings:
        saved = merge_settings(settings, {"jira": {k: v for k, v in jira.items() if k != "token"}})
        saved["jira"]["token"] = settings.get("jira", {}).get("token", "")
        save_settings(root, saved)
    prepare_dataset(root, merged)
    return summary.line()
