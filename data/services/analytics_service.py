"""The flow analytics the dashboard shows: one call per page action, from the data directory.

Each function reads the settings and the current project (sample or JIRA cache), builds or
reuses the normalized dataset (`build_dataset` returns the cached one when nothing changed)
and hands the window to `data/engine/flow_analytics.py`. Bad input raises `UserError` with a line a
user can act on, before any work.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from configuration.settings import merge_settings
from data.engine.dataset import Dataset, build_dataset
from data.engine.field_mapper import full_mappings
from data.engine.flow_analytics import flow_analytics, selected_keys
from data.engine.periods import Period, parse_period, resolve_time_zone
from data.errors import UserError
from data.jira.jira_parser import to_ms
from data.services.metrics_service import NO_JIRA_DATA
from data.services.project import current_project
from data.storage.persistence import load_settings, save_settings
from data.storage.project_data import ProjectData


def _view(root: Path, period: str, now: datetime) -> tuple[Dataset, Period, dict[str, Any]]:
    settings = load_settings(root)
    zone = resolve_time_zone(settings.get("time_zone"))
    per = parse_period(period, now, zone)
    project = current_project(root, settings)
    if not project.issues:
        raise UserError(NO_JIRA_DATA)
    dataset = build_dataset(project, full_mappings(settings.get("mappings")), zone)
    return dataset, per, settings


def service_level(settings: dict[str, Any]) -> tuple[float | None, float]:
    """The saved service-level expectation: (days or None when unset, percent)."""
    analytics = settings.get("analytics") or {}
    days = analytics.get("sle_days")
    percent = analytics.get("sle_percent") or 85
    return (float(days) if days else None), float(percent)


def saved_service_level(root: Path) -> dict[str, float | None]:
    """The service-level expectation saved in the settings: `{"days", "percent"}`."""
    days, percent = service_level(load_settings(root))
    return {"days": days, "percent": percent}


def analytics_for_view(root: Path, period: str, now: datetime) -> dict[str, Any]:
    """Every flow analytics chart of the current project for `period` ending at `now`."""
    dataset, per, settings = _view(root, period, now)
    return _analytics(dataset, per.start_ms, per.end_ms, per.label, settings)


def analytics_for_report(
    project: ProjectData, settings: dict[str, Any], report: dict[str, Any]
) -> dict[str, Any]:
    """Every flow analytics chart of `project` for the very window, zone and deployment source
    of a metrics report (the offline HTML report's section): the page's charts for the same
    data and period, since the window is read back from the report itself."""
    period = report["period"]
    zone = resolve_time_zone(period["time_zone"])
    mappings = full_mappings(settings.get("mappings"))
    # the report's own mappings: the dataset it was computed from is reused, not rebuilt
    mappings["deployment_source"] = report["settings"]["deployment_source"]
    dataset = build_dataset(project, mappings, zone)
    start = to_ms(datetime.fromisoformat(period["start"]))
    end = to_ms(datetime.fromisoformat(period["end"]))
    return _analytics(dataset, start, end, period["label"], settings)


def _analytics(
    dataset: Dataset, start: int, end: int, label: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """The charts of `[start, end)` with the saved service level (one place for both views)."""
    sle_days, sle_percent = service_level(settings)
    zone = resolve_time_zone(dataset.time_zone)
    result = flow_analytics(
        dataset,
        start,
        end,
        zone,
        sle_days=sle_days,
        sle_percent=sle_percent,
    )
    return {
        "period": label,
        # the window as a report's period holds it (ISO instants in the zone): chart names
        "window": {
            "start": datetime.fromtimestamp(start / 1000, zone).isoformat(),
            "end": datetime.fromtimestamp(end / 1000, zone).isoformat(),
        },
        "issues": dataset.issues,
        "sle_setting": {"days": sle_days, "percent": sle_percent},
        **result,
    }


def items_for_view(
    root: Path, period: str, now: datetime, selection: dict[str, Any]
) -> dict[str, Any]:
    """The item panel's request `{"title", "keys"}` for one clicked mark of a chart."""
    dataset, per, _ = _view(root, period, now)
    return selected_keys(
        dataset, per.start_ms, per.end_ms, resolve_time_zone(per.time_zone), selection
    )


def save_service_level(root: Path, days: Any, percent: Any) -> dict[str, Any]:
    """Save the service-level expectation ("`percent` % within `days` days"); empty days
    turns it off. Raises UserError (nothing saved) for a value that is not a positive number
    or a percent outside 1-100."""
    number_days = _number(days, "Service level days")
    number_percent = _number(percent, "Service level percent") or 85.0
    if number_days is not None and number_days <= 0:
        raise UserError("Service level days must be above 0 (or empty to turn it off).")
    if not 1 <= number_percent <= 100:
        raise UserError("Service level percent must be between 1 and 100.")
    settings = merge_settings(
        load_settings(root),
        {"analytics": {"sle_days": number_days, "sle_percent": number_percent}},
    )
    save_settings(root, settings)
    return settings


def _number(value: Any, label: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{label}: {str(value)[:20]!r} is not a number.") from None
    if not math.isfinite(number):
        raise UserError(f"{label} must be a finite number.")
    return number
