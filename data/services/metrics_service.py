"""One call from a raw project to the full report of `specs/metrics-dashboard.md`.

Inputs are validated first (zone, period, deployment source, an empty project), so a bad
input costs no computation. The normalized dataset is shared by every metric; finished
reports are cached by (dataset version, mappings hash, period, zone): switching back to a
period already seen is a cache hit. `now` from the clock is rounded down to the minute for
the period (and so for the cache key); a given `now` is used exactly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from configuration.metric_defaults import (
    ALL_METRICS,
    DEFAULT_TIER_YEAR,
    DORA_METRICS,
    TIER_YEARS,
    dora_tier,
    tier_note,
)
from configuration.settings import jira_configured
from data import dora_calculator, flow_calculator
from data.engine.dataset import Dataset, activity_span, build_dataset
from data.engine.field_mapper import full_mappings, mappings_hash
from data.engine.periods import (
    Period,
    iso_text,
    parse_now,
    parse_period,
    resolve_time_zone,
    weeks_for_period,
)
from data.engine.statistics import r4
from data.errors import UserError
from data.lru import LRU
from data.performance_utils import counting_lookups, timed, uncounted
from data.services.project import current_project
from data.services.source_options import SourceOptions
from data.storage.persistence import load_settings
from data.storage.project_data import ProjectData

__all__ = [
    "mappings_hash",
    "metrics_report_for_cli",
    "page_view",
    "report_for_project",
    "report_for_view",
]

log = logging.getLogger(__name__)

DEPLOYMENT_SOURCES = ("issues", "fixversions")
METRIC_KEYS = ALL_METRICS

#: key -> (label, headline, unit)
LABELS: dict[str, tuple[str, str | None, str]] = {
    "deployment_frequency": ("Deployment frequency", "per_day", "per day"),
    "lead_time_for_changes": ("Lead time for changes", "median_days", "days"),
    "change_failure_rate": ("Change failure rate", "percent", "%"),
    "deployment_rework_rate": ("Deployment rework rate", "percent", "%"),
    "failed_deployment_recovery_time": ("Failed deployment recovery time", "median_hours", "hours"),
    "recovery_time": ("Incident recovery time", "median_hours", "hours"),
    "flow_velocity": ("Flow velocity", "per_week", "items per week"),
    "flow_time": ("Flow time", "median_days", "days"),
    "flow_efficiency": ("Flow efficiency", "percent", "%"),
    "flow_load": ("Flow load", "at_end", "items"),
    "flow_distribution": ("Flow distribution", None, "%"),
}

Calculator = Callable[..., tuple[dict[str, Any], int, dict[str, int], dict[str, int]]]
CALCULATORS: dict[str, Calculator] = {
    "deployment_frequency": dora_calculator.deployment_frequency,
    "lead_time_for_changes": dora_calculator.lead_time_for_changes,
    "change_failure_rate": dora_calculator.change_failure_rate,
    "deployment_rework_rate": dora_calculator.deployment_rework_rate,
    "failed_deployment_recovery_time": dora_calculator.failed_deployment_recovery_time,
    "recovery_time": dora_calculator.recovery_time,
    "flow_velocity": flow_calculator.flow_velocity,
    "flow_time": flow_calculator.flow_time,
    "flow_efficiency": flow_calculator.flow_efficiency,
    "flow_load": flow_calculator.flow_load,
    "flow_distribution": flow_calculator.flow_distribution,
}
#: Keyword arguments for the weekly points (no weekly average, no reference ranges).
WEEKLY_OPTIONS: dict[str, dict[str, bool]] = {
    "flow_load": {"weekly_average": False},
    "flow_distribution": {"reference": False},
}

#: Change failure rate with no incident and no success field (reading 5): never 0 %.
NOTHING_CAN_FAIL = "No incidents or a success field: nothing can fail a deployment"
#: Metrics whose headline is a count at an instant: 0 is a real value, status ok (reading 6).
ZERO_IS_A_VALUE = frozenset({"flow_load"})
#: Values kept under insufficient data: guidance shown beside the figures, not a figure.
_GUIDANCE = frozenset({"reference"})

_REPORTS_KEPT = 64
_reports: LRU[tuple[Any, ...], dict[str, Any]] = LRU(_REPORTS_KEPT)
_reports_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def _insufficient(ds: Dataset, key: str) -> str | None:
    """What the whole dataset lacks for a metric (spec decision 24), or None."""
    if key == "failed_deployment_recovery_time" and not ds.has_incidents:
        return "No incidents"
    deployment_keys = (
        "deployment_frequency",
        "change_failure_rate",
        "deployment_rework_rate",
        "failed_deployment_recovery_time",
    )
    if key in deployment_keys and not ds.has_deployments:
        return "No deployments"
    if key == "change_failure_rate":
        has_success = ds.deployment_source != "fixversions" and ds.success_field
        if not ds.has_incidents and not has_success:
            return NOTHING_CAN_FAIL
    if key == "lead_time_for_changes" and not ds.has_changes:
        return "No changes with a deployed date"
    if key == "recovery_time" and not ds.has_incidents:
        return "No incidents"
    completed_keys = ("flow_velocity", "flow_time", "flow_efficiency", "flow_distribution")
    if key in completed_keys and not ds.has_completed:
        return "No completed flow items"
    if key == "flow_load" and not ds.has_flow_items:
        return "No flow items"
    return None


def tier_year_of(value: Any) -> int:
    """The tier year of a setting or flag (2023 or 2024); UserError for any other value."""
    if value is None or value == "":
        return DEFAULT_TIER_YEAR
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if year not in TIER_YEARS:
        raise UserError(f"Unknown tier year {value!r}: use 2023 or 2024.")
    return year


def _no_values(values: dict[str, Any]) -> dict[str, Any]:
    """Insufficient data has no values (reading 7): every statistic null, not 0."""
    return {name: value if name in _GUIDANCE else None for name, value in values.items()}


def _metric(
    ds: Dataset, key: str, period: Period, weeks: list[Any], tier_year: int
) -> dict[str, Any]:
    """One metric object: period values, status, tier and the weekly series."""
    label, headline, unit = LABELS[key]
    calculate = CALCULATORS[key]
    missing = _insufficient(ds, key)
    shown = _no_values if missing is not None else dict
    with timed("metric", metric=key, period=period.label, weeks=len(weeks)) as timer:
        values, n, excluded, notes = calculate(ds, period.start_ms, period.end_ms)
        values = shown(values)
        options = WEEKLY_OPTIONS.get(key, {})
        weekly = []
        for week in weeks:
            week_values, week_n, _, _ = calculate(ds, week.start_ms, week.end_ms, **options)
            weekly.append({"week_start": week.start, "n": week_n, "values": shown(week_values)})
        timer.fields["n"] = n
    metric: dict[str, Any] = {
        "label": label,
        "status": "ok",
        "message": None,
        "values": values,
        "headline": headline,
        "unit": unit,
        "n": n,
        "excluded": excluded,
        "notes": notes,
    }
    if missing is not None:
        metric["status"], metric["message"] = "insufficient_data", missing
    elif n == 0 and key not in ZERO_IS_A_VALUE:
        metric["status"], metric["message"] = "none_in_period", "None in period"
    if key in DORA_METRICS:
        metric["tier"] = None if missing else dora_tier(key, values, period.days, tier_year)
        metric["tier_note"] = tier_note(key, tier_year) if metric["tier"] else None
    metric["weekly"] = weekly
    return metric


def clock_now() -> datetime:
    """The clock, rounded down to the minute: "last 30 days" stays one cache entry per minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def report_for_project(
    project: ProjectData,
    settings: dict[str, Any],
    period: str,
    *,
    now: datetime | None = None,
    tz: str | None = None,
    deployment_source: str | None = None,
    root: Path | None = None,
    tier_year: int | str | None = None,
) -> dict[str, Any]:
    """The full report (the metrics, period, settings, dataset) of a project for a period.

    With `root` (the data directory), reports are also kept on disk in its metric cache, so
    the first view after a restart reads a file instead of normalizing and computing.

    `tier_year` (else the settings' `tier_year`, else 2023) picks the DORA report whose
    clusters give the tiers.

    Raises UserError, before any work, for an unknown zone, a bad period, an unknown
    deployment source, an unknown tier year or a project without issues. The returned dict
    is shared with the cache: treat it as read-only.
    """
    zone = resolve_time_zone(tz or settings.get("time_zone"))
    per = parse_period(period, now if now is not None else clock_now(), zone)
    year = tier_year_of(tier_year if tier_year is not None else settings.get("tier_year"))
    if deployment_source is not None and deployment_source not in DEPLOYMENT_SOURCES:
        raise UserError(
            f"Unknown deployment source {deployment_source!r}: use issues or fixversions."
        )
    if not project.issues:
        raise UserError("No issues to compute metrics from: fetch data or use another input.")
    mappings = full_mappings(settings.get("mappings"))
    if deployment_source:
        mappings["deployment_source"] = deployment_source
    if mappings.get("deployment_source") not in DEPLOYMENT_SOURCES:
        raise UserError("Deployment source in the mappings must be issues or fixversions.")
    digest = mappings_hash(mappings)
    stored_key = _stored_key(project, digest, zone, per, year) if root is not None else None
    dataset: Dataset | None = None
    if stored_key is not None:
        # keyed without normalizing: a view after a restart costs a file read, no build
        key: tuple[Any, ...] = ("stored", stored_key)
    else:
        dataset = build_dataset(project, mappings, zone)
        key = (dataset.version, digest, zone.key, per.start_ms, per.end_ms, per.label, year)
    cached = _remembered(key)
    if cached is None and stored_key is not None and root is not None:
        from data.storage.cache_memory import metric_cache_for

        cached = metric_cache_for(root).get(stored_key)
        if cached is not None:
            _remember(key, cached)
            log.info(
                "metric cache hit",
                extra={"operation": "report", "cache": "disk", "period": per.label},
            )
            return cached
    if cached is not None:
        log.info(
            "metric cache hit",
            extra={"operation": "report", "cache": "hit", "period": per.label},
        )
        return cached
    if dataset is None:  # keyed by the stored key: built only now, on a miss
        dataset = build_dataset(project, mappings, zone)
    with timed("report", period=per.label, issues=dataset.issues, cache="miss"):
        report = _report(dataset, mappings, digest, per, zone, year)
    with _reports_lock:
        _stats["misses"] += counting_lookups()
    _remember(key, report)
    if stored_key is not None and root is not None:
        from data.storage.cache_memory import metric_cache_for

        metric_cache_for(root).put(stored_key, report)
    return report


