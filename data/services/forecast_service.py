"""Forecasts of a project: "how many by a date" and "when will N items be done".

From the normalized dataset (flow items completed, canceled ones left out, days in the
configured zone) to the daily throughput of the history window, then `data/engine/forecast.py`'s
simulation, stability check and track record, then dates and a plain result dict shared by
the page, `python app.py forecast` (JSON) and its text form. The shape is in
`specs/forecast.md`.

Inputs are checked before any work: a target date in the past, N below 1, an unknown flow
type, a bad epic key, no completion in the history window each raise a UserError that says
what to change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from configuration.metric_defaults import FLOW_TYPES
from data.engine import forecast
from data.engine.dataset import Dataset, build_dataset
from data.engine.field_mapper import full_mappings
from data.engine.forecast_items import items_to_finish
from data.engine.forecast_options import WEEKDAYS, ForecastOptions, forecast_options
from data.engine.periods import local_date, local_midnight_ms, parse_now, resolve_time_zone
from data.errors import UserError
from data.performance_utils import timed
from data.services.project import current_project
from data.storage.persistence import load_settings, save_settings
from data.storage.project_data import ProjectData

log = logging.getLogger(__name__)

HOW_MANY, WHEN = "how_many", "when"
#: Weeks of history the track record replays over (before the forecast's own window).
TRACK_RECORD_WEEKS = 52


# ----------------------------------------------------------------------------- throughput


@dataclass(frozen=True)
class Series:
    """Daily throughput, oldest first: one count per counted day (`days[i]`), before `as_of`."""

    days: list[date]
    counts: np.ndarray


def _counted(day: date, working: tuple[int, ...]) -> bool:
    return not working or day.weekday() in working


def throughput_series(
    ds: Dataset, zone: ZoneInfo, as_of: date, calendar_days: int, options: ForecastOptions
) -> Series:
    """Flow items completed per day over the `calendar_days` before `as_of`, canceled items
    and other flow types left out, days in `zone`; none before the first completion (the
    team's history starts there). With working days, only those are counted days and a
    completion on another day counts on the working day before it (or the first one)."""
    done = ds.completed
    live = ~done.canceled
    if options.flow_types:
        codes = [i for i, name in enumerate(done.type_names) if name in options.flow_types]
        live &= np.isin(done.type_code, codes)
    times = done.times[live]
    first = as_of - timedelta(days=calendar_days)
    if len(times):
        first = max(first, local_date(int(times[0]), zone))
    days = [first + timedelta(days=i) for i in range(max(0, (as_of - first).days))]
    edges = np.array([local_midnight_ms(day, zone) for day in [*days, as_of]], dtype=np.int64)
    counts = np.diff(np.searchsorted(times, edges)).astype(np.int64)
    if not options.working_days:
        return Series(days, counts)
    working = np.array([_counted(day, options.working_days) for day in days], dtype=bool)
    slot = np.maximum(np.cumsum(working) - 1, 0)
    folded = np.bincount(slot, weights=counts, minlength=int(working.sum())).astype(np.int64)
    kept = [day for day, keep in zip(days, working, strict=True) if keep]
    return Series(kept, folded[: len(kept)])


def _future(as_of: date, count: int, working: tuple[int, ...]) -> list[date]:
    """The first `count` counted days from `as_of` (included)."""
    found: list[date] = []
    day = as_of
    while len(found) < count:
        if _counted(day, working):
            found.append(day)
        day += timedelta(days=1)
    return found


# ----------------------------------------------------------------------------- items to finish

# ----------------------------------------------------------------------------- the forecast


def _history(series: Series, weeks: int, working: tuple[int, ...]) -> Series:
    """The last `weeks` weeks of counted days of the series."""
    per_week = len(working) or 7
    size = weeks * per_week
    return Series(series.days[-size:], series.counts[-size:])


def _history_part(history: Series, options: ForecastOptions, zone: ZoneInfo) -> dict[str, Any]:
    counts = history.counts
    return {
        "start": history.days[0].isoformat() if history.days else None,
        "end": history.days[-1].isoformat() if history.days else None,
        "weeks": options.history_weeks,
        "days": len(counts),
        "items": int(counts.sum()),
        "per_day": round(float(counts.mean()), 4) if len(counts) else 0.0,
        "days_without_completions": int(np.count_nonzero(counts == 0)),
        "flow_types": list(options.flow_types) or list(FLOW_TYPES),
        "working_days": [WEEKDAYS[d] for d in options.working_days] or list(WEEKDAYS),
        "time_zone": zone.key,
    }


def _track_part(record: forecast.TrackRecord, series: Series, reason: str) -> dict[str, Any]:
    if not record.replays:
        return {"replays": 0, "first": None, "last": None, "held": None, "message": reason}
    return {
        "replays": record.replays,
        "first": series.days[record.anchors[0]].isoformat(),
        "last": series.days[record.anchors[-1]].isoformat(),
        "step_days": forecast.REPLAY_STEP_DAYS,
        "held": [
            {"likelihood": p, "share": share, "count": count}
            for p, share, count in zip(
                forecast.LIKELIHOODS, record.held, record.held_counts, strict=True
            )
        ],
        "message": None,
    }


def forecast_for_project(
    project: ProjectData,
    settings: Mapping[str, Any],
    mode: str,
    now: datetime,
    *,
    until: str | date | None = None,
    items: Any = None,
    jql: str | None = None,
    epic: str | None = None,
    options: ForecastOptions | None = None,
) -> dict[str, Any]:
    """One forecast of `project` as of `now`'s day (in the settings' zone): see module doc."""
    zone = resolve_time_zone(settings.get("time_zone"))
    opts = options or forecast_options(settings.get("forecast"))
    moment = now if now.tzinfo else now.replace(tzinfo=zone)
    as_of = moment.astimezone(zone).date()
    if mode not in (HOW_MANY, WHEN):
        raise UserError(f"Unknown forecast {mode!r}: use how-many or when.")
    target = _target_date(until, as_of) if mode == HOW_MANY else None
    if not project.issues:
        raise UserError("No issues to forecast from: fetch data or use another input.")
    ds = build_dataset(project, full_mappings(settings.get("mappings")), zone)
    source: tuple[int, str, str | None] | None = None
    if mode == WHEN:
        source = items_to_finish(project, ds, settings, items=items, jql=jql, epic=epic)
    with timed("forecast", mode=mode, issues=len(project.issues)) as timer:
        result = _simulated(ds, project, zone, as_of, opts, target, source)
        timer.fields["replays"] = result["track_record"]["replays"]
    return result


def _simulated(
    ds: Dataset,
    project: ProjectData,
    zone: ZoneInfo,
    as_of: date,
    opts: ForecastOptions,
    target: date | None,
    source: tuple[int, str, str | None] | None,
) -> dict[str, Any]:
    """The throughput, simulation, stability check and track record of a checked request:
    how-many when `target` is given, else when (`source` = N, its origin, its query)."""
    mode = HOW_MANY if target is not None else WHEN
    record_days = (opts.history_weeks + TRACK_RECORD_WEEKS) * 7
    series = throughput_series(ds, zone, as_of, record_days, opts)
    history = _history(series, opts.history_weeks, opts.working_days)
    if not history.counts.any():
        raise UserError(
            "No flow items were completed in the history window"
            f" ({opts.history_weeks} weeks before {as_of.isoformat()}"
            f"{', ' + '/'.join(opts.flow_types) if opts.flow_types else ''}): nothing to "
            "forecast from. Choose a longer window or other flow types."
        )
    day_word = "working day" if opts.working_days else "day"
    check = forecast.stability(history.counts, day_word)
    result: dict[str, Any] = {
        "mode": mode,
        "as_of": as_of.isoformat(),
        "trials": forecast.TRIALS,
        "seed": opts.seed,
        "history": _history_part(history, opts, zone),
        "stability": {
            "first_half_per_day": check.first_half_per_day,
            "second_half_per_day": check.second_half_per_day,
            "ratio": check.ratio,
            "stable": check.stable,
            "warnings": list(check.warnings),
        },
        "dataset": {"issues": len(project.issues), "source": project.source},
    }
    rng = np.random.default_rng(opts.seed)
    window = len(history.counts)
    if mode == HOW_MANY:
        assert target is not None
        days = sum(
            _counted(as_of + timedelta(days=i), opts.working_days)
            for i in range((target - as_of).days + 1)
        )
        if days == 0:
            raise UserError(
                f"No working day from {as_of.isoformat()} to {target.isoformat()}: "
                "pick a later date."
            )
        result.update(_how_many_part(history, target, days, rng))
        record = forecast.track_record_how_many(
            series.counts, window, days, forecast.TRIALS, opts.seed
        )
        reason = f"Not enough history to replay a {days}-{day_word} forecast yet."
    else:
        assert source is not None
        count, origin, query = source
        result.update(_when_part(history, as_of, count, opts, rng))
        result.update({"items": count, "items_source": origin, "items_query": query})
        record = forecast.track_record_when(
            series.counts, window, count, forecast.TRIALS, opts.seed
        )
        reason = f"Not enough history to replay a forecast of {count} items yet."
    result["track_record"] = _track_part(record, series, reason)
    return result


def _target_date(until: str | date | None, as_of: date) -> date:
    if until in (None, ""):
        raise UserError("Give the date to forecast to (YYYY-MM-DD).")
    if isinstance(until, date):
        target = until
    else:
        try:
            target = date.fromisoformat(str(until).strip())
        except ValueError:
            raise UserError(f"Cannot read the date {until!r}: use YYYY-MM-DD.") from None
    if target < as_of:
        raise UserError(
            f"{target.isoformat()} is in the past (today is {as_of.isoformat()}): "
            "pick today or a later date."
        )
    return target


def _how_many_part(
    history: Series, target: date, days: int, rng: np.random.Generator
) -> dict[str, Any]:
    totals = forecast.how_many(history.counts, days, forecast.TRIALS, rng)
    levels = forecast.items_at_least(totals)
    values, counts = np.unique(totals, return_counts=True)
    return {
        "until": target.isoformat(),
        "days": days,
        "likelihoods": [
            {"likelihood": p, "items": n} for p, n in zip(forecast.LIKELIHOODS, levels, strict=True)
        ],
        "histogram": [
            {"items": int(v), "trials": int(c)} for v, c in zip(values, counts, strict=True)
        ],
    }


def _when_part(
    history: Series, as_of: date, items: int, opts: ForecastOptions, rng: np.random.Generator
) -> dict[str, Any]:
    needed = forecast.days_needed(history.counts, items, forecast.TRIALS, rng)
    finished = needed[needed <= forecast.MAX_DAYS]
    levels = forecast.days_within(needed)
    last = max([*levels, int(finished.max()) if len(finished) else 1])
    calendar = _future(as_of, min(last, forecast.MAX_DAYS), opts.working_days)

    def day_of(count: int) -> str | None:
        return calendar[count - 1].isoformat() if count <= forecast.MAX_DAYS else None

    values, counts = np.unique(finished, return_counts=True)
    return {
        "likelihoods": [
            {"likelihood": p, "date": day_of(d), "days": d if d <= forecast.MAX_DAYS else None}
            for p, d in zip(forecast.LIKELIHOODS, levels, strict=True)
        ],
        "histogram": [
            {"date": day_of(int(v)), "days": int(v), "trials": int(c)}
            for v, c in zip(values, counts, strict=True)
        ],
        "beyond_trials": int(forecast.TRIALS - len(finished)),
    }


# ----------------------------------------------------------------------------- entry points


def forecast_for_view(root: Path, form: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The page's forecast: the project on screen, the options typed in the form."""
    settings = load_settings(root)
    options = forecast_options(
        settings.get("forecast"),
        history_weeks=form.get("history_weeks"),
        seed=form.get("seed"),
        working_days=form.get("working_days"),
        flow_types=form.get("flow_types"),
    )
    project = current_project(root, settings)
    return forecast_for_project(
        project,
        settings,
        str(form.get("mode")),
        now,
        until=form.get("until"),
        items=form.get("items") if form.get("source", "items") == "items" else None,
        jql=form.get("query") if form.get("source") == "jql" else None,
        epic=form.get("query") if form.get("source") == "epic" else None,
        options=options,
    )


