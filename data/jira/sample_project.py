"""A deterministic, realistic sample JIRA project, in the exact shape JIRA's search API sends.

The dashboard shows it when no JIRA is configured, the tests and benchmarks feed it to every
layer, and the JIRA emulator serves it. Same `(count, seed, now)` gives byte-identical JSON:
all randomness comes from one `random.Random(seed)` (the flags from one per issue, seeded by
its creation time, so that they leave the rest of the project as it was).

What it holds, because the metrics need it: stories, bugs, tasks, technical debt, security
items, epics and sub-tasks moving through a workflow with waiting states (Blocked, Ready for
QA), rework, reopenings, skipped states, items never started and items in progress now;
"Won't Do" cancellations; weekly released fixVersions and a few unreleased, with a patch
(hotfix) version now and then; Deployment issues (3-5 a week, mostly production) and
Incidents, some linked to the deployment that caused them; rework deployments (labelled
`hotfix` or `rollback`, some linked to the incident they fix while it is open); work items
flagged (JIRA's "Flagged" field, Impediment) for a while, some across a status change and
some still flagged now. Timestamps carry mixed UTC offsets and changelogs come in mixed order
(mostly newest first, as JIRA Cloud sends them).

Nested reference objects (users, status categories) are shared between issues: treat the
issues as read-only or copy what you change.
"""

from __future__ import annotations

import bisect
import logging
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from data.errors import UserError
from data.gc_pause import gc_paused
from data.storage.persistence import atomic_write_bytes

log = logging.getLogger(__name__)

BASE_URL = "https://flowdash-demo.atlassian.net"
HOUR = 3_600_000
DAY = 24 * HOUR
MINUTE = 60_000
#: JIRA Cloud's "Flagged" field (a checkbox with the one option Impediment).
FLAGGED_FIELD = "customfield_10021"
_IMPEDIMENT = {"value": "Impediment", "id": "10019"}
#: The share of started work items flagged once during an In Progress stint.
FLAGGED_SHARE = 0.15
#: ... and of the items In Progress now (most of these are still flagged).
FLAGGED_NOW_SHARE = 0.4
_FLAGGABLE = frozenset({"Story", "Task", "Bug", "Technical Debt", "Security"})

# -- reference data -------------------------------------------------------------------------

_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}

#: (id, name, category key, description)
_STATUSES = (
    ("10000", "To Do", "new", "Work that has not been started."),
    ("3", "In Progress", "indeterminate", "This issue is being actively worked on."),
    ("10100", "In Review", "indeterminate", "The change is being reviewed."),
    ("10101", "Blocked", "indeterminate", "Work cannot continue until something else happens."),
    ("10102", "Ready for QA", "indeterminate", "Waiting for a tester to pick it up."),
    ("10001", "Done", "done", "Work has been completed."),
    ("6", "Closed", "done", "The issue is considered finished."),
)
TODO, IN_PROGRESS, IN_REVIEW, BLOCKED, READY_QA, DONE, CLOSED = (s[0] for s in _STATUSES)
_STATUS_NAME = {s[0]: s[1] for s in _STATUSES}

#: (id, name, subtask)
_TYPES = {
    "Epic": ("10000", "Epic", False),
    "Story": ("10001", "Story", False),
    "Task": ("10002", "Task", False),
    "Sub-task": ("10003", "Sub-task", True),
    "Bug": ("1", "Bug", False),
    "Technical Debt": ("10010", "Technical Debt", False),
    "Security": ("10011", "Security", False),
    "Incident": ("10012", "Incident", False),
    "Deployment": ("10013", "Deployment", False),
}

#: work item types and their share of the non-deployment, non-incident issues
_WORK_MIX = (
    ("Story", 0.40),
    ("Bug", 0.17),
    ("Task", 0.15),
    ("Technical Debt", 0.08),
    ("Security", 0.05),
    ("Epic", 0.03),
    ("Sub-task", 0.12),
)

_RESOLUTIONS = {
    "Done": {"id": "10000", "name": "Done", "description": "Work has been completed."},
    "Won't Do": {"id": "10001", "name": "Won't Do", "description": "This issue won't be actioned."},
    "Duplicate": {"id": "10002", "name": "Duplicate", "description": "The problem is a duplicate."},
}

_PRIORITIES = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest"))

