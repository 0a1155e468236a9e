"""The items behind a figure: which issues make up a metric's `n` (or were left out, and why).

`select` reads the same sorted population columns and windows the calculators read
(`dora_calculator`, `flow_calculator`) and keeps their table rows, so the number of items
listed equals the figure's `n` (or its excluded count). `describe` turns those rows into the
rows a user reads: key and link, summary, type, flow type, state now, the instants the metric
used and the measured duration; for change failure rate, which rule failed the deployment.

`lazy_item_list` is the one entry point for the page's item panel and `python app.py items`
(`item_list`: the same, every item described; `data/services/item_view.py` calls it for
both).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import numpy as np

from configuration.metric_defaults import ALL_METRICS
from data.dora_calculator import DEPLOYMENTS_LEFT_OUT, window
from data.engine.dataset import (
    CANCELED,
    CANCELED_LOAD,
    NEGATIVE,
    NO_COMMIT_DATE,
    NO_FAILED_DEPLOYMENT,
    OK,
    Dataset,
    build_dataset,
)
from data.engine.field_mapper import ACTIVE, WAITING, FieldMapper, full_mappings
from data.engine.issue_table import NONE
from data.engine.periods import (
    Period,
    Week,
    iso_text,
    parse_period,
    resolve_time_zone,
    weeks_for_period,
)
from data.engine.statistics import MS_DAY, MS_HOUR, r4
from data.errors import UserError
from data.flow_calculator import just_before
from data.services.metrics_service import DEPLOYMENT_SOURCES, LABELS
from data.storage.project_data import ProjectData

#: The longest "Open in JIRA" URL; a longer key list is split over several links.
MAX_URL_CHARS = 8000
SAMPLE_NOTE = "Sample project: these keys are generated, not issues of a real JIRA."

#: Excluded reasons and flagged notes each metric can list (the report's `excluded`/`notes`).
REASONS: dict[str, tuple[str, ...]] = {
    "deployment_frequency": DEPLOYMENTS_LEFT_OUT,
    "lead_time_for_changes": ("canceled", "no_commit_date", "negative", "start_not_recorded"),
    "change_failure_rate": DEPLOYMENTS_LEFT_OUT,
    "deployment_rework_rate": DEPLOYMENTS_LEFT_OUT,
    "failed_deployment_recovery_time": ("canceled", "negative", "no_failed_deployment"),
    "recovery_time": ("canceled", "negative"),
    "flow_velocity": ("canceled", "no_story_points"),
    "flow_time": ("canceled", "negative", "start_not_recorded"),
    "flow_efficiency": ("canceled", "no_active_or_waiting_time"),
    "flow_load": ("canceled",),
    "flow_distribution": ("canceled",),
}

#: The columns of each metric's item rows, after the common ones.
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "deployment_frequency": ("deployed",),
    "lead_time_for_changes": ("work_start", "deployed", "duration_days"),
    "change_failure_rate": ("deployed", "failed", "failed_by", "incident"),
    "deployment_rework_rate": ("deployed", "rework"),
    "failed_deployment_recovery_time": ("failed_deployment", "resolved", "duration_hours"),
    "recovery_time": ("detected", "resolved", "duration_hours"),
    "flow_velocity": ("work_start", "completion", "story_points"),
    "flow_time": ("work_start", "completion", "duration_days"),
    "flow_efficiency": ("work_start", "completion", "active_days", "waiting_days", "percent"),
    "flow_load": ("work_start", "state_at_end"),
    "flow_distribution": ("work_start", "completion"),
}
COMMON_COLUMNS = ("key", "summary", "type", "flow_type", "state_now")
#: Columns of an explicit key list (the flow charts' click-through).
KEYS_COLUMNS = (*COMMON_COLUMNS, "created", "work_start", "completion")
INSTANT_COLUMNS = (
    "work_start",
    "deployed",
    "completion",
    "detected",
    "resolved",
    "created",
    "failed_deployment",
)
#: Metrics whose item durations are in hours (the others: days).
HOUR_METRICS = ("recovery_time", "failed_deployment_recovery_time")

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]+")


@dataclass
class Selection:
    """Table rows of the items behind one figure, with per-item values aligned to them.

    `rows` is -1 for a deployment that is a released fixVersion (named in `names`)."""

    rows: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    names: Sequence[str | None] | None = None

    def __len__(self) -> int:
        return len(self.rows)


_EMPTY_ROWS = np.zeros(0, dtype=np.int64)


def _empty() -> Selection:
    return Selection(_EMPTY_ROWS)


# ----------------------------------------------------------------------------- selections


def _left_out(ds: Dataset, start: int, end: int, reason: str) -> Selection:
    """Deployments left out for `reason` (reading 12), as `deployments_left_out` counts them:
    dated ones by their time in `[start, end)`, undated ones in every window."""
    dep = ds.deployments
    if reason == "released_without_release_date":
        names = list(dep.undated_names)
        return Selection(
            np.full(len(names), -1, dtype=np.int64), {"deployed": _nones(names)}, names
        )
    undated = dep.undated_rows.get(reason, _EMPTY_ROWS)
    dated_times, dated_rows = {
        "not_production": (dep.not_production_times, dep.not_production_rows),
        "canceled": (dep.canceled_times, dep.canceled_rows),
    }.get(reason, (_EMPTY_ROWS, _EMPTY_ROWS))
    part = window(dated_times, start, end)
    return Selection(
        np.concatenate((undated, dated_rows[part])),
        {"deployed": np.concatenate((_nones(undated), dated_times[part]))},
    )


def _nones(like: Any) -> np.ndarray:
    return np.full(len(like), NONE, dtype=np.int64)


def _deployments(ds: Dataset, start: int, end: int, reason: str | None) -> Selection:
    dep = ds.deployments
    if reason is not None:
        return _left_out(ds, start, end, reason)
    part = window(dep.times, start, end)
    names = list(dep.version_names[part]) if dep.version_names else None
    return Selection(
        dep.rows[part],
        {
            "deployed": dep.times[part],
            "failed": dep.failed[part].astype(bool),
            "by_success": dep.failed_success[part],
            "by_link": dep.failed_linked[part],
            "window_incident": dep.failed_window_incident[part],
            "rework": dep.rework[part],
        },
        names,
    )


def _changes(ds: Dataset, start: int, end: int, reason: str | None) -> Selection:
    ch = ds.changes
    part = window(ch.deployed, start, end)
    codes = ch.code[part]
    wanted = {
        None: codes == OK,
        "canceled": codes == CANCELED,
        "no_commit_date": codes == NO_COMMIT_DATE,
        "negative": codes == NEGATIVE,
        "start_not_recorded": (codes == OK) & ch.start_not_recorded[part],
    }.get(reason)
    if wanted is None:
        return _empty()
    deployed, lead = ch.deployed[part][wanted], ch.lead[part][wanted]
    measured = np.isin(codes[wanted], (OK, NEGATIVE))
    return Selection(
        ch.rows[part][wanted],
        {
            "deployed": deployed,
            "work_start": np.where(measured, deployed - lead, NONE),  # the commit date used
            "duration_ms": np.where(measured, lead, NONE),
        },
    )


def _incidents(ds: Dataset, start: int, end: int, reason: str | None) -> Selection:
    """Incidents resolved in the window with their detected time (or those left out or
    flagged for `reason`), as `recovery_time` counts."""
    inc = ds.incidents
    return _resolved_incidents(ds, start, end, reason, inc.code, inc.recovery, "detected", ())


def _failed_incidents(ds: Dataset, start: int, end: int, reason: str | None) -> Selection:
    """Incidents resolved in the window that failed a deployment, with that deployment's time
    (or those left out or flagged for `reason`), as `failed_deployment_recovery_time` counts."""
    inc = ds.incidents
    return _resolved_incidents(
        ds,
        start,
        end,
        reason,
        inc.failed_code,
        inc.failed_recovery,
        "failed_deployment",
        (("no_failed_deployment", NO_FAILED_DEPLOYMENT),),
    )


def _resolved_incidents(
    ds: Dataset,
    start: int,
    end: int,
    reason: str | None,
    all_codes: np.ndarray,
    all_recovery: np.ndarray,
    start_column: str,
    other_reasons: tuple[tuple[str, int], ...],
) -> Selection:
    """The incidents resolved in `[start, end)` whose code matches `reason` (None: counted),
    with the recovery's start (`start_column`: resolved minus `all_recovery`) and duration."""
    inc = ds.incidents
    part = window(inc.resolved, start, end)
    codes = all_codes[part]
    reasons: dict[str | None, int] = {None: OK, "canceled": CANCELED, "negative": NEGATIVE}
    reasons.update(other_reasons)
    if reason not in reasons:
        return _empty()
    wanted = codes == reasons[reason]
    resolved, recovery = inc.resolved[part][wanted], all_recovery[part][wanted]
    measured = np.isin(codes[wanted], (OK, NEGATIVE))
    return Selection(
        inc.rows[part][wanted],
        {
            "resolved": resolved,
            start_column: np.where(measured, resolved - recovery, NONE),
            "duration_ms": np.where(measured, recovery, NONE),
        },
    )


