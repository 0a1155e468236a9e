"""The normalized dataset every calculator reads: built once per data version.

Two steps:

1. `IssueRecord`: one raw issue normalized (dates parsed, statuses mapped, changelog sorted,
   work start, completion, time in Active/Waiting, roles). Issues are normalized in bulk:
   Python reads the raw JSON, NumPy parses the dates and derives the changelog facts of all
   issues at once. Records are kept in a module-level cache keyed by (key, `updated`) within
   one mapping context, with the raw issue they came from: a refresh that changes K issues
   normalizes only those K again (an unchanged issue is the same object or an equal one).
2. `Dataset`: the records assembled into sorted NumPy columns per metric population, with the
   cross-issue facts resolved by index (links, deployed dates, failure windows). A metric over
   a window is then a `searchsorted` plus a small slice: O(log n + k). The dataset's version
   is a digest of those columns and their context.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from data.field_mapper import (
    ACTIVE,
    DONE,
    NEW,
    WAITING,
    FieldMapper,
    full_mappings,
    mappings_hash,
)
from data.jira_parser import instant_ms, parse_array
from data.performance_utils import timed
from data.project import ProjectData

log = logging.getLogger(__name__)

#: Change, incident and flow-time codes: why an item has no value.
OK, NO_COMMIT_DATE, NEGATIVE, CANCELED, SKIPPED = 0, 1, 2, 3, 4
FOREVER = np.iinfo(np.int64).max
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class IssueRecord:
    """One issue, normalized; everything the calculators need, nothing re-parsed later."""

    key: str
    flow_type: str | None
    canceled: bool
    created: int | None
    resolutiondate: int | None
    work_start: int | None
    start_not_recorded: bool
    completion: int | None
    active_ms: int
    waiting_ms: int
    #: (start, end, state) of Active/Waiting spans, no earlier than `created`; end FOREVER=open
    load_spans: tuple[tuple[int, int, str], ...]
    deploy_time: int | None  # production deployment issue with a deployment time
    success_failed: bool
    is_incident: bool
    detected: int | None
    resolved: int | None
    commit_mapped: int | None
    deployed_mapped: int | None
    version_dates: tuple[tuple[str, int], ...]  # released fixVersions with a date
    links: tuple[str, ...]
    points: float | None
    truncated: bool
    unknown_statuses: tuple[str, ...] = ()


#: An item's (from id, from name, to id, to name), in one C call.
_TRANSITION = itemgetter("from", "fromString", "to", "toString")


def _transition(entry: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return _TRANSITION(entry)
    except KeyError:  # JIRA always sends all four; a hand-made file may not
        return tuple(entry.get(name) for name in ("from", "fromString", "to", "toString"))


def status_items(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The changelog's status items as raw tuples: (created, history id, position, from id,
    from name, to id, to name). Everything a record reads from the changelog."""
    rows: list[tuple[Any, ...]] = []
    histories = (raw.get("changelog") or {}).get("histories")
    if not histories:
        return rows
    append = rows.append
    for history in histories:
        items = history.get("items")
        if not items:
            continue
        if len(items) == 1:  # the usual history (and every one of a lean issue): one change
            item = items[0]
            if item.get("field") == "status":
                try:
                    append((history.get("created"), history.get("id"), 0, *_TRANSITION(item)))
                except KeyError:
                    append((history.get("created"), history.get("id"), 0, *_transition(item)))
            continue
        for position, entry in enumerate(items):
            if entry.get("field") == "status":
                append((history.get("created"), history.get("id"), position, *_transition(entry)))
    return rows


