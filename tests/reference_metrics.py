"""The straightforward implementation of every metric, which the fast engine must equal.

Written from `../shared/METRICS.md` and `specs/metrics-dashboard.md` alone, with no code
shared with `data/`: plain `datetime` parsing, one loop over every issue for the period and
again for every weekly point. Slow on purpose; obviously right is the point. Instants are
integer milliseconds since the epoch (UTC); percentiles are `numpy.percentile` (linear).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from configuration.metric_defaults import (
    DISTRIBUTION_REFERENCE,
    WAITING_PREFIX,
    WAITING_WORDS,
    change_failure_rate_tier,
    default_mappings,
    deployment_frequency_tier,
    lead_time_tier,
    recovery_time_tier,
)

#: A deployment left out: (reason, its time, or None when it has none).
LeftOut = tuple[str, int | None]
MS_HOUR = 3_600_000
MS_DAY = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
FAILED_WORDS = ("failed", "failure", "false", "no", "unsuccessful")
TRUE_WORDS = ("true", "yes")
METRIC_KEYS = (
    "deployment_frequency",
    "lead_time_for_changes",
    "change_failure_rate",
    "deployment_rework_rate",
    "failed_deployment_recovery_time",
    "recovery_time",
    "flow_velocity",
    "flow_time",
    "flow_efficiency",
    "flow_load",
    "flow_distribution",
)


# ----------------------------------------------------------------------------- names


def name_key(text: str) -> str:
    """A name as compared (reading 11): curly apostrophes as ', then lower case."""
    return text.replace("\u2019", "'").replace("\u2018", "'").lower()


def status_words(name: str) -> list[str]:
    """The words of a status name: any character that is not a letter or digit separates."""
    return "".join(char if char.isalnum() else " " for char in name).split()


# ----------------------------------------------------------------------------- time


def to_ms(moment: datetime) -> int:
    """Integer epoch milliseconds of an aware datetime (sub-millisecond part dropped)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def parse_instant(value: Any, tz: ZoneInfo) -> int | None:
    """A JIRA timestamp or date-only value as epoch ms; a date is its day's last ms in `tz`.

    Anything unparseable is missing (None).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return to_ms(datetime.combine(day, time(23, 59, 59, 999000), tzinfo=tz))
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:  # decision 20: read in the configured zone
        moment = moment.replace(tzinfo=tz)
    return to_ms(moment)


