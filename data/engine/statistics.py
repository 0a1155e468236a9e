"""Rounding and percentile helpers shared by the calculators (spec decision 25, bit for bit)."""

from __future__ import annotations

import numpy as np

MS_HOUR = 3_600_000
MS_DAY = 86_400_000


def r4(value: float | None) -> float | None:
    """Hours, days, rates, averages: 4 decimals (Python's round on a Python float)."""
    return None if value is None else round(float(value), 4)


def r2(value: float | None) -> float | None:
    """Percents: 2 decimals."""
    return None if value is None else round(float(value), 2)


def counted(reasons: dict[str, int]) -> dict[str, int]:
    """Only the reasons with a count above zero, as plain ints."""
    return {reason: int(count) for reason, count in reasons.items() if count > 0}


def duration_values(durations: np.ndarray, *, hours: bool) -> dict[str, float | None]:
    """Median and p85 of int64 ms durations in days (and hours); None when there are none."""
    median: float | None
    p85: float | None
    if len(durations):
        median, p85 = (float(x) for x in np.percentile(durations, [50, 85]))
    else:
        median = p85 = None
    days = {
        "median_days": None if median is None else r4(median / MS_DAY),
        "p85_days": None if p85 is None else r4(p85 / MS_DAY),
    }
    if not hours:
        return days
    return {
        "median_hours": None if median is None else r4(median / MS_HOUR),
        "p85_hours": None if p85 is None else r4(p85 / MS_HOUR),
        **days,
    }
