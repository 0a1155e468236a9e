"""The five Flow metrics over the normalized dataset, for one window `[start, end)`.

Each function returns `(values, n, excluded, notes)`, like the DORA calculator. Completed
items are a slice of columns sorted by completion; the load at an instant is two
`searchsorted` calls per state.
"""

from __future__ import annotations

from typing import Any, overload
from zoneinfo import ZoneInfo

import numpy as np

from configuration.metric_defaults import DISTRIBUTION_REFERENCE
from data.dora_calculator import Result, window
from data.engine.dataset import CANCELED_LOAD, NEGATIVE, OK, Dataset
from data.engine.field_mapper import ACTIVE, WAITING
from data.engine.periods import week_ends_in
from data.engine.statistics import MS_DAY, counted, duration_values, r2, r4


def _completed(ds: Dataset, start: int, end: int) -> tuple[slice, np.ndarray, int]:
    """The window's slice of completed items, the mask of the non-canceled ones, and how many
    canceled ones were left out."""
    part = window(ds.completed.times, start, end)
    canceled = ds.completed.canceled[part]
    return part, ~canceled, int(np.count_nonzero(canceled))


def _type_counts(ds: Dataset, part: slice, live: np.ndarray) -> dict[str, int]:
    names = ds.completed.type_names
    counts = np.bincount(ds.completed.type_code[part][live], minlength=len(names))
    return {names[index]: int(count) for index, count in enumerate(counts) if count}


def flow_velocity(ds: Dataset, start: int, end: int) -> Result:
    """Flow items completed in the window: total and per week, by type, and story points."""
    part, live, canceled = _completed(ds, start, end)
    weeks = (end - start) / MS_DAY / 7
    total = int(np.count_nonzero(live))
    by_type = {
        kind: {"count": count, "per_week": r4(count / weeks)}
        for kind, count in _type_counts(ds, part, live).items()
    }
    values: dict[str, Any] = {"total": total, "per_week": r4(total / weeks), "by_type": by_type}
    notes = {}
    if ds.story_points:
        points = ds.completed.points[part][live]
        order = ds.completed.order[part][live]
        in_input_order = points[np.argsort(order, kind="stable")]
        has_points = ~np.isnan(in_input_order)
        points_total = sum(in_input_order[has_points].tolist())  # same order as a plain loop
        values["points_total"] = r4(points_total)
        values["points_per_week"] = r4(points_total / weeks)
        notes["no_story_points"] = int(np.count_nonzero(~has_points))
    return values, total, counted({"canceled": canceled}), counted(notes)


def flow_time(ds: Dataset, start: int, end: int) -> Result:
    """Completion minus work start for items completed in the window: median and p85 days."""
    part, live, canceled = _completed(ds, start, end)
    codes = ds.completed.flow_code[part][live]
    ok = codes == OK
    durations = ds.completed.flow_time[part][live][ok]
    excluded = {"canceled": canceled, "negative": int(np.count_nonzero(codes == NEGATIVE))}
    notes = {
        "start_not_recorded": int(np.count_nonzero(ds.completed.start_not_recorded[part][live][ok]))
    }
    return (
        duration_values(durations, hours=False),
        len(durations),
        counted(excluded),
        counted(notes),
    )


def flow_efficiency(ds: Dataset, start: int, end: int) -> Result:
    """Active / (Active + Waiting) time, summed over items completed in the window. `n` counts
    every item in the sums (reading 8); the per-item median leaves out those with neither."""
    part, live, canceled = _completed(ds, start, end)
    percents = ds.completed.item_percent[part][live]
    with_time = ~np.isnan(percents)
    active = int(ds.completed.active[part][live][with_time].sum())
    waiting = int(ds.completed.waiting[part][live][with_time].sum())
    span = active + waiting
    kept = percents[with_time]
    values = {
        "percent": r2(active / span * 100) if span else None,
        "median_item_percent": r2(float(np.percentile(kept, 50))) if len(kept) else None,
        "active_days": r4(active / MS_DAY),
        "waiting_days": r4(waiting / MS_DAY),
    }
    notes = {"no_active_or_waiting_time": int(np.count_nonzero(~with_time))}
    return values, len(percents), counted({"canceled": canceled}), counted(notes)


@overload
def just_before(moment: int) -> int: ...
@overload
def just_before(moment: np.ndarray) -> np.ndarray: ...
def just_before(moment: int | np.ndarray) -> int | np.ndarray:
    """The instant a load "at `moment`" is read at: transitions (and creations) at exactly
    `moment` are not yet applied (readings 2 and 3), so the last millisecond before it
    (element by element for an array of moments)."""
    return moment - 1


def load_at(ds: Dataset, moment: int) -> dict[str, int]:
    """Non-canceled flow items Active / Waiting at an instant, read `just_before` it."""
    before = just_before(moment)
    return {ACTIVE: ds.load.count(ACTIVE, before), WAITING: ds.load.count(WAITING, before)}


def flow_load(ds: Dataset, start: int, end: int, *, weekly_average: bool = True) -> Result:
    """Items Active or Waiting at the window's end (exclusive); the average over the week ends
    with `start < week end <= end`."""
    by_state = load_at(ds, end)
    at_end = by_state[ACTIVE] + by_state[WAITING]
    values: dict[str, Any] = {"at_end": at_end}
    if weekly_average:
        loads = [
            sum(load_at(ds, moment).values())
            for moment in week_ends_in(start, end, ZoneInfo(ds.time_zone))
        ]
        values["weekly_average"] = r4(sum(loads) / len(loads)) if loads else None
    values["by_state"] = by_state
    canceled = ds.load.count(CANCELED_LOAD, just_before(end))
    return values, at_end, counted({"canceled": canceled}), {}


def flow_distribution(ds: Dataset, start: int, end: int, *, reference: bool = True) -> Result:
    """Share of each flow type among items completed in the window."""
    part, live, canceled = _completed(ds, start, end)
    counts = _type_counts(ds, part, live)
    total = sum(counts.values())
    values: dict[str, Any] = {
        "shares": {kind: r2(count / total * 100) for kind, count in counts.items()},
        "counts": counts,
    }
    if reference:
        values["reference"] = {k: [lo, hi] for k, (lo, hi) in DISTRIBUTION_REFERENCE.items()}
    return values, total, counted({"canceled": canceled}), {}