#: The period buttons of the dashboard, computed ahead so that switching to one is a cache hit.
PRESET_PERIODS = ("7d", "30d", "90d")
NO_JIRA_DATA = "No JIRA data yet: click Update data to fetch your project's issues."


class NoJiraDataYet(UserError):
    """JIRA is configured but nothing has been fetched: the page says so instead of numbers."""


def prepare_dataset(root: Path, settings: dict[str, Any]) -> None:
    """Normalize the cached JIRA project under the current mappings and zone, as the first
    view would: its table is then kept on disk, and the dashboard's next start reads it
    instead of normalizing (`python app.py fetch` calls this after fetching)."""
    from data.storage.cache_manager import load_project

    project = load_project(root, settings)  # the fetch's own copy: nothing is read again
    if project is None or not project.issues:
        return
    build_dataset(
        project,
        full_mappings(settings.get("mappings")),
        resolve_time_zone(settings.get("time_zone")),
    )


def report_for_view(root: Path, period: str, now: datetime) -> dict[str, Any]:
    """The report the dashboard shows: the current project (sample or JIRA cache) for `period`.

    Afterwards the preset periods are computed in a background thread (once per project
    version, mappings, zone and `now`), so the first switch to one of them is a cache hit.
    """
    settings = load_settings(root)
    project = current_project(root, settings)
    if project.source == "jira" and not project.issues:
        raise NoJiraDataYet(NO_JIRA_DATA)
    report = report_for_project(project, settings, period, now=now, root=root)
    _warm_presets(root, project, settings, now)
    return report


