"""Caches: the JIRA issue cache on disk, the metric result cache, the fetch lock, and the
in-memory layer that keeps callbacks from re-reading an unchanged file.

Public API (stable: the fetcher and the UI build on it)
-------------------------------------------------------
Keys and fields
    issue_cache_key(site_url, jql, fields) -> str      sha256 of site + JQL + fetched fields
    fields_for_mappings(mappings) -> list[str]         the JIRA fields the metrics need

Issue cache (one file per key)
    cache = IssueCache.for_settings(root, settings)  # or .for_query(root, site, jql, fields)
    cache.load() -> CachedIssues | None                validated; a bad file is set aside, no raise
    cache.read_meta() -> dict | None                   the metadata only, without reading the issues
    with cache.begin_update("full" | "incremental") as update:
        update.add_issues(page)                        appended to a staging file on disk
        update.remove_keys(keys)                       issues that left the JQL
        cached = update.commit(sync_cursor, statuses, fields, user_time_zone, warnings=())
    An exception inside the `with` block, or `update.abort()`, deletes the staging file and
    leaves the old cache byte-identical. `commit` in "full" mode makes the staged issues the
    cache; in "incremental" mode it merges them into the current cache by issue key (the newer
    `updated` wins; removed keys are dropped). The write is atomic (temporary file, then
    `os.replace`): a crash leaves the old cache or the new one, never half of one.

Fetch lock (one fetch at a time, across threads and processes)
    lock = fetch_lock(root)
    lock.try_acquire() -> bool                         False: "an update is already running"
    lock.acquire(timeout=None) -> bool                 wait for the running one (None: forever)
    lock.release(); `with fetch_lock(root, timeout=...):` raises FetchInProgressError on timeout
    lock.holder() -> dict | None                       pid and start time of the holder
    is_fetch_running(root) -> bool

In-memory layer
    load_project(root, settings) -> ProjectData | None memoized by (path, mtime_ns, size, inode)
    cache_status(root, settings, now=None) -> dict     exists, issues, last_sync, age_hours, stale
    is_stale(last_sync, ttl_hours, now=None) -> bool
    project_cache_stats() -> dict                      loads (files parsed), hits, misses, refreshes
    clear_memory()                                     forget memoized projects (a "new process")
    IssueCache.load() shares the memo; a commit primes it. Errors a user can act on:
    CacheError (cannot write; incremental without a cache), FetchInProgressError.

Metric result cache
    metric_cache_key(dataset_version, mappings_hash, period_key) -> str
    MetricCache(root): get(key) -> dict | None, put(key, value), stats() -> dict
    metric_cache_for(root) -> MetricCache              the process's shared instance per data dir
    session_cache_stats(root) -> dict                  issue + metric cache hits, lookups, hit_rate

File format of the issue cache (`<data dir>/cache/issues-<key[:16]>.json`, orjson)
    {"meta": {...}, "statuses": [...], "fields": [...], "issues": [...raw JIRA issues...]}
    written in exactly that order, so that the issues are the last `meta.issues_bytes` bytes
    before the closing brace and their checksum is verified without serializing them again.
    meta: schema_version, key, created, updated (wall clock, UTC), sync_cursor (JIRA's clock,
    from the fetcher), sync_mode ("full" | "incremental" of the last sync), syncs,
    issue_count, issues_bytes, checksum (sha256 of the issues bytes), version (the dataset
    version: a hash prefix over issues, statuses, fields and time zone), site, jql,
    fetched_fields, user_time_zone, warnings.

Objects handed out (CachedIssues, ProjectData, metric values) are shared between callers:
treat them as read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import orjson
import portalocker
import psutil

from configuration.settings import cache_dir, make_private_dir
from data.errors import UserError
from data.gc_pause import collect_before_parse, gc_paused, keep_out_of_collections
from data.lru import LRU
from data.performance_utils import counting_lookups, timed
from data.persistence import atomic_write_bytes
from data.project import ProjectData
from data.site_url import site_url as canonical_site_url

log = logging.getLogger(__name__)

#: 2: issues are stored lean (`jira_parser.lean_issue`); a version-1 file is set aside and the
#: next update is a full fetch.
#: 3: issues keep their `summary` (the item lists show it); a version-2 file is set aside and
#: the next update is a full fetch (JIRA's incremental query returns only updated issues).
SCHEMA_VERSION = 3

#: The system fields METRICS.md reads from every issue, and the summary the item lists show.
SYSTEM_FIELDS: tuple[str, ...] = (
    "summary",
    "issuetype",
    "status",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "fixVersions",
    "labels",
    "issuelinks",
)

#: Mapping keys whose value names a JIRA field to fetch.
FIELD_MAPPING_KEYS: tuple[str, ...] = (
    "environment_field",
    "deployment_success_field",
    "production_impact_field",
    "incident_detected_field",
    "incident_resolved_field",
    "commit_date_field",
    "deployed_date_field",
    "story_points_field",
    "deployment_time_field",
)

SyncMode = Literal["full", "incremental"]

_HEADER = b'{"meta":'
#: How much of the file `read_meta` reads first (the metadata is far smaller).
_META_PREFIX_BYTES = 1 << 20
#: Set-aside files kept per cache (older ones are deleted).
_KEEP_CORRUPT = 3
#: A leftover temporary file older than this belongs to a dead writer.
_STALE_TEMP_SECONDS = 15 * 60
#: A staging file untouched this long is abandoned even if its pid lives (reused pid).
_STALE_STAGING_SECONDS = 24 * 3600
#: Projects kept in memory (each may be large).
_MEMO_ENTRIES = 2


class CacheError(UserError):
    """A cache operation cannot go ahead; the message says what to do."""


class FetchInProgressError(UserError):
    """Another update holds the fetch lock."""


# ---------------------------------------------------------------------------------------------
# keys and fields


def _normalize_jql(jql: str) -> str:
    return " ".join(jql.split())


def issue_cache_key(site_url: str, jql: str, fields: Iterable[str]) -> str:
    """The issue cache's key: sha256 over site, whitespace-normalized JQL and sorted fields.

    Nothing else goes in, so a change of mappings that needs no new field keeps the cache.
    """
    canonical = {
        "site": canonical_site_url(site_url),
        "jql": _normalize_jql(jql),
        "fields": sorted(set(fields)),
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def fields_for_mappings(mappings: Mapping[str, Any]) -> list[str]:
    """The JIRA fields to fetch: the system fields plus every field the mappings name."""
    fields = list(SYSTEM_FIELDS)
    for name in FIELD_MAPPING_KEYS:
        value = mappings.get(name)
        if isinstance(value, str) and value.strip() and value.strip() not in fields:
            fields.append(value.strip())
    return fields


# ---------------------------------------------------------------------------------------------
# the issue cache


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return moment.isoformat()


def parse_instant(value: Any) -> datetime | None:
    """A JIRA or ISO timestamp as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _issue_updated(issue: Mapping[str, Any]) -> datetime | None:
    fields = issue.get("fields")
    return parse_instant(fields.get("updated")) if isinstance(fields, Mapping) else None


