"""Issues normalized into columns: one row per issue, everything the calculators read.

`normalize_issues` turns raw JIRA issues into an `IssueTable` (METRICS.md "Derived per-issue
timestamps"): dates parsed, statuses mapped to states, changelog sorted, work start,
completion, time in Active/Waiting, load spans, flow type, deployment and incident roles.
Python reads each raw issue once; NumPy parses every date and derives the changelog facts of
all issues at once.

Columns rather than one object per issue: reading a cached project allocates no object per
issue or per transition, so normalizing 5,000 issues stays in the tens of milliseconds, and a
refresh keeps its unchanged rows with one `take`. `IssueRecord` is the one-issue view of a
row, for inspection (tests, diagnostics).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any, ClassVar, Protocol, TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from data.engine.field_mapper import (
    ACTIVE,
    DONE,
    NEW,
    WAITING,
    FieldMapper,
    flag_raised,
    fold_name,
    is_flag_item,
)
from data.jira.jira_parser import parse_array

#: An instant that is absent (no value, or not a time). Never a real epoch ms.
NONE = np.iinfo(np.int64).min
#: The end of a span still open.
FOREVER = np.iinfo(np.int64).max

#: `IssueTable.deployment_role`: not of a deployment type, a production deployment issue, or a
#: deployment issue left out by the environment filter.
NOT_DEPLOYMENT, PRODUCTION, NOT_PRODUCTION = 0, 1, 2

#: States as small codes whose order is the names' order (ties in a changelog sort by them).
STATE_NAMES = (ACTIVE, DONE, NEW, WAITING)
A, D, N, W = range(4)
_CODE = {name: code for code, name in enumerate(STATE_NAMES)}

_EMPTY = np.zeros(0, dtype=np.int64)
_HISTORY = itemgetter("created", "id", "items")
#: An item's (from id, from name, to id, to name), in one C call.
_TRANSITION = itemgetter("from", "fromString", "to", "toString")


# ----------------------------------------------------------------------------- the table


@dataclass
class Spans:
    """Active/Waiting spans (start, end, state code A or W) of each row, no earlier than
    `created`; end FOREVER while open."""

    row: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    state: np.ndarray


@dataclass
class Segments:
    """Every status interval of each flow item's row (start, end, state code, status name),
    no earlier than `created`; end FOREVER while open. What the flow analytics read
    (`data/engine/flow_analytics.py`): time per status, the status at an instant."""

    row: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    state: np.ndarray  # int8 state code
    status: np.ndarray  # object: the status name as JIRA sends it


@dataclass
class Flags:
    """The flagged (blocked) intervals of each row from the changelog's flag changes
    (`field_mapper.is_flag_item`), no earlier than `created`; end FOREVER while flagged."""

    row: np.ndarray
    begin: np.ndarray
    end: np.ndarray


@dataclass
class Versions:
    """Released fixVersions, per row; `when` NONE for one without a (readable) release date."""

    row: np.ndarray
    name: np.ndarray  # object
    when: np.ndarray


@dataclass
class Links:
    """Keys of the issues each row links to (either direction of the link)."""

    row: np.ndarray
    key: np.ndarray  # object


@dataclass
class Unknown:
    """Status names of each row that no status list knows (for the dataset's warnings)."""

    row: np.ndarray
    name: np.ndarray  # object


@dataclass
class IssueTable:
    """Normalized issues, one row each in input order. Instants are epoch ms, NONE absent."""

    key: np.ndarray  # object
    updated: np.ndarray  # object: the raw `updated` text (with the key, what a refresh compares)
    flow_type: np.ndarray  # object: Feature/Defect/Risk/Debt/Other, None = not a flow item
    canceled: np.ndarray
    created: np.ndarray
    resolutiondate: np.ndarray
    work_start: np.ndarray
    start_not_recorded: np.ndarray
    completion: np.ndarray
    active_ms: np.ndarray
    waiting_ms: np.ndarray
    deploy_time: np.ndarray  # production deployment issue with a deployment time
    #: deployment issues: NOT_DEPLOYMENT, PRODUCTION or NOT_PRODUCTION (reading 12)
    deployment_role: np.ndarray
    nonproduction_time: np.ndarray  # a non-production deployment issue's deployment time
    success_failed: np.ndarray
    #: production deployment issue marked as rework (rework field or label; DORA 2024)
    rework_marked: np.ndarray
    is_incident: np.ndarray
    detected: np.ndarray
    resolved: np.ndarray
    commit_mapped: np.ndarray
    deployed_mapped: np.ndarray
    points: np.ndarray  # float64, NaN = none
    truncated: np.ndarray
    spans: Spans
    versions: Versions
    links: Links
    unknown: Unknown
    segments: Segments
    flags: Flags

    def __len__(self) -> int:
        return len(self.key)

    def take(self, rows: np.ndarray) -> IssueTable:
        """The table of the given rows, in that order (child rows follow their issue)."""
        return _take(self, rows, len(self))

    def record(self, row: int) -> IssueRecord:
        """The one-issue view of a row."""

        def instant(column: np.ndarray) -> int | None:
            value = int(column[row])
            return None if value == NONE else value

        def children(part: Any, *names: str) -> list[Any]:
            at = np.flatnonzero(part.row == row)
            columns = [getattr(part, name)[at].tolist() for name in names]
            return list(zip(*columns, strict=True)) if len(names) > 1 else columns[0]

        spans = children(self.spans, "begin", "end", "state")
        flags = children(self.flags, "begin", "end")
        points = float(self.points[row])
        return IssueRecord(
            key=self.key[row],
            flow_type=self.flow_type[row],
            canceled=bool(self.canceled[row]),
            created=instant(self.created),
            resolutiondate=instant(self.resolutiondate),
            work_start=instant(self.work_start),
            start_not_recorded=bool(self.start_not_recorded[row]),
            completion=instant(self.completion),
            active_ms=int(self.active_ms[row]),
            waiting_ms=int(self.waiting_ms[row]),
            load_spans=tuple((b, e, STATE_NAMES[s]) for b, e, s in spans),
            deploy_time=instant(self.deploy_time),
            deployment_role=int(self.deployment_role[row]),
            nonproduction_time=instant(self.nonproduction_time),
            success_failed=bool(self.success_failed[row]),
            rework_marked=bool(self.rework_marked[row]),
            is_incident=bool(self.is_incident[row]),
            detected=instant(self.detected),
            resolved=instant(self.resolved),
            commit_mapped=instant(self.commit_mapped),
            deployed_mapped=instant(self.deployed_mapped),
            version_dates=tuple(children(self.versions, "name", "when")),
            links=tuple(children(self.links, "key")),
            points=None if np.isnan(points) else points,
            truncated=bool(self.truncated[row]),
            unknown_statuses=tuple(children(self.unknown, "name")),
            flag_spans=tuple(flags),
        )


@dataclass(slots=True)
class IssueRecord:
    """One normalized issue (a row of an IssueTable), for inspection."""

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
    load_spans: tuple[tuple[int, int, str], ...]
    deploy_time: int | None
    deployment_role: int
    nonproduction_time: int | None
    success_failed: bool
    rework_marked: bool
    is_incident: bool
    detected: int | None
    resolved: int | None
    commit_mapped: int | None
    deployed_mapped: int | None
    version_dates: tuple[tuple[str, int], ...]
    links: tuple[str, ...]
    points: float | None
    truncated: bool
    unknown_statuses: tuple[str, ...] = ()
    flag_spans: tuple[tuple[int, int], ...] = ()


class _Dataclass(Protocol):
    """Any dataclass (what `dataclasses.fields` reads)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


_Part = TypeVar("_Part", bound=_Dataclass)  # the table or one of its child parts


def _take(part: _Part, rows: np.ndarray, size: int) -> _Part:
    """`part` (a table or a child part) restricted to `rows` of a table of `size` rows."""
    values: dict[str, Any] = {}
    for spec in fields(part):
        value = getattr(part, spec.name)
        if isinstance(value, np.ndarray):
            values[spec.name] = value[rows]
        else:  # a child part: its entries of the kept rows, renumbered
            counts = np.bincount(value.row, minlength=size)
            starts = np.cumsum(counts) - counts
            kept = counts[rows]
            total = int(kept.sum())
            at = np.repeat(starts[rows] - (np.cumsum(kept) - kept), kept) + np.arange(total)
            child = _take(value, at, len(value.row))
            child.row = np.repeat(np.arange(len(rows)), kept)
            values[spec.name] = child
    return type(part)(**values)


def concat_tables(*tables: IssueTable) -> IssueTable:
    """The rows of the tables, one after the other."""
    offsets = np.cumsum([0] + [len(table) for table in tables[:-1]]).tolist()
    return _concat(tables, offsets)


def _concat(parts: tuple[_Part, ...], offsets: list[int]) -> _Part:
    values: dict[str, Any] = {}
    for spec in fields(parts[0]):
        columns = [getattr(part, spec.name) for part in parts]
        if not isinstance(columns[0], np.ndarray):
            values[spec.name] = _concat(tuple(columns), offsets)
        elif spec.name == "row":
            values[spec.name] = np.concatenate(
                [column + offset for column, offset in zip(columns, offsets, strict=True)]
            )
        else:
            values[spec.name] = np.concatenate(columns)
    return type(parts[0])(**values)


# ----------------------------------------------------------------------------- normalizing


def _objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def is_set(values: np.ndarray) -> np.ndarray:
    """Where an object column holds a value (is not None), as a bool array."""
    # NumPy's stubs type no comparison operand as None; the ufunc compares element by element
    present: np.ndarray = np.not_equal(values, None)  # type: ignore[call-overload]
    return present


def _rows(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64) if values else _EMPTY.copy()


class _Distinct(dict[Any, int]):
    """Distinct values -> ordinal (0, 1, ...) in order of first sight."""

    def __missing__(self, key: Any) -> int:
        self[key] = ordinal = len(self)
        return ordinal


class _Changelog:
    """The status changes of issues, read one issue at a time into columns (one entry per
    change, in file order): the change's time text and its (from, to) pair.

    A history holding one status item (every history of the lean form the cache stores) is
    read with two C calls; any other shape (several items, other fields, missing keys) item by
    item. History ids and item positions only break ties in time (rare), so they are read
    again, for the tied issues only, by `tie_breakers`."""

    def __init__(self, flag_field: str | None = None) -> None:
        self.histories_of: list[Any] = []  # per issue: its histories, as read
        self.counts: list[int] = []  # per issue: its number of status changes
        self.created: list[Any] = []  # the change's time text
        self.pair: list[int] = []  # ordinal of (from id, from name, to id, to name) in `pairs`
        self.pairs = _Distinct()
        # flag changes (few): issue, time text, flagged before, flagged after
        self.flag_field = flag_field
        self.flag_issue: list[int] = []
        self.flag_created: list[Any] = []
        self.flag_was: list[bool] = []
        self.flag_now: list[bool] = []

    def _flag(self, when: Any, item: dict[str, Any]) -> None:
        self.flag_issue.append(len(self.counts))
        self.flag_created.append(when)
        self.flag_was.append(bool(str(item.get("fromString") or "").strip()))
        self.flag_now.append(flag_raised(item))

    def read(self, histories: Any) -> None:
        """Append the status changes of one issue's histories."""
        start = len(self.created)
        created, pair, pairs = self.created.append, self.pair.append, self.pairs
        flag_field = self.flag_field
        for history in histories:
            try:
                when, _, items = _HISTORY(history)
                if len(items) == 1:
                    item = items[0]
                    if item["field"] == "status":
                        pair(pairs[_TRANSITION(item)])
                        created(when)
                    elif is_flag_item(item, flag_field):
                        self._flag(when, item)
                    continue
            except (KeyError, TypeError, IndexError):
                pass
            for _, _, key, when in _status_items(history):
                pair(pairs[key])
                created(when)
            items = history.get("items") if type(history) is dict else None
            if type(items) is list:
                for item in items:
                    if is_flag_item(item, flag_field):
                        self._flag(history.get("created"), item)
        self.histories_of.append(histories)
        self.counts.append(len(self.created) - start)

    def issue(self) -> np.ndarray:
        """The issue (row) of each change."""
        return np.repeat(np.arange(len(self.counts)), self.counts)

    def tie_breakers(self, changes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(numeric history id, item position) of the given changes (indices into the
        columns), read again from their issues' histories."""
        counts = np.array(self.counts, dtype=np.int64)
        starts = np.cumsum(counts) - counts
        issues = np.searchsorted(starts, changes, "right") - 1
        details: dict[int, list[tuple[int, int]]] = {}
        hid, position = [], []
        for change, issue in zip(changes.tolist(), issues.tolist(), strict=True):
            if issue not in details:
                details[issue] = [
                    (_history_id(history_id), index)
                    for history in self.histories_of[issue]
                    for history_id, index, _, _ in _status_items(history)
                ]
            found = details[issue][change - int(starts[issue])]
            hid.append(found[0])
            position.append(found[1])
        return np.array(hid, dtype=np.int64), np.array(position, dtype=np.int64)


def _status_items(history: Any) -> Iterator[tuple[Any, int, tuple[Any, ...], Any]]:
    """(history id, item position, (from id, from name, to id, to name), time text) of each
    status item of a history of any shape."""
    if type(history) is not dict:
        return
    for index, item in enumerate(history.get("items") or ()):
        if type(item) is dict and item.get("field") == "status":
            key = tuple(item.get(name) for name in ("from", "fromString", "to", "toString"))
            yield history.get("id"), index, key, history.get("created")


def _history_id(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def changelog_order(
    issue: np.ndarray,
    when: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
    tie_breakers: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """The order of status rows by (issue, time, numeric history id, position, from, to).

    (issue, time) packed into one int64 sorts in a single argsort; only rows tied on both
    (rare) are ordered by the rest, whose history ids and positions `tie_breakers(rows)`
    gives."""
    count = len(issue)
    if not count:
        return np.zeros(0, dtype=np.int64)
    low = int(when.min())
    span_bits = (int(when.max()) - low).bit_length()
    if span_bits + int(issue.max()).bit_length() > 62:
        hid, pos = tie_breakers(np.arange(count))
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
        hid, pos = tie_breakers(rows)
        order[at] = rows[np.lexsort((to[rows], frm[rows], pos, hid, run))]
    return order


def _first_per_group(groups: np.ndarray, rows: np.ndarray, count: int, last: bool) -> np.ndarray:
    """Per group 0..count-1 the first (or last) of `rows` (sorted by group), -1 where none."""
    found = np.full(count, -1, dtype=np.int64)
    if len(rows):
        keys = groups[rows]
        unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
        found[unique] = rows[first + counts - 1 if last else first]
    return found


def flag_intervals(
    created: np.ndarray, issue: np.ndarray, when: np.ndarray, was: np.ndarray, now: np.ndarray
) -> Flags:
    """The flagged intervals of issues from their flag changes (`issue`, `when`, flagged
    before `was`, flagged after `now`; valid times, any order).

    Per issue, in time order (ties in the order read): flagged from `created` until the first
    change when that change's "before" side is flagged; after each change until the next one
    (the last one forever) when the change sets the flag. Clipped to `created`; empty
    intervals are dropped."""
    order = np.lexsort((np.arange(len(issue)), when, issue))
    issue, when, was, now = issue[order], when[order], was[order], now[order]
    count = len(issue)
    lead = np.ones(count, dtype=bool)
    lead[1:] = issue[1:] != issue[:-1]
    same_next = np.append(issue[1:] == issue[:-1], False)
    following = np.where(same_next, np.append(when[1:], FOREVER), FOREVER)
    born = created[issue]  # per change
    rows = np.concatenate((issue[lead], issue))
    starts = np.concatenate((born[lead], when))
    ends = np.concatenate((when[lead], following))
    flagged = np.concatenate((was[lead] & (born[lead] != NONE), now))
    born_all = np.concatenate((born[lead], born))
    starts = np.where(born_all != NONE, np.maximum(starts, born_all), starts)
    keep = flagged & (ends > starts)
    order = np.lexsort((starts[keep], rows[keep]))
    return Flags(rows[keep][order], starts[keep][order], ends[keep][order])


def flagged_overlap(
    flags: Flags,
    seg_first: np.ndarray,
    seg_count: np.ndarray,
    seg_begin: np.ndarray,
    seg_end: np.ndarray,
    seg_counted: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    size: int,
) -> np.ndarray:
    """Per issue (of `size`), the ms of its counted segments (`seg_counted`) that are flagged,
    within `[low, high)` of the issue. Segment indices of issue i are
    `seg_first[i] .. seg_first[i] + seg_count[i] - 1`."""
    out = np.zeros(size, dtype=np.int64)
    if not len(flags.row):
        return out
    per_flag = seg_count[flags.row]
    flag_at = np.repeat(np.arange(len(flags.row)), per_flag)
    offsets = np.arange(len(flag_at)) - np.repeat(np.cumsum(per_flag) - per_flag, per_flag)
    seg = np.repeat(seg_first[flags.row], per_flag) + offsets
    row = flags.row[flag_at]
    lo = np.maximum(np.maximum(flags.begin[flag_at], seg_begin[seg]), low[row])
    hi = np.minimum(np.minimum(flags.end[flag_at], seg_end[seg]), high[row])
    take = seg_counted[seg] & (hi > lo)
    np.add.at(out, row[take], (hi - lo)[take])
    return out


@dataclass
class _Timeline:
    """The changelog-derived facts of a batch of issues (instants NONE where absent)."""

    work_start: np.ndarray
    start_not_recorded: np.ndarray
    completion: np.ndarray
    active: np.ndarray
    waiting: np.ndarray
    spans: Spans
    segments: Segments


def _timelines(
    created: np.ndarray,
    resolved: np.ndarray,
    state_now: np.ndarray,
    issue: np.ndarray,
    when: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
    names: tuple[np.ndarray, np.ndarray, np.ndarray],
    flow: np.ndarray,
    flags: Flags,
) -> _Timeline:
    """Work start, completion, Active/Waiting ms and load spans of many issues in one NumPy
    pass (METRICS.md "Derived per-issue timestamps").

    Rows are status transitions with a valid time, sorted per issue by `changelog_order`.
    The initial state (the first row's from-state, else the current one) holds from `created`,
    each to-state until the next transition, the last one forever. Active/Waiting time is
    clipped to [work start, completion]; Active time while flagged (`flags`) counts as Waiting.
    Load spans start no earlier than `created`.
    `names` are the status names (current per issue; from and to per row); the status
    segments of the rows where `flow` is set are kept with them."""
    n = len(created)
    created_ok = created != NONE
    resolved_ok = resolved != NONE
    m = len(issue)
    counts = np.bincount(issue, minlength=n)
    row_start = np.cumsum(counts) - counts
    has_rows = counts > 0
    first = np.minimum(row_start, max(m - 1, 0))
    initial = np.where(has_rows, frm[first] if m else state_now, state_now)

    # work start: created when the initial state is Active/Waiting, else the first move there
    to_aw = (to == A) | (to == W)
    first_aw = _first_per_group(issue, np.flatnonzero(to_aw), n, last=False)
    initial_aw = (initial == A) | (initial == W)
    ws = np.where(initial_aw, created, when[np.maximum(first_aw, 0)] if m else 0)
    ws_ok = np.where(initial_aw, created_ok, first_aw >= 0)
    not_recorded = ~ws_ok & (state_now != N)
    ws = np.where(not_recorded, created, ws)
    ws_ok = np.where(not_recorded, created_ok, ws_ok)

    # completion: the last move into Done from outside it, else resolutiondate; Done only
    into_done = (to == D) & (frm != D)
    last_done = _first_per_group(issue, np.flatnonzero(into_done), n, last=True)
    comp = np.where(last_done >= 0, when[np.maximum(last_done, 0)] if m else 0, resolved)
    comp_ok = (state_now == D) & ((last_done >= 0) | resolved_ok)

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
    counted = seg_ok & ((seg_state == A) | (seg_state == W))

    clip = (comp_ok & ws_ok)[seg_issue] & counted
    span = np.minimum(seg_end, np.where(comp_ok, comp, 0)[seg_issue]) - np.maximum(
        seg_begin, np.where(ws_ok, ws, 0)[seg_issue]
    )
    clip &= span > 0
    active = np.zeros(n, dtype=np.int64)
    waiting = np.zeros(n, dtype=np.int64)
    is_active = seg_state == A
    np.add.at(active, seg_issue[clip & is_active], span[clip & is_active])
    np.add.at(waiting, seg_issue[clip & ~is_active], span[clip & ~is_active])
    blocked = flagged_overlap(
        flags,
        init_at,
        counts + 1,
        seg_begin,
        seg_end,
        clip & is_active,
        np.where(ws_ok, ws, 0),
        np.where(comp_ok, comp, 0),
        n,
    )
    active -= blocked
    waiting += blocked

    load = counted & created_ok[seg_issue]
    begin = np.maximum(seg_begin, created[seg_issue])
    load &= seg_end > begin

    now_name, frm_name, to_name = names
    seg_name = np.empty(size, dtype=object)
    seg_name[init_at] = np.where(has_rows, frm_name[first], now_name) if m else now_name
    seg_name[row_at] = to_name
    kept = seg_ok & created_ok[seg_issue] & (seg_end > begin) & flow[seg_issue]
    return _Timeline(
        work_start=np.where(ws_ok, ws, NONE),
        start_not_recorded=not_recorded,
        completion=np.where(comp_ok, comp, NONE),
        active=active,
        waiting=waiting,
        spans=Spans(seg_issue[load], begin[load], seg_end[load], seg_state[load]),
        segments=Segments(
            seg_issue[kept],
            begin[kept],
            seg_end[kept],
            seg_state[kept].astype(np.int8),
            seg_name[kept],
        ),
    )


#: Issues normalized per block: a block's arrays stay in the processor's cache, so time
#: grows linearly with the number of issues.
BLOCK = 4096


def normalize_issues(
    raws: Sequence[dict[str, Any]], mapper: FieldMapper, tz: ZoneInfo
) -> IssueTable:
    """Raw JIRA issues as an IssueTable (METRICS.md "Derived per-issue timestamps"), in bulk,
    one block of issues at a time."""
    if len(raws) <= BLOCK:
        return _normalized_block(raws, mapper, tz)
    blocks = [raws[start : start + BLOCK] for start in range(0, len(raws), BLOCK)]
    return concat_tables(*(_normalized_block(block, mapper, tz) for block in blocks))


def _normalized_block(
    raws: Sequence[dict[str, Any]], mapper: FieldMapper, tz: ZoneInfo
) -> IssueTable:
    m = mapper.mappings
    state_of = mapper.state
    flow_type_of = mapper.flow_type
    deployment_types, incident_types = mapper.deployment_types, mapper.incident_types
    canceled_resolutions = mapper.canceled_resolutions
    deployment_field = m["deployment_time_field"]
    detected_field = m.get("incident_detected_field")
    resolved_field = m.get("incident_resolved_field")
    dated_fields = [
        (name, field_id)
        for name, field_id in (
            ("commit", m.get("commit_date_field")),
            ("deployed", m.get("deployed_date_field")),
        )
        if field_id
    ]
    impact_field = m.get("production_impact_field")
    points_field = m.get("story_points_field")
    n = len(raws)

    keys: list[Any] = []
    updated: list[Any] = []
    flow_types: list[str | None] = []
    canceled: list[bool] = []
    now_codes: list[int] = []
    state_codes: dict[tuple[Any, Any], int] = {}
    status_names: list[Any] = []
    truncated: list[bool] = []
    changelog = _Changelog(mapper.flag_field)
    read_changelog = changelog.read
    # date texts parsed in one call: created and resolutiondate of every issue, then the
    # sparse ones (row, text) below, then the changelog's
    base_texts: list[Any] = []
    sparse: dict[str, tuple[list[int], list[Any]]] = {
        name: ([], [])
        for name in ("deploy", "nonproduction", "detected", "resolved", "commit", "deployed")
    }
    success_failed: list[int] = []
    rework_rows: list[int] = []
    roles = np.full(n, NOT_DEPLOYMENT, dtype=np.int8)
    incidents: list[int] = []
    points: dict[int, float | None] = {}
    version_rows: list[int] = []
    version_names: list[Any] = []
    version_texts: list[Any] = []
    link_rows: list[int] = []
    link_keys: list[Any] = []

    for row, raw in enumerate(raws):
        fields_ = raw.get("fields") or {}
        keys.append(raw.get("key", ""))
        updated.append(fields_.get("updated"))
        base_texts.append(fields_.get("created"))
        base_texts.append(fields_.get("resolutiondate"))
        status = fields_.get("status") or {}
        status_key = (status.get("id"), status.get("name"))
        status_names.append(status_key[1])
        now_code = state_codes.get(status_key)
        if now_code is None:
            now_code = state_codes[status_key] = _CODE[state_of(*status_key)]
        now_codes.append(now_code)
        type_name = fold_name((fields_.get("issuetype") or {}).get("name") or "")
        labels = fields_.get("labels")
        folded_labels = tuple([fold_name(str(x)) for x in labels]) if labels else ()
        flow_types.append(flow_type_of(type_name, folded_labels))
        is_canceled = False
        if now_code == D:
            resolution = fold_name((fields_.get("resolution") or {}).get("name") or "")
            is_canceled = resolution in canceled_resolutions
        canceled.append(is_canceled)
        if type_name in deployment_types:
            if mapper.is_production(fields_):
                roles[row] = PRODUCTION
                sparse["deploy"][0].append(row)
                sparse["deploy"][1].append(fields_.get(deployment_field))
                success_failed.append(mapper.success_failed(fields_))
                if mapper.rework_marked(fields_, folded_labels):
                    rework_rows.append(row)
            else:
                roles[row] = NOT_PRODUCTION
                sparse["nonproduction"][0].append(row)
                sparse["nonproduction"][1].append(fields_.get(deployment_field))
        if type_name in incident_types or (impact_field and mapper.production_impact(fields_)):
            incidents.append(row)
            for name, field_id in (("detected", detected_field), ("resolved", resolved_field)):
                if field_id:
                    sparse[name][0].append(row)
                    sparse[name][1].append(fields_.get(field_id))
        for name, field_id in dated_fields:
            if fields_.get(field_id) is not None:
                sparse[name][0].append(row)
                sparse[name][1].append(fields_[field_id])
        versions = fields_.get("fixVersions")
        if versions:
            for version in versions:
                if version.get("released"):
                    version_rows.append(row)
                    version_names.append(version.get("name"))
                    version_texts.append(version.get("releaseDate"))
        issue_links = fields_.get("issuelinks")
        if issue_links:
            for entry in issue_links:
                for side in ("outwardIssue", "inwardIssue"):
                    other = entry.get(side)
                    if isinstance(other, dict) and other.get("key"):
                        link_rows.append(row)
                        link_keys.append(other["key"])
        if points_field and fields_.get(points_field) is not None:
            points[row] = mapper.story_points(fields_)
        raw_changelog = raw.get("changelog") or {}
        histories = raw_changelog.get("histories") or ()
        read_changelog(histories)
        total = raw_changelog.get("total")
        truncated.append(isinstance(total, int) and total > len(histories))

    # every date in one parse
    texts = base_texts
    starts = {}
    for name, (_, values) in sparse.items():
        starts[name] = len(texts)
        texts = texts + values
    starts["versions"] = len(texts)
    texts = texts + version_texts + changelog.flag_created + changelog.created
    parsed, ok = parse_array(texts, tz)
    instants = np.where(ok, parsed, NONE)
    flag_at = starts["versions"] + len(version_texts)
    flag_when = instants[flag_at : flag_at + len(changelog.flag_created)]
    flag_ok = flag_when != NONE

    def sparse_column(name: str, default: np.ndarray | None = None) -> np.ndarray:
        rows, values = sparse[name]
        column = np.full(n, NONE, dtype=np.int64) if default is None else default.copy()
        at = np.array(rows, dtype=np.int64)
        found = instants[starts[name] : starts[name] + len(values)]
        if default is not None:
            found = np.where(found == NONE, column[at], found)
        column[at] = found
        return column

    created = instants[0 : 2 * n : 2]
    resolved = instants[1 : 2 * n : 2]
    row_when = instants[len(instants) - len(changelog.created) :]
    row_ok = row_when != NONE
    flags = flag_intervals(
        created,
        np.array(changelog.flag_issue, dtype=np.int64)[flag_ok],
        flag_when[flag_ok],
        np.array(changelog.flag_was, dtype=bool)[flag_ok],
        np.array(changelog.flag_now, dtype=bool)[flag_ok],
    )

    # from and to state of each distinct (from id, from name, to id, to name)
    pair_codes = np.array(
        [
            _CODE[state_of(frm_id, frm_name)] * 4 + _CODE[state_of(to_id, to_name)]
            for frm_id, frm_name, to_id, to_name in changelog.pairs
        ],
        dtype=np.int64,
    )
    change_pair = np.array(changelog.pair, dtype=np.int64)
    change_issue = changelog.issue()
    row_pair = pair_codes[change_pair] if len(pair_codes) else _EMPTY
    issue, when = change_issue[row_ok], row_when[row_ok]
    frm, to = (row_pair // 4)[row_ok], (row_pair % 4)[row_ok]
    valid_changes = np.flatnonzero(row_ok)
    pair_names = list(changelog.pairs)
    from_names = _objects([frm_name for _, frm_name, _, _ in pair_names])
    to_names = _objects([to_name for _, _, _, to_name in pair_names])
    order = changelog_order(
        issue, when, frm, to, lambda rows: changelog.tie_breakers(valid_changes[rows])
    )
    timeline = _timelines(
        created,
        resolved,
        np.array(now_codes, dtype=np.int64),
        issue[order],
        when[order],
        frm[order],
        to[order],
        (
            _objects(status_names),
            from_names[change_pair[row_ok][order]] if len(order) else _objects([]),
            to_names[change_pair[row_ok][order]] if len(order) else _objects([]),
        ),
        is_set(_objects(flow_types)),
        flags,
    )

    is_incident = np.zeros(n, dtype=bool)
    is_incident[incidents] = True
    detected = sparse_column("detected", np.where(is_incident, created, NONE))
    incident_resolved = sparse_column("resolved", np.where(is_incident, resolved, NONE))
    deploy_time = sparse_column("deploy")
    failed = np.zeros(n, dtype=bool)
    failed[sparse["deploy"][0]] = success_failed
    rework_marked = np.zeros(n, dtype=bool)
    rework_marked[rework_rows] = True
    version_at = starts["versions"]
    version_when = instants[version_at : version_at + len(version_texts)]
    point_column = np.full(n, np.nan)
    for row, value in points.items():
        point_column[row] = np.nan if value is None else value

    return IssueTable(
        key=_objects(keys),
        updated=_objects(updated),
        flow_type=_objects(flow_types),
        canceled=np.array(canceled, dtype=bool),
        created=created,
        resolutiondate=resolved,
        work_start=timeline.work_start,
        start_not_recorded=timeline.start_not_recorded,
        completion=timeline.completion,
        active_ms=timeline.active,
        waiting_ms=timeline.waiting,
        deploy_time=deploy_time,
        deployment_role=roles,
        nonproduction_time=sparse_column("nonproduction"),
        success_failed=failed & (deploy_time != NONE),
        rework_marked=rework_marked & (deploy_time != NONE),
        is_incident=is_incident,
        detected=detected,
        resolved=incident_resolved,
        commit_mapped=sparse_column("commit"),
        deployed_mapped=sparse_column("deployed"),
        points=point_column,
        truncated=np.array(truncated, dtype=bool),
        spans=timeline.spans,
        versions=Versions(_rows(version_rows), _objects(version_names), version_when),
        links=Links(_rows(link_rows), _objects(link_keys)),
        unknown=_unknown_statuses(mapper, status_names, changelog, change_issue, change_pair),
        segments=timeline.segments,
        flags=flags,
    )


def _unknown_statuses(
    mapper: FieldMapper,
    status_names: list[Any],
    changelog: _Changelog,
    change_issue: np.ndarray,
    change_pair: np.ndarray,
) -> Unknown:
    """Per row, the status names (current or in the changelog) no status list knows."""
    unknown_names = mapper.unknown_statuses
    if not unknown_names:
        return Unknown(_EMPTY.copy(), _objects([]))
    names_of: dict[int, set[str]] = {}
    for row, name in enumerate(status_names):
        if (name or "") in unknown_names:
            names_of.setdefault(row, set()).add(name or "")
    odd_pairs = [
        ordinal
        for (_, frm_name, _, to_name), ordinal in changelog.pairs.items()
        if (frm_name or "") in unknown_names or (to_name or "") in unknown_names
    ]
    pair_list = list(changelog.pairs)
    for at in np.flatnonzero(np.isin(change_pair, odd_pairs)).tolist():
        _, frm_name, _, to_name = pair_list[change_pair[at]]
        names = {frm_name or "", to_name or ""} & unknown_names
        names_of.setdefault(int(change_issue[at]), set()).update(names)
    rows = sorted(names_of)
    return Unknown(
        _rows([row for row in rows for _ in names_of[row]]),
        _objects([name for row in rows for name in sorted(names_of[row])]),
    )