def local_midnight_ms(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of 00:00 on `day` in `tz`."""
    return to_ms(datetime.combine(day, time(0, 0), tzinfo=tz))


def local_date(ms: int, tz: ZoneInfo) -> date:
    """The calendar date of an instant in `tz`."""
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(tz).date()


def iso_text(ms: int, tz: ZoneInfo) -> str:
    """An instant as ISO 8601 with the zone's offset."""
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(tz).isoformat()


@dataclass(frozen=True)
class RefPeriod:
    """A half-open interval `[start_ms, end_ms)` with its label and zone."""

    start_ms: int
    end_ms: int
    label: str
    days: float


def reference_period(text: str, now: datetime, tz: ZoneInfo) -> RefPeriod:
    """`Nd` is `[now - N x 24 h, now)`; `A:B` covers days A to B in full, in `tz`."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    match = re.fullmatch(r"(\d+)d", text.strip())
    if match:
        n_days = int(match.group(1))
        end = to_ms(now)
        return RefPeriod(end - n_days * MS_DAY, end, f"Last {n_days} days", float(n_days))
    first, last = (date.fromisoformat(part) for part in text.strip().split(":"))
    start = local_midnight_ms(first, tz)
    end = local_midnight_ms(last + timedelta(days=1), tz)
    return RefPeriod(
        start, end, f"{first.isoformat()} to {last.isoformat()}", (end - start) / MS_DAY
    )


def week_windows(period: RefPeriod, tz: ZoneInfo) -> list[tuple[date, int, int]]:
    """Every ISO week overlapping [min(start, end - 84 days), end) (reading 1); the 84 days on
    the zone's calendar: the same local date and time, 84 days earlier."""
    end_local = (EPOCH + timedelta(milliseconds=period.end_ms)).astimezone(tz)
    back_day = end_local.date() - timedelta(days=84)
    back = to_ms(datetime.combine(back_day, end_local.time(), tzinfo=tz))
    earliest = min(period.start_ms, back)
    first_day = local_date(earliest, tz)
    monday = first_day - timedelta(days=first_day.weekday())
    weeks = []
    while local_midnight_ms(monday, tz) < period.end_ms:
        weeks.append(
            (
                monday,
                local_midnight_ms(monday, tz),
                local_midnight_ms(monday + timedelta(days=7), tz),
            )
        )
        monday += timedelta(days=7)
    return weeks


# ----------------------------------------------------------------------------- issues


@dataclass
class Item:
    """One issue with everything the metrics need, derived the plain way."""

    key: str
    type_name: str
    created: int | None
    state_now: str
    initial_state: str
    transitions: list[tuple[int, str, str]]  # (ms, from state, to state), sorted
    canceled: bool
    flow_type: str | None
    work_start: int | None
    start_not_recorded: bool
    completion: int | None
    resolutiondate: int | None
    links: set[str] = field(default_factory=set)
    fields: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    flagged: list[tuple[int, int | None]] = field(default_factory=list)  # (begin, end or None)


def _texts(value: Any) -> list[str]:
    """The text(s) of a field value: a string, an option `{"value"}`/`{"name"}`, or a list."""
    if value is None:
        return []
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        inner = value.get("value", value.get("name"))
        return [inner] if isinstance(inner, str) else []
    if isinstance(value, list):
        return [text for part in value for text in _texts(part)]
    return []


def _history_id(value: Any) -> int:
    """A history id as a number for tie-breaks; a non-numeric id counts as 0."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class Reference:
    """Every metric computed by plain loops over the issues."""

    def __init__(
        self,
        issues: list[dict[str, Any]],
        statuses: list[dict[str, Any]] | None = None,
        mappings: dict[str, Any] | None = None,
        tz: ZoneInfo | str = "UTC",
    ) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.m = {**default_mappings(), **(mappings or {})}
        self.warnings: set[str] = set()
        self.cat_by_id: dict[str, str] = {}
        self.cat_by_name: dict[str, str] = {}
        for status in statuses or []:
            cat = ((status.get("statusCategory") or {}).get("key") or "").lower()
            if status.get("id") is not None:
                self.cat_by_id[str(status["id"])] = cat
            if status.get("name"):
                self.cat_by_name.setdefault(name_key(status["name"]), cat)
        # reading 9: after the `/status` list, the issues' current statuses, then the statuses
        # embedded in their links
        embedded = [(raw.get("fields") or {}).get("status") for raw in issues]
        for raw in issues:
            for entry in (raw.get("fields") or {}).get("issuelinks") or []:
                if isinstance(entry, dict):
                    embedded += [
                        (side.get("fields") or {}).get("status")
                        for side in entry.values()
                        if isinstance(side, dict)
                    ]
        self.cat_from_issues: dict[str, str] = {}
        for status in embedded:
            if not isinstance(status, dict):
                continue
            cat = ((status.get("statusCategory") or {}).get("key") or "").lower()
            if status.get("name") and cat:
                self.cat_from_issues.setdefault(name_key(str(status["name"])), cat)
        self.items = [self._item(raw) for raw in issues]
        by_key = {item.key: item for item in self.items}
        for item in self.items:  # links count in either direction
            for other in list(item.links):
                if other in by_key:
                    by_key[other].links.add(item.key)
        self.by_key = by_key
        self._deployments: dict[str, tuple[list[tuple[int, str | None]], list[int]]] = {}
        self._version_times: dict[str, int] | None = None

    # -- mappings

    def category(self, sid: Any, name: str | None) -> str:
        """Category: `/status` by id, then name, then issues' statuses (current, then in their
        links), else indeterminate."""
        if sid is not None and str(sid) in self.cat_by_id:
            return self.cat_by_id[str(sid)]
        lname = name_key(name or "")
        if lname in self.cat_by_name:
            return self.cat_by_name[lname]
        if lname in self.cat_from_issues:
            return self.cat_from_issues[lname]
        self.warnings.add(lname)
        return "indeterminate"

    def state(self, sid: Any, name: str | None) -> str:
        """New / Active / Waiting / Done for a status."""
        lname = name_key(name or "")
        explicit = {name_key(k): v for k, v in (self.m.get("status_states") or {}).items()}
        if lname in explicit:
            return explicit[lname]
        cat = self.category(sid, name)
        if cat == "new":
            return "New"
        if cat == "done":
            return "Done"
        words = status_words(lname)
        if any(word in WAITING_WORDS for word in words) or lname.startswith(WAITING_PREFIX):
            return "Waiting"
        return "Active"

    def flow_type_of(self, type_name: str, labels: list[str]) -> str | None:
        """Feature/Defect/Risk/Debt/Other, or None for non-flow types; a mapped label wins."""
        label_map = {name_key(k): v for k, v in self.m["flow_type_labels"].items()}
        for label in labels:
            if name_key(label) in label_map:
                return label_map[name_key(label)]
        if type_name in [name_key(t) for t in self.m["non_flow_types"]]:
            return None
        type_map = {name_key(k): v for k, v in self.m["flow_types"].items()}
        return type_map.get(type_name, "Other")

    def field_value(self, item: Item, field_id: str | None) -> Any:
        """The raw value of a field, or None."""
        return item.fields.get(field_id) if field_id else None

    def field_instant(self, item: Item, field_id: str | None) -> int | None:
        """A date/time field parsed to epoch ms, or None."""
        return parse_instant(self.field_value(item, field_id), self.tz)

    # -- one issue

    def _item(self, raw: dict[str, Any]) -> Item:
        fields = raw.get("fields") or {}
        tz = self.tz
        type_name = name_key((fields.get("issuetype") or {}).get("name") or "")
        labels = [name_key(str(label)) for label in fields.get("labels") or []]
        status = fields.get("status") or {}
        state_now = self.state(status.get("id"), status.get("name"))
        created = parse_instant(fields.get("created"), tz)
        rows = []
        for history in (raw.get("changelog") or {}).get("histories") or []:
            when = parse_instant(history.get("created"), tz)
            for position, entry in enumerate(history.get("items") or []):
                if entry.get("field") != "status" or when is None:
                    continue
                rows.append(
                    (
                        when,
                        _history_id(history.get("id")),
                        position,
                        self.state(entry.get("from"), entry.get("fromString")),
                        self.state(entry.get("to"), entry.get("toString")),
                    )
                )
        rows.sort()
        transitions = [(when, old, new) for when, _, _, old, new in rows]
        flagged = self._flagged(raw, created)
        initial = transitions[0][1] if transitions else state_now

        resolution = name_key((fields.get("resolution") or {}).get("name") or "")
        canceled = state_now == "Done" and resolution in [
            name_key(r) for r in self.m["canceled_resolutions"]
        ]

        work_start = None
        if initial in ("Active", "Waiting"):
            work_start = created
        else:
            for when, _, new in transitions:
                if new in ("Active", "Waiting"):
                    work_start = when
                    break
        start_not_recorded = False
        if work_start is None and state_now != "New":
            work_start = created
            start_not_recorded = True

        resolutiondate = parse_instant(fields.get("resolutiondate"), tz)
        completion = None
        if state_now == "Done":
            for when, old, new in transitions:
                if new == "Done" and old != "Done":
                    completion = when
            if completion is None:
                completion = resolutiondate

        links = set()
        for entry in fields.get("issuelinks") or []:
            for side in ("outwardIssue", "inwardIssue"):
                if isinstance(entry.get(side), dict) and entry[side].get("key"):
                    links.add(entry[side]["key"])
        return Item(
            key=raw.get("key", ""),
            type_name=type_name,
            created=created,
            state_now=state_now,
            initial_state=initial,
            transitions=transitions,
            canceled=canceled,
            flow_type=self.flow_type_of(type_name, labels),
            work_start=work_start,
            start_not_recorded=start_not_recorded,
            completion=completion,
            resolutiondate=resolutiondate,
            links=links,
            fields=fields,
            raw=raw,
            flagged=flagged,
        )

    def _flag_item(self, entry: dict[str, Any]) -> bool:
        """A change of the flag: JIRA's "Flagged" field by name, or the mapped field."""
        mapped = self.m.get("flagged_field")
        if not mapped:
            return str(entry.get("field") or "").lower() == "flagged"
        return mapped in (entry.get("fieldId"), entry.get("field"))

    def _flagged(self, raw: dict[str, Any], created: int | None) -> list[tuple[int, int | None]]:
        """The flagged intervals (begin, end; None while flagged now), walked change by change
        in time order: flagged from `created` when the first change clears the flag."""
        changes = []
        for order, history in enumerate((raw.get("changelog") or {}).get("histories") or []):
            when = parse_instant(history.get("created"), self.tz)
            for position, entry in enumerate(history.get("items") or []):
                if when is not None and self._flag_item(entry):
                    was = bool(str(entry.get("fromString") or "").strip())
                    now = bool(str(entry.get("toString") or "").strip())
                    changes.append((when, order, position, was, now))
        changes.sort()
        spans: list[tuple[int, int | None]] = []
        since = created if changes and changes[0][3] and created is not None else None
        for when, _, _, _, now in changes:
            if since is not None and when > since:
                spans.append((since, when))
            since = None
            if now:
                since = when if created is None else max(when, created)
        if since is not None:
            spans.append((since, None))
        return spans

    def state_at(self, item: Item, moment: int) -> str | None:
        """The item's state at an instant with what happens at exactly that instant not yet
        applied (readings 2 and 3), or None when it was not created before it."""
        if item.created is None or item.created >= moment:
            return None
        current = item.initial_state
        for when, _, new in item.transitions:
            if when < moment:
                current = new
        return current

    def active_waiting(self, item: Item) -> tuple[int, int]:
        """Active and Waiting ms between work start and completion."""
        assert item.work_start is not None and item.completion is not None
        spans = []
        previous, state = item.created, item.initial_state
        for when, _, new in item.transitions:
            spans.append((previous, when, state))
            previous, state = when, new
        spans.append((previous, None, state))
        active = waiting = 0
        for begin, end, span_state in spans:
            if begin is None:  # no `created`: the initial state has no start
                continue
            lo = max(begin, item.work_start)
            hi = item.completion if end is None else min(end, item.completion)
            if hi > lo:
                if span_state == "Active":
                    # flagged Active time is Waiting (blocked)
                    blocked = 0
                    for flag_begin, flag_end in item.flagged:
                        top = hi if flag_end is None else min(hi, flag_end)
                        blocked += max(0, top - max(lo, flag_begin))
                    active += hi - lo - blocked
                    waiting += blocked
                elif span_state == "Waiting":
                    waiting += hi - lo
        return active, waiting

    # -- populations over the whole dataset

    def is_production(self, item: Item) -> bool:
        """Without an environment field every deployment is production."""
        env = self.m.get("environment_field")
        if not env:
            return True
        wanted = [name_key(v) for v in self.m["production_values"]]
        return any(name_key(t.strip()) in wanted for t in _texts(item.fields.get(env)))

    def deployment_issue_time(self, item: Item) -> int | None:
        """Deployment time of a production deployment issue (canceled or not), else None."""
        if item.type_name not in [name_key(t) for t in self.m["deployment_types"]]:
            return None
        if not self.is_production(item):
            return None
        return self.field_instant(item, self.m["deployment_time_field"])

    def success_failed(self, item: Item) -> bool:
        """The success field says this deployment failed (`false`, "failed", "no", ...)."""
        value = self.field_value(item, self.m.get("deployment_success_field"))
        return any(text.strip().lower() in FAILED_WORDS for text in _texts(value))

    def rework_marked(self, item: Item) -> bool:
        """A deployment issue with a rework label, or whose rework field says true."""
        labels = {name_key(str(label)) for label in item.fields.get("labels") or []}
        if labels & {name_key(label) for label in self.m.get("rework_labels") or []}:
            return True
        value = self.field_value(item, self.m.get("rework_field"))
        if value is True:
            return True
        return any(t.strip().lower() in TRUE_WORDS for t in _texts(value))

    def is_hotfix(self, version_name: Any) -> bool:
        """A version name matching the hotfix pattern (case-insensitive search)."""
        pattern = self.m.get("hotfix_version_pattern")
        return bool(pattern) and re.search(pattern, str(version_name or ""), re.I) is not None

    def is_incident(self, item: Item) -> bool:
        """Incident type, or the production-impact field says true."""
        if item.type_name in [name_key(t) for t in self.m["incident_types"]]:
            return True
        value = self.field_value(item, self.m.get("production_impact_field"))
        if value is True:
            return True
        return any(t.strip().lower() in TRUE_WORDS for t in _texts(value))

    def deployments(self, source: str) -> tuple[list[tuple[int, str | None]], list[LeftOut]]:
        """All production deployments (time, issue key or None), and the deployments left out
        as (reason, time or None) (reading 12)."""
        if source not in self._deployments:
            self._deployments[source] = self._all_deployments(source)
        return self._deployments[source]

    def _all_deployments(self, source: str) -> tuple[list[tuple[int, str | None]], list[LeftOut]]:
        deployments: list[tuple[int, str | None]] = []
        left_out: list[LeftOut] = []
        if source == "fixversions":
            for name in self.released_version_names():
                when = self.version_times().get(name)
                if when is None:
                    left_out.append(("released_without_release_date", None))
                else:
                    deployments.append((when, None))
        else:
            deployment_types = [name_key(t) for t in self.m["deployment_types"]]
            for item in self.items:
                if item.type_name not in deployment_types:
                    continue
                when = self.field_instant(item, self.m["deployment_time_field"])
                if not self.is_production(item):  # the production filter comes first
                    left_out.append(("not_production", when))
                elif when is None:
                    left_out.append(("no_deployment_date", None))
                elif item.canceled:
                    left_out.append(("canceled", when))
                else:
                    deployments.append((when, item.key))
        deployments.sort(key=lambda d: d[0])
        return deployments, left_out

    def released_version_names(self) -> list[Any]:
        """Every version name marked released on some issue, dated or not."""
        names: dict[Any, None] = {}
        for item in self.items:
            for version in item.fields.get("fixVersions") or []:
                if version.get("released") is True:
                    names[version.get("name")] = None
        return list(names)

    def version_times(self) -> dict[str, int]:
        """Released version name -> its earliest `releaseDate` over every issue (canceled too)."""
        if self._version_times is not None:
            return self._version_times
        earliest: dict[str, int] = {}
        for item in self.items:
            for version in item.fields.get("fixVersions") or []:
                if version.get("released") is not True:
                    continue
                when = parse_instant(version.get("releaseDate"), self.tz)
                name = version.get("name")
                if when is not None and (name not in earliest or when < earliest[name]):
                    earliest[name] = when
        self._version_times = earliest
        return earliest

    def deployed_date(self, item: Item, source: str) -> int | None:
        """Mapped field, else earliest released fixVersion (fixVersion source), else linked
        production deployment issue, else resolutiondate."""
        mapped = self.field_instant(item, self.m.get("deployed_date_field"))
        if mapped is not None:
            return mapped
        if source == "fixversions":
            dates = [
                parse_instant(v.get("releaseDate"), self.tz)
                for v in item.fields.get("fixVersions") or []
                if v.get("released") is True
            ]
            dates = [d for d in dates if d is not None]
            if dates:
                return min(dates)
        linked = []
        for key in item.links:
            other = self.by_key.get(key)
            if other is None or other.canceled:
                continue
            when = self.deployment_issue_time(other)
            if when is not None:
                linked.append(when)
        if linked:
            return min(linked)
        return item.resolutiondate

    def is_change(self, item: Item) -> bool:
        """A Feature or Defect flow item that is not an incident (canceled or not)."""
        return item.flow_type in ("Feature", "Defect") and not self.is_incident(item)

    def commit_date(self, item: Item) -> int | None:
        """Mapped field, else work start."""
        mapped = self.field_instant(item, self.m.get("commit_date_field"))
        return mapped if mapped is not None else item.work_start

    def incident_times(self, item: Item) -> tuple[int | None, int | None]:
        """(detected, resolved): the mapped fields, else `created` and `resolutiondate`."""
        detected = self.field_instant(item, self.m.get("incident_detected_field"))
        resolved = self.field_instant(item, self.m.get("incident_resolved_field"))
        return (
            item.created if detected is None else detected,
            item.resolutiondate if resolved is None else resolved,
        )

    def points(self, item: Item) -> float | None:
        """Story points when numeric, else None."""
        value = self.field_value(item, self.m.get("story_points_field"))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)


