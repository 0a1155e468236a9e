"""The metrics report as JSON and CSV: the page's export buttons and `app.py metrics` print these.

JSON is the whole report (weekly series included). CSV is one row per metric statistic, as
`specs/metrics-dashboard.md` ("CSV shape") fixes it: nested values flatten with dots,
excluded counts become `excluded.<reason>` rows, and the weekly series is left to the JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from configuration.metric_defaults import ALL_METRICS

CSV_HEADER = (
    "metric",
    "statistic",
    "value",
    "unit",
    "tier",
    "n",
    "status",
    "period_start",
    "period_end",
    "time_zone",
    "deployment_source",
)

_HEAD_KEYS = ("period", "settings", "dataset")
FORMATS = ("json", "csv")


def _ordered(report: dict[str, Any]) -> dict[str, Any]:
    """The report with `period`, `settings`, `dataset`, then the metrics in dashboard order."""
    first = [key for key in (*_HEAD_KEYS, *ALL_METRICS) if key in report]
    rest = [key for key in report if key not in first]
    return {key: report[key] for key in (*first, *rest)}


def report_to_json(report: dict[str, Any]) -> str:
    """The whole report as indented JSON; the same report always gives the same text."""
    return json.dumps(_ordered(report), indent=2, ensure_ascii=False)


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(dotted name, scalar) pairs; `[low, high]` pairs become `.low` / `.high`."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        yield f"{prefix}.low", value[0]
        yield f"{prefix}.high", value[1]
    else:
        yield prefix, value


def statistic_unit(metric: dict[str, Any], statistic: str) -> str:
    """The unit of one statistic: the metric's unit for its headline, else read off its name."""
    if statistic == metric.get("headline"):
        return metric.get("unit") or ""
    last = statistic.rsplit(".", 1)[-1]
    if statistic.startswith("excluded."):
        return "items"
    if last.endswith("_hours"):
        return "hours"
    if last.endswith("_days"):
        return "days"
    if last.endswith("percent") or statistic.startswith(("shares.", "reference.")):
        return "%"
    if last == "per_day":
        return "per day"
    if last.endswith("per_week"):
        return "per week"
    return ""


def _cell(value: Any) -> str:
    """A CSV cell: empty for no value, lower-case booleans, numbers as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_rows(report: dict[str, Any]) -> Iterator[dict[str, str]]:
    """One dict per CSV row, keyed by `CSV_HEADER`."""
    period = report.get("period") or {}
    settings = report.get("settings") or {}
    common = {
        "period_start": _cell(period.get("start")),
        "period_end": _cell(period.get("end")),
        "time_zone": _cell(period.get("time_zone") or settings.get("time_zone")),
        "deployment_source": _cell(settings.get("deployment_source")),
    }
    for key in ALL_METRICS:
        metric = report.get(key)
        if not isinstance(metric, dict):
            continue
        per_metric = {
            "metric": key,
            "tier": _cell(metric.get("tier")),
            "n": _cell(metric.get("n")),
            "status": _cell(metric.get("status")),
        }
        statistics = list(_flatten("", metric.get("values") or {}))
        statistics += [
            (f"excluded.{reason}", count)
            for reason, count in (metric.get("excluded") or {}).items()
        ]
        for statistic, value in statistics:
            yield {
                **per_metric,
                "statistic": statistic,
                "value": _cell(value),
                "unit": statistic_unit(metric, statistic),
                **common,
            }


def report_to_csv(report: dict[str, Any]) -> str:
    """The period's values as CSV, one row per metric statistic (no weekly series)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    return buffer.getvalue()


def export_filename(report: dict[str, Any], fmt: str) -> str:
    """`flowdash-metrics-<first day>_<last day>.<fmt>`, the days in the report's zone."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use json or csv")
    period = report.get("period") or {}
    try:
        first = datetime.fromisoformat(period["start"]).date()
        last = (datetime.fromisoformat(period["end"]) - timedelta(milliseconds=1)).date()
    except (KeyError, TypeError, ValueError):
        return f"flowdash-metrics.{fmt}"
    return f"flowdash-metrics-{first.isoformat()}_{last.isoformat()}.{fmt}"
