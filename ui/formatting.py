"""Number and unit formatting shared by the cards, the charts and the browser tests.

One place decides how a value reads on screen, so that a test can compare a card's text with
`format_value(report[metric])` computed from the CLI report on the same data.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from configuration.metric_defaults import FLOW_TYPES

INSUFFICIENT_DATA = "Insufficient data"
NONE_IN_PERIOD = "None in period"

#: Reason keys of `excluded` / `notes` that read better with a hand-written phrase.
REASON_LABELS: dict[str, str] = {
    "canceled": "canceled",
    "no_commit_date": "no commit date",
    "negative": "negative duration",
    "start_not_recorded": "start not recorded",
    "no_active_or_waiting_time": "no active or waiting time",
    "no_story_points": "no story points",
}


def format_number(value: float | int | None) -> str:
    """A number as people read it: integers whole, others with 2 significant decimals at most.

    0.5714 -> "0.57", 3.25 -> "3.25", 12.345 -> "12.3", 1234.5 -> "1,235"; None -> "–".
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def format_percent(value: float | None) -> str:
    """A percentage with one decimal and its sign: 12.345 -> "12.3 %"."""
    if value is None:
        return "–"
    return f"{value:.1f} %"


def format_value(metric: dict[str, Any]) -> str:
    """The headline text a card shows for one metric object of the report.

    "Insufficient data" when the dataset lacks what the metric needs, "None in period" when
    the headline statistic has no value; never a made-up 0. Flow distribution has no single
    headline: its text lists every share ("Feature 45.2 · Defect 20.1").
    """
    if metric.get("status") == "insufficient_data":
        return INSUFFICIENT_DATA
    headline = metric.get("headline")
    values = metric.get("values") or {}
    if headline is None:
        shares = values.get("shares") or {}
        if not shares:
            return NONE_IN_PERIOD
        return " · ".join(f"{name} {format_number(share)}" for name, share in ordered_types(shares))
    value = values.get(headline)
    if value is None:
        return NONE_IN_PERIOD
    return format_number(value)


def ordered_types(by_type: dict[str, Any]) -> list[tuple[str, Any]]:
    """Flow types in the canonical order (Feature, Defect, Risk, Debt, Other), then any other."""
    rank = {name: index for index, name in enumerate(FLOW_TYPES)}
    return sorted(by_type.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def format_reason(reason: str) -> str:
    """A reason key as words: "no_commit_date" -> "no commit date"."""
    return REASON_LABELS.get(reason, reason.replace("_", " "))


def format_counts(counts: dict[str, int] | None) -> str:
    """Reason counts as one line: {"canceled": 3} -> "canceled 3"."""
    if not counts:
        return ""
    return " · ".join(f"{format_reason(reason)} {count:,}" for reason, count in counts.items())


def period_days(period: dict[str, Any]) -> tuple[date, date] | None:
    """The first and last day of a report's period (half-open: the last day is the day of its
    last instant), or None when the period cannot be read."""
    try:
        first = datetime.fromisoformat(period["start"]).date()
        last = (datetime.fromisoformat(period["end"]) - timedelta(milliseconds=1)).date()
    except (KeyError, TypeError, ValueError):
        return None
    return first, last


def format_period(period: dict[str, Any]) -> str:
    """The period line above the cards: "Last 30 days: 2024-05-01 – 2024-05-30 (Europe/Berlin)".

    The period is half-open, so the last day shown is the day of its last instant.
    """
    label = period.get("label") or "Period"
    zone = period.get("time_zone")
    days = period_days(period)
    if days is None:
        return label
    first, last = days
    text = label if first.isoformat() in label else f"{label}: {first} – {last}"
    return f"{text} ({zone})" if zone else text


def partial_week(period: dict[str, Any] | None, weekly: list[dict[str, Any]]) -> int | None:
    """Days of the last ISO week that lie in the period (1-6), or None when it is whole.

    The period's end falls inside its last week on most days (today is a Tuesday: 1 day of
    it has data); that week's values cover only those days and must not read as a drop."""
    if not period or not weekly or not period.get("end"):
        return None
    try:
        end = datetime.fromisoformat(period["end"])
        monday = date.fromisoformat(weekly[-1]["week_start"])
    except (KeyError, TypeError, ValueError):
        return None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=end.tzinfo)
    days = math.ceil((end - start).total_seconds() / 86400)
    return days if 0 < days < 7 else None
