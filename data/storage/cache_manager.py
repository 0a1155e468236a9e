"""The JIRA issue cache: one file per hash key of site, JQL and fields.

Its file format and validation are in `data.storage.cache_file`, update staging
in `data.storage.cache_update`, the fetch lock in `data.storage.locks`, the
in-memory layer in `data.storage.cache_memory`, the metric result cache in
`data.storage.metric_cache`.

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

Loading and status
    load_project(root, settings) -> ProjectData | None memoized by (path, mtime_ns, size, inode)
    cache_status(root, settings, now=None) -> dict     exists, issues, last_sync, age_hours, stale
    is_stale(last_sync, ttl_hours, now=None) -> bool
    IssueCache.load() shares the memo; a commit primes it. Errors a user can act on:
    CacheError (cannot write; incremental without a cache), FetchInProgressError.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psutil

from configuration.settings import cache_dir, make_private_dir
from configuration.site_url import site_url as canonical_site_url
from data.gc_pause import gc_paused
from data.performance_utils import timed
from data.storage.cache_file import (
    _HEADER,
    _META_PREFIX_BYTES,
    CachedIssues,
    SyncMode,
    _content_hashes,
    _FileSignature,
    _head_meta,
    _Invalid,
    _parse_cache,
    _signature,
    _utc_now,
    _write_error,
    parse_instant,
)
from data.storage.cache_memory import _load_entry, _remember
from data.storage.cache_update import CacheUpdate
from data.storage.persistence import atomic_write_bytes
from data.storage.project_data import ProjectData

log = logging.getLogger(__name__)


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
    "flagged_field",
    "rework_field",
)


#: Set-aside files kept per cache (older ones are deleted).
_KEEP_CORRUPT = 3
#: A leftover temporary file older than this belongs to a dead writer.
_STALE_TEMP_SECONDS = 15 * 60
#: A staging file untouched this long is abandoned even if its pid lives (reused pid).
_STALE_STAGING_SECONDS = 24 * 3600


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


# ---------------------------------------------------------------------------------------------
# the in-memory layer


def load_project(root: Path, settings: Mapping[str, Any]) -> ProjectData | None:
    """The cached JIRA project for these settings, or None when there is no valid cache.

    Memoized by the file's (path, mtime_ns, size, inode): an unchanged file is never read or
    parsed twice, and callers share the returned object.
    """
    entry = _load_entry(IssueCache.for_settings(root, settings))
    return None if entry is None else entry.project


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