def _completed(ds: Dataset, metric: str, start: int, end: int, reason: str | None) -> Selection:
    done = ds.completed
    part = window(done.times, start, end)
    canceled = done.canceled[part]
    live = ~canceled
    wanted: np.ndarray | None
    if reason == "canceled":
        wanted = canceled
    elif metric == "flow_time":
        codes = done.flow_code[part]
        wanted = {
            None: live & (codes == OK),
            "negative": live & (codes == NEGATIVE),
            "start_not_recorded": live & (codes == OK) & done.start_not_recorded[part],
        }.get(reason)
    elif metric == "flow_efficiency":
        with_time = ~np.isnan(done.item_percent[part])
        wanted = {
            None: live,  # reading 8: n counts every item, those with neither time included
            "no_active_or_waiting_time": live & ~with_time,
        }.get(reason)
    elif metric == "flow_velocity" and reason == "no_story_points":
        wanted = live & np.isnan(done.points[part]) if ds.story_points else None
    else:
        wanted = live if reason is None else None
    if wanted is None:
        return _empty()
    codes = done.flow_code[part][wanted]
    measured = np.isin(codes, (OK, NEGATIVE))
    return Selection(
        done.order[part][wanted],
        {
            "completion": done.times[part][wanted],
            "duration_ms": np.where(measured, done.flow_time[part][wanted], NONE),
            "active_ms": done.active[part][wanted],
            "waiting_ms": done.waiting[part][wanted],
            "percent": done.item_percent[part][wanted],
            "points": done.points[part][wanted],
        },
    )