def forecast_form_values(root: Path) -> dict[str, Any]:
    """The saved forecast options as the page's form shows them (a bad saved value shows as
    the default: saving the form then repairs it)."""
    saved = load_settings(root).get("forecast")
    try:
        return forecast_options(saved).as_settings()
    except UserError:
        return forecast_options(None).as_settings()


def save_forecast_settings(root: Path, form: Mapping[str, Any]) -> ForecastOptions:
    """Check the form's options and save them as the `forecast.*` settings."""
    settings = load_settings(root)
    options = forecast_options(
        settings.get("forecast"),
        history_weeks=form.get("history_weeks"),
        seed=form.get("seed"),
        working_days=form.get("working_days") or [],
        flow_types=form.get("flow_types") or [],
    )
    settings["forecast"] = options.as_settings()
    save_settings(root, settings)
    log.info(
        "forecast settings saved", extra={"operation": "save_forecast", **options.as_settings()}
    )
    return options


def forecast_for_cli(
    root: Path,
    settings: Mapping[str, Any],
    mode: str,
    *,
    until: str | None = None,
    items: int | None = None,
    jql: str | None = None,
    epic: str | None = None,
    input_file: str | None = None,
    now: str | None = None,
    history_weeks: int | None = None,
    seed: int | None = None,
    output: str = "text",
) -> str:
    """`python app.py forecast how-many|when`: the forecast as JSON or as text."""
    zone = resolve_time_zone(settings.get("time_zone"))
    moment = parse_now(now, zone) or datetime.now(zone)
    options = forecast_options(settings.get("forecast"), history_weeks=history_weeks, seed=seed)
    if input_file:
        from data.jira.jira_parser import read_input_file

        payload = read_input_file(Path(input_file))
        project = ProjectData(
            issues=payload["issues"],
            statuses=payload["statuses"],
            fields=payload["fields"],
            source="file",
        )
    else:
        project = current_project(root, dict(settings))
    result = forecast_for_project(
        project,
        settings,
        mode,
        moment,
        until=until,
        items=items,
        jql=jql,
        epic=epic,
        options=options,
    )
    if output == "json":
        return orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    return forecast_text(result)