_LINK_TYPES = {
    "Relates": {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
    "Causes": {"id": "10004", "name": "Causes", "inward": "is caused by", "outward": "causes"},
    "Blocks": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
}

_PEOPLE = (
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Linus Torvalds",
    "Margaret Hamilton",
    "Dennis Ritchie",
    "Barbara Liskov",
    "Ken Thompson",
    "Frances Allen",
    "Edsger Dijkstra",
    "Radia Perlman",
)

#: (UTC offset in minutes, suffix) with weights: most +0000, some India, US West, CET, "Z"
_OFFSETS = ((0, "+0000"), (330, "+0530"), (-480, "-0800"), (60, "+0100"), (0, "Z"))
_OFFSET_CUMULATIVE = (0.55, 0.68, 0.81, 0.90)
_PRIORITY_CUMULATIVE = (0.05, 0.25, 0.75, 0.95)

_WORDS = (
    "login",
    "checkout",
    "search",
    "billing",
    "export",
    "dashboard",
    "API",
    "cache",
    "report",
    "notifications",
    "onboarding",
    "profile",
    "settings",
    "invoice",
    "upload",
    "audit log",
    "permissions",
    "mobile view",
    "webhooks",
    "SSO",
)
_VERBS = ("Add", "Fix", "Improve", "Refactor", "Speed up", "Support", "Clean up", "Document")


def _user(name: str, index: int) -> dict[str, Any]:
    account = f"5b10ac8d82e05b22cc7d{index:04x}"
    email = name.lower().replace(" ", ".") + "@example.com"
    return {
        "self": f"{BASE_URL}/rest/api/2/user?accountId={account}",
        "accountId": account,
        "emailAddress": email,
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian",
    }


_USERS = tuple(_user(name, i) for i, name in enumerate(_PEOPLE))


def _status_object(status_id: str, base_url: str = BASE_URL) -> dict[str, Any]:
    sid, name, category, description = next(s for s in _STATUSES if s[0] == status_id)
    cat = _CATEGORIES[category]
    return {
        "self": f"{base_url}/rest/api/2/status/{sid}",
        "description": description,
        "iconUrl": f"{base_url}/images/icons/statuses/generic.png",
        "name": name,
        "untranslatedName": name,
        "id": sid,
        "statusCategory": {"self": f"{base_url}/rest/api/2/statuscategory/{cat['id']}", **cat},
    }


_STATUS_OBJECTS = {s[0]: _status_object(s[0]) for s in _STATUSES}


def statuses() -> list[dict[str, Any]]:
    """The `/rest/api/2/status` list for the sample's workflow, each with its statusCategory."""
    return [_status_object(s[0]) for s in _STATUSES]


def _system_field(
    fid: str, name: str, schema: dict[str, Any] | None, **extra: Any
) -> dict[str, Any]:
    entry = {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [fid],
        **extra,
    }
    if schema is not None:
        entry["schema"] = {**schema, "system": fid}
    return entry


def _custom_field(number: int, name: str, type_: str, custom: str, **schema: Any) -> dict[str, Any]:
    fid = f"customfield_{number}"
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "untranslatedName": name,
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [f"cf[{number}]", name],
        "schema": {
            "type": type_,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{custom}",
            "customId": number,
            **schema,
        },
    }


def fields() -> list[dict[str, Any]]:
    """The `/rest/api/2/field` list: system fields plus the sample's custom fields."""
    return [
        _system_field("summary", "Summary", {"type": "string"}),
        _system_field("issuetype", "Issue Type", {"type": "issuetype"}),
        _system_field("status", "Status", {"type": "status"}),
        _system_field("created", "Created", {"type": "datetime"}),
        _system_field("updated", "Updated", {"type": "datetime"}),
        _system_field("resolutiondate", "Resolved", {"type": "datetime"}),
        _system_field("resolution", "Resolution", {"type": "resolution"}),
        _system_field("duedate", "Due date", {"type": "date"}),
        _system_field("fixVersions", "Fix versions", {"type": "array", "items": "version"}),
        _system_field("labels", "Labels", {"type": "array", "items": "string"}),
        _system_field("issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks"}),
        _system_field("priority", "Priority", {"type": "priority"}),
        _system_field("assignee", "Assignee", {"type": "user"}),
        _system_field("reporter", "Reporter", {"type": "user"}),
        _system_field("project", "Project", {"type": "project"}),
        _system_field("parent", "Parent", None),
        _system_field("issuekey", "Key", None),
        _custom_field(10016, "Story Points", "number", "float"),
        _custom_field(10021, "Flagged", "array", "multicheckboxes", items="option"),
        _custom_field(10050, "Environment", "option", "select"),
        _custom_field(10060, "Deployed At", "datetime", "datetime"),
        _custom_field(10061, "Target Date", "date", "datepicker"),
        _custom_field(10062, "Team", "string", "textfield"),
    ]


def search_response(issues: list[dict[str, Any]]) -> dict[str, Any]:
    """One search page holding every issue, as `/rest/api/2/search` answers."""
    return {
        "expand": "schema,names",
        "startAt": 0,
        "maxResults": len(issues),
        "total": len(issues),
        "issues": issues,
    }


