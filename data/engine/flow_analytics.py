"""Flow analytics over the normalized dataset: the charts a team reads in its stand-up.

Cycle-time scatter, flow-time histogram, aging work in progress, cumulative flow, time in
state and blocked time, for one window `[start, end)` (definitions:
`specs/flow-analytics.md`). Everything is read from the issue table's columns, its status
segments and its flagged intervals: no raw issue is parsed again.

The population is the flow items that are not canceled (METRICS.md: canceled items are left
out of every metric). What does not depend on the window (status bands in workflow order,
segments sorted per band) is prepared once per dataset version; a window is then a few
`searchsorted` calls and masks over the segments.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from data.dora_calculator import window
from data.engine.dataset import OK, Dataset, spans_holding
from data.engine.field_mapper import ACTIVE, DONE, NEW, WAITING, fold_name
from data.engine.issue_table import NONE, STATE_NAMES, is_set
from data.engine.periods import local_date, local_midnight_ms
from data.engine.statistics import MS_DAY, r2, r4
from data.flow_calculator import just_before

#: The percentile lines of the scatter, the histogram and the aging chart.
PERCENTILES = (50, 70, 85, 95)
#: At most this many points travel to the browser per chart; percentiles use every point.
MAX_POINTS = 5000
#: Items listed in the aging table, oldest first.
MAX_AGING_ROWS = 200
#: Items drawn in the blocked-time chart, most blocked first (the sums use every item).
MAX_BLOCKED_ROWS = 30
#: Histogram bar widths tried, in days: the first giving at most MAX_BINS bars is used.
BIN_WIDTHS = (1, 2, 3, 5, 7, 10, 14, 21, 30, 60, 90, 180, 365)
MAX_BINS = 40

_A, _D, _N, _W = (STATE_NAMES.index(name) for name in (ACTIVE, DONE, NEW, WAITING))


# ----------------------------------------------------------------------------- preparation


@dataclass
class Prepared:
    """What the analytics of every window of one dataset share.

    Bands are the columns of the cumulative flow diagram and the aging chart: 0 is New, then
    every Active/Waiting status in workflow order, the last is Done."""

    live: np.ndarray  # per row: a flow item that is not canceled
    band_names: list[str]
    band_states: list[str]
    seg_row: np.ndarray
    seg_begin: np.ndarray
    seg_end: np.ndarray
    seg_band: np.ndarray
    seg_waiting: np.ndarray  # bool: the segment's state is Waiting
    begins_by_band: list[np.ndarray]  # sorted
    ends_by_band: list[np.ndarray]  # sorted


_prepared: OrderedDict[str, Prepared] = OrderedDict()
_prepared_lock = threading.Lock()
_PREPARED_KEPT = 2


def prepared(ds: Dataset) -> Prepared:
    """The window-independent part of a dataset's analytics (memoized by dataset version)."""
    with _prepared_lock:
        found = _prepared.get(ds.version)
        if found is not None:
            _prepared.move_to_end(ds.version)
            return found
    made = _prepare(ds)
    with _prepared_lock:
        _prepared[ds.version] = made
        while len(_prepared) > _PREPARED_KEPT:
            _prepared.popitem(last=False)
    return made


def _prepare(ds: Dataset) -> Prepared:
    table = ds.table
    live = is_set(table.flow_type) & ~table.canceled
    segments = table.segments
    keep = live[segments.row]
    row, begin, end = segments.row[keep], segments.begin[keep], segments.end[keep]
    state = segments.state[keep].astype(np.int64)
    names = segments.status[keep]
    # statuses compare case-insensitively; the first spelling seen is shown
    distinct = dict.fromkeys(names.tolist())
    code_of_lower: dict[str, int] = {}
    shown: list[str] = []
    code_of: dict[Any, int] = {}
    for name in distinct:
        lower = fold_name(str(name or ""))
        if lower not in code_of_lower:
            code_of_lower[lower] = len(shown)
            shown.append(str(name or "(no status)"))
        code_of[name] = code_of_lower[lower]
    status = np.fromiter(map(code_of.__getitem__, names.tolist()), np.int64, len(names))
    working = (state == _A) | (state == _W)
    order = _workflow_order(row, begin, status, working, table.work_start, len(shown))
    band_of_status = np.zeros(len(shown), dtype=np.int64)
    band_names, band_states = [NEW], [NEW]
    for code in order:
        band_of_status[code] = len(band_names)
        band_names.append(shown[code])
        waiting = bool(((state == _W) & (status == code)).any())
        band_states.append(WAITING if waiting else ACTIVE)
    done_band = len(band_names)
    band_names.append(DONE)
    band_states.append(DONE)
    band = np.where(working, band_of_status[status], np.where(state == _D, done_band, 0))
    begins, ends = [], []
    for index in range(len(band_names)):
        at = band == index
        begins.append(np.sort(begin[at]))
        ends.append(np.sort(end[at]))
    return Prepared(
        live=live,
        band_names=band_names,
        band_states=band_states,
        seg_row=row,
        seg_begin=begin,
        seg_end=end,
        seg_band=band,
        seg_waiting=state == _W,
        begins_by_band=begins,
        ends_by_band=ends,
    )