def forecast_text(result: Mapping[str, Any]) -> str:
    """The forecast as a few plain lines (the CLI's text form)."""
    history = result["history"]
    record = result["track_record"]
    held = {row["likelihood"]: row for row in record["held"] or []}
    lines = []
    if result["mode"] == HOW_MANY:
        lines.append(
            f"How many by {result['until']} ({result['days']} days from {result['as_of']}):"
        )
    else:
        source = {"typed": "", "jql": f" (JQL {result['items_query']})"}.get(
            result["items_source"], f" (open children of {result['items_query']})"
        )
        lines.append(f"When will {result['items']} items{source} be done, from {result['as_of']}:")
    for row in result["likelihoods"]:
        if result["mode"] == HOW_MANY:
            said = f"at least {row['items']} items"
        else:
            said = f"by {row['date']}" if row["date"] else f"not within {forecast.MAX_DAYS} days"
        track = ""
        if row["likelihood"] in held:
            h = held[row["likelihood"]]
            track = f"   (held in {h['count']} of {record['replays']} past forecasts)"
        lines.append(f"  {row['likelihood']:>2} % likely: {said}{track}")
    lines.append(
        f"History: {history['start']} to {history['end']}, {history['items']} items in "
        f"{history['days']} days ({history['per_day']} per day, "
        f"{history['days_without_completions']} days without completions); "
        f"{result['trials']:,} trials, seed {result['seed']}."
    )
    if record["message"]:
        lines.append(f"Track record: {record['message']}")
    lines.extend(f"Warning: {warning}" for warning in result["stability"]["warnings"])
    return "\n".join(lines)