def _newer(candidate: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """True when `candidate` should replace `current`: its `updated` is not older."""
    new, old = _issue_updated(candidate), _issue_updated(current)
    return new is None or old is None or new >= old


def newest_per_key(issues: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """One issue per key, the newest `updated` winning (as a sync merges its pages), in the
    order keys first appear; and the keys that had more than one copy."""
    chosen: dict[str, dict[str, Any]] = {}
    keyless: list[dict[str, Any]] = []
    repeated: dict[str, None] = {}
    for issue in issues:
        key = issue.get("key") if isinstance(issue, dict) else None
        if not isinstance(key, str):
            keyless.append(issue)
            continue
        current = chosen.get(key)
        if current is None:
            chosen[key] = issue
            continue
        repeated[key] = None
        if _newer(issue, current):
            chosen[key] = issue
    return [*chosen.values(), *keyless], list(repeated)


class _Invalid(Exception):
    """A cache file failed validation; the message is the reason."""


@dataclass(frozen=True)
class CachedIssues:
    """The validated content of one issue cache file."""

    meta: dict[str, Any]
    issues: Sequence[dict[str, Any]]  # a list, or LazyIssues when read from a file
    statuses: list[dict[str, Any]]
    fields: list[dict[str, Any]]

    @property
    def version(self) -> str:
        """The dataset version (keys the metric cache)."""
        return self.meta["version"]

    @property
    def sync_cursor(self) -> str | None:
        """JIRA's clock at the start of the last sync (ISO 8601), for the next increment."""
        return self.meta.get("sync_cursor")

    @property
    def user_time_zone(self) -> str | None:
        """The JIRA user's time zone, when the fetcher learned it."""
        return self.meta.get("user_time_zone")

    def to_project(self, table_file: Path | None = None) -> ProjectData:
        """The hand-over object for the calculators (`table_file`: where their normalized
        table of these issues is kept)."""
        return ProjectData(
            issues=self.issues,
            statuses=self.statuses,
            fields=self.fields,
            version=self.version,
            source="jira",
            time_zone=self.user_time_zone,
            warnings=tuple(self.meta.get("warnings") or ()),
            table_file=table_file,
        )


def _content_hashes(
    issues_bytes: bytes | memoryview, statuses: Any, fields: Any, user_time_zone: str | None
) -> tuple[str, str]:
    """(checksum of the issues bytes, dataset version) in one pass over the issues."""
    digest = hashlib.sha256(issues_bytes)
    checksum = digest.hexdigest()
    digest.update(b"\0" + orjson.dumps(statuses))
    digest.update(b"\0" + orjson.dumps(fields))
    digest.update(b"\0" + (user_time_zone or "").encode())
    return checksum, digest.hexdigest()[:16]


def _parse_cache(raw: bytes, key: str) -> CachedIssues:
    """Validate and parse a cache file's bytes; raises _Invalid with the reason."""
    with gc_paused():
        return _parsed_and_valid(raw, key)


def _parsed_and_valid(raw: bytes, key: str) -> CachedIssues:
    """Everything but the issues parsed and checked; the issues' bytes checked against the
    checksum and parsed on first use (`LazyIssues`)."""
    size = _issues_size(raw)
    if size is None:
        raise _Invalid("not valid JSON (no readable metadata at its head)")
    if raw[-1:] != b"}":
        raise _Invalid("not valid JSON (it ends before its outer object closes: truncated)")
    if size < 2 or size + 1 > len(raw):
        raise _Invalid("issues section not where the metadata says")
    head = raw[: len(raw) - 1 - size]
    try:
        document = orjson.loads(head + b"[]}")
    except orjson.JSONDecodeError as exc:
        raise _Invalid(f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("meta"), dict):
        raise _Invalid("no metadata object")
    meta = document["meta"]
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise _Invalid(
            f"schema version {meta.get('schema_version')!r}, expected {SCHEMA_VERSION}"
            " (an older format: the next update fetches everything again)"
        )
    if meta.get("key") != key:
        raise _Invalid("written for another cache key")
    if meta.get("issues_bytes") != size or document.get("issues") != []:
        raise _Invalid("issues section not where the metadata says")
    statuses, fields = document.get("statuses"), document.get("fields")
    count = meta.get("issue_count")
    if not all(isinstance(part, list) for part in (statuses, fields)) or type(count) is not int:
        raise _Invalid("issues, statuses or fields missing")
    section = memoryview(raw)[-1 - size : -1]
    checksum, version = _content_hashes(section, statuses, fields, meta.get("user_time_zone"))
    if checksum != meta.get("checksum"):
        raise _Invalid("checksum mismatch")
    if version != meta.get("version"):
        raise _Invalid("dataset version mismatch (statuses, fields or time zone changed)")
    return CachedIssues(
        meta=meta, issues=LazyIssues(section, count), statuses=statuses, fields=fields
    )


def _issues_size(raw: bytes) -> int | None:
    """`issues_bytes` from the metadata at the head of a cache file, without parsing the rest
    (a longer head is read only for metadata above 1 MB)."""
    limit = _META_PREFIX_BYTES
    while True:
        try:
            meta = _head_meta(raw[:limit])
            break
        except ValueError:
            if limit >= len(raw) or not raw.startswith(_HEADER):
                return None
            limit *= 4
    size = meta.get("issues_bytes") if isinstance(meta, dict) else None
    return size if type(size) is int else None


def _head_meta(head: bytes) -> Any:
    """The metadata object at the start of a cache file's bytes; ValueError when `head` is not
    a cache file's start or does not hold all of the metadata."""
    if not head.startswith(_HEADER):
        raise ValueError("not a cache file")
    meta, _ = json.JSONDecoder().raw_decode(head.decode("utf-8", errors="replace"), len(_HEADER))
    return meta


class LazyIssues(Sequence[dict[str, Any]]):
    """The issues of a validated cache file, parsed on first use.

    A start that reads the kept normalized table needs only their number; parsing the issues
    is most of a start (1.4-3 s at 100,000 issues). The bytes were checked against the file's
    checksum when it was loaded. Safe across threads: one of them parses, the others wait."""

    def __init__(self, section: bytes | memoryview, count: int) -> None:
        self._section: bytes | memoryview | None = section
        self._count = count
        self._items: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    @property
    def is_parsed(self) -> bool:
        """Whether the issues were parsed already."""
        return self._items is not None

    def parsed(self) -> list[dict[str, Any]]:
        """The issues as a list (parsed now if not yet)."""
        if self._items is None:
            with self._lock:
                if self._items is None:
                    self._items = self._parse()
                    self._section = None
        return self._items

    def _parse(self) -> list[dict[str, Any]]:
        collect_before_parse()
        with timed("cache_parse_issues", issues=self._count), gc_paused():
            try:
                items = orjson.loads(self._section)  # type: ignore[arg-type]
            except orjson.JSONDecodeError:
                items = None
            if not isinstance(items, list) or len(items) != self._count:
                raise CacheError(
                    "The issue cache cannot be read: click Update data to fetch it again."
                )
            keep_out_of_collections()
        return items

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self.parsed()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.parsed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyIssues):
            other = other.parsed()
        return self.parsed() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = "parsed" if self.is_parsed else "not parsed yet"
        return f"<LazyIssues: {self._count} issues, {state}>"


_FileSignature = tuple[int, int, int]  # (mtime_ns, size, inode)


def _signature(stat: os.stat_result) -> _FileSignature:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class IssueCache:
    """One issue cache file, keyed by `issue_cache_key(site, jql, fields)`."""

    def __init__(
        self,
        root: Path,
        key: str,
        *,
        site: str = "",
        jql: str = "",
        fields: Iterable[str] = (),
    ) -> None:
        self.root = Path(root)
        self.key = key
        self.site = site
        self.jql = jql
        self.fields = sorted(set(fields))
        self.folder = cache_dir(self.root)
        self.path = self.folder / f"issues-{key[:16]}.json"

    @classmethod
    def for_query(cls, root: Path, site_url: str, jql: str, fields: Iterable[str]) -> IssueCache:
        """The cache of one site + JQL + field list."""
        fields = list(fields)
        key = issue_cache_key(site_url, jql, fields)
        return cls(
            root, key, site=canonical_site_url(site_url), jql=_normalize_jql(jql), fields=fields
        )

    @classmethod
    def for_settings(cls, root: Path, settings: Mapping[str, Any]) -> IssueCache:
        """The cache for the current settings: their site, JQL and the mappings' fields."""
        jira = settings.get("jira", {})
        fields = fields_for_mappings(settings.get("mappings", {}))
        return cls.for_query(root, jira.get("url", ""), jira.get("jql", ""), fields)

    def exists(self) -> bool:
        """True when a cache file is present (it may still fail validation)."""
        return self.path.is_file()

    # -- reading

    def load(self) -> CachedIssues | None:
        """The validated cache, or None (no file, or a bad file, which is set aside).

        Memoized like `load_project`: an unchanged file is not read again.
        """
        entry = _load_entry(self)
        return None if entry is None else entry.cached

    def _read_and_validate(self) -> tuple[CachedIssues | None, _FileSignature | None]:
        with timed("cache_load", file=self.path.name) as timer:
            try:
                with open(self.path, "rb") as handle:
                    signature = _signature(os.fstat(handle.fileno()))
                    raw = handle.read()
            except FileNotFoundError:
                timer.fields["outcome"] = "absent"
                return None, None
            except OSError as exc:
                timer.fields["outcome"] = "unreadable"
                log.warning(
                    "issue cache unreadable",
                    extra={
                        "operation": "cache_load",
                        "file": self.path.name,
                        "reason": exc.__class__.__name__,
                    },
                )
                return None, None
            timer.fields["bytes"] = len(raw)
            try:
                cached = _parse_cache(raw, self.key)
            except _Invalid as exc:
                timer.fields["outcome"] = "set_aside"
                self._set_aside(str(exc), signature)
                return None, None
            timer.fields.update(outcome="loaded", issues=len(cached.issues))
            return cached, signature

    def read_meta(self) -> dict[str, Any] | None:
        """The metadata alone, read from the file's head; None when absent or unreadable.

        Cheap (it does not parse the issues) and unvalidated: `load` is the judge of a file.
        """
        return self._read_meta_with_signature()[0]

    def _read_meta_with_signature(self) -> tuple[dict[str, Any] | None, _FileSignature | None]:
        try:
            with open(self.path, "rb") as handle:
                signature = _signature(os.fstat(handle.fileno()))
                head = handle.read(_META_PREFIX_BYTES)
                if not head.startswith(_HEADER):
                    return None, None
                try:
                    meta = _head_meta(head)
                except ValueError:
                    if len(head) < _META_PREFIX_BYTES:
                        return None, None
                    meta = orjson.loads(head + handle.read()).get("meta")  # huge metadata
        except (OSError, ValueError):
            return None, None
        return (meta, signature) if isinstance(meta, dict) else (None, None)

    def _set_aside(self, reason: str, signature: _FileSignature) -> None:
        """Rename a bad file `*.corrupt-<timestamp>` unless a writer replaced it meanwhile."""
        aside = self.path.with_name(
            f"{self.path.name}.corrupt-{_utc_now().strftime('%Y%m%dT%H%M%S%fZ')}"
        )
        try:
            if _signature(os.stat(self.path)) != signature:
                log.info(
                    "issue cache replaced while validating; not set aside",
                    extra={"operation": "cache_load", "file": self.path.name},
                )
                return
            os.replace(self.path, aside)
        except OSError:
            return
        log.warning(
            "issue cache set aside: %s",
            reason,
            extra={
                "operation": "cache_set_aside",
                "file": self.path.name,
                "set_aside_as": aside.name,
                "reason": reason,
            },
        )
        corrupt = sorted(self.folder.glob(f"{self.path.name}.corrupt-*"))
        for old in corrupt[:-_KEEP_CORRUPT]:
            with contextlib.suppress(OSError):
                old.unlink()

    # -- writing

    def begin_update(self, mode: SyncMode) -> CacheUpdate:
        """Start writing pages of a "full" or "incremental" sync to a staging file."""
        if mode not in ("full", "incremental"):
            raise ValueError(f"mode must be 'full' or 'incremental', not {mode!r}")
        try:
            make_private_dir(self.folder)
            self._sweep_leftovers()
            return CacheUpdate(self, mode)
        except OSError as exc:
            raise _write_error(self.folder, exc) from None

    def _staging_prefix(self) -> str:
        return f".{self.path.name}.staging-"

    def _sweep_leftovers(self) -> None:
        """Delete staging and temporary files that writers which died left behind."""
        now = time.time()
        for leftover in self.folder.glob(f"{self._staging_prefix()}*"):
            pid_text = leftover.name[len(self._staging_prefix()) :].split("-", 1)[0]
            with contextlib.suppress(OSError):
                writer_gone = pid_text.isdigit() and not psutil.pid_exists(int(pid_text))
                if writer_gone or now - leftover.stat().st_mtime > _STALE_STAGING_SECONDS:
                    leftover.unlink()
        for leftover in self.folder.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > _STALE_TEMP_SECONDS:
                    leftover.unlink()

    def _write(
        self,
        issues: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
        fields: list[dict[str, Any]],
        meta: dict[str, Any],
    ) -> CachedIssues:
        """Serialize and write atomically; returns what was written."""
        with gc_paused():
            issues_bytes = orjson.dumps(issues)
        checksum, version = _content_hashes(
            issues_bytes, statuses, fields, meta.get("user_time_zone")
        )
        meta = {
            **meta,
            "issue_count": len(issues),
            "issues_bytes": len(issues_bytes),
            "checksum": checksum,
            "version": version,
        }
        payload = b"".join(
            (
                _HEADER,
                orjson.dumps(meta),
                b',"statuses":',
                orjson.dumps(statuses),
                b',"fields":',
                orjson.dumps(fields),
                b',"issues":',
                issues_bytes,
                b"}",
            )
        )
        try:
            atomic_write_bytes(self.path, payload)
        except OSError as exc:
            raise _write_error(self.folder, exc) from None
        cached = CachedIssues(meta=meta, issues=issues, statuses=statuses, fields=fields)
        with contextlib.suppress(OSError):
            _remember(self.path, _signature(os.stat(self.path)), cached)
        return cached


def _write_error(folder: Path, exc: OSError) -> CacheError:
    """A failed write as a message a user can act on; the previous cache is untouched."""
    return CacheError(
        f"Cannot write the cache in {folder} ({exc.__class__.__name__}: "
        f"{exc.strerror or exc}); free some disk space or fix the data folder's permissions."
    )


class CacheUpdate:
    """One sync being written: pages go to a staging file until `commit` or `abort`."""

    def __init__(self, cache: IssueCache, mode: SyncMode) -> None:
        self.cache = cache
        self.mode: SyncMode = mode
        self.staging_path = cache.folder / (
            f"{cache._staging_prefix()}{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        )
        # private like the cache itself: raw issues name people
        descriptor = os.open(self.staging_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(descriptor, "wb")
        self._removed: set[str] = set()
        self.staged_count = 0

    def __enter__(self) -> CacheUpdate:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None or not self.closed:
            self.abort()

    @property
    def closed(self) -> bool:
        """True once committed or aborted."""
        return self._handle is None

    def _require_open(self) -> Any:
        if self._handle is None:
            raise RuntimeError("this cache update is already committed or aborted")
        return self._handle

    def add_issues(self, page: Sequence[dict[str, Any]]) -> None:
        """Append a page of raw JIRA issues to the staging file (one JSON line each)."""
        handle = self._require_open()
        lines = []
        for issue in page:
            if not isinstance(issue, dict) or not isinstance(issue.get("key"), str):
                raise ValueError("every issue must be a JIRA issue object with a 'key'")
            lines.append(orjson.dumps(issue))
        if lines:
            try:
                handle.write(b"\n".join(lines) + b"\n")
                handle.flush()
            except OSError as exc:  # a full disk: one line, and the old cache stays
                raise _write_error(self.cache.folder, exc) from None
        self.staged_count += len(lines)

    def remove_keys(self, keys: Iterable[str]) -> None:
        """Drop these issue keys from the cache at commit (they left the JQL)."""
        self._require_open()
        self._removed.update(keys)

    def _staged(self) -> dict[str, dict[str, Any]]:
        """The staged issues by key; of two copies of one issue the newer `updated` wins."""
        staged: dict[str, dict[str, Any]] = {}
        with open(self.staging_path, "rb") as handle, gc_paused():
            for line in handle:
                issue = orjson.loads(line)
                current = staged.get(issue["key"])
                if current is None or _newer(issue, current):
                    staged[issue["key"]] = issue
        return staged

    def commit(
        self,
        sync_cursor: datetime | str | None,
        statuses: list[dict[str, Any]] | None,
        fields: list[dict[str, Any]] | None,
        user_time_zone: str | None,
        *,
        warnings: Sequence[str] = (),
    ) -> CachedIssues:
        """Write the new cache atomically and return it.

        `sync_cursor` is JIRA's clock when this sync started (from its Date header).
        `statuses` / `fields` None keep the current cache's lists (incremental) or store none.
        """
        handle = self._require_open()
        handle.close()
        try:
            with timed("cache_commit", mode=self.mode, file=self.cache.path.name) as timer:
                staged = self._staged()
                base = self.cache.load() if self.mode == "incremental" else None
                if self.mode == "incremental" and base is None:
                    raise CacheError(
                        "There is no valid cache to update incrementally; run a full update."
                    )
                now = _iso(_utc_now())
                if base is None:
                    issues = [issue for key, issue in staged.items() if key not in self._removed]
                    created, syncs = now, 1
                    statuses, fields = statuses or [], fields or []
                else:
                    issues = _merge(base.issues, staged, self._removed)
                    created = base.meta.get("created", now)
                    syncs = int(base.meta.get("syncs", 1)) + 1
                    statuses = base.statuses if statuses is None else statuses
                    fields = base.fields if fields is None else fields
                meta = {
                    "schema_version": SCHEMA_VERSION,
                    "key": self.cache.key,
                    "created": created,
                    "updated": now,
                    "sync_cursor": _iso(sync_cursor),
                    "sync_mode": self.mode,
                    "syncs": syncs,
                    "site": self.cache.site,
                    "jql": self.cache.jql,
                    "fetched_fields": self.cache.fields,
                    "user_time_zone": user_time_zone,
                    "warnings": list(warnings),
                }
                cached = self.cache._write(issues, statuses, fields, meta)
                timer.fields.update(
                    issues=len(cached.issues),
                    staged=self.staged_count,
                    removed=len(self._removed),
                )
        finally:
            self._discard()
        return cached

    def abort(self) -> None:
        """Forget the staged pages; the current cache stays as it was."""
        if self._handle is None:
            return
        self._handle.close()
        self._discard()
        log.info(
            "issue cache update aborted",
            extra={
                "operation": "cache_abort",
                "mode": self.mode,
                "file": self.cache.path.name,
                "staged": self.staged_count,
            },
        )

    def _discard(self) -> None:
        self._handle = None
        with contextlib.suppress(OSError):
            self.staging_path.unlink()


def _merge(
    base: list[dict[str, Any]], staged: dict[str, dict[str, Any]], removed: set[str]
) -> list[dict[str, Any]]:
    """Base issues updated in place by newer staged copies, new ones appended, removed dropped."""
    merged = []
    seen = set()
    for issue in base:
        key = issue.get("key")
        seen.add(key)
        if key in removed:
            continue
        fresh = staged.get(key)
        merged.append(fresh if fresh is not None and _newer(fresh, issue) else issue)
    merged.extend(issue for key, issue in staged.items() if key not in seen and key not in removed)
    return merged


# ---------------------------------------------------------------------------------------------
# the fetch lock

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock_for(name: str | Path) -> threading.Lock:
    """The process-wide thread lock of one name (a lock file, or a cache file's reader)."""
    with _thread_locks_guard:
        return _thread_locks.setdefault(str(name), threading.Lock())


def _reset_after_fork() -> None:
    """A forked child (a Dash background callback) starts with free locks: the threads that
    held them do not exist in the child (`data.gc_pause` resets its own state)."""
    global _thread_locks_guard, _memo_guard
    _thread_locks.clear()
    _thread_locks_guard = threading.Lock()
    _memo_guard = threading.Lock()


class FetchLock:
    """Only one fetch at a time: a thread lock in this process plus a file lock across
    processes (released by the system if the holder dies)."""

    def __init__(self, path: Path, *, timeout: float | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self._handle: Any = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._handle is not None

    def try_acquire(self) -> bool:
        """Take the lock if free; False means an update is already running."""
        return self.acquire(timeout=0)

    def acquire(self, timeout: float | None = None, *, poll_seconds: float = 0.05) -> bool:
        """Take the lock, waiting up to `timeout` seconds (None: as long as it takes)."""
        if self._handle is not None:
            raise RuntimeError("this FetchLock is already held")
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        thread_lock = _thread_lock_for(self.path)
        if timeout is None:
            got = thread_lock.acquire()
        elif timeout <= 0:
            got = thread_lock.acquire(blocking=False)
        else:
            got = thread_lock.acquire(timeout=timeout)
        if not got:
            return False
        handle = None
        try:
            make_private_dir(self.path.parent)
            handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while held
            while True:
                try:
                    portalocker.lock(
                        handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
                    )
                    break
                except portalocker.AlreadyLocked:
                    if deadline is not None and time.monotonic() >= deadline:
                        handle.close()
                        thread_lock.release()
                        return False
                    time.sleep(poll_seconds)
            handle.seek(0)
            handle.truncate()
            handle.write(orjson.dumps({"pid": os.getpid(), "started": _iso(_utc_now())}))
            handle.flush()
        except BaseException:
            if handle is not None:
                handle.close()
            thread_lock.release()
            raise
        self._handle = handle
        return True

    def release(self) -> None:
        """Let the next fetch run; a no-op when not held."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.flush()
            portalocker.unlock(handle)
        finally:
            handle.close()
            _thread_lock_for(self.path).release()

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock (pid, started), as recorded in the lock file; None when free."""
        try:
            info = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return info if isinstance(info, dict) else None

    def __enter__(self) -> FetchLock:
        if not self.acquire(self.timeout):
            raise FetchInProgressError("An update is already running; wait for it to finish.")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def fetch_lock(root: Path, *, timeout: float | None = None) -> FetchLock:
    """The lock that lets one fetch run at a time for this data directory.

    `timeout` applies to the `with` form only.
    """
    return FetchLock(cache_dir(Path(root)) / "fetch.lock", timeout=timeout)


def is_fetch_running(root: Path) -> bool:
    """True when some thread or process holds (or waits in this process for) the fetch lock.

    Never takes the lock itself, so asking cannot make a starting fetch think another one
    is running. The lock file names its holder; a holder that died is not running.
    """
    lock = fetch_lock(root)
    if _thread_lock_for(lock.path).locked():
        return True
    holder = lock.holder()
    if not holder or not isinstance(holder.get("pid"), int) or not psutil.pid_exists(holder["pid"]):
        return False
    try:  # the pid may have been reused: ask the system whether the lock is really held
        with open(lock.path, "rb") as handle:
            portalocker.lock(
                handle, portalocker.LockFlags.SHARED | portalocker.LockFlags.NON_BLOCKING
            )
            portalocker.unlock(handle)
    except portalocker.AlreadyLocked:
        return True
    except OSError:
        return False
    return False


# ---------------------------------------------------------------------------------------------
# the in-memory layer


@dataclass(frozen=True)
class _Entry:
    """A validated cache file held in memory, and the file it came from."""

    signature: _FileSignature
    cached: CachedIssues
    project: ProjectData


_memo: LRU[str, _Entry] = LRU(_MEMO_ENTRIES)
_memo_guard = threading.Lock()
_memo_stats = {"loads": 0, "hits": 0, "misses": 0, "refreshes": 0}
if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_reset_after_fork)


def _remember(path: Path, signature: _FileSignature, cached: CachedIssues) -> _Entry:
    entry = _Entry(signature, cached, cached.to_project(table_file_for(path)))
    with _memo_guard:
        _memo.put(str(path), entry)
    return entry


def table_file_for(cache_path: Path) -> Path:
    """Where the normalized table of an issue cache file is kept (see `data.table_store`)."""
    return cache_path.parent / "tables" / f"{cache_path.stem}.npz"


def _forget(path: Path) -> None:
    with _memo_guard:
        _memo.pop(str(path))


def _load_entry(cache: IssueCache) -> _Entry | None:
    """The memoized content of a cache file, read and validated only when the file changed.

    One reader per file and process at a time, so concurrent callers share one read.
    """
    with _thread_lock_for(f"reader:{cache.path}"):
        try:
            signature = _signature(os.stat(cache.path))
        except OSError:
            _forget(cache.path)
            return None
        with _memo_guard:
            entry = _memo.get(str(cache.path))
            if entry is not None and entry.cached.meta.get("key") != cache.key:
                entry = None  # a 16-character file name prefix shared by two keys
            if entry is not None and entry.signature == signature:
                _memo_stats["hits"] += 1
                return entry
        if entry is not None:
            refreshed = _same_content(cache, entry)
            if refreshed is not None:
                return refreshed
        with _memo_guard:
            _memo_stats["misses"] += 1
            _memo_stats["loads"] += 1
        cached, read_signature = cache._read_and_validate()
        if cached is None or read_signature is None:
            _forget(cache.path)
            return None
        return _remember(cache.path, read_signature, cached)


def _same_content(cache: IssueCache, entry: _Entry) -> _Entry | None:
    """A rewritten file whose head names the content already in memory (a sync that changed
    nothing, written by another process): take its new metadata, keep the parsed issues."""
    meta, signature = cache._read_meta_with_signature()
    if meta is None or signature is None:
        return None
    old = entry.cached.meta
    if any(
        meta.get(name) != old.get(name)
        for name in ("schema_version", "key", "checksum", "version", "issue_count", "issues_bytes")
    ):
        return None
    with _memo_guard:
        _memo_stats["refreshes"] += 1
    cached = CachedIssues(
        meta=meta,
        issues=entry.cached.issues,
        statuses=entry.cached.statuses,
        fields=entry.cached.fields,
    )
    return _remember(cache.path, signature, cached)


def load_project(root: Path, settings: Mapping[str, Any]) -> ProjectData | None:
    """The cached JIRA project for these settings, or None when there is no valid cache.

    Memoized by the file's (path, mtime_ns, size, inode): an unchanged file is never read or
    parsed twice, and callers share the returned object.
    """
    entry = _load_entry(IssueCache.for_settings(root, settings))
    return None if entry is None else entry.project


def project_cache_stats() -> dict[str, int]:
    """Issue cache reads in this process: `loads` (file parsed), memo `hits`, `misses`, and
    `refreshes` (rewritten file with unchanged content: only its head was read)."""
    with _memo_guard:
        return {**_memo_stats, "entries": len(_memo)}


def clear_memory() -> None:
    """Forget every memoized project, the shared metric caches and the counters (as a new
    process would be)."""
    with _memo_guard:
        _memo.clear()
        _metric_caches.clear()
        for name in _memo_stats:
            _memo_stats[name] = 0


def is_stale(
    last_sync: datetime | str | None, ttl_hours: float | None, *, now: datetime | None = None
) -> bool:
    """True when the last sync is older than the TTL (or there is none); never with no TTL."""
    if ttl_hours is None:
        return False
    moment = parse_instant(last_sync) if isinstance(last_sync, str) else last_sync
    if moment is None:
        return True
    return (now or _utc_now()) - moment >= timedelta(hours=float(ttl_hours))


def cache_status(
    root: Path, settings: Mapping[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """What the update bar shows: whether a cache exists, its size, last sync, age, staleness."""
    cache = IssueCache.for_settings(root, settings)
    ttl = settings.get("cache", {}).get("ttl_hours", 24)
    meta = cache.read_meta()
    now = now or _utc_now()
    if meta is None:
        return {
            "exists": False,
            "issues": 0,
            "last_sync": None,
            "sync_cursor": None,
            "sync_mode": None,
            "age_hours": None,
            "stale": True,
            "ttl_hours": ttl,
            "file": cache.path.name,
        }
    last_sync = parse_instant(meta.get("updated"))
    age = None if last_sync is None else round((now - last_sync).total_seconds() / 3600, 2)
    return {
        "exists": True,
        "issues": meta.get("issue_count", 0),
        "last_sync": meta.get("updated"),
        "sync_cursor": meta.get("sync_cursor"),
        "sync_mode": meta.get("sync_mode"),
        "age_hours": age,
        "stale": is_stale(last_sync, ttl, now=now),
        "ttl_hours": ttl,
        "file": cache.path.name,
    }


# ---------------------------------------------------------------------------------------------
# the metric result cache

_METRIC_KEY = re.compile(r"[0-9a-f]{16,64}")


def metric_cache_key(dataset_version: str, mappings_hash: str, period_key: str) -> str:
    """Key of one metric result: what the result depends on and nothing more."""
    return hashlib.sha256(orjson.dumps([dataset_version, mappings_hash, period_key])).hexdigest()


class MetricCache:
    """Metric results on disk (one small JSON file each, bounded) with a memory layer in front.

    A result never changes for a key, so the memory copy is always right; a corrupt file is a
    miss and is deleted.
    """

    def __init__(self, root: Path, *, max_entries: int = 256, memory_entries: int = 64) -> None:
        self.folder = cache_dir(Path(root)) / "metrics"
        self.max_entries = max_entries
        self._memory: LRU[str, dict[str, Any]] = LRU(memory_entries)
        self._lock = threading.Lock()
        self._counts = {"hits": 0, "misses": 0, "puts": 0}

    def _path(self, key: str) -> Path:
        if not _METRIC_KEY.fullmatch(key):
            raise ValueError("metric cache keys come from metric_cache_key()")
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result, or None (never stored, or its file is unreadable)."""
        path = self._path(key)
        with self._lock:
            remembered = self._memory.get(key)
            if remembered is not None:
                self._counts["hits"] += counting_lookups()
                return remembered
        value = None
        try:
            document = orjson.loads(path.read_bytes())
            if isinstance(document, dict) and document.get("key") == key:
                value = document.get("value")
        except FileNotFoundError:
            pass
        except (OSError, orjson.JSONDecodeError):
            value = None
        if not isinstance(value, dict):
            if path.exists():
                log.warning(
                    "metric cache entry unreadable; ignored",
                    extra={"operation": "metric_cache_get", "file": path.name},
                )
                with contextlib.suppress(OSError):
                    path.unlink()
            with self._lock:
                self._counts["misses"] += counting_lookups()
            return None
        with self._lock:
            self._counts["hits"] += counting_lookups()
            self._memory.put(key, value)
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store a result atomically; a value that cannot be stored is logged and skipped."""
        path = self._path(key)
        try:
            payload = orjson.dumps(
                {"key": key, "stored": _iso(_utc_now()), "value": value},
                option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
            )
        except TypeError as exc:
            log.warning(
                "metric result not cacheable: %s", exc, extra={"operation": "metric_cache_put"}
            )
            return
        with self._lock:
            self._counts["puts"] += 1
            self._memory.put(key, value)
        try:
            atomic_write_bytes(path, payload)
            self._prune()
        except OSError as exc:  # a result not kept on disk is recomputed after a restart
            log.warning(
                "metric result not stored: %s",
                exc.__class__.__name__,
                extra={"operation": "metric_cache_put", "reason": str(exc.strerror or exc)},
            )

    def _prune(self) -> None:
        entries = list(self.folder.glob("*.json"))
        if len(entries) <= self.max_entries:
            return
        by_age = sorted(entries, key=_mtime_ns)
        for old in itertools.islice(by_age, len(entries) - self.max_entries):
            with contextlib.suppress(OSError):
                old.unlink()

    def stats(self) -> dict[str, Any]:
        """Hits, misses, puts and the hit rate of this cache object."""
        with self._lock:
            counts = dict(self._counts)
        lookups = counts["hits"] + counts["misses"]
        counts["hit_rate"] = counts["hits"] / lookups if lookups else None
        return counts


_metric_caches: dict[str, MetricCache] = {}


def metric_cache_for(root: Path) -> MetricCache:
    """The process's shared MetricCache of a data directory: one memory layer, one set of
    counters, however many callers ask."""
    folder = str(Path(root).resolve())
    with _memo_guard:
        cache = _metric_caches.get(folder)
        if cache is None:
            cache = _metric_caches[folder] = MetricCache(Path(folder))
        return cache


def session_cache_stats(root: Path) -> dict[str, Any]:
    """Issue-cache and metric-cache lookups of this process together, for the hit rate of a
    session: a lookup is a hit when nothing had to be parsed or computed again."""
    issue = project_cache_stats()
    metric = metric_cache_for(root).stats()
    hits = issue["hits"] + issue["refreshes"] + metric["hits"]
    lookups = hits + issue["misses"] + metric["misses"]
    return {
        "issue_cache": issue,
        "metric_cache": metric,
        "hits": hits,
        "lookups": lookups,
        "hit_rate": hits / lookups if lookups else None,
    }


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