def _load(ds: Dataset, end: int, reason: str | None) -> Selection:
    """The items `flow_load` counts at `end`: the state just before it (readings 2 and 3)."""
    before = just_before(end)
    if reason == "canceled":
        return Selection(ds.load.rows_at(CANCELED_LOAD, before))
    if reason is not None:
        return _empty()
    active, waiting = ds.load.rows_at(ACTIVE, before), ds.load.rows_at(WAITING, before)
    states = np.array([ACTIVE] * len(active) + [WAITING] * len(waiting), dtype=object)
    return Selection(np.concatenate((active, waiting)), {"state_at_end": states})


def select(ds: Dataset, metric: str, start: int, end: int, reason: str | None = None) -> Selection:
    """The items of `metric` over `[start, end)`: those counted in `n` (reason None), or
    those excluded for `reason` or flagged with it (a key of the report's `notes`)."""
    if metric in ("deployment_frequency", "change_failure_rate", "deployment_rework_rate"):
        return _deployments(ds, start, end, reason)
    if metric == "failed_deployment_recovery_time":
        return _failed_incidents(ds, start, end, reason)
    if metric == "lead_time_for_changes":
        return _changes(ds, start, end, reason)
    if metric == "recovery_time":
        return _incidents(ds, start, end, reason)
    if metric == "flow_load":
        return _load(ds, end, reason)
    return _completed(ds, metric, start, end, reason)


# ----------------------------------------------------------------------------- item rows


def _instant(ms: Any, zone: ZoneInfo) -> str | None:
    value = int(ms)
    return None if value == NONE else iso_text(value, zone)


def _quoted(key: str) -> str:
    """A key as it goes into a URL (JIRA keys are URL-safe: no quoting work for them)."""
    return key if _URL_SAFE.fullmatch(key) else quote(key, safe="")


def raw_fields(raws: Any, row: int) -> dict[str, Any]:
    """The raw `fields` of a table row's issue (empty when the row has no raw issue)."""
    return (raws[row].get("fields") or {}) if 0 <= row < len(raws) else {}


def _common(ds: Dataset, raws: Any, mapper: FieldMapper, row: int) -> dict[str, Any]:
    """Key, summary, type, flow type and state now of one table row."""
    table = ds.table
    fields = raw_fields(raws, row)
    status = fields.get("status") or {}
    name = status.get("name")
    state = mapper.state(status.get("id"), name) if name else None
    return {
        "key": table.key[row],
        "summary": fields.get("summary"),
        "type": (fields.get("issuetype") or {}).get("name"),
        "flow_type": table.flow_type[row],
        "state_now": f"{state} ({name})" if state else None,
    }


