"""The DORA metrics, 2024 additions included, over the normalized dataset for `[start, end)`.

Each function returns `(values, n, excluded, notes)`; the metrics service adds status, tier
and the weekly series. Every window is a `searchsorted` on sorted columns plus a small slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from data.engine.dataset import (
    CANCELED,
    NEGATIVE,
    NO_COMMIT_DATE,
    NO_FAILED_DEPLOYMENT,
    OK,
    Dataset,
)
from data.engine.statistics import MS_DAY, counted, duration_values, r2, r4

Result = tuple[dict[str, Any], int, dict[str, int], dict[str, int]]

#: Why a deployment is left out (reading 12), in the order the checks are made.
DEPLOYMENTS_LEFT_OUT = (
    "not_production",
    "no_deployment_date",
    "released_without_release_date",
    "canceled",
)


def window(times: np.ndarray, start: int, end: int) -> slice:
    """The slice of a sorted time column inside `[start, end)`."""
    lo = int(np.searchsorted(times, start, "left"))
    hi = int(np.searchsorted(times, end, "left"))
    return slice(lo, hi)


def _in_window(times: np.ndarray, start: int, end: int) -> int:
    part = window(times, start, end)
    return int(part.stop - part.start)


def deployments_left_out(ds: Dataset, start: int, end: int) -> dict[str, int]:
    """Deployments left out of the window, by reason (reading 12): dated ones by their time,
    undated ones (which no window can place) in every window."""
    dep = ds.deployments
    reasons = dict(dep.undated)
    reasons["not_production"] = reasons.get("not_production", 0) + _in_window(
        dep.not_production_times, start, end
    )
    reasons["canceled"] = _in_window(dep.canceled_times, start, end)
    return counted({reason: reasons.get(reason, 0) for reason in DEPLOYMENTS_LEFT_OUT})


def deployment_frequency(ds: Dataset, start: int, end: int) -> Result:
    """Production deployments in the window, per day and per week."""
    part = window(ds.deployments.times, start, end)
    count = part.stop - part.start
    days = (end - start) / MS_DAY
    values = {"count": count, "per_day": r4(count / days), "per_week": r4(count / (days / 7))}
    return values, count, deployments_left_out(ds, start, end), {}


def change_failure_rate(ds: Dataset, start: int, end: int) -> Result:
    """Failed production deployments / production deployments in the window x 100."""
    dep = ds.deployments
    part = window(dep.times, start, end)
    total = part.stop - part.start
    failed = int(dep.failed_cum[part.stop] - dep.failed_cum[part.start])
    values = {
        "percent": r2(failed / total * 100) if total else None,
        "failed": failed,
        "deployments": total,
    }
    return values, total, deployments_left_out(ds, start, end), {}


def deployment_rework_rate(ds: Dataset, start: int, end: int) -> Result:
    """Rework production deployments / production deployments in the window x 100."""
    dep = ds.deployments
    part = window(dep.times, start, end)
    total = part.stop - part.start
    rework = int(dep.rework_cum[part.stop] - dep.rework_cum[part.start])
    values = {
        "percent": r2(rework / total * 100) if total else None,
        "rework": rework,
        "deployments": total,
    }
    return values, total, deployments_left_out(ds, start, end), {}


def lead_time_for_changes(ds: Dataset, start: int, end: int) -> Result:
    """Deployed minus commit date for changes deployed in the window, median and p85."""
    ch = ds.changes
    part = window(ch.deployed, start, end)
    codes = ch.code[part]
    ok = codes == OK
    durations = ch.lead[part][ok]
    excluded = {
        "canceled": int(np.count_nonzero(codes == CANCELED)),
        "no_commit_date": int(np.count_nonzero(codes == NO_COMMIT_DATE)),
        "negative": int(np.count_nonzero(codes == NEGATIVE)),
    }
    notes = {"start_not_recorded": int(np.count_nonzero(ch.start_not_recorded[part][ok]))}
    values = duration_values(durations, hours=True)
    return values, len(durations), counted(excluded), counted(notes)


def recovery_time(ds: Dataset, start: int, end: int) -> Result:
    """Resolved minus detected for incidents resolved in the window, median and p85."""
    inc = ds.incidents
    part = window(inc.resolved, start, end)
    codes = inc.code[part]
    durations = inc.recovery[part][codes == OK]
    excluded = {
        "canceled": int(np.count_nonzero(codes == CANCELED)),
        "negative": int(np.count_nonzero(codes == NEGATIVE)),
    }
    return duration_values(durations, hours=True), len(durations), counted(excluded), {}


def failed_deployment_recovery_time(ds: Dataset, start: int, end: int) -> Result:
    """Resolved minus the failed deployment's time, for incidents resolved in the window that
    failed a deployment (DORA 2024), median and p85."""
    inc = ds.incidents
    part = window(inc.resolved, start, end)
    codes = inc.failed_code[part]
    durations = inc.failed_recovery[part][codes == OK]
    excluded = {
        "canceled": int(np.count_nonzero(codes == CANCELED)),
        "negative": int(np.count_nonzero(codes == NEGATIVE)),
    }
    notes = {"no_failed_deployment": int(np.count_nonzero(codes == NO_FAILED_DEPLOYMENT))}
    values = duration_values(durations, hours=True)
    return values, len(durations), counted(excluded), counted(notes)