def _workflow_order(
    row: np.ndarray,
    begin: np.ndarray,
    status: np.ndarray,
    working: np.ndarray,
    work_start: np.ndarray,
    statuses: int,
) -> list[int]:
    """Active/Waiting statuses in workflow order: by the median, over the items that entered
    a status, of the time from the item's work start to its first entry; ties by name order
    of first sight. (JIRA's `/status` list has no workflow order.)"""
    at = np.flatnonzero(working & (work_start[row] != NONE))
    if not len(at):
        return []
    key = row[at] * statuses + status[at]
    first = np.lexsort((begin[at], key))
    key_sorted = key[first]
    lead = np.ones(len(first), dtype=bool)
    lead[1:] = key_sorted[1:] != key_sorted[:-1]
    chosen = at[first[lead]]
    offset = begin[chosen] - work_start[row[chosen]]
    codes = status[chosen]
    medians = {
        int(code): float(np.median(offset[codes == code])) for code in np.unique(codes).tolist()
    }
    return sorted(medians, key=lambda code: (medians[code], code))


# ----------------------------------------------------------------------------- populations


@dataclass
class CompletedItems:
    """Items completed in the window with a flow time, in completion order."""

    rows: np.ndarray
    completion: np.ndarray
    days: np.ndarray  # float64 flow time in days


def completed_in(ds: Dataset, start: int, end: int) -> CompletedItems:
    """Flow items completed in `[start, end)`, not canceled, with a flow time (the Flow time
    card's population: the same `n`)."""
    columns = ds.completed
    part = window(columns.times, start, end)
    ok = ~columns.canceled[part] & (columns.flow_code[part] == OK)
    return CompletedItems(
        rows=columns.order[part][ok],
        completion=columns.times[part][ok],
        days=columns.flow_time[part][ok] / MS_DAY,
    )


def percentile_lines(days: np.ndarray) -> dict[str, float | None]:
    """The 50th, 70th, 85th and 95th percentiles (linear interpolation) in days, None if
    there is no item."""
    if not len(days):
        return {f"p{p}": None for p in PERCENTILES}
    values = np.percentile(days, PERCENTILES)
    return {f"p{p}": r4(value) for p, value in zip(PERCENTILES, values.tolist(), strict=True)}


def _holding(prep: Prepared, moment: int) -> np.ndarray:
    """Per segment: it holds the state at `moment` (the rule of Flow load: a transition at
    exactly `moment` is not applied yet, `flow_calculator.just_before`)."""
    instant = just_before(moment)
    return (prep.seg_begin <= instant) & (prep.seg_end > instant)


def _working_at(prep: Prepared, moment: int) -> np.ndarray:
    """Indices of the Active/Waiting segments holding the state at `moment`."""
    last = len(prep.band_names) - 1
    return np.flatnonzero(_holding(prep, moment) & (prep.seg_band > 0) & (prep.seg_band < last))


