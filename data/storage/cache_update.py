"""Update staging: issues appended to a staging file, committed into the cache at once."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from data.gc_pause import gc_paused
from data.performance_utils import timed
from data.storage.cache_file import (
    SCHEMA_VERSION,
    CachedIssues,
    CacheError,
    SyncMode,
    _iso,
    _newer,
    _utc_now,
    _write_error,
)

if TYPE_CHECKING:
    from data.storage.cache_manager import IssueCache

log = logging.getLogger(__name__)


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
        self._handle: BinaryIO | None = os.fdopen(descriptor, "wb")
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
    base: Sequence[dict[str, Any]], staged: dict[str, dict[str, Any]], removed: set[str]
) -> list[dict[str, Any]]:
    """Base issues updated in place by newer staged copies, new ones appended, removed dropped."""
    merged = []
    seen = set()
    for issue in base:
        key = issue.get("key")
        seen.add(key)
        if key in removed:
            continue
        fresh = None if key is None else staged.get(key)
        merged.append(fresh if fresh is not None and _newer(fresh, issue) else issue)
    merged.extend(issue for key, issue in staged.items() if key not in seen and key not in removed)
    return merged
