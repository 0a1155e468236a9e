"""The emulator's issues: indexed records for JQL, copy-on-write changes, thread-safe.

Each issue is kept as the JIRA dict it is served as, plus a small record of the values JQL
filters and sorts on (times in epoch ms). Changes replace an issue's dict instead of editing it
in place, so a page being rendered in another thread never sees half a change.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from data.jira.sample_project import format_timestamp, statuses

MINUTE = 60_000


def parse_ms(text: str | None) -> int | None:
    """Epoch ms of a JIRA timestamp ("2024-01-15T10:30:00.000+0000", "...Z"), None for None."""
    if not text:
        return None
    return int(datetime.fromisoformat(text).timestamp() * 1000)


#: The Epic Link field of company-managed projects (Cloud's classic id).
EPIC_LINK_FIELD = "customfield_10014"


def _parent_key(fields: dict[str, Any]) -> str | None:
    """The key of an issue's parent, or of the epic its Epic Link field names."""
    parent = (fields.get("parent") or {}).get("key") or fields.get(EPIC_LINK_FIELD)
    return str(parent).upper() if parent else None


@dataclass
class Record:
    """One issue and the values JQL looks at."""

    issue: dict[str, Any]
    id: int
    key: str
    project_key: str
    project: str
    number: int
    issuetype: str
    status: str
    created: int | None
    updated: int | None
    resolved: int | None
    labels: set[str] = field(default_factory=set)
    statuscategory: str = ""
    parent: str | None = None  # the parent's key (or the Epic Link field's)
    _oldest_first: list[dict[str, Any]] | None = None

    @classmethod
    def of(cls, issue: dict[str, Any]) -> Record:
        f = issue.get("fields") or {}
        key = str(issue["key"])
        project_key, _, number = key.rpartition("-")
        return cls(
            issue=issue,
            id=int(issue["id"]),
            key=key.upper(),
            project_key=project_key.upper(),
            project=((f.get("project") or {}).get("key") or project_key).lower(),
            number=int(number) if number.isdigit() else 0,
            issuetype=str((f.get("issuetype") or {}).get("name", "")).lower(),
            status=str((f.get("status") or {}).get("name", "")).lower(),
            created=parse_ms(f.get("created")),
            updated=parse_ms(f.get("updated")),
            resolved=parse_ms(f.get("resolutiondate")),
            labels={str(label).lower() for label in f.get("labels") or []},
            statuscategory=str(
                ((f.get("status") or {}).get("statusCategory") or {}).get("name", "")
            ).lower(),
            parent=_parent_key(f),
        )

    def histories_oldest_first(self) -> list[dict[str, Any]]:
        """The changelog sorted by created, ties by numeric id (computed once)."""
        if self._oldest_first is None:
            histories = (self.issue.get("changelog") or {}).get("histories") or []
            self._oldest_first = sorted(
                histories, key=lambda h: (parse_ms(h.get("created")) or 0, int(h.get("id") or 0))
            )
        return self._oldest_first


_STATUS_BY_NAME = {s["name"].lower(): s for s in statuses()}
#: where a changed issue moves next, from its current status
_NEXT = {
    "to do": "In Progress",
    "in progress": "In Review",
    "in review": "Ready for QA",
    "blocked": "In Progress",
    "ready for qa": "Done",
    "done": "In Progress",
    "closed": "In Progress",
}
_RESOLUTION_DONE = {"id": "10000", "name": "Done", "description": "Work has been completed."}
_AUTHOR = {
    "accountId": "5b10ac8d82e05b22cc7d9999",
    "emailAddress": "emulator.bot@example.com",
    "displayName": "Emulator Bot",
    "active": True,
    "timeZone": "Europe/Berlin",
    "accountType": "atlassian",
}


