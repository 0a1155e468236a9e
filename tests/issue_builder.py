"""Build raw JIRA issue dicts (search-response shape) from short tuples, for tests.

    issue("D-1", "Story", created="2024-01-01T09:00:00.000+0000",
          transitions=[("2024-01-02T09:00:00.000+0000", "To Do", "In Progress"),
                       ("2024-01-05T09:00:00.000+0000", "In Progress", "Done")],
          resolution="Done")

The issue's current status is the `to` of its latest transition (or `status`, or "To Do").
Statuses are looked up in `STATUSES` by name (case-insensitively) for their id and category;
an unknown name gets a made-up id and the category given by `category_of_unknown`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

#: (id, name, status category key): the small JIRA `/status` list the tests use.
STATUS_ROWS: tuple[tuple[str, str, str], ...] = (
    ("1", "To Do", "new"),
    ("2", "Backlog", "new"),
    ("3", "In Progress", "indeterminate"),  # Active
    ("4", "In Review", "indeterminate"),  # Active
    ("5", "Blocked", "indeterminate"),  # Waiting (word "blocked")
    ("6", "Ready for QA", "indeterminate"),  # Waiting ("ready for" prefix)
    ("7", "On Hold", "indeterminate"),  # Waiting (word "hold")
    ("8", "Threshold Check", "indeterminate"),  # Active: "threshold" is not "hold"
    ("9", "Done", "done"),
    ("10", "Closed", "done"),
)

CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
CATEGORY_IDS = {"new": 2, "indeterminate": 4, "done": 3}


def _stable_id(text: str) -> str:
    """A numeric id derived from `text`, the same in every run (unlike `hash`)."""
    return str(10000 + zlib.crc32(text.encode()) % 90000)


_BY_NAME = {name.lower(): (sid, name, cat) for sid, name, cat in STATUS_ROWS}


def status_category(key: str) -> dict[str, Any]:
    """A JIRA `statusCategory` object for a category key."""
    return {
        "self": f"https://jira.example/rest/api/2/statuscategory/{CATEGORY_IDS[key]}",
        "id": CATEGORY_IDS[key],
        "key": key,
        "colorName": {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}[key],
        "name": CATEGORY_NAMES[key],
    }


def status_object(name: str, category_of_unknown: str = "indeterminate") -> dict[str, Any]:
    """A JIRA status object (`fields.status` / `/status` entry) for a status name."""
    sid, real_name, cat = _BY_NAME.get(
        name.lower(), (_stable_id(name.lower()), name, category_of_unknown)
    )
    return {
        "self": f"https://jira.example/rest/api/2/status/{sid}",
        "id": sid,
        "name": real_name,
        "description": "",
        "statusCategory": status_category(cat),
    }


def statuses(rows: Iterable[tuple[str, str, str]] = STATUS_ROWS) -> list[dict[str, Any]]:
    """The JIRA `/status` list for `rows` (default: `STATUS_ROWS`)."""
    return [
        {
            "self": f"https://jira.example/rest/api/2/status/{sid}",
            "id": sid,
            "name": name,
            "description": "",
            "statusCategory": status_category(cat),
        }
        for sid, name, cat in rows
    ]


def version(
    name: str, release_date: str | None = None, *, released: bool = True, vid: str | None = None
) -> dict[str, Any]:
    """A `fixVersions` entry; `release_date` is date-only (`YYYY-MM-DD`) as JIRA sends it."""
    out: dict[str, Any] = {
        "self": f"https://jira.example/rest/api/2/version/{vid or name}",
        "id": vid or str(_stable_id(name)),
        "name": name,
        "archived": False,
        "released": released,
    }
    if release_date is not None:
        out["releaseDate"] = release_date
    return out


def link(
    key: str,
    *,
    direction: str = "outward",
    type_name: str = "Relates",
    status: str | None = None,
    category_of_unknown: str = "indeterminate",
) -> dict[str, Any]:
    """An `issuelinks` entry pointing at `key` (`direction` "outward" or "inward"); `status`
    embeds the linked issue's status, as JIRA does (`...Issue.fields.status`)."""
    link_type = {
        "id": "10003",
        "name": type_name,
        "inward": f"{type_name.lower()} (in)",
        "outward": f"{type_name.lower()} (out)",
    }
    other = {"id": str(_stable_id(key)), "key": key, "fields": {}}
    if status is not None:
        other["fields"]["status"] = status_object(status, category_of_unknown)
    return {"id": str(_stable_id(key + direction)), "type": link_type, f"{direction}Issue": other}


def issue(
    key: str,
    type_name: str,
    *,
    created: str,
    transitions: Sequence[tuple[Any, ...]] = (),
    status: str | None = None,
    resolution: str | None = None,
    resolutiondate: str | None = None,
    updated: str | None = None,
    fix_versions: Sequence[dict[str, Any]] = (),
    labels: Sequence[str] = (),
    links: Sequence[dict[str, Any]] = (),
    fields: dict[str, Any] | None = None,
    newest_first: bool = False,
    category_of_unknown: str = "indeterminate",
) -> dict[str, Any]:
    """A raw JIRA issue with its changelog.

    `transitions` are `(when, from_name, to_name)` or `(when, from_name, to_name, history_id)`
    in time order; each becomes one changelog history (ids count up from 100 unless given).
    `newest_first` writes the histories newest first, as JIRA Cloud does. `resolutiondate`
    defaults to the time of the last transition when a `resolution` is given. `fields` adds or
    overrides fields (custom fields, `status`...).
    """
    histories = []
    for index, row in enumerate(transitions):
        when, from_name, to_name = row[0], row[1], row[2]
        hid = str(row[3]) if len(row) > 3 else str(100 + index)
        from_status = status_object(from_name, category_of_unknown)
        to_status = status_object(to_name, category_of_unknown)
        histories.append(
            {
                "id": hid,
                "author": {"displayName": "Test User", "accountId": "0001"},
                "created": when,
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": from_status["id"],
                        "fromString": from_status["name"],
                        "to": to_status["id"],
                        "toString": to_status["name"],
                    }
                ],
            }
        )
    if newest_first:
        histories.reverse()
    current = status or (transitions[-1][2] if transitions else "To Do")
    if resolution is not None and resolutiondate is None and transitions:
        resolutiondate = transitions[-1][0]
    last_change = transitions[-1][0] if transitions else created
    body: dict[str, Any] = {
        "summary": f"{type_name} {key}",
        "issuetype": {
            "id": str(_stable_id(type_name)),
            "name": type_name,
            "subtask": type_name.lower() in ("sub-task", "subtask"),
        },
        "status": status_object(current, category_of_unknown),
        "created": created,
        "updated": updated or last_change,
        "resolutiondate": resolutiondate,
        "resolution": None if resolution is None else {"id": "1", "name": resolution},
        "fixVersions": list(fix_versions),
        "labels": list(labels),
        "issuelinks": list(links),
    }
    body.update(fields or {})
    return {
        "expand": "operations,changelog",
        "id": _stable_id(key),
        "self": f"https://jira.example/rest/api/2/issue/{key}",
        "key": key,
        "fields": body,
        "changelog": {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        },
    }


def search_response(issues: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A `/rest/api/2/search` page holding all `issues`."""
    return {
        "expand": "schema,names",
        "startAt": 0,
        "maxResults": len(issues),
        "total": len(issues),
        "issues": list(issues),
    }