def _linked_incident(ds: Dataset, row: int, incidents: set[str]) -> str | None:
    """The key of a live incident linked to a deployment row (the first in link order)."""
    table = ds.table
    keys = table.links.key[table.links.row == row].tolist()
    # links go either way: incidents that link to this deployment count too
    back = table.links.row[table.links.key == table.key[row]]
    keys += [table.key[other] for other in back.tolist()]
    return next((key for key in keys if key in incidents), None)


def _failure(ds: Dataset, sel: Selection, at: int, incidents: set[str]) -> dict[str, Any]:
    """Whether a deployment failed, by which rule (METRICS.md order), and the incident's key."""
    columns = sel.columns
    if not bool(columns["failed"][at]):
        return {"failed": False, "failed_by": None, "incident": None}
    row = int(sel.rows[at])
    if bool(columns["by_success"][at]):
        return {"failed": True, "failed_by": "success field", "incident": None}
    if bool(columns["by_link"][at]):
        return {
            "failed": True,
            "failed_by": "linked incident",
            "incident": _linked_incident(ds, row, incidents),
        }
    incident = int(columns["window_incident"][at])
    return {
        "failed": True,
        "failed_by": "incident window",
        "incident": ds.table.key[incident] if incident >= 0 else None,
    }


def describe(
    ds: Dataset,
    sel: Selection,
    metric: str,
    raws: Any,
    mapper: FieldMapper,
    reason: str | None = None,
    part: slice = slice(None),
) -> list[dict[str, Any]]:
    """One dict per selected item (those in `part` of the selection), with the columns of
    `item_columns(metric, reason)`."""
    zone = ZoneInfo(ds.time_zone)
    table = ds.table
    live_incidents = set(table.key[table.is_incident & ~table.canceled].tolist())
    items = []
    first = part.indices(len(sel.rows))[0]
    for at, row in enumerate(sel.rows[part].tolist(), start=first):
        if row < 0:  # a released fixVersion
            name = sel.names[at] if sel.names else None
            item: dict[str, Any] = dict.fromkeys(COMMON_COLUMNS)
            item.update(key=name, type="Version")
        else:
            item = _common(ds, raws, mapper, row)
        if reason is not None:
            item["reason"] = reason
        columns = sel.columns
        for name in ("deployed", "completion", "detected", "resolved", "failed_deployment"):
            if name in columns:
                item[name] = _instant(columns[name][at], zone)
        if "work_start" in columns:
            item["work_start"] = _instant(columns["work_start"][at], zone)
        elif row >= 0:
            item["work_start"] = _instant(table.work_start[row], zone)
        if "duration_ms" in columns:
            value = int(columns["duration_ms"][at])
            unit = MS_HOUR if metric in HOUR_METRICS else MS_DAY
            label = "duration_hours" if metric in HOUR_METRICS else "duration_days"
            item[label] = None if value == NONE else r4(value / unit)
        if metric == "flow_efficiency":
            percent = float(columns["percent"][at])
            item["active_days"] = r4(int(columns["active_ms"][at]) / MS_DAY)
            item["waiting_days"] = r4(int(columns["waiting_ms"][at]) / MS_DAY)
            item["percent"] = None if np.isnan(percent) else round(percent, 2)
        if metric == "flow_velocity":
            points = float(columns["points"][at])
            item["story_points"] = None if np.isnan(points) else points
        if "state_at_end" in columns:
            item["state_at_end"] = columns["state_at_end"][at]
        if metric == "change_failure_rate" and "failed" in columns:
            item.update(_failure(ds, sel, at, live_incidents))
        if metric == "deployment_rework_rate" and "rework" in columns:
            item["rework"] = bool(columns["rework"][at])
        items.append({name: item.get(name) for name in item_columns(metric, reason)})
    return items


def item_columns(metric: str, reason: str | None = None) -> tuple[str, ...]:
    """The columns of a metric's item rows (with `reason` when listing exclusions)."""
    extra = METRIC_COLUMNS[metric]
    if metric in ("change_failure_rate", "deployment_rework_rate") and reason is not None:
        extra = ("deployed",)
    return (*COMMON_COLUMNS, *(("reason",) if reason else ()), *extra)