# -- timestamps -----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_CACHE: dict[int, str] = {}


def _day_string(day: int) -> str:
    text = _DAY_CACHE.get(day)
    if text is None:
        text = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        _DAY_CACHE[day] = text
    return text


_CLOCK = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86400)]
_MILLIS = [f"{m:03d}" for m in range(1000)]


def format_timestamp(ms: int, offset_minutes: int = 0, suffix: str = "+0000") -> str:
    """JIRA's timestamp text for epoch milliseconds, shown at a UTC offset.

    `format_timestamp(0)` is "1970-01-01T00:00:00.000+0000"; suffix "Z" gives "...000Z".
    """
    day, rest = divmod(ms + offset_minutes * MINUTE, DAY)
    second, milli = divmod(rest, 1000)
    text = _DAY_CACHE.get(day) or _day_string(day)
    return text + _CLOCK[second] + _MILLIS[milli] + suffix


def _date_string(ms: int) -> str:
    return _day_string(ms // DAY)


# -- planning -------------------------------------------------------------------------------


@dataclass
class _Plan:
    """One issue before it becomes JSON: times in epoch ms, transitions as (ms, from, to)."""

    kind: str
    created: int
    transitions: list[tuple[int, str, str]] = field(default_factory=list)
    status: str = TODO
    resolution: str | None = None
    resolved: int | None = None
    links: list[tuple[str, str, _Plan]] = field(default_factory=list)  # (type, direction, other)
    labels: list[str] = field(default_factory=list)
    environment: str | None = None
    parent: _Plan | None = None
    extra_updates: int = 0
    index: int = 0


class _Walker:
    """Moves one plan through the workflow, never past `now`."""

    def __init__(self, plan: _Plan, now: int) -> None:
        self.plan = plan
        self.now = now
        self.t = plan.created
        self.stopped = False

    def wait(self, ms: float) -> None:
        self.t += max(MINUTE, int(ms))

    def go(self, to: str, resolution: str | None = None) -> bool:
        """Record a transition at the current time unless that lies at or after now."""
        if self.stopped or self.t >= self.now:
            self.stopped = True
            return False
        plan = self.plan
        plan.transitions.append((self.t, plan.status, to))
        was_done = plan.status in (DONE, CLOSED)
        if to in (DONE, CLOSED):
            if not was_done:
                plan.resolved = self.t
                plan.resolution = resolution or "Done"
        else:
            plan.resolved = None
            plan.resolution = None
        plan.status = to
        return True


def _hours(rng: random.Random, median: float, sigma: float = 0.8) -> float:
    """A lognormal duration in ms around a median in hours."""
    return median * math.exp(sigma * rng.gauss()) * HOUR


def _walk_work_item(rng: random.Random, plan: _Plan, now: int, rework: float = 0.45) -> None:
    w = _Walker(plan, now)
    roll = rng.random()
    if roll < 0.03:  # created straight into In Progress: no To Do in its history
        plan.status = IN_PROGRESS
    else:
        w.wait(_hours(rng, 60, 1.1))  # backlog time; may run past now -> never started
        if roll < 0.07:  # skipped states: To Do -> Done directly
            w.go(DONE)
            _maybe_close(rng, w)
            return
        if roll < 0.11:  # canceled from the backlog
            w.go(DONE, "Won't Do" if rng.random() < 0.8 else "Duplicate")
            return
        if rng.random() < 0.12:  # started, put back, started again
            if not w.go(IN_PROGRESS):
                return
            w.wait(_hours(rng, 6))
            w.go(TODO)
            w.wait(_hours(rng, 48))
        if not w.go(IN_PROGRESS):
            return
    if rng.random() < 0.04:  # canceled after starting
        w.wait(_hours(rng, 30))
        w.go(DONE, "Won't Do")
        return
    _develop(rng, w)
    reviews = qa_rounds = 0
    while True:
        if not w.go(IN_REVIEW):
            return
        w.wait(_hours(rng, 10))
        reviews += 1
        if reviews < 4 and rng.random() < rework:  # rework after review
            w.go(IN_PROGRESS)
            w.wait(_hours(rng, 12))
            continue
        if rng.random() < 0.8:
            if not w.go(READY_QA):
                return
            w.wait(_hours(rng, 20))
            if qa_rounds < 2 and rng.random() < rework * 2 / 3:  # QA found something
                qa_rounds += 1
                w.go(IN_PROGRESS)
                w.wait(_hours(rng, 16))
                continue
        break
    if not w.go(DONE):
        return
    if rng.random() < 0.08:  # reopened: Done -> In Progress -> In Review -> Done
        w.wait(_hours(rng, 72))
        w.go(IN_PROGRESS)
        w.wait(_hours(rng, 10))
        w.go(IN_REVIEW)
        w.wait(_hours(rng, 6))
        w.go(DONE)
    _maybe_close(rng, w)


def _develop(rng: random.Random, w: _Walker) -> None:
    w.wait(_hours(rng, 30, 0.9))
    for _ in range(3):
        if rng.random() >= 0.4:
            break
        if not w.go(BLOCKED):
            return
        w.wait(_hours(rng, 30))
        w.go(IN_PROGRESS)
        w.wait(_hours(rng, 16))


def _maybe_close(rng: random.Random, w: _Walker) -> None:
    if rng.random() < 0.55:
        w.wait(_hours(rng, 96))
        w.go(CLOSED)


def _walk_epic(rng: random.Random, plan: _Plan, now: int) -> None:
    w = _Walker(plan, now)
    w.wait(_hours(rng, 24 * 10))
    if not w.go(IN_PROGRESS):
        return
    w.wait(_hours(rng, 24 * 60, 0.6))
    w.go(DONE)


def _walk_quick(rng: random.Random, plan: _Plan, now: int, end: int, resolution: str) -> None:
    """To Do -> In Progress -> Done ending exactly at `end` (deployments, incidents)."""
    w = _Walker(plan, now)
    w.t = plan.created + (end - plan.created) // 3
    if not w.go(IN_PROGRESS):
        return
    w.t = end
    w.go(DONE, resolution)


def _deploy_times(rng: random.Random, start: int, now: int) -> list[int]:
    """About four deployments a week on working days, during working hours (UTC)."""
    times: list[int] = []
    day = start // DAY + 1
    while (day + 1) * DAY < now:
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        if weekday < 5:
            for _ in range(2):
                if rng.random() < (0.72 if not times or times[-1] < day * DAY else 0.1):
                    times.append(day * DAY + int(rng.uniform(8, 18) * HOUR))
        day += 1
    return sorted(times)


def _release_days(start: int, now: int) -> list[int]:
    """Weekly releases on Thursdays, from the first after `start` to two weeks after `now`."""
    day = start // DAY
    while (day + 3) % 7 != 3:
        day += 1
    days = []
    while day * DAY < now + 14 * DAY:
        days.append(day)
        day += 7
    return days


#: Labels the sample puts on rework deployments (defaults of the rework mapping).
REWORK_LABELS = ("hotfix", "rollback")


def _plan_rework(production: list[_Plan], incidents: list[_Plan]) -> None:
    """Rework deployments (DORA 2024): about one production deployment in ten labelled
    `hotfix` (a few `rollback`), and the first production deployment after an incident's
    detection and before its resolution (or while it is open) linked to it as its fix, in
    about half the incidents. A random stream of its own, so the rest of the sample keeps
    its draws."""
    times = [p.resolved or p.created for p in production]
    rng = random.Random(len(times) * 7919 + (times[0] if times else 0))
    for plan in production:
        roll = rng.random()
        if roll < 0.08:
            plan.labels.append("hotfix")
        elif roll < 0.1:
            plan.labels.append("rollback")
    for incident in incidents:
        pos = bisect.bisect_right(times, incident.created)
        if pos >= len(times) or rng.random() >= 0.5:
            continue
        fix = production[pos]
        if incident.resolved is not None and times[pos] > incident.resolved:
            continue
        if not set(REWORK_LABELS) & set(fix.labels):
            fix.labels.append("hotfix")
        incident.links.append(("Relates", "inward", fix))
        fix.links.append(("Relates", "outward", incident))


def _plans(
    count: int, rng: random.Random, start: int, now: int, rework: float = 0.45
) -> tuple[list[_Plan], list[int]]:
    deploy_times = _deploy_times(rng, start, now)
    max_deploys = max(1, count * 15 // 100) if count >= 4 else 0
    if len(deploy_times) > max_deploys:
        deploy_times = sorted(rng.sample(deploy_times, max_deploys))
    plans: list[_Plan] = []
    production: list[_Plan] = []
    for at in deploy_times:
        plan = _Plan("Deployment", at - int(_hours(rng, 5, 0.7)))
        plan.created = max(start, min(plan.created, at - 10 * MINUTE))
        roll = rng.random()
        plan.environment = "production" if roll < 0.85 else "staging" if roll < 0.98 else None
        _walk_quick(rng, plan, now, at, "Done")
        plans.append(plan)
        if plan.environment == "production":
            production.append(plan)

    n_incidents = min(round(len(production) * 0.25), count * 6 // 100)
    if count >= 20:
        n_incidents = max(1, n_incidents)
    prod_times = [p.resolved or p.created for p in production]
    for _ in range(n_incidents):
        if production:
            deploy = rng.choice(production)
            cause_at = deploy.resolved or deploy.created
            detected = cause_at + int(rng.expovariate(1 / (8 * HOUR))) + MINUTE
        else:
            deploy, detected = None, int(rng.uniform(start, now))
        detected = min(detected, now - MINUTE)
        plan = _Plan("Incident", detected)
        link_roll = rng.random()
        if deploy is not None and link_roll < 0.6:
            link_type = "Causes" if link_roll < 0.4 else "Relates"
            plan.links.append((link_type, "inward", deploy))
            deploy.links.append((link_type, "outward", plan))
        if rng.random() < 0.06:  # still open
            w = _Walker(plan, now)
            w.wait(_hours(rng, 1))
            w.go(IN_PROGRESS)
        else:
            _walk_quick(rng, plan, now, detected + int(_hours(rng, 5, 1.0)) + MINUTE, "Done")
        plans.append(plan)
    _plan_rework(production, [p for p in plans if p.kind == "Incident"])

    n_work = count - len(plans)
    kinds = [k for k, _ in _WORK_MIX]
    weights = [w for _, w in _WORK_MIX]
    stories: list[_Plan] = []
    span = now - start
    for kind in rng.choices(kinds, weights, k=max(0, n_work)):
        created = start + int(rng.random() * (span - HOUR))
        plan = _Plan(kind, created)
        if kind == "Epic":
            _walk_epic(rng, plan, now)
        else:
            _walk_work_item(rng, plan, now, rework)
        if kind == "Task" and rng.random() < 0.2:
            plan.labels.append("tech-debt")
        if kind == "Story":
            stories.append(plan)
        plans.append(plan)

    plans.sort(key=lambda p: p.created)
    for i, plan in enumerate(plans):
        plan.index = i
    stories.sort(key=lambda p: p.created)
    story_created = [s.created for s in stories]
    for plan in plans:
        if plan.kind == "Sub-task" and stories:
            pos = bisect.bisect_right(story_created, plan.created)
            if pos:
                plan.parent = stories[rng.randrange(max(0, pos - 20), pos)]
        elif plan.kind in ("Story", "Bug", "Task") and plan.resolution == "Done" and production:
            # about a third of the changes link the production deployment that shipped them
            pos = bisect.bisect_left(prod_times, plan.resolved or 0)
            if pos < len(production) and rng.random() < 0.33:
                plan.links.append(("Relates", "outward", production[pos]))
                production[pos].links.append(("Relates", "inward", plan))
        if rng.random() < 0.3:
            plan.extra_updates = 1 + rng.randrange(3)
    return plans, _release_days(start, now)


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


# -- building the JSON ----------------------------------------------------------------------


class _Builder:
    """Turns plans into JIRA issue dicts; holds the per-run constants."""

    def __init__(self, rng: random.Random, now: int, key: str, base_url: str, releases: list[int]):
        self.rng = rng
        self.now = now
        self.key = key
        self.base = base_url
        self.project = {
            "self": f"{base_url}/rest/api/2/project/10000",
            "id": "10000",
            "key": key,
            "name": "Demo Project",
            "projectTypeKey": "software",
        }
        self.statuses = {sid: _status_object(sid, base_url) for sid in _STATUS_NAME}
        self.types = {
            name: {
                "self": f"{base_url}/rest/api/2/issuetype/{tid}",
                "id": tid,
                "description": f"A {name.lower()}.",
                "name": name,
                "subtask": subtask,
                "hierarchyLevel": -1 if subtask else (1 if name == "Epic" else 0),
            }
            for name, (tid, _, subtask) in _TYPES.items()
        }
        self.priorities = [
            {"self": f"{base_url}/rest/api/2/priority/{pid}", "name": name, "id": pid}
            for pid, name in _PRIORITIES
        ]
        self.resolutions = {
            name: {"self": f"{base_url}/rest/api/2/resolution/{r['id']}", **r}
            for name, r in _RESOLUTIONS.items()
        }
        self.releases = releases
        # weekly 1.i.0 releases, and a 1.i.1 hotfix on the Monday after every fourth one
        dated = [(d, self._version(i, d)) for i, d in enumerate(releases)]
        dated += [
            (d + 4, self._hotfix_version(i, d + 4)) for i, d in enumerate(releases) if i % 4 == 2
        ]
        dated.sort(key=lambda entry: entry[0])
        self.release_ms = [(d + 1) * DAY - 1 for d, _ in dated]  # end of the release day
        self.versions = [version for _, version in dated]
        self.history_id = 100000
        # change items are the same for many issues: built once, shared
        self.resolution_items: dict[tuple[str | None, str | None], dict[str, Any]] = {}
        self.assignee_items = {u["accountId"]: self._assignee_item(u) for u in _USERS}
        self.status_items = {
            (frm, to): self._status_item(frm, to) for frm in _STATUS_NAME for to in _STATUS_NAME
        }
        self.environments: dict[str | None, dict[str, str]] = {
            value: {
                "self": f"{base_url}/rest/api/2/customFieldOption/{oid}",
                "value": value,
                "id": oid,
            }
            for value, oid in (("production", "10300"), ("staging", "10301"))
        }

    def _version(self, i: int, day: int) -> dict[str, Any]:
        released = (day + 1) * DAY <= self.now
        version = {
            "self": f"{self.base}/rest/api/2/version/{10200 + i}",
            "id": str(10200 + i),
            "name": f"1.{i}.0",
            "archived": False,
            "released": released,
            "releaseDate": _day_string(day),
        }
        if not released and self.rng.random() < 0.5:
            del version["releaseDate"]
        return version

    def _hotfix_version(self, i: int, day: int) -> dict[str, Any]:
        """The patch release `1.i.1` (a rework deployment under the hotfix pattern)."""
        return {
            "self": f"{self.base}/rest/api/2/version/{10900 + i}",
            "id": str(10900 + i),
            "name": f"1.{i}.1",
            "archived": False,
            "released": (day + 1) * DAY <= self.now,
            "releaseDate": _day_string(day),
        }

    def issue_id(self, plan: _Plan) -> str:
        return str(10001 + plan.index)

    def issue_key(self, plan: _Plan) -> str:
        return f"{self.key}-{plan.index + 1}"

    def link_ref(self, plan: _Plan) -> dict[str, Any]:
        iid = self.issue_id(plan)
        return {
            "id": iid,
            "key": self.issue_key(plan),
            "self": f"{self.base}/rest/api/2/issue/{iid}",
            "fields": {
                "summary": self.summary(plan),
                "status": self.statuses[plan.status],
                "priority": self.priorities[2],
                "issuetype": self.types[plan.kind],
            },
        }

    def summary(self, plan: _Plan) -> str:
        word = _WORDS[plan.index % len(_WORDS)]
        verb = _VERBS[(plan.index // len(_WORDS)) % len(_VERBS)]
        if plan.kind == "Deployment":
            return f"Deploy build {plan.index + 1} to {plan.environment or 'unknown'}"
        if plan.kind == "Incident":
            return f"Outage: {word} failing in production"
        return f"{verb} {word} ({plan.kind.lower()} {plan.index + 1})"

    def build(self, plan: _Plan) -> dict[str, Any]:
        rng = self.rng
        off, suffix = _OFFSETS[bisect.bisect(_OFFSET_CUMULATIVE, rng.random())]
        assignee = _USERS[int(rng.random() * len(_USERS))]
        reporter = _USERS[int(rng.random() * len(_USERS))]
        priority = self.priorities[bisect.bisect(_PRIORITY_CUMULATIVE, rng.random())]

        entries: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
        first_start = True
        for at, frm, to in plan.transitions:
            items = [self.status_items[frm, to]]
            if first_start and to == IN_PROGRESS:
                first_start = False
                if rng.random() < 0.5:
                    items.append(self.assignee_items[assignee["accountId"]])
                else:
                    entries.append(
                        (
                            max(plan.created, at - 5 * MINUTE),
                            reporter,
                            [self.assignee_items[assignee["accountId"]]],
                        )
                    )
            frm_done, to_done = frm in (DONE, CLOSED), to in (DONE, CLOSED)
            if to_done and not frm_done:
                items.append(self._resolution_item(None, plan, at))
            elif frm_done and not to_done:
                items.append(self._resolution_item("Done", plan, at))
            entries.append((at, assignee, items))
        flagged_now = False
        for at, raised in self._flags(plan):
            entries.append((at, assignee, [self._flag_item(raised)]))
            flagged_now = raised
        last = max(entry[0] for entry in entries) if entries else plan.created
        if plan.transitions and rng.random() < 0.1:
            at = plan.created + (last - plan.created) // 2 + MINUTE
            entries.append((at, reporter, [self._priority_item(priority)]))
        updated = last
        if plan.extra_updates:
            updated = max(last, min(self.now - MINUTE, last + int(_hours(rng, 20))))
        entries.sort(key=_first)
        first_id = self.history_id
        self.history_id += len(entries)
        histories = [
            {
                "id": str(first_id + i),
                "author": author,
                "created": format_timestamp(at, off, suffix),
                "items": items,
            }
            for i, (at, author, items) in enumerate(entries)
        ]
        order = rng.random()
        if order < 0.8:
            histories.reverse()  # newest first, as Cloud sends
        elif order >= 0.93:
            rng.shuffle(histories)

        iid = str(10001 + plan.index)
        issue_fields: dict[str, Any] = {
            "summary": self.summary(plan),
            "issuetype": self.types[plan.kind],
            "project": self.project,
            "status": self.statuses[plan.status],
            "created": format_timestamp(plan.created, off, suffix),
            "updated": format_timestamp(updated, off, suffix),
            "resolutiondate": (
                format_timestamp(plan.resolved, off, suffix) if plan.resolved is not None else None
            ),
            "resolution": self.resolutions[plan.resolution] if plan.resolution else None,
            "fixVersions": self._fix_versions(plan),
            "labels": list(plan.labels),
            "issuelinks": [self._link(plan, t, d, other) for t, d, other in plan.links],
            "priority": priority,
            "assignee": assignee if plan.transitions or plan.status != TODO else None,
            "reporter": reporter,
            "customfield_10016": self._points(plan),
            FLAGGED_FIELD: [_IMPEDIMENT] if flagged_now else None,
            "customfield_10050": self.environments.get(plan.environment),
            "customfield_10060": None,
            "customfield_10061": (
                _date_string(plan.created + 21 * DAY) if plan.kind == "Story" else None
            ),
        }
        if plan.kind == "Deployment" and plan.resolved:
            issue_fields["customfield_10060"] = issue_fields["resolutiondate"]
        if plan.parent is not None:
            pid = self.issue_id(plan.parent)
            issue_fields["parent"] = {
                "id": pid,
                "key": self.issue_key(plan.parent),
                "self": f"{self.base}/rest/api/2/issue/{pid}",
            }
        return {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": iid,
            "self": f"{self.base}/rest/api/2/issue/{iid}",
            "key": f"{self.key}-{plan.index + 1}",
            "fields": issue_fields,
            "changelog": {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            },
        }

    @staticmethod
    def _status_item(frm: str, to: str) -> dict[str, Any]:
        return {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": frm,
            "fromString": _STATUS_NAME[frm],
            "to": to,
            "toString": _STATUS_NAME[to],
        }

    def _flags(self, plan: _Plan) -> list[tuple[int, bool]]:
        """At most one flagged period of a work item, (time, raised) changes: raised inside
        an In Progress stint, cleared later (perhaps after the next status change), or never
        when that falls after now. From a per-issue generator: the main stream is untouched."""
        if plan.kind not in _FLAGGABLE:
            return []
        rng = random.Random(plan.created * 7 + plan.index)
        open_now = plan.status == IN_PROGRESS  # in progress now: more often blocked now
        if rng.random() >= (FLAGGED_NOW_SHARE if open_now else FLAGGED_SHARE):
            return []
        stints = [
            (at, plan.transitions[i + 1][0] if i + 1 < len(plan.transitions) else self.now)
            for i, (at, _, to) in enumerate(plan.transitions)
            if to == IN_PROGRESS
        ]
        if not stints:
            return []
        begin, end = stints[-1] if open_now else stints[int(rng.random() * len(stints))]
        raised = begin + MINUTE + int((end - begin) * rng.uniform(0.1, 0.5))
        cleared = raised + int((end - raised) * rng.uniform(0.3, 1.3))
        if raised >= self.now - MINUTE:
            return []
        if cleared >= self.now - MINUTE or (open_now and rng.random() < 0.6):
            return [(raised, True)]  # still flagged
        return [(raised, True), (cleared, False)]

    @staticmethod
    def _flag_item(raised: bool) -> dict[str, Any]:
        on, off = ("[10019]", "Impediment"), (None, None)
        (frm, frm_text), (to, to_text) = (off, on) if raised else (on, off)
        return {
            "field": "Flagged",
            "fieldtype": "custom",
            "fieldId": FLAGGED_FIELD,
            "from": frm,
            "fromString": frm_text,
            "to": to,
            "toString": to_text,
        }

    @staticmethod
    def _assignee_item(user: dict[str, Any]) -> dict[str, Any]:
        return {
            "field": "assignee",
            "fieldtype": "jira",
            "fieldId": "assignee",
            "from": None,
            "fromString": None,
            "to": user["accountId"],
            "toString": user["displayName"],
            "tmpToAccountId": user["accountId"],
        }

    def _resolution_item(self, previous: str | None, plan: _Plan, at: int) -> dict[str, Any]:
        """The resolution change that goes with entering (or leaving) a done status."""
        name = None
        if previous is None:
            name = plan.resolution if plan.resolved == at and plan.resolution else "Done"
        item = self.resolution_items.get((previous, name))
        if item is None:
            if name is not None:
                frm, frm_s, to, to_s = None, None, _RESOLUTIONS[name]["id"], name
            else:
                assert previous is not None  # name is None only when leaving a done status
                frm, frm_s, to, to_s = _RESOLUTIONS[previous]["id"], previous, None, None
            item = {
                "field": "resolution",
                "fieldtype": "jira",
                "fieldId": "resolution",
                "from": frm,
                "fromString": frm_s,
                "to": to,
                "toString": to_s,
            }
            self.resolution_items[previous, name] = item
        return item

    def _priority_item(self, priority: dict[str, Any]) -> dict[str, Any]:
        previous = self.priorities[2] if priority["id"] != "3" else self.priorities[3]
        return {
            "field": "priority",
            "fieldtype": "jira",
            "fieldId": "priority",
            "from": previous["id"],
            "fromString": previous["name"],
            "to": priority["id"],
            "toString": priority["name"],
        }

    def _points(self, plan: _Plan) -> float | None:
        if plan.kind not in ("Story", "Task", "Bug", "Technical Debt", "Security"):
            return None
        if self.rng.random() < 0.15:
            return None
        return float(self.rng.choice((1, 1, 2, 2, 3, 3, 3, 5, 5, 8, 13)))

    def _fix_versions(self, plan: _Plan) -> list[dict[str, Any]]:
        if plan.kind in ("Epic", "Deployment", "Incident") or plan.resolution == "Won't Do":
            return []
        if plan.resolution == "Done" and plan.resolved is not None:
            pos = bisect.bisect_left(self.release_ms, plan.resolved)
            if pos < len(self.versions) and self.rng.random() < 0.85:
                return [self.versions[pos]]
            return []
        if plan.status != TODO and self.rng.random() < 0.4:
            pos = bisect.bisect_left(self.release_ms, self.now)
            if pos < len(self.versions):
                return [self.versions[pos]]
        return []

    def _link(self, plan: _Plan, type_name: str, direction: str, other: _Plan) -> dict[str, Any]:
        link_type = _LINK_TYPES[type_name]
        a, b = sorted((plan.index, other.index))
        link_id = str(20000 + a * 7 + b % 7 + (b - a))
        return {
            "id": link_id,
            "self": f"{self.base}/rest/api/2/issueLink/{link_id}",
            "type": {
                "self": f"{self.base}/rest/api/2/issueLinkType/{link_type['id']}",
                **link_type,
            },
            f"{direction}Issue": self.link_ref(other),
        }


def today_utc() -> datetime:
    """Today at 00:00 UTC: the default `now`, stable within a day yet always current."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def generate_issues(
    count: int = 1500,
    seed: int = 42,
    *,
    now: datetime | None = None,
    months: int = 12,
    project_key: str = "DEMO",
    base_url: str = BASE_URL,
    rework: float = 0.45,
) -> list[dict[str, Any]]:
    """`count` JIRA issues with expanded changelogs, created over the `months` before `now`.

    Keys run DEMO-1.. in creation order. Same arguments give byte-identical JSON. `rework` is
    the chance that a review sends an item back to In Progress (QA: two thirds of it); the
    default gives about 6.5-7 status transitions per issue, 0.6 about 8 (the benchmarks).
    """
    if count < 0:
        raise UserError(f"The sample needs 0 or more issues, not {count}.")
    if not 0 <= rework < 1:
        raise UserError(f"The sample's rework chance must be from 0 to below 1, not {rework}.")
    now_dt = now or today_utc()
    if now_dt.tzinfo is None:
        now_dt = now_dt.replace(tzinfo=UTC)
    now_ms = int(now_dt.timestamp() * 1000)
    start_ms = now_ms - int(months * 30.44 * DAY)
    rng = random.Random(seed)
    with gc_paused():  # millions of small acyclic objects: collections would only cost time
        plans, releases = _plans(count, rng, start_ms, now_ms, rework)
        builder = _Builder(rng, now_ms, project_key, base_url.rstrip("/"), releases)
        issues = [builder.build(plan) for plan in plans]
    log.debug(
        "sample generated", extra={"operation": "sample", "issues": len(issues), "seed": seed}
    )
    return issues


def write_sample(path: Path, issues: int, seed: int) -> int:
    """Write a search response with `issues` sample issues to `path`; returns the count.

    Beside JIRA's own keys the file holds the project's `statuses` and `fields` lists (what
    `/status` and `/field` answer), so `app.py metrics --input` knows every status category.
    """
    generated = generate_issues(issues, seed)
    payload = {**search_response(generated), "statuses": statuses(), "fields": fields()}
    try:
        atomic_write_bytes(Path(path), orjson.dumps(payload))
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise UserError(f"Cannot write the sample to {path}: {reason}.") from None
    log.info(
        "sample written", extra={"operation": "sample", "issues": len(generated), "path": str(path)}
    )
    return len(generated)