def page_view(root: Path, period: str, now: datetime) -> dict[str, Any]:
    """What the dashboard shows for `period`: `report_for_view`'s report, and `source`, where
    its data comes from (the page's header line): `kind` ("sample" or "jira"), `site`, `jql`,
    `issues`, `updated` (ISO instant of the last successful update, None for the sample) and
    `time_zone` (the report's); `outside` (`outside_data`: the period lies before or after
    the data); and `offers`, JIRA fields the mappings could use but do not
    (`settings_service.field_offers`; JIRA data only). Raises NoJiraDataYet as
    `report_for_view` does."""
    report = report_for_view(root, period, now)
    settings = load_settings(root)
    kind = report["dataset"].get("source") or "sample"
    source: dict[str, Any] = {
        "kind": kind,
        "site": None,
        "jql": None,
        "issues": report["dataset"].get("issues", 0),
        "updated": None,
        "time_zone": report["period"].get("time_zone"),
    }
    offers: list[dict[str, Any]] = []
    if kind == "jira":
        from data.services.settings_service import field_offers
        from data.storage.cache_manager import cache_status

        source.update(
            site=settings["jira"].get("url"),
            jql=settings["jira"].get("jql"),
            updated=cache_status(root, settings).get("last_sync"),
        )
        offers = field_offers(settings["mappings"], current_project(root, settings).fields)
    return {
        "report": report,
        "source": source,
        "outside": outside_data(report),
        "offers": offers,
    }