def key_rows(ds: Dataset, raws: Any, mapper: FieldMapper, keys: list[str]) -> list[dict[str, Any]]:
    """Rows of an explicit list of issue keys, in that order (unknown keys say so)."""
    zone = ZoneInfo(ds.time_zone)
    table = ds.table
    row_of = {key: row for row, key in enumerate(table.key.tolist())}
    items = []
    for key in keys:
        row = row_of.get(key)
        if row is None:
            items.append(
                {**dict.fromkeys(KEYS_COLUMNS), "key": key, "summary": "(not in the data)"}
            )
            continue
        item = _common(ds, raws, mapper, row)
        item["created"] = _instant(table.created[row], zone)
        item["work_start"] = _instant(table.work_start[row], zone)
        item["completion"] = _instant(table.completion[row], zone)
        items.append(item)
    return items


# ----------------------------------------------------------------------------- JIRA links


def browse_url(site: str, key: str) -> str:
    """The issue's page in JIRA."""
    return f"{site.rstrip('/')}/browse/{_quoted(key)}"


def jql_links(site: str, keys: list[str], *, max_chars: int = MAX_URL_CHARS) -> list[str]:
    """ "Open in JIRA" search links for `key in (...)`, split so that none passes `max_chars`."""
    base = f"{site.rstrip('/')}/issues/?jql="
    opening, separator, closing = (quote(text, safe="") for text in ("key in (", ", ", ")"))
    links: list[str] = []
    chunk: list[str] = []
    length = len(base) + len(opening) + len(closing)
    for key in keys:
        quoted = _quoted(key)
        extra = len(quoted) + (len(separator) if chunk else 0)
        if chunk and length + extra > max_chars:
            links.append(base + opening + separator.join(chunk) + closing)
            chunk, length = [], len(base) + len(opening) + len(closing)
            extra = len(quoted)
        chunk.append(quoted)
        length += extra
    if chunk:
        links.append(base + opening + separator.join(chunk) + closing)
    return links