# ----------------------------------------------------------------------------- statistics


def r4(value: float | None) -> float | None:
    """Hours, days and rates: 4 decimals."""
    return None if value is None else round(float(value), 4)


def r2(value: float | None) -> float | None:
    """Percents: 2 decimals."""
    return None if value is None else round(float(value), 2)


def duration_values(durations: list[int], unit: str) -> dict[str, float | None]:
    """Median and p85 of integer ms durations, in hours and days (or days only)."""
    if durations:
        array = np.array(durations, dtype=np.int64)
        median, p85 = float(np.percentile(array, 50)), float(np.percentile(array, 85))
    else:
        median = p85 = None
    days = {
        "median_days": None if median is None else r4(median / MS_DAY),
        "p85_days": None if p85 is None else r4(p85 / MS_DAY),
    }
    if unit == "days":
        return days
    return {
        "median_hours": None if median is None else r4(median / MS_HOUR),
        "p85_hours": None if p85 is None else r4(p85 / MS_HOUR),
        **days,
    }


def _counted(reasons: dict[str, int]) -> dict[str, int]:
    return {reason: count for reason, count in reasons.items() if count > 0}


class Window:
    """Each metric's values, n, excluded and notes over one `[start, end)`."""

    def __init__(self, ref: Reference, source: str, start: int, end: int) -> None:
        self.ref, self.source, self.start, self.end = ref, source, start, end
        self.days = (end - start) / MS_DAY

    def inside(self, moment: int | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def deployments_left_out(self) -> dict[str, int]:
        """Deployments left out, by reason: dated ones in the window, undated ones always."""
        _, left_out = self.ref.deployments(self.source)
        reasons: dict[str, int] = {}
        for reason in ("not_production", "no_deployment_date", "released_without_release_date"):
            reasons[reason] = 0
        reasons["canceled"] = 0
        for reason, when in left_out:
            if when is None or self.inside(when):
                reasons[reason] += 1
        return _counted(reasons)

    def deployment_frequency(self) -> tuple[dict, int, dict, dict]:
        deployments, _ = self.ref.deployments(self.source)
        count = sum(1 for when, _ in deployments if self.inside(when))
        values = {
            "count": count,
            "per_day": r4(count / self.days),
            "per_week": r4(count / (self.days / 7)),
        }
        return values, count, self.deployments_left_out(), {}

    def change_failure_rate(self) -> tuple[dict, int, dict, dict]:
        ref = self.ref
        deployments, _ = ref.deployments(self.source)
        incidents = [item for item in ref.items if ref.is_incident(item) and not item.canceled]
        detected = [ref.incident_times(item)[0] for item in incidents]
        incident_keys = {item.key for item in incidents}
        failed = total = 0
        for when, key in deployments:
            if not self.inside(when):
                continue
            total += 1
            is_failed = False
            if key is not None:
                item = ref.by_key[key]
                if ref.m.get("deployment_success_field") and ref.success_failed(item):
                    is_failed = True
                if item.links & incident_keys:
                    is_failed = True
            if ref.m.get("failure_by_time_window", True) and not is_failed:
                # reading 4: the next deployment is the first strictly later one
                following = [w for w, _ in deployments if w > when]
                next_time = min(following) if following else None
                for moment in detected:
                    if moment is None or moment <= when:
                        continue
                    if next_time is None or moment < next_time:
                        is_failed = True
                        break
            failed += is_failed
        values = {
            "percent": r2(failed / total * 100) if total else None,
            "failed": failed,
            "deployments": total,
        }
        return values, total, self.deployments_left_out(), {}

    def deployment_rework_rate(self) -> tuple[dict, int, dict, dict]:
        ref = self.ref
        total = rework = 0
        if self.source == "fixversions":
            for name in ref.released_version_names():
                when = ref.version_times().get(name)
                if self.inside(when):
                    total += 1
                    rework += ref.is_hotfix(name)
        else:
            deployments, _ = ref.deployments(self.source)
            for when, key in deployments:
                if not self.inside(when):
                    continue
                total += 1
                item = ref.by_key[key]
                is_rework = ref.rework_marked(item)
                for other_key in item.links:
                    other = ref.by_key.get(other_key)
                    if other is None or other.canceled or not ref.is_incident(other):
                        continue
                    detected, resolved = ref.incident_times(other)
                    opened_before = detected is not None and detected < when
                    if opened_before and (resolved is None or resolved >= when):
                        is_rework = True
                rework += is_rework
        values = {
            "percent": r2(rework / total * 100) if total else None,
            "rework": rework,
            "deployments": total,
        }
        return values, total, self.deployments_left_out(), {}

    def failed_deployment(self, item: Item, detected: int) -> int | None:
        """The time of the deployment an incident failed: of the linked ones, the latest at or
        before its detection, else the earliest; with no link, the one whose window holds
        its detection (time window on); else None."""
        ref = self.ref
        deployments, _ = ref.deployments(self.source)
        linked = []
        if self.source != "fixversions":
            time_of = {key: when for when, key in deployments if key is not None}
            linked = [time_of[key] for key in item.links if key in time_of]
        if linked:
            before = [when for when in linked if when <= detected]
            return max(before) if before else min(linked)
        if ref.m.get("failure_by_time_window", True):
            earlier = [when for when, _ in deployments if when < detected]
            at_detection = any(when == detected for when, _ in deployments)
            if earlier and not at_detection:
                return max(earlier)
        return None

    def failed_deployment_recovery_time(self) -> tuple[dict, int, dict, dict]:
        ref = self.ref
        durations: list[int] = []
        excluded = {"canceled": 0, "negative": 0}
        notes = {"no_failed_deployment": 0}
        for item in ref.items:
            if not ref.is_incident(item):
                continue
            detected, resolved = ref.incident_times(item)
            if not self.inside(resolved):
                continue
            if item.canceled:
                excluded["canceled"] += 1
                continue
            if detected is None:
                continue
            failed_at = self.failed_deployment(item, detected)
            if failed_at is None:
                notes["no_failed_deployment"] += 1
            elif resolved - failed_at < 0:
                excluded["negative"] += 1
            else:
                durations.append(resolved - failed_at)
        return (
            duration_values(durations, "hours"),
            len(durations),
            _counted(excluded),
            _counted(notes),
        )

    def lead_time_for_changes(self) -> tuple[dict, int, dict, dict]:
        ref = self.ref
        durations: list[int] = []
        excluded = {"canceled": 0, "no_commit_date": 0, "negative": 0}
        notes = {"start_not_recorded": 0}
        for item in ref.items:
            if not ref.is_change(item):
                continue
            deployed = ref.deployed_date(item, self.source)
            if not self.inside(deployed):
                continue
            if item.canceled:
                excluded["canceled"] += 1
                continue
            commit = ref.commit_date(item)
            if commit is None:
                excluded["no_commit_date"] += 1
            elif deployed - commit < 0:
                excluded["negative"] += 1
            else:
                durations.append(deployed - commit)
                mapped = ref.field_instant(item, ref.m.get("commit_date_field"))
                notes["start_not_recorded"] += mapped is None and item.start_not_recorded
        return (
            duration_values(durations, "hours"),
            len(durations),
            _counted(excluded),
            _counted(notes),
        )

    def recovery_time(self) -> tuple[dict, int, dict, dict]:
        ref = self.ref
        durations: list[int] = []
        excluded = {"canceled": 0, "negative": 0}
        for item in ref.items:
            if not ref.is_incident(item):
                continue
            detected, resolved = ref.incident_times(item)
            if not self.inside(resolved):
                continue
            if item.canceled:
                excluded["canceled"] += 1
            elif detected is None:
                continue
            elif resolved - detected < 0:
                excluded["negative"] += 1
            else:
                durations.append(resolved - detected)
        return duration_values(durations, "hours"), len(durations), _counted(excluded), {}

    def completed(self) -> tuple[list[Item], int]:
        """Non-canceled flow items completed in the window, and canceled ones left out."""
        done, canceled = [], 0
        for item in self.ref.items:
            if item.flow_type is None or not self.inside(item.completion):
                continue
            if item.canceled:
                canceled += 1
            else:
                done.append(item)
        return done, canceled

    def flow_velocity(self) -> tuple[dict, int, dict, dict]:
        done, canceled = self.completed()
        weeks = self.days / 7
        by_type: dict[str, dict[str, Any]] = {}
        for item in done:
            by_type.setdefault(item.flow_type, {"count": 0})["count"] += 1
        for entry in by_type.values():
            entry["per_week"] = r4(entry["count"] / weeks)
        values: dict[str, Any] = {
            "total": len(done),
            "per_week": r4(len(done) / weeks),
            "by_type": by_type,
        }
        notes = {}
        if self.ref.m.get("story_points_field"):
            points = [self.ref.points(item) for item in done]
            total = sum(p for p in points if p is not None)
            values["points_total"] = r4(total)
            values["points_per_week"] = r4(total / weeks)
            notes["no_story_points"] = sum(1 for p in points if p is None)
        return values, len(done), _counted({"canceled": canceled}), _counted(notes)

    def flow_time(self) -> tuple[dict, int, dict, dict]:
        done, canceled = self.completed()
        durations = []
        excluded = {"canceled": canceled, "negative": 0}
        notes = {"start_not_recorded": 0}
        for item in done:
            if item.work_start is None:
                continue
            if item.completion - item.work_start < 0:
                excluded["negative"] += 1
                continue
            durations.append(item.completion - item.work_start)
            notes["start_not_recorded"] += item.start_not_recorded
        return (
            duration_values(durations, "days"),
            len(durations),
            _counted(excluded),
            _counted(notes),
        )

    def flow_efficiency(self) -> tuple[dict, int, dict, dict]:
        done, canceled = self.completed()
        active_total = waiting_total = 0
        percents = []
        notes = {"no_active_or_waiting_time": 0}
        for item in done:
            if item.work_start is None:
                notes["no_active_or_waiting_time"] += 1
                continue
            active, waiting = self.ref.active_waiting(item)
            if active + waiting == 0:
                notes["no_active_or_waiting_time"] += 1
                continue
            active_total += active
            waiting_total += waiting
            percents.append(active / (active + waiting) * 100)
        span = active_total + waiting_total
        values = {
            "percent": r2(active_total / span * 100) if span else None,
            "median_item_percent": r2(float(np.percentile(np.array(percents), 50)))
            if percents
            else None,
            "active_days": r4(active_total / MS_DAY),
            "waiting_days": r4(waiting_total / MS_DAY),
        }
        # reading 8: `n` is every item in the sums, those with no Active or Waiting time too
        return values, len(done), _counted({"canceled": canceled}), _counted(notes)

    def load_at(self, moment: int) -> tuple[dict[str, int], int]:
        """Non-canceled flow items Active / Waiting at an instant, and canceled ones that were."""
        by_state = {"Active": 0, "Waiting": 0}
        canceled = 0
        for item in self.ref.items:
            if item.flow_type is None:
                continue
            state = self.ref.state_at(item, moment)
            if state in by_state:
                if item.canceled:
                    canceled += 1
                else:
                    by_state[state] += 1
        return by_state, canceled

    def flow_load(self, *, weekly_average: bool = True) -> tuple[dict, int, dict, dict]:
        by_state, canceled = self.load_at(self.end)
        at_end = by_state["Active"] + by_state["Waiting"]
        values: dict[str, Any] = {"at_end": at_end}
        if weekly_average:
            ends = []
            day = local_date(self.start, self.ref.tz)
            monday = day - timedelta(days=day.weekday())
            while True:
                moment = local_midnight_ms(monday, self.ref.tz)
                if moment > self.end:
                    break
                if self.start < moment <= self.end:  # reading 2
                    loads, _ = self.load_at(moment)
                    ends.append(loads["Active"] + loads["Waiting"])
                monday += timedelta(days=7)
            values["weekly_average"] = r4(sum(ends) / len(ends)) if ends else None
        values["by_state"] = by_state
        return values, at_end, _counted({"canceled": canceled}), {}

    def flow_distribution(self, *, reference: bool = True) -> tuple[dict, int, dict, dict]:
        done, canceled = self.completed()
        counts: dict[str, int] = {}
        for item in done:
            counts[item.flow_type] = counts.get(item.flow_type, 0) + 1
        shares = {kind: r2(count / len(done) * 100) for kind, count in counts.items()}
        values: dict[str, Any] = {"shares": shares, "counts": counts}
        if reference:
            values["reference"] = {k: [lo, hi] for k, (lo, hi) in DISTRIBUTION_REFERENCE.items()}
        return values, len(done), _counted({"canceled": canceled}), {}


# ----------------------------------------------------------------------------- report

DORA_KEYS = METRIC_KEYS[:6]
LABELS = {
    "deployment_frequency": ("Deployment frequency", "per_day", "per day"),
    "lead_time_for_changes": ("Lead time for changes", "median_days", "days"),
    "change_failure_rate": ("Change failure rate", "percent", "%"),
    "deployment_rework_rate": ("Deployment rework rate", "percent", "%"),
    "failed_deployment_recovery_time": ("Failed deployment recovery time", "median_hours", "hours"),
    "recovery_time": ("Incident recovery time", "median_hours", "hours"),
    "flow_velocity": ("Flow velocity", "per_week", "items per week"),
    "flow_time": ("Flow time", "median_days", "days"),
    "flow_efficiency": ("Flow efficiency", "percent", "%"),
    "flow_load": ("Flow load", "at_end", "items"),
    "flow_distribution": ("Flow distribution", None, "%"),
}


def _insufficient(ref: Reference, key: str, source: str) -> str | None:
    """What the whole dataset lacks for a metric (decision 24), or None."""
    deployments, _ = ref.deployments(source)
    items = [item for item in ref.items if not item.canceled]
    all_items = ref.items
    has_incidents = any(ref.is_incident(item) for item in items)
    if key == "failed_deployment_recovery_time" and not has_incidents:
        return "No incidents"
    deployment_keys = (
        "deployment_frequency",
        "change_failure_rate",
        "deployment_rework_rate",
        "failed_deployment_recovery_time",
    )
    if key in deployment_keys and not deployments:
        return "No deployments"
    if key == "change_failure_rate":
        has_success = source == "issues" and bool(ref.m.get("deployment_success_field"))
        if not has_incidents and not has_success:
            return "No incidents or a success field: nothing can fail a deployment"
    if key == "lead_time_for_changes" and not any(
        ref.is_change(item) and ref.deployed_date(item, source) is not None for item in items
    ):
        return "No changes with a deployed date"
    if key == "recovery_time" and not has_incidents:
        return "No incidents"
    if key in ("flow_velocity", "flow_time", "flow_efficiency", "flow_distribution") and not any(
        item.flow_type is not None and item.completion is not None for item in items
    ):
        return "No completed flow items"
    if key == "flow_load" and not any(item.flow_type is not None for item in all_items):
        return "No flow items"
    return None


#: 2024 change failure rate clusters, best first (METRICS.md, DORA 2024 additions).
CFR_2024 = [("Elite", 5.0), ("High", 20.0), ("Medium", 10.0), ("Low", 40.0)]
TIER_NOTES = {
    "change_failure_rate": (
        "2024 tiers: the nearest cluster value (Elite 5 %, High 20 %, Medium 10 %, Low 40 %);"
        " High's rate is worse than Medium's, so no ordered bins exist"
    ),
    "failed_deployment_recovery_time": (
        "2024 tiers: under a day is High (High and Medium share the range)"
    ),
}


def _tier(key: str, values: dict[str, Any], days: float, year: int = 2023) -> str | None:
    """The DORA tier: frequency of the unrounded rate, the others of the rounded values;
    incident recovery time and rework rate have none."""
    if key == "deployment_frequency":
        return deployment_frequency_tier(values["count"] / days)
    if key == "lead_time_for_changes" and values["median_hours"] is not None:
        return lead_time_tier(values["median_hours"])
    if key == "change_failure_rate" and values["percent"] is not None:
        if year == 2024:  # nearest cluster value; the first (better) one wins a tie
            best = CFR_2024[0]
            for tier, value in CFR_2024[1:]:
                if abs(values["percent"] - value) < abs(values["percent"] - best[1]):
                    best = (tier, value)
            return best[0]
        return change_failure_rate_tier(values["percent"])
    if key == "failed_deployment_recovery_time" and values["median_hours"] is not None:
        if year == 2024:
            hours = values["median_hours"]
            return "Elite" if hours < 1 else "High" if hours < 24 else "Low"
        return recovery_time_tier(values["median_hours"])
    return None


def _emptied(values: dict[str, Any]) -> dict[str, Any]:
    """Reading 7: under insufficient data every statistic is null; reference ranges stay."""
    return {name: (value if name == "reference" else None) for name, value in values.items()}


def _weekly_values(window: Window, key: str) -> tuple[dict, int]:
    if key == "flow_load":
        values, n, _, _ = window.flow_load(weekly_average=False)
        return values, n
    if key == "flow_distribution":
        values, n, _, _ = window.flow_distribution(reference=False)
        return values, n
    values, n, _, _ = getattr(window, key)()
    return values, n


def reference_report(
    issues: list[dict[str, Any]],
    statuses: list[dict[str, Any]] | None = None,
    *,
    mappings: dict[str, Any] | None = None,
    period: str = "30d",
    now: datetime,
    tz: str = "UTC",
    deployment_source: str | None = None,
    tier_year: int = 2023,
) -> dict[str, Any]:
    """The report of the spec: every metric, `period`, and the comparable parts of
    `settings` and `dataset` (its issue count and the status names of unknown category,
    lower case)."""
    zone = ZoneInfo(tz)
    ref = Reference(issues, statuses, mappings, zone)
    source = deployment_source or ref.m["deployment_source"]
    per = reference_period(period, now, zone)
    main = Window(ref, source, per.start_ms, per.end_ms)
    weeks = week_windows(per, zone)
    report: dict[str, Any] = {
        "period": {
            "start": iso_text(per.start_ms, zone),
            "end": iso_text(per.end_ms, zone),
            "days": r4(per.days),
            "label": per.label,
            "time_zone": tz,
        },
        "settings": {
            "deployment_source": source,
            "time_zone": tz,
            "failure_by_time_window": bool(ref.m.get("failure_by_time_window", True)),
            "tier_year": tier_year,
        },
        # the fast report's `dataset` also has source, version and warnings as sentences
        "dataset": {"issues": len(issues), "unknown_statuses": sorted(ref.warnings)},
    }
    for key in METRIC_KEYS:
        label, headline, unit = LABELS[key]
        values, n, excluded, notes = getattr(main, key)()
        missing = _insufficient(ref, key, source)
        if missing is not None:
            values = _emptied(values)
        weekly = []
        for monday, start, end in weeks:
            week_values, week_n = _weekly_values(Window(ref, source, start, end), key)
            if missing is not None:
                week_values = _emptied(week_values)
            weekly.append({"week_start": monday.isoformat(), "n": week_n, "values": week_values})
        metric: dict[str, Any] = {
            "label": label,
            "status": "ok",
            "message": None,
            "values": values,
            "headline": headline,
            "unit": unit,
            "n": n,
            "excluded": excluded,
            "notes": notes,
        }
        if missing is not None:
            metric["status"], metric["message"] = "insufficient_data", missing
        elif n == 0 and key != "flow_load":  # reading 6: a load of 0 is a real value
            metric["status"], metric["message"] = "none_in_period", "None in period"
        if key in DORA_KEYS:
            metric["tier"] = None if missing else _tier(key, values, main.days, tier_year)
            has_note = metric["tier"] and tier_year == 2024
            metric["tier_note"] = TIER_NOTES.get(key) if has_note else None
        metric["weekly"] = weekly
        report[key] = metric
    return report


# ----------------------------------------------------------------------------- both engines


def fast_report(
    issues: list[dict[str, Any]],
    statuses: list[dict[str, Any]] | None = None,
    *,
    mappings: dict[str, Any] | None = None,
    period: str = "30d",
    now: datetime,
    tz: str = "UTC",
    deployment_source: str | None = None,
    tier_year: int = 2023,
) -> dict[str, Any]:
    """The fast engine's report for the same inputs as `reference_report`."""
    from configuration.settings import default_settings
    from data.services.metrics_service import report_for_project
    from data.storage.project_data import ProjectData

    settings = default_settings()
    settings["mappings"].update(mappings or {})
    project = ProjectData(issues, list(statuses or []), version="t")
    return report_for_project(
        project,
        settings,
        period,
        now=now,
        tz=tz,
        deployment_source=deployment_source,
        tier_year=tier_year,
    )


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The parts both engines must agree on: the nine metrics, the period, the settings, the
    issue count and the statuses of unknown category."""
    out = {key: report[key] for key in METRIC_KEYS}
    out["period"] = report["period"]
    dataset = report["dataset"]
    unknown = dataset.get("unknown_statuses")
    if unknown is None:  # the fast report names them in its warnings
        unknown = sorted(
            {
                name_key(name)
                for w in dataset["warnings"]
                for name in re.findall(r"^Status '(.*)' has no known category", w)
            }
        )
    out["dataset"] = {"issues": dataset["issues"], "unknown_statuses": unknown}
    out["settings"] = {
        k: report["settings"][k]
        for k in ("deployment_source", "time_zone", "failure_by_time_window", "tier_year")
    }
    return out


def first_difference(fast: Any, ref: Any, path: str = "") -> str | None:
    """Where two reports first differ, for a readable failure."""
    if isinstance(fast, dict) and isinstance(ref, dict):
        for key in sorted(set(fast) | set(ref), key=str):
            if key not in fast or key not in ref:
                return f"{path}.{key}: only in {'fast' if key in fast else 'reference'}"
            found = first_difference(fast[key], ref[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(fast, list) and isinstance(ref, list):
        if len(fast) != len(ref):
            return f"{path}: {len(fast)} items (fast) vs {len(ref)} (reference)"
        for index, (a, b) in enumerate(zip(fast, ref, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    if fast != ref or type(fast) is not type(ref):
        return f"{path}: fast {fast!r} vs reference {ref!r}"
    return None


ENGINES = {"reference": reference_report, "fast": fast_report}
#: `pytest.mark.parametrize("engine", ENGINE_PARAMS)`: every hand-worked test runs on both.
ENGINE_PARAMS = [pytest.param("reference", id="reference"), pytest.param("fast", id="fast")]