def _sample(count: int, limit: int) -> np.ndarray:
    """Evenly spread positions, at most `limit` of `count` (all when fewer)."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).astype(np.int64))


# ----------------------------------------------------------------------------- the charts


def scatter(
    ds: Dataset,
    done: CompletedItems,
    zone: ZoneInfo,
    sle_days: float | None,
    sle_percent: float,
) -> dict[str, Any]:
    """Cycle-time scatter: every item completed in the window at (completion, flow days),
    its flow type, the percentile lines and the service-level expectation scored."""
    shown = _sample(len(done.rows), MAX_POINTS)
    rows = done.rows[shown]
    result: dict[str, Any] = {
        "n": len(done.rows),
        "shown": len(shown),
        "keys": ds.table.key[rows].tolist(),
        "completed": _local_texts(done.completion[shown], zone),
        "days": np.round(done.days[shown], 4).tolist(),
        "flow_types": ds.table.flow_type[rows].tolist(),
        "percentiles": percentile_lines(done.days),
        "sle": None,
    }
    if sle_days is not None:
        within = int(np.count_nonzero(done.days <= sle_days))
        share = within / len(done.rows) * 100 if len(done.rows) else None
        result["sle"] = {
            "days": sle_days,
            "percent": sle_percent,
            "within": within,
            "share": r2(share),
            "met": None if share is None else share >= sle_percent,
        }
    return result


def histogram(done: CompletedItems) -> dict[str, Any]:
    """Flow-time histogram: bars of a whole number of days from 0, and the percentiles."""
    days = done.days
    top = float(days.max()) if len(days) else 0.0
    width = next((w for w in BIN_WIDTHS if top / w < MAX_BINS), BIN_WIDTHS[-1])
    bins = int(top // width) + 1 if len(days) else 0
    counts: np.ndarray | list[int] = (
        np.bincount((days // width).astype(np.int64), minlength=bins) if bins else []
    )
    return {
        "n": len(days),
        "width_days": width,
        "starts": [index * width for index in range(bins)],
        "counts": [int(count) for count in counts],
        "percentiles": percentile_lines(days),
    }


def _bin_rows(done: CompletedItems, width: int, start_day: float) -> np.ndarray:
    at = (done.days >= start_day) & (done.days < start_day + width)
    return done.rows[at]


def aging(ds: Dataset, prep: Prepared, done: CompletedItems, moment: int) -> dict[str, Any]:
    """Aging work in progress at `moment`: every item Active or Waiting then, by its status
    (columns in workflow order) and age since work start, oldest first; the bands are the
    percentiles of the window's completed items' flow time."""
    at = _working_at(prep, moment)
    rows = prep.seg_row[at]
    start = ds.table.work_start[rows]
    known = start != NONE
    at, rows, start = at[known], rows[known], start[known]
    age = (moment - start) / MS_DAY
    order = np.argsort(-age, kind="stable")
    at, rows, age = at[order], rows[order], age[order]
    lines = percentile_lines(done.days)
    p85 = lines["p85"]
    past = age > p85 if p85 is not None else np.zeros(len(age), dtype=bool)
    shown = _sample(len(rows), MAX_POINTS)
    band = prep.seg_band[at]
    names = prep.band_names
    columns = names[1:-1]
    return {
        "n": len(rows),
        "shown": len(shown),
        "columns": columns,
        "column_states": prep.band_states[1:-1],
        "keys": ds.table.key[rows[shown]].tolist(),
        "statuses": [names[b] for b in band[shown].tolist()],
        "ages": np.round(age[shown], 4).tolist(),
        "flow_types": ds.table.flow_type[rows[shown]].tolist(),
        "past_p85": past[shown].tolist(),
        "past_p85_count": int(np.count_nonzero(past)),
        "percentiles": lines,
        "table": [
            {
                "key": ds.table.key[row],
                "status": names[int(band_code)],
                "state": prep.band_states[int(band_code)],
                "flow_type": ds.table.flow_type[row],
                "age_days": r4(days),
                "past_p85": bool(late),
            }
            for row, band_code, days, late in zip(
                rows[:MAX_AGING_ROWS].tolist(),
                band[:MAX_AGING_ROWS].tolist(),
                age[:MAX_AGING_ROWS].tolist(),
                past[:MAX_AGING_ROWS].tolist(),
                strict=True,
            )
        ],
    }


def day_edges(start: int, end: int, zone: ZoneInfo) -> tuple[list[str], np.ndarray]:
    """The calendar days of `[start, end)` in `zone` and their edges: day i is
    `[edges[i], edges[i + 1])`, the first and last clipped to the window."""
    first, last = local_date(start, zone), local_date(end - 1, zone)
    days = [first + timedelta(days=index) for index in range((last - first).days + 1)]
    edges = [start] + [local_midnight_ms(day, zone) for day in days[1:]] + [end]
    return [day.isoformat() for day in days], np.array(edges, dtype=np.int64)


def cumulative_flow(
    ds: Dataset, prep: Prepared, start: int, end: int, zone: ZoneInfo
) -> dict[str, Any]:
    """Daily counts per band at each day's end (transitions at that instant not applied),
    with the day's arrivals (work starts) and departures (completions)."""
    days, edges = day_edges(start, end, zone)
    ends = edges[1:]
    bands = [
        {
            "name": name,
            "state": state,
            "counts": spans_holding(begins, stops, just_before(ends)).tolist(),
        }
        for name, state, begins, stops in zip(
            prep.band_names,
            prep.band_states,
            prep.begins_by_band,
            prep.ends_by_band,
            strict=True,
        )
    ]
    table = ds.table
    return {
        "days": days,
        "bands": bands,
        "arrivals": _per_day(table.work_start[prep.live], edges),
        "departures": _per_day(table.completion[prep.live], edges),
    }


