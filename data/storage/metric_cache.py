"""The metric result cache: one file per hash key, and a bounded memory copy.

Metric result cache
    metric_cache_key(dataset_version, mappings_hash, period_key) -> str
    MetricCache(root): get(key) -> dict | None, put(key, value), stats() -> dict
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import re
import threading
from pathlib import Path
from typing import Any

import orjson

from configuration.settings import cache_dir
from data.lru import LRU
from data.performance_utils import counting_lookups
from data.storage.cache_file import _iso, _utc_now
from data.storage.persistence import atomic_write_bytes

log = logging.getLogger(__name__)


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
            counts: dict[str, Any] = dict(self._counts)
        lookups = counts["hits"] + counts["misses"]
        counts["hit_rate"] = counts["hits"] / lookups if lookups else None
        return counts


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
