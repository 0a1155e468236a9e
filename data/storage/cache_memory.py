"""The in-memory layer: memoized projects (an unchanged cache file is never read twice) and the
process's metric caches.

In-memory layer
    project_cache_stats() -> dict                      loads (files parsed), hits, misses, refreshes
    clear_memory()                                     forget memoized projects (a "new process")
    metric_cache_for(root) -> MetricCache              the process's shared instance per data dir
    session_cache_stats(root) -> dict                  issue + metric cache hits, lookups, hit_rate
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data.lru import LRU
from data.storage.cache_file import CachedIssues, _FileSignature, _signature
from data.storage.locks import _thread_lock_for
from data.storage.metric_cache import MetricCache
from data.storage.project_data import ProjectData

if TYPE_CHECKING:
    from data.storage.cache_manager import IssueCache


#: Projects kept in memory (each may be large).
_MEMO_ENTRIES = 2


@dataclass(frozen=True)
class _Entry:
    """A validated cache file held in memory, and the file it came from."""

    signature: _FileSignature
    cached: CachedIssues
    project: ProjectData


_memo: LRU[str, _Entry] = LRU(_MEMO_ENTRIES)
_memo_guard = threading.Lock()
_memo_stats = {"loads": 0, "hits": 0, "misses": 0, "refreshes": 0}


def _remember(path: Path, signature: _FileSignature, cached: CachedIssues) -> _Entry:
    entry = _Entry(signature, cached, cached.to_project(table_file_for(path)))
    with _memo_guard:
        _memo.put(str(path), entry)
    return entry


def table_file_for(cache_path: Path) -> Path:
    """Where the normalized table of an issue cache file is kept (see
    `data.storage.table_store`)."""
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


def _reset_after_fork() -> None:
    """A forked child starts with a fresh memo lock: the thread that held it does not exist in
    the child."""
    global _memo_guard
    _memo_guard = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_reset_after_fork)
