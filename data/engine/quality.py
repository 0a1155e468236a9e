"""The data-quality report: what makes the numbers less trustworthy, with the items concerned.

Each rule finds table rows of the normalized dataset (and, where the table keeps no trace,
reads the raw issues once): items done without ever being Active or Waiting, items moved back
from Done, negative durations, statuses without a category, truncated changelogs,
deployments without an environment or a time, incidents linked to no deployment, versions
released without a date, duplicate keys, work start before creation. A rule reports its
count, the keys, the metrics it affects and a JQL (`key in (...)`) finding them in JIRA.
The report covers the whole project, not a period.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from data.engine.dataset import NEGATIVE, Dataset, no_deployment_date_rows, release_dates
from data.engine.evidence import dataset_and_mapper, jira_part, raw_fields
from data.engine.field_mapper import DONE, FieldMapper, fold_name
from data.engine.issue_table import NONE, NOT_DEPLOYMENT
from data.engine.periods import resolve_time_zone
from data.services.metrics_service import cli_project
from data.services.project import current_project
from data.storage.persistence import load_settings
from data.storage.project_data import ProjectData

#: Status categories JIRA defines; any other (or none) leaves the state to a guess.
KNOWN_CATEGORIES = ("new", "indeterminate", "done")
#: Values of an environment field that name no environment.
_EMPTY: tuple[object, ...] = (None, "", [], {})


@dataclass(frozen=True)
class Rule:
    """One data-quality check: what it finds, which metrics it weakens, how to find its rows."""

    key: str
    title: str
    metrics: tuple[str, ...]
    rows: Callable[[Dataset, Sequence[dict[str, Any]], FieldMapper], np.ndarray]


def _statuses(raw: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(id, name) of the issue's current status and of every status its changelog names."""
    fields = raw.get("fields") or {}
    status = fields.get("status") or {}
    found = [(status.get("id"), status.get("name"))] if status.get("name") else []
    for history in (raw.get("changelog") or {}).get("histories") or ():
        for item in history.get("items") or ():
            if item.get("field") == "status":
                found.append((item.get("from"), item.get("fromString")))
                found.append((item.get("to"), item.get("toString")))
    return [pair for pair in found if pair[1]]


def _rows_where(
    raws: Sequence[dict[str, Any]], test: Callable[[dict[str, Any]], bool]
) -> np.ndarray:
    return np.array([row for row, raw in enumerate(raws) if test(raw)], dtype=np.int64)