def jira_part(project: ProjectData, settings: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """The site, the JQL links and a note (the sample's keys are not a real JIRA)."""
    site = ((settings.get("jira") or {}).get("url") or "").strip()
    if project.source == "sample" or not site:
        note = SAMPLE_NOTE if project.source == "sample" else "No JIRA site is configured."
        return {"site": None, "links": [], "note": note}
    return {"site": site, "links": jql_links(site, keys), "note": None}


# ----------------------------------------------------------------------------- entry point


def parse_week(text: str, weeks: list[Week]) -> Week:
    """The week of the series named by an ISO week (`2026-W45`) or its Monday (`2026-11-02`)."""
    found = _ISO_WEEK.match(text.strip())
    try:
        if found:
            monday = date.fromisocalendar(int(found[1]), int(found[2]), 1).isoformat()
        else:
            monday = date.fromisoformat(text.strip()[:10]).isoformat()
    except ValueError:
        raise UserError(f"Unknown week {text!r}: use an ISO week such as 2026-W45.") from None
    for week in weeks:
        if week.start == monday:
            return week
    raise UserError(f"Week {text!r} is not in this period's weekly series.")


def iso_week(monday: str) -> str:
    """`2026-11-02` -> `2026-W45`."""
    year, week, _ = date.fromisoformat(monday).isocalendar()
    return f"{year}-W{week:02d}"


def dataset_and_mapper(
    project: ProjectData, settings: dict[str, Any], zone: ZoneInfo, deployment_source: str | None
) -> tuple[Dataset, FieldMapper]:
    if not project.issues:
        raise UserError("No issues to list: fetch data or use another input.")
    mappings = full_mappings(settings.get("mappings"))
    if deployment_source:
        if deployment_source not in DEPLOYMENT_SOURCES:
            raise UserError(
                f"Unknown deployment source {deployment_source!r}: use issues or fixversions."
            )
        mappings["deployment_source"] = deployment_source
    ds = build_dataset(project, mappings, zone)
    return ds, FieldMapper(mappings, project.statuses, project.issues)


#: Describes the items of one part (a slice) of an item list, in the list's order.
Describe = Callable[[slice], list[dict[str, Any]]]


@dataclass
class ItemList:
    """The items a request names, described only when read: `header` holds the title, count,
    columns, period and JIRA links at once, `rows(part)` describes just the items in `part`
    (a page on screen), `answer()` all of them (what `item_list` returns)."""

    header: dict[str, Any]
    _describe: Describe
    _site: str | None
    _all: list[dict[str, Any]] | None = None

    @property
    def count(self) -> int:
        return int(self.header["count"])

    def rows(self, part: slice = slice(None)) -> list[dict[str, Any]]:
        """The described items in `part`, in the list's order (each with its JIRA link)."""
        if self._all is not None:
            return self._all[part]
        items: list[dict[str, Any]] = self._describe(part)
        if self._site:
            for item in items:
                if item.get("key") and item.get("type") != "Version":
                    item["url"] = browse_url(self._site, item["key"])
        return items

    def answer(self) -> dict[str, Any]:
        """The header with every item described (kept after the first call)."""
        if self._all is None:
            self._all = self.rows()
        return {**self.header, "items": self._all}


def item_list(
    project: ProjectData,
    settings: dict[str, Any],
    request: dict[str, Any],
    period: str,
    now: Any,
    *,
    tz: str | None = None,
    deployment_source: str | None = None,
) -> dict[str, Any]:
    """The items a request names, for `period` at `now`, every one described (see
    `lazy_item_list` for the arguments)."""
    return lazy_item_list(
        project, settings, request, period, now, tz=tz, deployment_source=deployment_source
    ).answer()


def lazy_item_list(
    project: ProjectData,
    settings: dict[str, Any],
    request: dict[str, Any],
    period: str,
    now: Any,
    *,
    tz: str | None = None,
    deployment_source: str | None = None,
) -> ItemList:
    """The items a request names, for `period` at `now`, described when read: opening a list
    of thousands costs the selection and the page on screen only.

    `request` is `{"metric", "week", "excluded"}` (the items of a figure, of one weekly point,
    or left out for a reason) or `{"title", "keys"}` (an explicit list of issue keys).
    Raises UserError for an unknown metric, reason or week.
    """
    zone = resolve_time_zone(tz or settings.get("time_zone"))
    per = parse_period(period, now, zone)
    ds, mapper = dataset_and_mapper(project, settings, zone, deployment_source)
    raws = project.issues
    if "keys" in request:
        keys = [str(key) for key in request.get("keys") or []]
        return _item_list(
            project,
            settings,
            per,
            (len(keys), [key for key in keys if key]),
            lambda part: key_rows(ds, raws, mapper, keys[part]),
            KEYS_COLUMNS,
            str(request.get("title") or "Items"),
        )
    metric = request.get("metric")
    if metric not in ALL_METRICS:
        raise UserError(f"Unknown metric {metric!r}: use one of {', '.join(ALL_METRICS)}.")
    reason = request.get("excluded") or None
    if reason is not None and reason not in REASONS[metric]:
        known = ", ".join(REASONS[metric])
        raise UserError(f"{metric} has no reason {reason!r}: use one of {known}.")
    start, end, week_label = per.start_ms, per.end_ms, None
    if request.get("week"):
        week = parse_week(str(request["week"]), weeks_for_period(per, zone))
        start, end, week_label = week.start_ms, week.end_ms, iso_week(week.start)
    sel = select(ds, metric, start, end, reason)
    rows = sel.rows[sel.rows >= 0]
    label = LABELS[metric][0]
    what = f"excluded ({reason.replace('_', ' ')})" if reason else "counted"
    title = f"{label}{', week ' + week_label if week_label else ''}: {len(sel)} items {what}"
    listed = _item_list(
        project,
        settings,
        per,
        (len(sel), ds.table.key[rows].tolist()),
        lambda part: describe(ds, sel, metric, raws, mapper, reason, part),
        item_columns(metric, reason),
        title,
    )
    listed.header.update(metric=metric, week=week_label, excluded=reason)
    return listed


def _item_list(
    project: ProjectData,
    settings: dict[str, Any],
    per: Period,
    counted: tuple[int, list[str]],
    describe_part: Describe,
    columns: tuple[str, ...],
    title: str,
) -> ItemList:
    """An ItemList of `counted` (how many items, and the keys of those in JIRA)."""
    count, keys = counted
    jira = jira_part(project, settings, keys)
    header = {
        "title": title,
        "metric": None,
        "week": None,
        "excluded": None,
        "period": {
            "label": per.label,
            "start": iso_text(per.start_ms, ZoneInfo(per.time_zone)),
            "end": iso_text(per.end_ms, ZoneInfo(per.time_zone)),
        },
        "count": count,
        "columns": list(columns),
        "jira": jira,
    }
    return ItemList(header, describe_part, jira["site"])


def items_to_csv(answer: dict[str, Any]) -> str:
    """The item rows as CSV: one header line of the columns, one line per item."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = answer["columns"]
    writer.writerow(columns)
    for item in answer["items"]:
        writer.writerow(["" if item.get(name) is None else item.get(name) for name in columns])
    return out.getvalue()