class IssueStore:
    """All issues of the emulated site, in key order, safe to read while another thread writes."""

    def __init__(self, issues: Iterable[dict[str, Any]]) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, Record] = {}
        for issue in issues:
            record = Record.of(issue)
            self._records[record.key] = record
        self._next_history_id = 10_000_000
        #: bumps on every change, so that callers can cache what they derived from a snapshot
        self.version = 0
        self._known: dict[str, set[str]] = {
            "project": set(),
            "issuetype": set(),
            "status": set(),
            "statuscategory": {"to do", "in progress", "done"},
        }
        for record in self._records.values():
            self._remember(record)
        self._known["status"] |= set(_STATUS_BY_NAME)

    def _remember(self, record: Record) -> None:
        f = record.issue.get("fields") or {}
        project = f.get("project") or {}
        self._known["project"].update(
            str(v).lower()
            for v in (project.get("key"), project.get("name"), project.get("id"))
            if v
        )
        self._known["project"].add(record.project_key.lower())
        self._known["issuetype"].add(record.issuetype)
        self._known["status"].add(record.status)

    def known_values(self, field: str) -> set[str] | None:
        """Lower-case names that exist for `field` (None: anything goes)."""
        return self._known.get(field)

    def snapshot(self) -> list[Record]:
        """Every record, as they stand now (a list the caller may sort and filter)."""
        return self.versioned_snapshot()[1]

    def versioned_snapshot(self) -> tuple[int, list[Record]]:
        """(version, every record) taken together."""
        with self._lock:
            return self.version, list(self._records.values())

    def get(self, key_or_id: str) -> Record | None:
        """The record of an issue key (any case) or numeric id; None when there is none."""
        with self._lock:
            record = self._records.get(key_or_id.upper())
            if record is None and key_or_id.isdigit():
                wanted = int(key_or_id)
                record = next((r for r in self._records.values() if r.id == wanted), None)
            return record

    def __len__(self) -> int:
        return len(self._records)

    def remove(self, keys: Iterable[str]) -> int:
        """Delete issues by key; returns how many existed."""
        removed = 0
        with self._lock:
            for key in keys:
                removed += self._records.pop(key.upper(), None) is not None
            self.version += 1
        return removed

    def replace(self, issue: dict[str, Any]) -> None:
        """Add or replace one issue (by key)."""
        record = Record.of(issue)
        with self._lock:
            self._records[record.key] = record
            self._remember(record)
            self.version += 1

    def change(self, k: int, seed: int, now_ms: int) -> list[str]:
        """Move `k` issues (chosen by `seed`) one status on, at `now_ms`; their keys, sorted."""
        with self._lock:
            keys = sorted(self._records, key=lambda key: self._records[key].number)
        chosen = set(random.Random(seed).sample(keys, min(k, len(keys))))
        for key in chosen:
            record = self.get(key)
            if record is not None:
                self.replace(self._moved(record.issue, now_ms))
        return [key for key in keys if key in chosen]

    def _moved(self, issue: dict[str, Any], now_ms: int) -> dict[str, Any]:
        changed = orjson.loads(orjson.dumps(issue))
        f = changed["fields"]
        current = f.get("status") or {}
        target = _STATUS_BY_NAME[
            _NEXT.get(str(current.get("name", "")).lower(), "In Progress").lower()
        ]
        stamp = format_timestamp(now_ms)
        items = [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": current.get("id"),
                "fromString": current.get("name"),
                "to": target["id"],
                "toString": target["name"],
            }
        ]
        was_done = (current.get("statusCategory") or {}).get("key") == "done"
        is_done = target["statusCategory"]["key"] == "done"
        if is_done and not was_done:
            f["resolution"], f["resolutiondate"] = dict(_RESOLUTION_DONE), stamp
            items.append(_resolution_item(None, "Done"))
        elif was_done and not is_done:
            previous = (f.get("resolution") or {}).get("name")
            f["resolution"], f["resolutiondate"] = None, None
            items.append(_resolution_item(previous, None))
        f["status"] = target
        f["updated"] = stamp
        self._add_histories(changed, [(now_ms, items)])
        return changed

    def lengthen(self, keys: Iterable[str], extra: int) -> None:
        """Give issues `extra` more histories ("Rank" changes, no status change), spread
        between `created` and the last history, so a truncated changelog misses old
        status transitions."""
        for key in keys:
            record = self.get(key)
            if record is None:
                continue
            changed = orjson.loads(orjson.dumps(record.issue))
            start = record.created or 0
            times = [parse_ms(h["created"]) or 0 for h in record.histories_oldest_first()]
            end = max([start + MINUTE, *times])
            step = max(1, (end - start) // (extra + 1))
            entries = [
                (
                    start + step * (i + 1),
                    [
                        {
                            "field": "Rank",
                            "fieldtype": "custom",
                            "fieldId": "customfield_10019",
                            "from": "",
                            "fromString": "",
                            "to": "",
                            "toString": "Ranked higher",
                        }
                    ],
                )
                for i in range(extra)
            ]
            self._add_histories(changed, entries)
            self.replace(changed)

    def _add_histories(self, issue: dict[str, Any], entries: list[tuple[int, list]]) -> None:
        changelog = issue.setdefault(
            "changelog", {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
        )
        new = []
        with self._lock:
            for at, items in entries:
                new.append(
                    {
                        "id": str(self._next_history_id),
                        "author": dict(_AUTHOR),
                        "created": format_timestamp(at),
                        "items": items,
                    }
                )
                self._next_history_id += 1
        # newest first, as JIRA Cloud sends them
        changelog["histories"] = sorted(
            new + changelog["histories"],
            key=lambda h: (parse_ms(h["created"]) or 0, int(h["id"])),
            reverse=True,
        )
        changelog["total"] = changelog["maxResults"] = len(changelog["histories"])


def _resolution_item(previous: str | None, new: str | None) -> dict[str, Any]:
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": "10000" if previous else None,
        "fromString": previous,
        "to": "10000" if new else None,
        "toString": new,
    }