def _done_without_active(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    table = ds.table
    return np.flatnonzero((table.completion != NONE) & table.start_not_recorded)


def _moved_back_from_done(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    def moved_back(raw: dict[str, Any]) -> bool:
        for history in (raw.get("changelog") or {}).get("histories") or ():
            for item in history.get("items") or ():
                if item.get("field") != "status":
                    continue
                before = mapper.state(item.get("from"), item.get("fromString"))
                after = mapper.state(item.get("to"), item.get("toString"))
                if before == DONE and after != DONE:
                    return True
        return False

    return _rows_where(raws, moved_back)


def _negative_durations(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    done = ds.completed
    parts = (
        ds.changes.rows[ds.changes.code == NEGATIVE],
        ds.incidents.rows[ds.incidents.code == NEGATIVE],
        ds.incidents.rows[ds.incidents.failed_code == NEGATIVE],  # resolved before it failed
        done.order[(done.flow_code == NEGATIVE) & ~done.canceled],
    )
    return np.unique(np.concatenate(parts))


def _unknown_status_category(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    explicit = mapper.explicit_states

    def unmapped(raw: dict[str, Any]) -> bool:
        return any(
            fold_name(name or "") not in explicit
            and mapper.category(sid, name) not in KNOWN_CATEGORIES
            for sid, name in _statuses(raw)
        )

    unknown = ds.table.unknown.row  # no status list and no issue knows their category
    return np.unique(np.concatenate((unknown, _rows_where(raws, unmapped))))


def _truncated(ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper) -> np.ndarray:
    return np.flatnonzero(ds.table.truncated)


def _deployment_without_environment_or_time(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    """Deployment issues with an empty environment field, and production ones without a
    deployment time (the dataset's `no_deployment_date`)."""
    table = ds.table
    env_field = mapper.mappings.get("environment_field")
    without_env = np.zeros(0, dtype=np.int64)
    if env_field:
        deployments = np.flatnonzero(table.deployment_role != NOT_DEPLOYMENT).tolist()
        without_env = np.array(
            [row for row in deployments if raw_fields(raws, row).get(env_field) in _EMPTY],
            dtype=np.int64,
        )
    return np.concatenate((without_env, no_deployment_date_rows(table)))


def _incident_without_deployment(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    table = ds.table
    keys = table.key
    deployments = set(keys[table.deploy_time != NONE].tolist())
    link_rows, link_keys = table.links.row, table.links.key
    linked = np.zeros(len(table), dtype=bool)
    # an incident links to a deployment, or a deployment links to the incident
    to_deployment = np.fromiter((key in deployments for key in link_keys.tolist()), bool)
    linked[link_rows[to_deployment]] = True
    row_of = {key: row for row, key in enumerate(keys.tolist())}
    from_deployment = np.fromiter((keys[row] in deployments for row in link_rows.tolist()), bool)
    for key in link_keys[from_deployment].tolist():
        if key in row_of:
            linked[row_of[key]] = True
    return np.flatnonzero(table.is_incident & ~table.canceled & ~linked)


def _version_without_date(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    """Issues carrying a released fixVersion that no issue gives a release date (reading 12:
    the fixVersions source leaves it out as `released_without_release_date`)."""
    undated = {name for name, when in release_dates(ds.table).items() if when == NONE}
    versions = ds.table.versions
    named = np.fromiter((name in undated for name in versions.name.tolist()), bool)
    return versions.row[named] if len(named) else np.zeros(0, dtype=np.int64)


def _duplicate_keys(ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper) -> np.ndarray:
    keys = ds.table.key.tolist()
    twice = {key for key, count in Counter(keys).items() if count > 1}
    return np.array([row for row, key in enumerate(keys) if key in twice], dtype=np.int64)


def _start_before_creation(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> np.ndarray:
    table = ds.table
    known = (table.work_start != NONE) & (table.created != NONE)
    return np.flatnonzero(known & (table.work_start < table.created))


_FLOW_TIMES = ("lead_time_for_changes", "flow_time", "flow_efficiency")
RULES: tuple[Rule, ...] = (
    Rule(
        "done_without_active",
        "Done without ever being Active or Waiting",
        _FLOW_TIMES,
        _done_without_active,
    ),
    Rule(
        "moved_back_from_done",
        "Moved backwards from Done",
        ("flow_velocity", "flow_time", "flow_load", "flow_distribution"),
        _moved_back_from_done,
    ),
    Rule(
        "negative_durations",
        "Negative durations (left out of the medians)",
        ("lead_time_for_changes", "recovery_time", "failed_deployment_recovery_time", "flow_time"),
        _negative_durations,
    ),
    Rule(
        "status_without_category",
        "Statuses with no known category (their state is a guess)",
        ("flow_time", "flow_efficiency", "flow_load", "flow_velocity"),
        _unknown_status_category,
    ),
    Rule(
        "truncated_changelog",
        "Changelogs still truncated",
        ("lead_time_for_changes", "flow_time", "flow_efficiency", "flow_load"),
        _truncated,
    ),
    Rule(
        "deployment_without_environment_or_time",
        "Deployments without an environment or a time",
        (
            "deployment_frequency",
            "change_failure_rate",
            "deployment_rework_rate",
            "lead_time_for_changes",
        ),
        _deployment_without_environment_or_time,
    ),
    Rule(
        "incident_without_deployment",
        "Incidents linked to no deployment",
        ("change_failure_rate", "failed_deployment_recovery_time"),
        _incident_without_deployment,
    ),
    Rule(
        "version_released_without_date",
        "Versions released without a release date",
        ("deployment_frequency", "lead_time_for_changes"),
        _version_without_date,
    ),
    Rule(
        "duplicate_key",
        "Duplicate issue keys",
        ("deployment_frequency", "lead_time_for_changes", "flow_velocity", "flow_load"),
        _duplicate_keys,
    ),
    Rule(
        "work_start_before_creation",
        "Work start before the issue was created",
        _FLOW_TIMES,
        _start_before_creation,
    ),
)


def quality_of(
    ds: Dataset, raws: Sequence[dict[str, Any]], mapper: FieldMapper
) -> list[dict[str, Any]]:
    """Every rule's finding on a dataset: key, title, count, keys, metrics affected, JQL."""
    keys = ds.table.key
    found = []
    for rule in RULES:
        rows = np.unique(rule.rows(ds, raws, mapper))
        rule_keys = list(dict.fromkeys(keys[rows].tolist()))
        found.append(
            {
                "rule": rule.key,
                "title": rule.title,
                "count": len(rows),
                "keys": rule_keys,
                "metrics": list(rule.metrics),
                "jql": f"key in ({', '.join(rule_keys)})" if rule_keys else None,
            }
        )
    return found


def quality_report(
    project: ProjectData,
    settings: dict[str, Any],
    *,
    tz: str | None = None,
    deployment_source: str | None = None,
) -> dict[str, Any]:
    """The data-quality report of a project: every rule's finding and the total of problems
    (items found, counted once per rule), with "Open in JIRA" links where JIRA is the source."""
    zone: ZoneInfo = resolve_time_zone(tz or settings.get("time_zone"))
    ds, mapper = dataset_and_mapper(project, settings, zone, deployment_source)
    problems = quality_of(ds, project.issues, mapper)
    for problem in problems:
        jira = jira_part(project, settings, problem["keys"])
        problem["links"] = jira["links"]
    note = jira_part(project, settings, [])["note"]
    total = sum(problem["count"] for problem in problems)
    return {
        "issues": ds.issues,
        "problems": total,
        "summary": badge_text(total),
        "rules": problems,
        "note": note,
    }


def badge_text(problems: int) -> str:
    """The header badge: how many problems, or that there are none."""
    if problems == 0:
        return "No data-quality problems"
    return f"{problems:,} data-quality problem{'s' if problems != 1 else ''}"


def quality_to_csv(report: dict[str, Any]) -> str:
    """One line per rule: rule, title, count, metrics, keys (space separated), jql."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rule", "title", "count", "metrics", "keys", "jql"])
    for rule in report["rules"]:
        writer.writerow(
            [
                rule["rule"],
                rule["title"],
                rule["count"],
                " ".join(rule["metrics"]),
                " ".join(rule["keys"]),
                rule["jql"] or "",
            ]
        )
    return out.getvalue()


def quality_for_cli(
    root: Path,
    settings: dict[str, Any],
    *,
    input_file: str | None = None,
    tz: str | None = None,
    deployments: str | None = None,
    output: str = "json",
) -> str:
    """`python app.py quality`: the report of `--input FILE` or of the cache, JSON or CSV."""
    zone = resolve_time_zone(tz or settings.get("time_zone"))
    project = cli_project(root, settings, input_file)
    report = quality_report(project, settings, tz=zone.key, deployment_source=deployments)
    if output == "csv":
        return quality_to_csv(report)
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"


def quality_for_view(root: Path) -> dict[str, Any]:
    """The data-quality report of the project on screen (sample or JIRA cache)."""
    settings = load_settings(root)
    return quality_report(current_project(root, settings), settings)
