"""The normalized dataset every calculator reads: built once per data version.

Two steps:

1. `issue_table.normalize_issues`: the raw issues as an `IssueTable`, one row per issue
   (dates parsed, statuses mapped, work start, completion, time in Active/Waiting, roles).
   The last table is kept with an index by (key, `updated`) within one mapping context, with
   the raw issue each row came from: a refresh that changes K issues normalizes only those K
   again and takes the other rows from the previous table.
2. `Dataset`: the table assembled into sorted NumPy columns per metric population, with the
   cross-issue facts resolved by index (links, deployed dates, failure windows), all in
   NumPy. A metric over a window is then a `searchsorted` plus a small slice: O(log n + k).
   The dataset's version is a digest of those columns and their context.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from data.engine.field_mapper import ACTIVE, WAITING, FieldMapper, full_mappings, mappings_hash
from data.engine.issue_table import (
    FOREVER,
    NONE,
    NOT_PRODUCTION,
    PRODUCTION,
    STATE_NAMES,
    IssueRecord,
    IssueTable,
    concat_tables,
    is_set,
    normalize_issues,
)
from data.gc_pause import gc_paused
from data.lru import LRU
from data.performance_utils import timed
from data.storage.project_data import ProjectData
from data.storage.table_store import load_table, save_table

#: Change, incident and flow-time codes: why an item has no value (NO_FAILED_DEPLOYMENT: an
#: incident that failed no deployment, for failed deployment recovery time).
OK, NO_COMMIT_DATE, NEGATIVE, CANCELED, SKIPPED, NO_FAILED_DEPLOYMENT = 0, 1, 2, 3, 4, 5
#: The load bucket of canceled flow items (counted as excluded).
CANCELED_LOAD = "canceled"
_EMPTY = np.zeros(0, dtype=np.int64)


# ----------------------------------------------------------------------------- columns


@dataclass
class Deployments:
    """Production deployments sorted by time (stable: input order on ties), failed flags."""

    times: np.ndarray
    failed: np.ndarray  # int64 0/1, for prefix sums
    failed_cum: np.ndarray  # failed_cum[i] = failed deployments among the first i
    canceled_times: np.ndarray  # sorted: canceled deployment issues that would have counted
    not_production_times: np.ndarray  # sorted: dated deployment issues outside production
    #: deployments left out that have no time to place them in a window (counted in every
    #: window): `not_production`, `no_deployment_date`, `released_without_release_date`
    undated: dict[str, int] = field(default_factory=dict)
    #: evidence (`data/engine/evidence.py`): the table row of each deployment (-1: a fixVersion, see
    #: `version_names`), which rule failed it, and the rows of the canceled ones
    rows: np.ndarray = field(default_factory=lambda: _EMPTY)
    version_names: tuple[str, ...] = ()  # per deployment, for the fixVersions source
    failed_success: np.ndarray = field(default_factory=lambda: _EMPTY)  # bool
    failed_linked: np.ndarray = field(default_factory=lambda: _EMPTY)  # bool
    failed_window_incident: np.ndarray = field(default_factory=lambda: _EMPTY)  # row or -1
    canceled_rows: np.ndarray = field(default_factory=lambda: _EMPTY)
    not_production_rows: np.ndarray = field(default_factory=lambda: _EMPTY)  # by time, as above
    #: the items behind `undated`: table rows per reason (issues source) and the names of the
    #: released fixVersions without a release date (fixVersions source)
    undated_rows: dict[str, np.ndarray] = field(default_factory=dict)
    undated_names: tuple[str, ...] = ()
    #: rework deployments (DORA 2024): per deployment, and rework_cum[i] = rework among the
    #: first i
    rework: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    rework_cum: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))


@dataclass
class Changes:
    """Changes (incl. canceled) with a deployed date, sorted by it; lead ms valid where OK."""

    deployed: np.ndarray
    lead: np.ndarray
    code: np.ndarray  # OK / NO_COMMIT_DATE / NEGATIVE / CANCELED
    start_not_recorded: np.ndarray  # bool: commit date is a fallback work start
    rows: np.ndarray = field(default_factory=lambda: _EMPTY)  # table row of each change


@dataclass
class Incidents:
    """Incidents with a resolved time sorted by it; detected times of live incidents."""

    resolved: np.ndarray
    recovery: np.ndarray
    code: np.ndarray  # OK / NEGATIVE / CANCELED / SKIPPED (no detected time)
    detected_sorted: np.ndarray  # non-canceled incidents, for the failure window
    rows: np.ndarray = field(default_factory=lambda: _EMPTY)  # table row of each incident
    detected_rows: np.ndarray = field(default_factory=lambda: _EMPTY)  # of `detected_sorted`
    #: per incident: resolved minus the failed deployment's time, valid where `failed_code`
    #: is OK (failed deployment recovery time, DORA 2024)
    failed_recovery: np.ndarray = field(default_factory=lambda: _EMPTY)
    failed_code: np.ndarray = field(default_factory=lambda: _EMPTY)


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


def spans_holding(starts: np.ndarray, ends: np.ndarray, instant: Any) -> Any:
    """How many spans `[start, end)` hold `instant` (an int or an array of them), from their
    sorted starts and sorted ends; spans of one item must not overlap."""
    return np.searchsorted(starts, instant, "right") - np.searchsorted(ends, instant, "right")


@dataclass
class Load:
    """Active/Waiting spans of flow items: sorted starts and ends per state (and canceled)."""

    starts: dict[str, np.ndarray]
    ends: dict[str, np.ndarray]
    #: the same spans unsorted, with their table row (for `rows_at`)
    span_begin: dict[str, np.ndarray] = field(default_factory=dict)
    span_end: dict[str, np.ndarray] = field(default_factory=dict)
    span_row: dict[str, np.ndarray] = field(default_factory=dict)

    def count(self, state: str, moment: int) -> int:
        """Spans holding `moment` (start <= T < end); spans of one item never overlap."""
        return int(spans_holding(self.starts[state], self.ends[state], moment))

    def rows_at(self, state: str, moment: int) -> np.ndarray:
        """The table rows of the spans `count` counts at `moment` (one per span)."""
        held = (self.span_begin[state] <= moment) & (moment < self.span_end[state])
        return self.span_row[state][held]


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
    #: the normalized issues, one row each in input order (evidence, quality, flow analytics)
    table: IssueTable = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    records_built: int = 0

    @property
    def records(self) -> list[IssueRecord]:
        """Every issue's normalized record, in input order."""
        return [self.table.record(r) for r in range(self.issues)]

    def record(self, key: str) -> IssueRecord:
        """The normalized record of one issue key (KeyError if absent)."""
        rows = np.flatnonzero(self.table.key == key)
        if not len(rows):
            raise KeyError(key)
        return self.table.record(int(rows[0]))


