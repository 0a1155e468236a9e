"""Every workspace's nine metrics for the same period, side by side.

`compare_workspaces` is what the Compare view and `python app.py metrics --all-workspaces`
both show: one entry per workspace with its full report (the shape of `app.py metrics`), or,
when it has nothing to show, a status and a message instead. Each workspace is computed as
the dashboard computes it (its own settings, zone, caches and kept table; the sample project
when JIRA is not set), so a workspace's column equals its cards for that period.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from configuration.metric_defaults import ALL_METRICS
from data.engine.periods import parse_now, parse_period, resolve_time_zone
from data.errors import UserError
from data.services.export import CSV_HEADER, csv_rows
from data.services.metrics_service import NO_JIRA_DATA, report_for_project
from data.services.project import current_project
from data.services.source_options import SourceOptions
from data.storage.persistence import load_settings
from data.storage.workspaces import list_workspaces

#: Sort keys besides a metric key: the workspace's name.
SORT_BY_NAME = "name"


def _entry(space: Any, period: str, now: datetime | None, tz: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"workspace": space.name, "slug": space.slug, "current": space.current}
    try:
        settings = load_settings(space.root)
        project = current_project(space.root, settings)
        if project.source == "jira" and not project.issues:
            return {**entry, "status": "no_data", "message": NO_JIRA_DATA, "report": None}
        report = report_for_project(project, settings, period, now=now, tz=tz, root=space.root)
    except UserError as exc:
        return {**entry, "status": "error", "message": str(exc), "report": None}
    return {**entry, "status": "ok", "message": None, "report": report}


def compare_workspaces(
    data_root: Path, period: str, now: datetime | None = None, *, tz: str | None = None
) -> dict[str, Any]:
    """`{"period": period text, "workspaces": [entry, ...]}` for every workspace ("default"
    first, then by name). A workspace that cannot be computed (no data yet, broken settings)
    has `report` None and says why; the others are not held back by it. A bad period is a
    `UserError` before any workspace is read."""
    parse_period(period, now or datetime.now(UTC), resolve_time_zone(tz or "UTC"))
    return {
        "period": period,
        "workspaces": [_entry(space, period, now, tz) for space in list_workspaces(data_root)],
    }


def headline_number(metric: dict[str, Any] | None) -> float | None:
    """The number a metric is sorted by: its headline value (flow distribution: its `n`)."""
    if not metric or metric.get("status") == "insufficient_data":
        return None
    headline = metric.get("headline")
    value = metric.get("n") if headline is None else (metric.get("values") or {}).get(headline)
    return float(value) if isinstance(value, int | float) else None


def sorted_entries(
    entries: list[dict[str, Any]], by: str | None, descending: bool = False
) -> list[dict[str, Any]]:
    """The entries sorted by a metric's headline (no value last, either way) or by name."""
    if by not in ALL_METRICS:
        return sorted(entries, key=lambda e: e["workspace"].casefold(), reverse=descending)

    def number(entry: dict[str, Any]) -> float | None:
        return headline_number((entry.get("report") or {}).get(by))

    valued = [e for e in entries if number(e) is not None]
    valued.sort(key=lambda e: (number(e), e["workspace"].casefold()), reverse=descending)
    return valued + [e for e in entries if number(e) is None]


def comparison_for_shown(
    data_root: Path, shown: Any, by: str | None = None, descending: bool = False
) -> dict[str, Any]:
    """The Compare view's model for the page's `shown-inputs` (`{"period", "now"}`), sorted."""
    if not isinstance(shown, dict) or not isinstance(shown.get("period"), str):
        raise UserError("Show some numbers first, then compare the workspaces.")
    try:
        now = datetime.fromisoformat(str(shown.get("now")))
    except ValueError:
        raise UserError(
            "The page sent a period this server cannot read; choose one again."
        ) from None
    result = compare_workspaces(data_root, shown["period"], now)
    result["workspaces"] = sorted_entries(result["workspaces"], by, descending)
    result["sort"] = {"by": by or SORT_BY_NAME, "descending": descending}
    return result


def comparison_to_csv(result: dict[str, Any]) -> str:
    """`workspace,` then the columns of `app.py metrics --format csv`; one `status` row for a
    workspace without numbers."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=("workspace", *CSV_HEADER), lineterminator="\n")
    writer.writeheader()
    for entry in result["workspaces"]:
        if entry["report"] is None:
            writer.writerow({"workspace": entry["workspace"], "status": entry["status"]})
            continue
        for row in csv_rows(entry["report"]):
            writer.writerow({"workspace": entry["workspace"], **row})
    return buffer.getvalue()


def comparison_for_cli(data_root: Path, source: SourceOptions, *, output: str = "json") -> str:
    """`python app.py metrics --all-workspaces`: every workspace's report, as JSON or CSV
    (`output`). `source.input_file` and `source.deployments` are refused: they would not apply
    to every workspace."""
    if source.input_file:
        raise UserError("--all-workspaces reads every workspace's data; leave out --input.")
    if source.deployments:
        raise UserError(
            "--all-workspaces uses each workspace's own deployment source; leave out --deployments."
        )
    zone = resolve_time_zone(source.tz)  # no offset: --tz, else the machine's
    moment = parse_now(source.now, zone)
    result = compare_workspaces(data_root, source.period, moment, tz=source.tz)
    if output == "csv":
        return comparison_to_csv(result)
    return orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