def _history_id(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _history_ids(values: tuple[Any, ...], count: int) -> np.ndarray:
    """`_history_id` of many values: NumPy converts them with `int` in one call; a value it
    cannot take (None, "", a word) sends all of them through `_history_id`."""
    try:
        return np.array(values, dtype=np.int64) if count else _EMPTY
    except (TypeError, ValueError, OverflowError):
        return np.fromiter(map(_history_id, values), dtype=np.int64, count=count)


#: States as small codes whose order is the names' order (ties in a changelog sort by them).
STATE_NAMES = (ACTIVE, DONE, NEW, WAITING)
_A, _D, _N, _W = range(4)
_CODE = {name: code for code, name in enumerate(STATE_NAMES)}
_STATE_OBJECTS = np.array(STATE_NAMES, dtype=object)


class _PairCodes(dict):
    """(from id, from name, to id, to name) -> from state code * 4 + to state code, filled
    on first sight."""

    def __init__(self, state_of: Any) -> None:
        super().__init__()
        self.state_of = state_of

    def __missing__(self, key: tuple[Any, Any, Any, Any]) -> int:
        code = _CODE[self.state_of(key[0], key[1])] * 4 + _CODE[self.state_of(key[2], key[3])]
        self[key] = code
        return code


def _first_per_group(groups: np.ndarray, rows: np.ndarray, count: int, last: bool) -> np.ndarray:
    """Per group 0..count-1 the first (or last) of `rows` (sorted by group), -1 where none."""
    found = np.full(count, -1, dtype=np.int64)
    if len(rows):
        keys = groups[rows]
        unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
        found[unique] = rows[first + counts - 1 if last else first]
    return found


def _changelog_order(
    issue: np.ndarray,
    when: np.ndarray,
    hid: np.ndarray,
    pos: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
) -> np.ndarray:
    """The order of status rows by (issue, time, history id, position, from, to).

    (issue, time) packed into one int64 sorts in a single argsort; only rows tied on both
    (rare) are ordered by the rest. A time span too wide to pack falls back to `lexsort`."""
    count = len(issue)
    if not count:
        return np.zeros(0, dtype=np.int64)
    low = int(when.min())
    span_bits = (int(when.max()) - low).bit_length()
    if span_bits + int(issue.max()).bit_length() > 62:
        return np.lexsort((to, frm, pos, hid, when, issue))
    packed = (issue << span_bits) | (when - low)
    order = np.argsort(packed, kind="stable")
    ordered = packed[order]
    tie = ordered[1:] == ordered[:-1]
    if tie.any():
        tied = np.zeros(count, dtype=bool)
        tied[1:] |= tie
        tied[:-1] |= tie
        at = np.flatnonzero(tied)
        run = np.cumsum(np.concatenate(([True], ~tie)))[at]
        rows = order[at]
        order[at] = rows[np.lexsort((to[rows], frm[rows], pos[rows], hid[rows], run))]
    return order


@dataclass(slots=True)
class _Timeline:
    """The changelog-derived facts of a batch of issues, one array entry per issue."""

    work_start: list[int | None]
    start_not_recorded: list[bool]
    completion: list[int | None]
    active: list[int]
    waiting: list[int]
    load_spans: list[tuple[tuple[int, int, str], ...]]


def _timelines(
    created: np.ndarray,
    created_ok: np.ndarray,
    resolved: np.ndarray,
    resolved_ok: np.ndarray,
    state_now: np.ndarray,
    row_issue: np.ndarray,
    row_when: np.ndarray,
    row_hid: np.ndarray,
    row_pos: np.ndarray,
    row_from: np.ndarray,
    row_to: np.ndarray,
) -> _Timeline:
    """Work start, completion, Active/Waiting ms and load spans of many issues in one NumPy
    pass (METRICS.md "Derived per-issue timestamps").

    Rows are status transitions with a valid time, in any order; per issue they are sorted
    by (time, numeric history id, position, from state, to state). The initial state (the
    first row's from-state, else the current one) holds from `created`, each to-state until
    the next transition, the last one forever. Active/Waiting time is clipped to
    [work start, completion]; load spans start no earlier than `created`."""
    n = len(created)
    order = _changelog_order(row_issue, row_when, row_hid, row_pos, row_from, row_to)
    issue, when, frm, to = row_issue[order], row_when[order], row_from[order], row_to[order]
    m = len(issue)
    counts = np.bincount(issue, minlength=n)
    row_start = np.cumsum(counts) - counts
    has_rows = counts > 0
    first = np.minimum(row_start, max(m - 1, 0))
    initial = np.where(has_rows, frm[first] if m else state_now, state_now)

    # work start: created when the initial state is Active/Waiting, else the first move there
    to_aw = (to == _A) | (to == _W)
    first_aw = _first_per_group(issue, np.flatnonzero(to_aw), n, last=False)
    initial_aw = (initial == _A) | (initial == _W)
    ws = np.where(initial_aw, created, when[np.maximum(first_aw, 0)] if m else 0)
    ws_ok = np.where(initial_aw, created_ok, first_aw >= 0)
    not_recorded = ~ws_ok & (state_now != _N)
    ws = np.where(not_recorded, created, ws)
    ws_ok = np.where(not_recorded, created_ok, ws_ok)

    # completion: the last move into Done from outside it, else resolutiondate; Done only
    into_done = (to == _D) & (frm != _D)
    last_done = _first_per_group(issue, np.flatnonzero(into_done), n, last=True)
    done_now = state_now == _D
    comp = np.where(last_done >= 0, when[np.maximum(last_done, 0)] if m else 0, resolved)
    comp_ok = done_now & ((last_done >= 0) | resolved_ok)

    # segments: one initial per issue, then one per row (segment k of an issue = k-th state)
    seg_issue = np.repeat(np.arange(n), counts + 1)
    init_at = row_start + np.arange(n)
    row_at = np.arange(m) + issue + 1
    size = n + m
    seg_begin = np.empty(size, dtype=np.int64)
    seg_ok = np.ones(size, dtype=bool)
    seg_state = np.empty(size, dtype=np.int64)
    seg_end = np.empty(size, dtype=np.int64)
    seg_begin[init_at] = created
    seg_ok[init_at] = created_ok
    seg_state[init_at] = initial
    seg_end[init_at] = np.where(has_rows, when[first] if m else FOREVER, FOREVER)
    seg_begin[row_at] = when
    seg_state[row_at] = to
    if m:
        same_next = np.append(issue[1:] == issue[:-1], False)
        seg_end[row_at] = np.where(same_next, np.append(when[1:], FOREVER), FOREVER)
    counted = seg_ok & ((seg_state == _A) | (seg_state == _W))

    clip = (comp_ok & ws_ok)[seg_issue] & counted
    span = np.minimum(seg_end, np.where(comp_ok, comp, 0)[seg_issue]) - np.maximum(
        seg_begin, np.where(ws_ok, ws, 0)[seg_issue]
    )
    clip &= span > 0
    active = np.zeros(n, dtype=np.int64)
    waiting = np.zeros(n, dtype=np.int64)
    is_active = seg_state == _A
    np.add.at(active, seg_issue[clip & is_active], span[clip & is_active])
    np.add.at(waiting, seg_issue[clip & ~is_active], span[clip & ~is_active])

    load = counted & created_ok[seg_issue]
    begin = np.maximum(seg_begin, created[seg_issue])
    load &= seg_end > begin
    spans = list(
        zip(
            begin[load].tolist(),
            seg_end[load].tolist(),
            _STATE_OBJECTS[seg_state[load]].tolist(),
            strict=True,
        )
    )
    span_counts = np.bincount(seg_issue[load], minlength=n).tolist()
    per_issue = []
    at = 0
    for span_count in span_counts:
        per_issue.append(tuple(spans[at : at + span_count]))
        at += span_count
    return _Timeline(
        work_start=_optional(ws, ws_ok),
        start_not_recorded=not_recorded.tolist(),
        completion=_optional(comp, comp_ok),
        active=active.tolist(),
        waiting=waiting.tolist(),
        load_spans=per_issue,
    )


def _optional(values: np.ndarray, ok: np.ndarray) -> list[int | None]:
    return [v if k else None for v, k in zip(values.tolist(), ok.tolist(), strict=True)]


def normalize_issues(
    raws: list[dict[str, Any]],
    mapper: FieldMapper,
    tz: ZoneInfo,
    items_of: list[list[tuple[Any, ...]]] | None = None,
) -> list[IssueRecord]:
    """Raw JIRA issues as IssueRecords (METRICS.md "Derived per-issue timestamps"), in bulk.

    `items_of` are the issues' `status_items` when the caller has them already. Per issue,
    Python only reads the raw JSON; dates are parsed and the changelog facts computed in
    NumPy for all issues at once (see `_timelines`)."""
    if items_of is None:
        items_of = [status_items(raw) for raw in raws]
    m = mapper.mappings
    state_of = mapper.state
    texts: list[Any] = []  # created and resolutiondate of every issue
    now_codes: list[int] = []
    all_items: list[tuple[Any, ...]] = []
    for raw, items in zip(raws, items_of, strict=True):
        fields = raw.get("fields") or {}
        texts.append(fields.get("created"))
        texts.append(fields.get("resolutiondate"))
        status = fields.get("status") or {}
        now_codes.append(_CODE[state_of(status.get("id"), status.get("name"))])
        all_items.extend(items)
    n, count = len(raws), len(all_items)
    counts = np.fromiter(map(len, items_of), dtype=np.int64, count=n)
    if count:
        item_texts, hids, positions, from_ids, from_names, to_ids, to_names = zip(
            *all_items, strict=True
        )
    else:
        item_texts = hids = positions = from_ids = from_names = to_ids = to_names = ()
    parsed, ok = parse_array(texts + list(item_texts), tz)
    created, created_ok = parsed[0 : 2 * n : 2], ok[0 : 2 * n : 2]
    resolved, resolved_ok = parsed[1 : 2 * n : 2], ok[1 : 2 * n : 2]
    row_ok = ok[2 * n :]
    # from and to states of every item (from * 4 + to): one look-up per item, mapped once
    # per distinct (from id, from name, to id, to name)
    pairs = _PairCodes(state_of)
    keys = zip(from_ids, from_names, to_ids, to_names, strict=True)
    pair_codes = np.fromiter(map(pairs.__getitem__, keys), dtype=np.int64, count=count)

    def column(values: Any) -> np.ndarray:
        return np.fromiter(values, dtype=np.int64, count=count)[row_ok]

    timeline = _timelines(
        created,
        created_ok,
        resolved,
        resolved_ok,
        np.array(now_codes, dtype=np.int64),
        np.repeat(np.arange(n), counts)[row_ok],
        parsed[2 * n :][row_ok],
        _history_ids(hids, count)[row_ok],
        column(positions),
        (pair_codes // 4)[row_ok],
        (pair_codes % 4)[row_ok],
    )
    deployment_types, incident_types = mapper.deployment_types, mapper.incident_types
    deployment_field = m["deployment_time_field"]
    detected_field = m.get("incident_detected_field")
    resolved_field = m.get("incident_resolved_field")
    commit_field = m.get("commit_date_field")
    deployed_field = m.get("deployed_date_field")
    impact_field = m.get("production_impact_field")
    points_field = m.get("story_points_field")
    canceled_resolutions = mapper.canceled_resolutions
    unknown_names = mapper.unknown_statuses
    records = []
    for raw, items, now_code, created_ms, resolution_ms, *changelog_facts in zip(
        raws,
        items_of,
        now_codes,
        _optional(created, created_ok),
        _optional(resolved, resolved_ok),
        timeline.work_start,
        timeline.start_not_recorded,
        timeline.completion,
        timeline.active,
        timeline.waiting,
        timeline.load_spans,
        strict=True,
    ):
        fields = raw.get("fields") or {}
        type_name = ((fields.get("issuetype") or {}).get("name") or "").lower()
        labels = fields.get("labels")
        labels = tuple([str(label).lower() for label in labels]) if labels else ()
        canceled = False
        if now_code == _D:
            resolution = ((fields.get("resolution") or {}).get("name") or "").lower()
            canceled = resolution in canceled_resolutions
        deploy_time = None
        if type_name in deployment_types and mapper.is_production(fields):
            deploy_time = instant_ms(fields.get(deployment_field), tz)
        is_incident = type_name in incident_types or (
            impact_field is not None and mapper.production_impact(fields)
        )
        detected = resolved_at = None
        if is_incident:
            detected = _field_ms(fields, detected_field, tz)
            resolved_at = _field_ms(fields, resolved_field, tz)
            detected = created_ms if detected is None else detected
            resolved_at = resolution_ms if resolved_at is None else resolved_at
        version_dates = []
        for version in fields.get("fixVersions") or ():
            if version.get("released") and version.get("releaseDate"):
                when = instant_ms(version["releaseDate"], tz)
                if when is not None:
                    version_dates.append((version.get("name"), when))
        links = []
        for entry in fields.get("issuelinks") or ():
            for side in ("outwardIssue", "inwardIssue"):
                other = entry.get(side)
                if isinstance(other, dict) and other.get("key"):
                    links.append(other["key"])
        changelog = raw.get("changelog") or {}
        total = changelog.get("total")
        truncated = isinstance(total, int) and total > len(changelog.get("histories") or ())
        unknown: tuple[str, ...] = ()
        if unknown_names:  # remembered per record: a reused record keeps its warning
            names = {(fields.get("status") or {}).get("name") or ""}
            for item in items:
                names.update((item[4] or "", item[6] or ""))
            unknown = tuple(sorted(names & unknown_names))
        points = fields.get(points_field) if points_field else None
        records.append(
            IssueRecord(
                raw.get("key", ""),
                mapper.flow_type(type_name, labels),
                canceled,
                created_ms,
                resolution_ms,
                *changelog_facts,
                deploy_time,
                deploy_time is not None and mapper.success_failed(fields),
                is_incident,
                detected,
                resolved_at,
                instant_ms(fields.get(commit_field), tz) if commit_field else None,
                instant_ms(fields.get(deployed_field), tz) if deployed_field else None,
                tuple(version_dates),
                tuple(links),
                None if points is None else mapper.story_points(fields),
                truncated,
                unknown,
            )
        )
    return records


def normalize_issue(raw: dict[str, Any], mapper: FieldMapper, tz: ZoneInfo) -> IssueRecord:
    """One raw JIRA issue as an IssueRecord (see `normalize_issues`)."""
    return normalize_issues([raw], mapper, tz)[0]


def _field_ms(fields: dict[str, Any], field_id: str | None, tz: ZoneInfo) -> int | None:
    return instant_ms(fields.get(field_id), tz) if field_id else None


# ----------------------------------------------------------------------------- columns


@dataclass
class Deployments:
    """Production deployments sorted by time (stable: input order on ties), failed flags."""

    times: np.ndarray
    failed: np.ndarray  # int64 0/1, for prefix sums
    failed_cum: np.ndarray  # failed_cum[i] = failed deployments among the first i
    canceled_times: np.ndarray  # sorted: canceled deployment issues that would have counted


@dataclass
class Changes:
    """Changes (incl. canceled) with a deployed date, sorted by it; lead ms valid where OK."""

    deployed: np.ndarray
    lead: np.ndarray
    code: np.ndarray  # OK / NO_COMMIT_DATE / NEGATIVE / CANCELED
    start_not_recorded: np.ndarray  # bool: commit date is a fallback work start


@dataclass
class Incidents:
    """Incidents with a resolved time sorted by it; detected times of live incidents."""

    resolved: np.ndarray
    recovery: np.ndarray
    code: np.ndarray  # OK / NEGATIVE / CANCELED / SKIPPED (no detected time)
    detected_sorted: np.ndarray  # non-canceled incidents, for the failure window


@dataclass
class Completed:
    """Flow items (incl. canceled) with a completion, sorted by it."""

    times: np.ndarray
    type_code: np.ndarray
    canceled: np.ndarray  # bool
    flow_time: np.ndarray
    flow_code: np.ndarray  # OK / NEGATIVE / SKIPPED (no work start)
    start_not_recorded: np.ndarray  # bool
    active: np.ndarray
    waiting: np.ndarray
    item_percent: np.ndarray  # float64, active / (active + waiting) * 100, NaN without either
    points: np.ndarray  # float64, NaN = no points
    order: np.ndarray  # input position, for summing points in input order
    type_names: tuple[str, ...]


@dataclass
class Load:
    """Active/Waiting spans of flow items: sorted starts and ends per state (and canceled)."""

    starts: dict[str, np.ndarray]
    ends: dict[str, np.ndarray]

    def count(self, state: str, moment: int) -> int:
        """Spans holding `moment` (start <= T < end); spans of one item never overlap."""
        starts, ends = self.starts[state], self.ends[state]
        return int(
            np.searchsorted(starts, moment, "right") - np.searchsorted(ends, moment, "right")
        )


@dataclass
class Dataset:
    """Sorted columns per population plus what the whole dataset has (for insufficient data)."""

    version: str
    issues: int
    source: str
    deployment_source: str
    mappings_hash: str
    time_zone: str
    deployments: Deployments
    changes: Changes
    incidents: Incidents
    completed: Completed
    load: Load
    has_deployments: bool
    has_incidents: bool
    has_changes: bool
    has_completed: bool
    has_flow_items: bool
    success_field: bool
    story_points: bool
    warnings: list[str] = field(default_factory=list)
    records_built: int = 0
    #: the per-issue records, in input order (for inspection: tests, diagnostics)
    records: list[IssueRecord] = field(default_factory=list, repr=False)

    def record(self, key: str) -> IssueRecord:
        """The normalized record of one issue key (KeyError if absent)."""
        for rec in self.records:
            if rec.key == key:
                return rec
        raise KeyError(key)


def _i64(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64) if values else _EMPTY.copy()


def _sorted_by(keys: list[int], *columns: list[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    key_array = _i64(keys)
    order = np.argsort(key_array, kind="stable")
    return key_array[order], [np.asarray(col)[order] for col in columns]


def _assemble(
    records: list[IssueRecord], mapper: FieldMapper
) -> tuple[Deployments, Changes, Incidents, Completed, Load, dict[str, bool]]:
    m = mapper.mappings
    source = m.get("deployment_source") or "issues"
    by_key = {rec.key: rec for rec in records}
    graph: dict[str, set[str]] = {}
    for rec in records:
        for other in rec.links:
            graph.setdefault(rec.key, set()).add(other)
            if other in by_key:
                graph.setdefault(other, set()).add(rec.key)

    # incidents
    live_incident_keys = set()
    detected_live = []
    inc_resolved, inc_recovery, inc_code = [], [], []
    for rec in records:
        if not rec.is_incident:
            continue
        if not rec.canceled:
            live_incident_keys.add(rec.key)
            if rec.detected is not None:
                detected_live.append(rec.detected)
        if rec.resolved is None:
            continue
        inc_resolved.append(rec.resolved)
        if rec.canceled:
            inc_code.append(CANCELED)
            inc_recovery.append(0)
        elif rec.detected is None:
            inc_code.append(SKIPPED)
            inc_recovery.append(0)
        else:
            recovery = rec.resolved - rec.detected
            inc_code.append(NEGATIVE if recovery < 0 else OK)
            inc_recovery.append(recovery)
    resolved_sorted, (recovery_col, code_col) = _sorted_by(inc_resolved, inc_recovery, inc_code)
    detected_sorted = np.sort(_i64(detected_live))
    incidents = Incidents(
        resolved_sorted, recovery_col.astype(np.int64), code_col.astype(np.int8), detected_sorted
    )

    # deployments
    dep_times: list[int] = []
    dep_keys: list[str | None] = []
    canceled_dep: list[int] = []
    if source == "fixversions":
        earliest: dict[str, int] = {}
        for rec in records:
            for name, when in rec.version_dates:
                if name not in earliest or when < earliest[name]:
                    earliest[name] = when
        dep_times = list(earliest.values())
        dep_keys = [None] * len(dep_times)
    else:
        for rec in records:
            if rec.deploy_time is None:
                continue
            if rec.canceled:
                canceled_dep.append(rec.deploy_time)
            else:
                dep_times.append(rec.deploy_time)
                dep_keys.append(rec.key)
    times = _i64(dep_times)
    order = np.argsort(times, kind="stable")
    times = times[order]
    failed = np.zeros(len(times), dtype=np.int64)
    use_success = source != "fixversions" and bool(m.get("deployment_success_field"))
    for position, index in enumerate(order.tolist()):
        key = dep_keys[index]
        if key is None:
            continue
        rec = by_key[key]
        if (use_success and rec.success_failed) or (graph.get(key, set()) & live_incident_keys):
            failed[position] = 1
    if m.get("failure_by_time_window", True) and len(times) and len(detected_sorted):
        next_times = np.append(times[1:], FOREVER)
        after = np.searchsorted(detected_sorted, times, "right")
        before_next = np.searchsorted(detected_sorted, next_times, "left")
        failed |= (before_next > after).astype(np.int64)
    deployments = Deployments(
        times, failed, np.concatenate(([0], np.cumsum(failed))), np.sort(_i64(canceled_dep))
    )

    # changes
    ch_deployed, ch_lead, ch_code, ch_snr = [], [], [], []
    has_changes = False
    for rec in records:
        if rec.flow_type not in ("Feature", "Defect") or rec.is_incident:
            continue
        deployed = rec.deployed_mapped
        if deployed is None and source == "fixversions" and rec.version_dates:
            deployed = min(when for _, when in rec.version_dates)
        if deployed is None:
            linked = [
                by_key[other].deploy_time
                for other in graph.get(rec.key, ())
                if other in by_key
                and not by_key[other].canceled
                and by_key[other].deploy_time is not None
            ]
            deployed = min(linked) if linked else rec.resolutiondate
        if deployed is None:
            continue
        ch_deployed.append(deployed)
        commit = rec.commit_mapped if rec.commit_mapped is not None else rec.work_start
        snr = rec.commit_mapped is None and rec.start_not_recorded
        lead = 0
        if rec.canceled:
            code = CANCELED
        elif commit is None:
            code = NO_COMMIT_DATE
        else:
            lead = deployed - commit
            code = NEGATIVE if lead < 0 else OK
        has_changes = has_changes or not rec.canceled
        ch_lead.append(lead)
        ch_code.append(code)
        ch_snr.append(snr)
    deployed_sorted, (lead_col, ch_code_col, snr_col) = _sorted_by(
        ch_deployed, ch_lead, ch_code, ch_snr
    )
    changes = Changes(
        deployed_sorted,
        lead_col.astype(np.int64),
        ch_code_col.astype(np.int8),
        snr_col.astype(bool),
    )

    # completed flow items and load
    type_names: list[str] = []
    type_index: dict[str, int] = {}
    c_times, c_type, c_cancel, c_ft, c_code, c_snr, c_act, c_wait, c_pts, c_order = (
        [] for _ in range(10)
    )
    spans: dict[str, tuple[list[int], list[int]]] = {
        ACTIVE: ([], []),
        WAITING: ([], []),
        CANCELED_LOAD: ([], []),
    }
    has_flow_items = False
    for position, rec in enumerate(records):
        if rec.flow_type is None:
            continue
        has_flow_items = True
        for begin, end, state in rec.load_spans:
            bucket = spans[CANCELED_LOAD if rec.canceled else state]
            bucket[0].append(begin)
            bucket[1].append(end)
        if rec.completion is None:
            continue
        if rec.flow_type not in type_index:
            type_index[rec.flow_type] = len(type_names)
            type_names.append(rec.flow_type)
        c_times.append(rec.completion)
        c_type.append(type_index[rec.flow_type])
        c_cancel.append(rec.canceled)
        if rec.work_start is None:
            c_ft.append(0)
            c_code.append(SKIPPED)
        else:
            flow_time = rec.completion - rec.work_start
            c_ft.append(flow_time)
            c_code.append(NEGATIVE if flow_time < 0 else OK)
        c_snr.append(rec.start_not_recorded)
        c_act.append(rec.active_ms)
        c_wait.append(rec.waiting_ms)
        c_pts.append(np.nan if rec.points is None else rec.points)
        c_order.append(position)
    comp_times, cols = _sorted_by(
        c_times, c_type, c_cancel, c_ft, c_code, c_snr, c_act, c_wait, c_pts, c_order
    )
    active = cols[5].astype(np.int64)
    waiting = cols[6].astype(np.int64)
    span_total = active + waiting
    with np.errstate(divide="ignore", invalid="ignore"):
        item_percent = np.where(span_total > 0, active / span_total * 100, np.nan)
    completed = Completed(
        times=comp_times,
        type_code=cols[0].astype(np.int64),
        canceled=cols[1].astype(bool),
        flow_time=cols[2].astype(np.int64),
        flow_code=cols[3].astype(np.int8),
        start_not_recorded=cols[4].astype(bool),
        active=active,
        waiting=waiting,
        item_percent=item_percent.astype(np.float64),
        points=cols[7].astype(np.float64),
        order=cols[8].astype(np.int64),
        type_names=tuple(type_names),
    )
    load = Load(
        starts={state: np.sort(_i64(pair[0])) for state, pair in spans.items()},
        ends={state: np.sort(_i64(pair[1])) for state, pair in spans.items()},
    )
    has = {
        "deployments": len(times) > 0,
        "incidents": bool(live_incident_keys),
        "changes": has_changes,
        "completed": bool((~completed.canceled).any()) if len(comp_times) else False,
        "flow_items": has_flow_items,
    }
    return deployments, changes, incidents, completed, load, has


#: The load bucket of canceled flow items (counted as excluded).
CANCELED_LOAD = "canceled"


# ----------------------------------------------------------------------------- building

_lock = threading.Lock()
#: (key, updated) -> (raw issue, record), for the records of the last build and its context.
_records: dict[tuple[Any, ...], tuple[dict[str, Any], IssueRecord]] = {}
_records_context: dict[str, str] = {}
#: Recently built datasets by content version (a refresh or a mappings switch back is a hit).
_datasets: OrderedDict[str, Dataset] = OrderedDict()
_DATASETS_KEPT = 2
#: Identity fast path: the last (project, mappings hash, zone) built and its dataset version.
_last: dict[str, Any] = {}


def _record_context(mapper: FieldMapper, tz: ZoneInfo) -> str:
    """What records depend on besides the issue: mappings (less the cross-issue ones), zone,
    status categories."""
    m = {
        k: v
        for k, v in mapper.mappings.items()
        if k not in ("deployment_source", "failure_by_time_window")
    }
    payload = orjson.dumps(
        [m, tz.key, mapper.cat_by_id, mapper.cat_by_name, mapper.cat_from_issues],
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.sha256(payload).hexdigest()[:16]


def _content_version(head: list[Any], columns: tuple[Any, ...]) -> str:
    """A digest of everything a report reads: the context and every assembled column.

    Two builds with equal columns give equal reports, so they share a version (and the
    report cache); hashing the columns is C work over a few MB, no Python per issue."""
    digest = hashlib.blake2b(orjson.dumps(head), digest_size=16)
    for part in columns:
        for name, value in vars(part).items():
            arrays = value.items() if isinstance(value, dict) else [(name, value)]
            for label, array in arrays:
                if isinstance(array, np.ndarray):
                    digest.update(f"{label}:{array.dtype}:{len(array)};".encode())
                    digest.update(array.tobytes())
                else:
                    digest.update(orjson.dumps([label, array]))
    return digest.hexdigest()


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while normalizing: it allocates hundreds of thousands of
    small acyclic objects, and each triggered collection walks the whole heap (the loaded raw
    issues included). Reference counting frees everything all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_dataset(project: ProjectData, mappings: dict[str, Any], tz: ZoneInfo) -> Dataset:
    """The normalized dataset of a project under the given mappings and zone.

    Re-normalizes only issues whose (key, `updated`, content) or mapping context changed since
    the last build; returns a cached dataset when nothing changed.
    """
    with _lock:
        digest = mappings_hash(full_mappings(mappings))
        last = _last.get("entry")
        if (
            last is not None
            and last[0] is project
            and last[1] == digest
            and last[2] == tz.key
            and last[3] in _datasets
        ):
            return _datasets[last[3]]
        mapper = FieldMapper(mappings, project.statuses, project.issues)
        with timed("normalize", issues=len(project.issues)) as timer, _no_cyclic_gc():
            dataset = _build(project, mapper, tz)
            timer.fields["rebuilt"] = dataset.records_built
        _last["entry"] = (project, mapper.hash, tz.key, dataset.version)
        return dataset


def _build(project: ProjectData, mapper: FieldMapper, tz: ZoneInfo) -> Dataset:
    context = _record_context(mapper, tz)
    if _records_context.get("value") != context:  # other mappings, zone or categories
        _records.clear()
        _records_context["value"] = context
    records: list[IssueRecord] = []
    keep: dict[tuple[Any, ...], tuple[dict[str, Any], IssueRecord]] = {}
    pending: list[tuple[int, dict[str, Any], tuple[Any, ...]]] = []
    for raw in project.issues:
        cache_key = (raw.get("key"), (raw.get("fields") or {}).get("updated"))
        cached_record = _records.get(cache_key)
        # same key and `updated` but other content (a hand-edited file) is normalized again
        if cached_record is not None and (cached_record[0] is raw or cached_record[0] == raw):
            keep[cache_key] = cached_record
            records.append(cached_record[1])
        else:
            pending.append((len(records), raw, cache_key))
            records.append(None)  # type: ignore[arg-type]  # filled below
    if pending:
        fresh = normalize_issues([entry[1] for entry in pending], mapper, tz)
        for (position, raw, cache_key), record in zip(pending, fresh, strict=True):
            keep[cache_key] = (raw, record)
            records[position] = record
    built = len(pending)
    _records.clear()
    _records.update(keep)
    deployments, changes, incidents, completed, load, has = _assemble(records, mapper)
    warnings = list(project.warnings)
    unknown = sorted({name for rec in records for name in rec.unknown_statuses})
    warnings += [
        f"Status {name!r} has no known category: treated as in progress" for name in unknown
    ]
    truncated = sum(rec.truncated for rec in records)
    if truncated:
        warnings.append(f"{truncated} issues have truncated changelogs: used as they are")
    content_version = _content_version(
        [mapper.hash, tz.key, context, project.source, len(records), warnings, has],
        (deployments, changes, incidents, completed, load),
    )
    cached = _datasets.get(content_version)
    if cached is not None:
        _datasets.move_to_end(content_version)
        cached.records_built = built
        return cached
    m = mapper.mappings
    dataset = Dataset(
        version=content_version,
        issues=len(records),
        source=project.source,
        deployment_source=m.get("deployment_source") or "issues",
        mappings_hash=mapper.hash,
        time_zone=tz.key,
        deployments=deployments,
        changes=changes,
        incidents=incidents,
        completed=completed,
        load=load,
        has_deployments=has["deployments"],
        has_incidents=has["incidents"],
        has_changes=has["changes"],
        has_completed=has["completed"],
        has_flow_items=has["flow_items"],
        success_field=bool(m.get("deployment_success_field")),
        story_points=bool(m.get("story_points_field")),
        warnings=warnings,
        records_built=built,
        records=records,
    )
    _datasets[content_version] = dataset
    while len(_datasets) > _DATASETS_KEPT:
        _datasets.popitem(last=False)
    return dataset


def clear_caches() -> None:
    """Forget every cached record and dataset (tests, or after a mappings reset)."""
    with _lock:
        _records.clear()
        _records_context.clear()
        _datasets.clear()
        _last.clear()
