"""The issue cache's file: its schema, validation, lazily parsed issues and timestamps.

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

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from data.errors import UserError
from data.gc_pause import collect_before_parse, gc_paused, keep_out_of_collections
from data.performance_utils import timed
from data.storage.project_data import ProjectData

#: 2: issues are stored lean (`jira_parser.lean_issue`); a version-1 file is set aside and the
#: next update is a full fetch.
#: 3: issues keep their `summary` (the item lists show it); a version-2 file is set aside and
#: the next update is a full fetch (JIRA's incremental query returns only updated issues).
#: 4: the lean changelog keeps the flag changes too (blocked time); a version-3 file lacks
#: them, so it is set aside and the next update is a full fetch.
#: 5: the rework field is fetched (deployment rework rate); a version-4 file lacks it, so it
#: is set aside and the next update is a full fetch.
SCHEMA_VERSION = 5


SyncMode = Literal["full", "incremental"]


_HEADER = b'{"meta":'
#: How much of the file `read_meta` reads first (the metadata is far smaller).
_META_PREFIX_BYTES = 1 << 20


class CacheError(UserError):
    """A cache operation cannot go ahead; the message says what to do."""


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
        return str(self.meta["version"])

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
    if not isinstance(statuses, list) or not isinstance(fields, list) or type(count) is not int:
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
    meta: Any = None
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
            assert self._section is not None  # dropped only once the issues are parsed
            try:
                items = orjson.loads(self._section)
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


def _write_error(folder: Path, exc: OSError) -> CacheError:
    """A failed write as a message a user can act on; the previous cache is untouched."""
    return CacheError(
        f"Cannot write the cache in {folder} ({exc.__class__.__name__}: "
        f"{exc.strerror or exc}); free some disk space or fix the data folder's permissions."
    )