def outside_data(report: dict[str, Any]) -> str | None:
    """ "before" when the report's period ends before the data's first issue, "after" when it
    starts after the last recorded instant, None when it overlaps the data (or the report
    has no span): a period outside the data has no numbers to show, not "Low" or zeros."""
    span = report["dataset"].get("span")
    if not span:
        return None
    start = datetime.fromisoformat(report["period"]["start"])
    end = datetime.fromisoformat(report["period"]["end"])
    if end <= datetime.fromisoformat(span["first"]):
        return "before"
    if start > datetime.fromisoformat(span["last"]):
        return "after"
    return None


def report_for_shown(root: Path, shown: Any) -> dict[str, Any]:
    """The report of the `shown-inputs` store (`{"period", "now"}`, sent back by the page), for
    the trends and the exports; a store that is not what the page wrote is a UserError."""
    if not isinstance(shown, dict):
        raise UserError("The page sent no period; choose one again.")
    period, moment = shown.get("period"), shown.get("now")
    try:
        now = datetime.fromisoformat(moment) if isinstance(moment, str) else None
    except ValueError:
        now = None
    if now is None or not isinstance(period, str):
        raise UserError("The page sent a period this server cannot read; choose one again.")
    return report_for_view(root, period, now)


#: Views whose presets were warmed, recent ones only: a key holds `now` to the minute, so a
#: long-running page adds one every minute it is used.
_WARMED_KEPT = 16
_warmed: LRU[tuple[Any, ...], bool] = LRU(_WARMED_KEPT)


def _warm_presets(
    root: Path, project: ProjectData, settings: dict[str, Any], now: datetime
) -> None:
    """Compute the preset periods' reports in the background; their lookups are not counted."""
    key = (
        str(root),
        project.version or id(project),
        mappings_hash(full_mappings(settings.get("mappings"))),
        settings.get("time_zone"),
        settings.get("tier_year"),
        now,
    )
    with _reports_lock:
        if key in _warmed:
            return
        _warmed.put(key, True)

    def warm() -> None:
        with uncounted(), timed("warm_presets", periods=len(PRESET_PERIODS)):
            for period in PRESET_PERIODS:
                try:
                    report_for_project(project, settings, period, now=now, root=root)
                except UserError:
                    return

    threading.Thread(target=warm, name="warm-presets", daemon=True).start()


#: Bump when the report's shape or any calculation changes: stored reports then miss.
#: 3: flagged Active time counts as Waiting in flow efficiency (the sample's version does not
#: change with its content).
#: 4: the report's dataset gains `span` (the data's first and last instants).
#: 5: DORA 2024: deployment rework rate, failed deployment recovery time beside incident
#: recovery time, `tier_note` and the tier year.
STORED_REPORT_FORMAT = 5


def _stored_key(
    project: ProjectData,
    digest: str,
    zone: ZoneInfo,
    per: Period,
    tier_year: int = DEFAULT_TIER_YEAR,
) -> str | None:
    """The persistent metric-cache key, from what is known before normalizing, or None.

    Only projects with a content version qualify: a JIRA cache (its checksum-based version,
    set by cache_manager) or the sample (its day, size and seed); a file read with `--input`
    has none and stays in memory. Spec decision 31.
    """
    if not project.version or project.version == "jira-empty":
        return None
    from data.storage.metric_cache import metric_cache_key

    period_key = orjson.dumps(
        [
            STORED_REPORT_FORMAT,
            project.source,
            list(project.warnings),
            zone.key,
            per.start_ms,
            per.end_ms,
            per.label,
            tier_year,
        ]
    ).decode()
    return metric_cache_key(project.version, digest, period_key)


def _remembered(key: tuple[Any, ...]) -> dict[str, Any] | None:
    """The in-memory report for `key` (counted as a hit), or None (not counted yet)."""
    with _reports_lock:
        cached = _reports.get(key)
        if cached is not None:
            _stats["hits"] += counting_lookups()
        return cached


def _remember(key: tuple[Any, ...], report: dict[str, Any]) -> None:
    with _reports_lock:
        _reports.put(key, report)