def activity_span(table: IssueTable) -> tuple[int, int] | None:
    """When the data begins and ends, epoch ms: the first issue's creation and the last instant
    any issue records (created, work start, completion, resolution, deployment, detection).
    None without dated issues. The page says so when a period lies outside it."""
    if not len(table):
        return None
    created = table.created[table.created != NONE]
    columns = (
        table.created,
        table.work_start,
        table.completion,
        table.resolutiondate,
        table.resolved,
        table.deploy_time,
        table.nonproduction_time,
        table.detected,
    )
    lasts = [int(column.max(initial=NONE, where=column != NONE)) for column in columns]
    last = max(lasts)
    if not len(created) or last == NONE:
        return None
    return int(created.min()), last


def _sorted_by(times: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """`times` sorted (stable: input order on ties) and the columns in the same order."""
    order = np.argsort(times, kind="stable")
    return times[order], [column[order] for column in columns]


@dataclass
class _Links:
    """Issue links between issues of the table, by key id, each in both directions."""

    key_id: np.ndarray  # per row: the id of its key
    last_row: np.ndarray  # per key id: the last row with that key (the issue a key names)
    source: np.ndarray
    target: np.ndarray


def _link_index(table: IssueTable) -> _Links:
    keys = table.key.tolist()
    last_of = {key: row for row, key in enumerate(keys)}
    if len(last_of) == len(keys):  # keys are unique (as JIRA's are): a key's id is its row
        key_id = last_row = np.arange(len(keys))
        id_of = last_of
    else:
        id_of = {key: ordinal for ordinal, key in enumerate(dict.fromkeys(keys))}
        key_id = np.fromiter(map(id_of.__getitem__, keys), np.int64, len(keys))
        last_row = np.fromiter(map(last_of.__getitem__, id_of), np.int64, len(id_of))
    link_keys = table.links.key.tolist()
    target = np.fromiter(map(id_of.get, link_keys, repeat(-1)), np.int64, len(link_keys))
    known = target >= 0
    source, target = key_id[table.links.row[known]], target[known]
    return _Links(
        key_id, last_row, np.concatenate((source, target)), np.concatenate((target, source))
    )


def _incidents(table: IssueTable) -> tuple[Incidents, np.ndarray]:
    """Incidents, and which rows are live (not canceled) incidents."""
    live = table.is_incident & ~table.canceled
    detected_live = live & (table.detected != NONE)
    detected_sorted, (detected_rows,) = _sorted_by(
        table.detected[detected_live], np.flatnonzero(detected_live)
    )
    rows = np.flatnonzero(table.is_incident & (table.resolved != NONE))
    resolved, detected, canceled = table.resolved[rows], table.detected[rows], table.canceled[rows]
    measured = ~canceled & (detected != NONE)
    recovery = np.where(measured, resolved - np.where(measured, detected, 0), 0)
    code = np.select([canceled, ~measured, recovery < 0], [CANCELED, SKIPPED, NEGATIVE], OK).astype(
        np.int8
    )
    resolved_sorted, (recovery_col, code_col, rows_col) = _sorted_by(resolved, recovery, code, rows)
    incidents = Incidents(
        resolved_sorted, recovery_col, code_col, detected_sorted, rows_col, detected_rows
    )
    return incidents, live


def _deployments(
    table: IssueTable,
    mapper: FieldMapper,
    links: _Links,
    live_incident: np.ndarray,
    incidents_detected: np.ndarray,
    detected_rows: np.ndarray = _EMPTY,
) -> Deployments:
    """Production deployments: issues with a deployment time, or released fixVersions. A
    deployment failed when its success field says so, a live incident links to it, or (by
    default) a live incident was detected after it and before the first strictly later
    deployment (reading 4: deployments at one instant share one window).

    Deployments left out keep their reason (reading 12), the production filter first:
    `not_production`, `no_deployment_date`, `released_without_release_date`, `canceled`."""
    m = mapper.mappings
    not_production_times = not_production_rows = _EMPTY.copy()
    undated_rows: dict[str, np.ndarray] = {}
    undated_names: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # fixVersion names, in deployment order
    if (m.get("deployment_source") or "issues") == "fixversions":
        earliest = release_dates(table)
        dated = {name: when for name, when in earliest.items() if when != NONE}
        undated_names = tuple(name for name, when in earliest.items() if when == NONE)
        times, (sorted_names,) = _sorted_by(
            np.array(list(dated.values()), dtype=np.int64),
            np.array(list(dated), dtype=object),
        )
        names = tuple(sorted_names.tolist())
        rework = np.array([mapper.is_hotfix_version(name) for name in names], dtype=bool)
        failed = np.zeros(len(times), dtype=bool)
        canceled_times = canceled_rows = _EMPTY.copy()
        rows = np.full(len(times), -1, dtype=np.int64)
        by_success = by_link = failed
    else:
        role = table.deployment_role
        elsewhere = role == NOT_PRODUCTION
        dated_elsewhere = np.flatnonzero(elsewhere & (table.nonproduction_time != NONE))
        not_production_times, (not_production_rows,) = _sorted_by(
            table.nonproduction_time[dated_elsewhere], dated_elsewhere
        )
        deploys = table.deploy_time != NONE
        undated_rows = {
            "not_production": np.flatnonzero(elsewhere & (table.nonproduction_time == NONE)),
            "no_deployment_date": no_deployment_date_rows(table),
        }
        rows = np.flatnonzero(deploys & ~table.canceled)
        canceled = np.flatnonzero(deploys & table.canceled)
        canceled_times, (canceled_rows,) = _sorted_by(table.deploy_time[canceled], canceled)
        linked_live = np.zeros(len(links.last_row), dtype=bool)
        linked_live[links.source[live_incident[links.target]]] = True
        key_id = links.key_id[rows]
        by_link = linked_live[key_id]
        by_success = np.zeros(len(rows), dtype=bool)
        if m.get("deployment_success_field"):
            by_success = table.success_failed[links.last_row[key_id]]
        failed = by_link | by_success
        rework = table.rework_marked[rows] | _reworks_open_incident(
            table, links, live_incident, rows
        )
        times, (failed, rows, by_link, by_success, rework) = _sorted_by(
            table.deploy_time[rows], failed, rows, by_link, by_success, rework
        )
    failed = failed.astype(np.int64)
    window_incident = np.full(len(times), -1, dtype=np.int64)
    if m.get("failure_by_time_window", True) and len(times) and len(incidents_detected):
        next_times = np.append(times, FOREVER)[np.searchsorted(times, times, "right")]
        after = np.searchsorted(incidents_detected, times, "right")
        before_next = np.searchsorted(incidents_detected, next_times, "left")
        in_window = before_next > after
        failed |= in_window.astype(np.int64)
        if len(detected_rows):
            window_incident[in_window] = detected_rows[after[in_window]]
    return Deployments(
        times,
        failed,
        np.concatenate(([0], np.cumsum(failed))),
        canceled_times,
        not_production_times,
        _undated_counts(undated_rows, undated_names),
        rows=rows,
        version_names=names,
        failed_success=by_success.astype(bool),
        failed_linked=by_link.astype(bool),
        failed_window_incident=window_incident,
        canceled_rows=canceled_rows,
        not_production_rows=not_production_rows,
        undated_rows={reason: rows for reason, rows in undated_rows.items() if len(rows)},
        undated_names=undated_names,
        rework=rework.astype(bool),
        rework_cum=np.concatenate(([0], np.cumsum(rework.astype(np.int64)))),
    )


def release_dates(table: IssueTable) -> dict[Any, int]:
    """Each released fixVersion name's earliest release date over all issues (NONE when no
    issue gives it one): a version is one deployment, however many issues carry it."""
    earliest: dict[Any, int] = {}
    versions = table.versions
    for name, when in zip(versions.name.tolist(), versions.when.tolist(), strict=True):
        known = earliest.setdefault(name, when)
        if when != NONE and (known == NONE or when < known):
            earliest[name] = when
    return earliest


def no_deployment_date_rows(table: IssueTable) -> np.ndarray:
    """Production deployment issues without a deployment time (reading 12's
    `no_deployment_date`; canceled ones included, as no window can place them)."""
    return np.flatnonzero((table.deployment_role == PRODUCTION) & (table.deploy_time == NONE))


def _undated_counts(rows: dict[str, np.ndarray], names: tuple[str, ...]) -> dict[str, int]:
    """`Deployments.undated` from the items behind it, so the counts equal the lists."""
    counts = {reason: len(found) for reason, found in rows.items()}
    counts["released_without_release_date"] = len(names)
    return {reason: count for reason, count in counts.items() if count}


def _deployment_keys(table: IssueTable, links: _Links) -> np.ndarray:
    """Per key id: the time of the live production deployment issue with that key, or NONE."""
    rows = np.flatnonzero((table.deploy_time != NONE) & ~table.canceled)
    key_time = np.full(len(links.last_row), NONE, dtype=np.int64)
    key_time[links.key_id[rows]] = table.deploy_time[rows]
    return key_time


def _reworks_open_incident(
    table: IssueTable, links: _Links, live_incident: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Per deployment row: linked (any link type, either side) to a live incident detected
    before the deployment and not resolved before it (DORA 2024: rework)."""
    key_time = _deployment_keys(table, links)
    source, target = links.source, links.target
    deployed = key_time[source]
    incident = links.last_row[target]
    detected, resolved = table.detected[incident], table.resolved[incident]
    open_at = (
        live_incident[target]
        & (deployed != NONE)
        & (detected != NONE)
        & (detected < deployed)
        & ((resolved == NONE) | (resolved >= deployed))
    )
    reworked = np.zeros(len(links.last_row), dtype=bool)
    reworked[source[open_at]] = True
    of_rows: np.ndarray = reworked[links.key_id[rows]]
    return of_rows


def _failed_recovery(
    table: IssueTable,
    mapper: FieldMapper,
    links: _Links,
    deployments: Deployments,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per incident with a resolved time (the table `rows` of `Incidents`, in its order):
    resolved minus the time of the deployment it failed, and its code (DORA 2024, spec
    decision 35).

    A link names the deployment: the latest linked one at or before the detection, else the
    earliest linked one. Without a link, and with the time window on, the deployment whose
    window holds the detection (as in change failure rate)."""
    detected, resolved = table.detected[rows], table.resolved[rows]
    has_detected = detected != NONE
    in_window = np.full(len(rows), NONE, dtype=np.int64)
    times = deployments.times
    if mapper.mappings.get("failure_by_time_window", True) and len(times):
        lo = np.searchsorted(times, detected, "left")
        hi = np.searchsorted(times, detected, "right")
        holds = has_detected & (lo > 0) & (lo == hi)  # no deployment at the detection
        in_window = np.where(holds, times[np.maximum(lo - 1, 0)], NONE)
    before = np.full(len(rows), NONE, dtype=np.int64)
    earliest = np.full(len(rows), NONE, dtype=np.int64)
    if (mapper.mappings.get("deployment_source") or "issues") != "fixversions":
        key_time = _deployment_keys(table, links)
        deployed = key_time[links.source]
        incident_detected = table.detected[links.last_row[links.target]]
        linked = deployed != NONE
        latest_key = np.full(len(links.last_row), NONE, dtype=np.int64)
        early = linked & (incident_detected != NONE) & (deployed <= incident_detected)
        np.maximum.at(latest_key, links.target[early], deployed[early])
        earliest_key = np.full(len(links.last_row), FOREVER, dtype=np.int64)
        np.minimum.at(earliest_key, links.target[linked], deployed[linked])
        key_id = links.key_id[rows]
        before = latest_key[key_id]
        earliest = np.where(earliest_key[key_id] < FOREVER, earliest_key[key_id], NONE)
    linked_at = np.where(before != NONE, before, earliest)
    failed_at = np.where(linked_at != NONE, linked_at, in_window)
    found = has_detected & (failed_at != NONE)
    recovery = np.where(found, resolved - np.where(found, failed_at, 0), 0)
    code = np.select(
        [table.canceled[rows], ~has_detected, ~found, recovery < 0],
        [CANCELED, SKIPPED, NO_FAILED_DEPLOYMENT, NEGATIVE],
        OK,
    ).astype(np.int8)
    return recovery, code


def _changes(table: IssueTable, mapper: FieldMapper, links: _Links) -> Changes:
    """Features and defects (not incidents) with a deployed date: mapped, else the earliest
    released fixVersion (fixVersions source), else the earliest linked live deployment,
    else resolutiondate."""
    deployed = table.deployed_mapped.copy()
    if (mapper.mappings.get("deployment_source") or "issues") == "fixversions":
        earliest = np.full(len(table), FOREVER, dtype=np.int64)
        dated = table.versions.when != NONE
        np.minimum.at(earliest, table.versions.row[dated], table.versions.when[dated])
        deployed = np.where((deployed == NONE) & (earliest < FOREVER), earliest, deployed)
    # the earliest deployment time among linked issues that are live deployments
    last = links.last_row
    deploy_of_key = table.deploy_time[last]
    live_deploy = (deploy_of_key != NONE) & ~table.canceled[last]
    linked = np.full(len(last), FOREVER, dtype=np.int64)
    usable = live_deploy[links.target]
    np.minimum.at(linked, links.source[usable], deploy_of_key[links.target[usable]])
    linked_row = linked[links.key_id]
    deployed = np.where((deployed == NONE) & (linked_row < FOREVER), linked_row, deployed)
    deployed = np.where(deployed == NONE, table.resolutiondate, deployed)
    flow_type = table.flow_type
    rows = np.flatnonzero(
        ((flow_type == "Feature") | (flow_type == "Defect"))
        & ~table.is_incident
        & (deployed != NONE)
    )
    deployed = deployed[rows]
    mapped = table.commit_mapped[rows]
    commit = np.where(mapped != NONE, mapped, table.work_start[rows])
    start_not_recorded = (mapped == NONE) & table.start_not_recorded[rows]
    canceled = table.canceled[rows]
    measured = ~canceled & (commit != NONE)
    lead = np.where(measured, deployed - np.where(measured, commit, 0), 0)
    code = np.select(
        [canceled, ~measured, lead < 0], [CANCELED, NO_COMMIT_DATE, NEGATIVE], OK
    ).astype(np.int8)
    deployed_sorted, (lead, code, start_not_recorded, rows) = _sorted_by(
        deployed, lead, code, start_not_recorded, rows
    )
    return Changes(deployed_sorted, lead, code, start_not_recorded, rows)


def _completed(table: IssueTable, flow: np.ndarray) -> Completed:
    """Flow items with a completion; type codes in order of first appearance."""
    rows = np.flatnonzero(flow & (table.completion != NONE))
    names = table.flow_type[rows].tolist()
    type_index = {name: code for code, name in enumerate(dict.fromkeys(names))}
    type_code = np.fromiter(map(type_index.__getitem__, names), np.int64, len(names))
    completion, work_start = table.completion[rows], table.work_start[rows]
    started = work_start != NONE
    flow_time = np.where(started, completion - np.where(started, work_start, 0), 0)
    flow_code = np.select([~started, flow_time < 0], [SKIPPED, NEGATIVE], OK).astype(np.int8)
    times, columns = _sorted_by(
        completion,
        type_code,
        table.canceled[rows],
        flow_time,
        flow_code,
        table.start_not_recorded[rows],
        table.active_ms[rows],
        table.waiting_ms[rows],
        table.points[rows],
        rows,
    )
    type_code, canceled, flow_time, flow_code, snr, active, waiting, points, order = columns
    span_total = active + waiting
    with np.errstate(divide="ignore", invalid="ignore"):
        item_percent = np.where(span_total > 0, active / span_total * 100, np.nan)
    return Completed(
        times=times,
        type_code=type_code,
        canceled=canceled,
        flow_time=flow_time,
        flow_code=flow_code,
        start_not_recorded=snr,
        active=active,
        waiting=waiting,
        item_percent=item_percent.astype(np.float64),
        points=points.astype(np.float64),
        order=order.astype(np.int64),
        type_names=tuple(type_index),
    )


def _load(table: IssueTable, flow: np.ndarray) -> Load:
    """Active/Waiting spans of flow items; those of canceled items in a bucket of their own."""
    spans = table.spans
    of_flow = flow[spans.row]
    canceled = table.canceled[spans.row]
    buckets = {
        ACTIVE: of_flow & ~canceled & (spans.state == STATE_NAMES.index(ACTIVE)),
        WAITING: of_flow & ~canceled & (spans.state == STATE_NAMES.index(WAITING)),
        CANCELED_LOAD: of_flow & canceled,
    }
    return Load(
        starts={state: np.sort(spans.begin[kept]) for state, kept in buckets.items()},
        ends={state: np.sort(spans.end[kept]) for state, kept in buckets.items()},
        span_begin={state: spans.begin[kept] for state, kept in buckets.items()},
        span_end={state: spans.end[kept] for state, kept in buckets.items()},
        span_row={state: spans.row[kept] for state, kept in buckets.items()},
    )


def _assemble(
    table: IssueTable, mapper: FieldMapper
) -> tuple[Deployments, Changes, Incidents, Completed, Load, dict[str, bool]]:
    """The metric populations of a table, cross-issue facts resolved by index."""
    links = _link_index(table)
    incidents, live_rows = _incidents(table)
    live_incident = np.zeros(len(links.last_row), dtype=bool)
    live_incident[links.key_id[live_rows]] = True
    deployments = _deployments(
        table, mapper, links, live_incident, incidents.detected_sorted, incidents.detected_rows
    )
    incidents.failed_recovery, incidents.failed_code = _failed_recovery(
        table, mapper, links, deployments, incidents.rows
    )
    changes = _changes(table, mapper, links)
    flow = is_set(table.flow_type)
    completed = _completed(table, flow)
    has = {
        "deployments": len(deployments.times) > 0,
        "incidents": bool(live_rows.any()),
        "changes": bool((changes.code != CANCELED).any()),
        "completed": bool((~completed.canceled).any()),
        "flow_items": bool(flow.any()),
    }
    return deployments, changes, incidents, completed, _load(table, flow), has


# ----------------------------------------------------------------------------- building

_lock = threading.Lock()


@dataclass
class _LastTable:
    """The last build's issue table, what it was built under and from."""

    context: str
    table: IssueTable
    raws: Sequence[dict[str, Any]]
    #: the categories read from issues' statuses, when some row depends on them
    issue_categories: dict[str, str] | None
    #: the header of the table kept on disk, when it is this table
    stored_header: dict[str, Any] | None = None
    #: where the rows came from: "disk", or "normalized" (all or some of them)
    origin: str = "normalized"
    #: the project's kept-table file: a build for another project (another workspace) reads
    #: its own kept table instead of matching rows against this one
    table_file: str | None = None

    @cached_property
    def rows(self) -> dict[tuple[Any, Any], int]:
        """(key, `updated`) -> row; built only when a refresh asks."""
        cache_keys = zip(self.table.key.tolist(), self.table.updated.tolist(), strict=True)
        return dict(zip(cache_keys, range(len(self.table)), strict=True))


_tables: dict[str, _LastTable] = {}
#: Recently built datasets by content version (a refresh or a mappings switch back is a hit).
_DATASETS_KEPT = 2
_datasets: LRU[str, Dataset] = LRU(_DATASETS_KEPT)
#: Identity fast path: the last (project, mappings hash, zone) built and its dataset version.
_last: dict[str, Any] = {}


def _table_context(mapper: FieldMapper, tz: ZoneInfo) -> str:
    """What a table row depends on besides its issue: mappings (less the cross-issue ones), zone,
    status categories of the `/status` list. (Categories read from the issues matter only to
    rows of statuses no list knows: `_LastTable.issue_categories`.)"""
    m = {
        k: v
        for k, v in mapper.mappings.items()
        if k not in ("deployment_source", "failure_by_time_window")
    }
    payload = orjson.dumps(
        [m, tz.key, mapper.cat_by_id, mapper.cat_by_name],
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
            and (cached := _datasets.get(last[3])) is not None
        ):
            return cached
        mapper = FieldMapper(mappings, project.statuses, project.issues)
        with timed("normalize", issues=len(project.issues)) as timer, gc_paused():
            dataset = _build(project, mapper, tz)
            timer.fields["rebuilt"] = dataset.records_built
            timer.fields["table"] = _tables["last"].origin
        _last["entry"] = (project, mapper.hash, tz.key, dataset.version)
        return dataset


def _issue_table(project: ProjectData, mapper: FieldMapper, tz: ZoneInfo) -> tuple[IssueTable, int]:
    """The project's issue table and how many rows were normalized.

    Rows of issues unchanged since the last build (same key, `updated` and content, same
    context) are taken from it; with no usable last build, a table kept on disk for exactly
    this project version and context is read instead of normalizing. A new table is kept on
    disk for the next start."""
    context = _table_context(mapper, tz)
    raws = project.issues
    header: dict[str, Any] = {
        "project_version": project.version,
        "context": context,
        "rows": len(raws),
    }
    last = _tables.get("last")
    table_file = None if project.table_file is None else str(project.table_file)
    if last is not None and (
        last.table_file != table_file
        or last.context != context
        or (last.issue_categories is not None and last.issue_categories != mapper.cat_from_issues)
    ):
        last = None
    stored = None if last is not None else _stored_table(project, header, mapper)
    origin = "normalized"
    stored_header: dict[str, Any] | None  # the header of the table kept on disk, if any
    if stored is not None:
        (table, issue_categories), built = stored, 0
        stored_header, origin = header, "disk"
    else:
        table, built = _reused_and_normalized(raws, last, mapper, tz)
        uses_issue_categories = mapper.used_issue_categories or (
            built < len(raws) and last is not None and last.issue_categories is not None
        )
        issue_categories = mapper.cat_from_issues if uses_issue_categories else None
        stored_header = None if last is None or built else last.stored_header
        if project.table_file is not None and project.version and stored_header != header:
            save_table(project.table_file, table, {**header, "issue_categories": issue_categories})
            stored_header = header
    _tables["last"] = _LastTable(
        context, table, raws, issue_categories, stored_header, origin, table_file
    )
    return table, built


def _reused_and_normalized(
    raws: Sequence[dict[str, Any]], last: _LastTable | None, mapper: FieldMapper, tz: ZoneInfo
) -> tuple[IssueTable, int]:
    """The table of `raws`, taking the rows of unchanged issues from `last`."""
    if last is None:
        return normalize_issues(raws, mapper, tz), len(raws)
    reused = np.full(len(raws), -1, dtype=np.int64)
    for position, raw in enumerate(raws):
        row = last.rows.get((raw.get("key", ""), (raw.get("fields") or {}).get("updated")))
        # same key and `updated` but other content (a hand-edited file) is normalized again
        if row is not None and (last.raws[row] is raw or last.raws[row] == raw):
            reused[position] = row
    pending = np.flatnonzero(reused < 0)
    if len(pending) == len(raws):
        return normalize_issues(raws, mapper, tz), len(raws)
    fresh = normalize_issues([raws[at] for at in pending.tolist()], mapper, tz)
    reused[pending] = len(last.table) + np.arange(len(pending))
    return concat_tables(last.table, fresh).take(reused), len(pending)


def _stored_table(
    project: ProjectData, header: dict[str, Any], mapper: FieldMapper
) -> tuple[IssueTable, dict[str, str] | None] | None:
    """The table kept on disk for this project version and context, if usable, with the
    issue categories its rows used."""
    if project.table_file is None or not project.version:
        return None
    found = load_table(project.table_file, header)
    if found is None:
        return None
    table, stored = found
    categories = stored.get("issue_categories")
    if categories is not None and categories != mapper.cat_from_issues:
        return None
    return table, categories


def _build(project: ProjectData, mapper: FieldMapper, tz: ZoneInfo) -> Dataset:
    table, built = _issue_table(project, mapper, tz)
    deployments, changes, incidents, completed, load, has = _assemble(table, mapper)
    warnings = list(project.warnings)
    unknown = sorted(set(table.unknown.name.tolist()))
    warnings += [
        f"Status {name!r} has no known category: treated as in progress" for name in unknown
    ]
    truncated = int(table.truncated.sum())
    if truncated:
        warnings.append(f"{truncated} issues have truncated changelogs: used as they are")
    context = _tables["last"].context
    # the keys too: the populations hold table rows, which the item lists turn into keys
    keys = hashlib.blake2b("\n".join(map(str, table.key.tolist())).encode(), digest_size=16)
    content_version = _content_version(
        [mapper.hash, tz.key, context, project.source, len(table), warnings, has, keys.hexdigest()],
        (deployments, changes, incidents, completed, load),
    )
    cached = _datasets.get(content_version)
    if cached is not None:
        cached.records_built = built
        return cached
    m = mapper.mappings
    dataset = Dataset(
        version=content_version,
        issues=len(table),
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
        table=table,
    )
    _datasets.put(content_version, dataset)
    return dataset


def clear_caches() -> None:
    """Forget every cached record and dataset (tests, or after a mappings reset)."""
    with _lock:
        _tables.clear()
        _datasets.clear()
        _last.clear()