def _per_day(instants: np.ndarray, edges: np.ndarray) -> list[int]:
    instants = np.sort(instants[instants != NONE])
    counts: list[int] = np.diff(np.searchsorted(instants, edges, "left")).tolist()
    return counts


def _status_times(
    ds: Dataset, prep: Prepared, done: CompletedItems
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (item, status) of the completed items: (row, band, ms) of the time spent there
    between work start and completion, re-entries summed."""
    last = len(prep.band_names) - 1
    chosen = np.zeros(len(ds.table), dtype=bool)
    chosen[done.rows] = True
    at = np.flatnonzero(chosen[prep.seg_row] & (prep.seg_band > 0) & (prep.seg_band < last))
    rows = prep.seg_row[at]
    clipped = np.minimum(prep.seg_end[at], ds.table.completion[rows]) - np.maximum(
        prep.seg_begin[at], ds.table.work_start[rows]
    )
    kept = clipped > 0
    rows, band, clipped = rows[kept], prep.seg_band[at][kept], clipped[kept]
    key = rows * len(prep.band_names) + band
    unique, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=clipped, minlength=len(unique))
    return unique // len(prep.band_names), unique % len(prep.band_names), sums


def time_in_state(ds: Dataset, prep: Prepared, done: CompletedItems) -> dict[str, Any]:
    """For the window's completed items: per Active/Waiting status the items that spent time
    in it, the median and total days, and its share of all Waiting time; Waiting statuses
    first, each group by total time, longest first."""
    _, band, ms = _status_times(ds, prep, done)
    totals = np.bincount(band, weights=ms, minlength=len(prep.band_names))
    waiting_total = sum(
        totals[index] for index, state in enumerate(prep.band_states) if state == WAITING
    )
    working_total = float(totals[1:-1].sum())
    rows = []
    for index in np.unique(band).tolist():
        spent = ms[band == index]
        state = prep.band_states[index]
        rows.append(
            {
                "status": prep.band_names[index],
                "state": state,
                "items": len(spent),
                "median_days": r4(float(np.median(spent)) / MS_DAY),
                "total_days": r4(float(totals[index]) / MS_DAY),
                "share_of_waiting": r2(totals[index] / waiting_total * 100)
                if state == WAITING and waiting_total
                else None,
            }
        )
    rows.sort(key=lambda entry: (entry["state"] != WAITING, -entry["total_days"]))
    return {
        "n": len(done.rows),
        "rows": rows,
        "waiting_percent": r2(waiting_total / working_total * 100) if working_total else None,
    }


def blocked_time(ds: Dataset, prep: Prepared, start: int, end: int) -> dict[str, Any]:
    """Flagged (blocked) time inside the window: per flow item flagged in it, its flagged
    days within `[start, end)` (intervals across an edge clipped to it), most first, and the
    sums; `flagged_at_end` counts the items flagged at the window's end (the state at an
    instant: a change at exactly `end` not applied)."""
    flags = ds.table.flags
    live = prep.live[flags.row]
    begin, stop = np.maximum(flags.begin, start), np.minimum(flags.end, end)
    inside = live & (stop > begin)
    unique, inverse = np.unique(flags.row[inside], return_inverse=True)
    per_item = np.bincount(inverse, weights=(stop - begin)[inside], minlength=len(unique))
    instant = just_before(end)
    at_end = np.unique(flags.row[live & (flags.begin <= instant) & (flags.end > instant)])
    order = np.argsort(-per_item, kind="stable")
    shown = order[:MAX_BLOCKED_ROWS]
    rows = unique[shown]
    flagged_now = np.isin(rows, at_end)
    return {
        "n": len(unique),
        "total_days": r4(float(per_item.sum()) / MS_DAY),
        "flagged_at_end": len(at_end),
        "items": [
            {
                "key": ds.table.key[row],
                "flow_type": ds.table.flow_type[row],
                "blocked_days": r4(ms / MS_DAY),
                "flagged_at_end": bool(now),
            }
            for row, ms, now in zip(
                rows.tolist(), per_item[shown].tolist(), flagged_now.tolist(), strict=True
            )
        ],
    }


def flow_analytics(
    ds: Dataset,
    start: int,
    end: int,
    zone: ZoneInfo,
    *,
    sle_days: float | None = None,
    sle_percent: float = 85.0,
) -> dict[str, Any]:
    """Every flow analytics chart for the window `[start, end)` (specs/flow-analytics.md)."""
    prep = prepared(ds)
    done = completed_in(ds, start, end)
    return {
        "scatter": scatter(ds, done, zone, sle_days, sle_percent),
        "histogram": histogram(done),
        "aging": aging(ds, prep, done, end),
        "cfd": cumulative_flow(ds, prep, start, end, zone),
        "time_in_state": time_in_state(ds, prep, done),
        "blocked": blocked_time(ds, prep, start, end),
    }


# ----------------------------------------------------------------------------- click-through


def _no_items() -> dict[str, Any]:
    """The request of a click that names nothing (a stale mark after the data changed)."""
    return {"title": "No items", "keys": []}


def selected_keys(
    ds: Dataset, start: int, end: int, zone: ZoneInfo, selection: dict[str, Any]
) -> dict[str, Any]:
    """The items behind one clicked mark, as the item panel's request `{"title", "keys"}`.

    `selection` names the chart and the mark: `{"chart": "scatter" | "aging" | "blocked",
    "key": K}`,
    `{"chart": "histogram", "start": days}`, `{"chart": "cfd", "band": name, "day": ISO
    date}`, `{"chart": "time_in_state", "status": name}`."""
    chart = selection.get("chart")
    prep = prepared(ds)
    keys = ds.table.key
    if chart in ("scatter", "aging", "blocked"):
        key = str(selection.get("key") or "")
        return {"title": key, "keys": [key] if key else []}
    if chart == "histogram":
        done = completed_in(ds, start, end)
        width = histogram(done)["width_days"]
        low = float(selection.get("start") or 0)
        rows = _bin_rows(done, width, low)
        title = f"Flow time {low:g}-{low + width:g} days"
        return {"title": title, "keys": keys[rows].tolist()}
    if chart == "cfd":
        name, day = selection.get("band"), selection.get("day")
        days, edges = day_edges(start, end, zone)
        if name not in prep.band_names or day not in days:
            return _no_items()
        band = prep.band_names.index(name)
        moment = int(edges[days.index(day) + 1])
        hold = _holding(prep, moment) & (prep.seg_band == band)
        rows = np.unique(prep.seg_row[hold])
        return {
            "title": f"{prep.band_names[band]} at the end of {day}",
            "keys": keys[rows].tolist(),
        }
    if chart == "time_in_state":
        name = selection.get("status")
        if name not in prep.band_names:
            return _no_items()
        rows, bands, _ = _status_times(ds, prep, completed_in(ds, start, end))
        chosen = rows[bands == prep.band_names.index(name)]
        return {"title": f"Time in {name}", "keys": keys[chosen].tolist()}
    return _no_items()


def _local_texts(instants: np.ndarray, zone: ZoneInfo) -> list[str]:
    """Instants as local wall-clock texts `YYYY-MM-DDTHH:MM:SS` (what Plotly's date axis
    reads), with the zone's offset looked up once per distinct hour."""
    if not len(instants):
        return []
    hours = instants // 3_600_000
    unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [_offset_ms(int(hour) * 3_600_000, zone) for hour in unique.tolist()], dtype=np.int64
    )
    local = (instants + offsets[inverse]).astype("datetime64[ms]").astype("datetime64[s]")
    texts: list[str] = np.datetime_as_string(local).tolist()
    return texts


def _offset_ms(instant: int, zone: ZoneInfo) -> int:
    from data.jira.jira_parser import EPOCH

    moment = (EPOCH + timedelta(milliseconds=instant)).astimezone(zone)
    offset = moment.utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * 1000)