def _report(
    ds: Dataset,
    mappings: dict[str, Any],
    digest: str,
    per: Period,
    zone: ZoneInfo,
    tier_year: int,
) -> dict[str, Any]:
    weeks = weeks_for_period(per, zone)
    report: dict[str, Any] = {
        "period": {
            "start": iso_text(per.start_ms, zone),
            "end": iso_text(per.end_ms, zone),
            "days": r4(per.days),
            "label": per.label,
            "time_zone": zone.key,
        },
        "settings": {
            "deployment_source": ds.deployment_source,
            "time_zone": zone.key,
            "mappings_hash": digest,
            "failure_by_time_window": bool(mappings.get("failure_by_time_window", True)),
            "tier_year": tier_year,
        },
        "dataset": {
            "issues": ds.issues,
            "source": ds.source,
            "version": ds.version,
            "warnings": list(ds.warnings),
        },
    }
    span = activity_span(ds.table)
    report["dataset"]["span"] = (
        {"first": iso_text(span[0], zone), "last": iso_text(span[1], zone)} if span else None
    )
    for key in METRIC_KEYS:
        report[key] = _metric(ds, key, per, weeks, tier_year)
    return report


def report_cache_stats() -> dict[str, int]:
    """Report cache hits and misses since start (for tests and the performance log)."""
    with _reports_lock:
        return {**_stats, "entries": len(_reports)}


def clear_report_cache() -> None:
    """Forget every cached report (and which projects were warmed)."""
    with _reports_lock:
        _reports.clear()
        _warmed.clear()
        _stats.update(hits=0, misses=0)


def metrics_report_for_cli(
    root: Path,
    settings: dict[str, Any],
    source: SourceOptions,
    *,
    tiers: str | None = None,
    output: str = "json",
) -> str:
    """`python app.py metrics`: the report of `--input FILE` or of the cache, as JSON or CSV
    (`output`)."""
    from data.services.export import report_to_csv, report_to_json

    report = cli_report(root, settings, source, tiers=tiers)
    return report_to_csv(report) if output == "csv" else report_to_json(report)


def cli_clock(settings: dict[str, Any], source: SourceOptions) -> tuple[ZoneInfo, datetime | None]:
    """The zone (`--tz`, else the settings') and the `--now` instant (None: the clock) of a
    headless command, once its `--period` is known to be valid: a bad period fails before any
    read."""
    zone = resolve_time_zone(source.tz or settings.get("time_zone"))
    moment = parse_now(source.now, zone)
    parse_period(source.period, moment or clock_now(), zone)
    return zone, moment


def cli_report(
    root: Path,
    settings: dict[str, Any],
    source: SourceOptions,
    *,
    tiers: str | None = None,
    project: ProjectData | None = None,
) -> dict[str, Any]:
    """The report the command-line options choose (`source`: `--input` or the cache,
    `--period`, `--now` as ISO text, `--tz`, `--deployments`; and `--tiers`): what `metrics`
    prints and `report` writes. A caller that has read the project already (`cli_project`)
    passes it."""
    zone, moment = cli_clock(settings, source)
    if project is None:
        project = cli_project(root, settings, source.input_file)
    return report_for_project(
        project,
        settings,
        source.period,
        now=moment,
        tz=zone.key,
        deployment_source=source.deployments,
        root=None if source.input_file else root,
        tier_year=tiers,
    )


def _unique_input_issues(issues: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The `--input` issues with duplicate keys merged (newest `updated` wins), with a warning:
    an issue is never counted twice."""
    from data.storage.cache_file import newest_per_key

    unique, repeated = newest_per_key(issues)
    if repeated:
        shown = ", ".join(repeated[:5]) + (" ..." if len(repeated) > 5 else "")
        log.warning(
            "%s holds %d issue key(s) more than once (%s); the copy updated last is used",
            name,
            len(repeated),
            shown,
            extra={"operation": "metrics", "duplicate_keys": len(repeated)},
        )
    return unique


def cli_project(root: Path, settings: dict[str, Any], input_file: str | None) -> ProjectData:
    """The project a headless command reads: `input_file` (`--input FILE`), else the cache."""
    if input_file:
        from data.jira.jira_parser import read_input_file

        payload = read_input_file(Path(input_file))
        return ProjectData(
            issues=_unique_input_issues(payload["issues"], input_file),
            statuses=payload["statuses"],
            fields=payload["fields"],
            source="file",
        )
    return _cached_project(root, settings)


def _cached_project(root: Path, settings: dict[str, Any]) -> ProjectData:
    """The project `metrics` computes without --input: the JIRA cache, or (no JIRA
    configured) the bundled sample project, as the dashboard shows."""
    if not jira_configured(settings):
        return current_project(root, settings)
    no_data = "no cached data: run `python app.py fetch` first or pass --input"
    from data.storage.cache_manager import load_project

    project = load_project(root, settings)
    if project is None:
        raise UserError(no_data)
    return project
