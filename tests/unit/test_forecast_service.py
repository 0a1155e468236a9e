"""Forecasts of a project: throughput from the normalized dataset, options, dates, bad input.

Projects are small hand-built JIRA issue lists (tests/issue_builder.py); "today" is Monday
2024-04-15 (UTC) unless a test says otherwise, so the 12-week history is 2024-01-22 to
2024-04-14.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from configuration.settings import default_settings
from data.engine.dataset import build_dataset
from data.engine.field_mapper import full_mappings
from data.engine.forecast_items import open_children_in_cache
from data.engine.forecast_options import forecast_options
from data.engine.periods import resolve_time_zone
from data.errors import UserError
from data.services.forecast_service import (
    HOW_MANY,
    WHEN,
    forecast_for_project,
    forecast_text,
    save_forecast_settings,
    throughput_series,
)
from data.storage.persistence import load_settings
from data.storage.project_data import ProjectData
from tests.issue_builder import issue, statuses

NOW = datetime(2024, 4, 15, 9, 0, tzinfo=UTC)  # a Monday
TODAY = NOW.date()


def stamp(day: date, hour: int = 10, minute: int = 0) -> str:
    """A JIRA timestamp at `hour`:`minute` UTC on `day`."""
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00.000+0000"


def done(key: str, day: date, type_name: str = "Story", *, hour: int = 10, **extra: Any) -> dict:
    """A flow item started the day before `day` and Done on `day` at `hour` UTC; `extra`
    takes `resolution` and other fields (e.g. `parent`)."""
    start = stamp(day - timedelta(days=1))
    return issue(
        key,
        type_name,
        created=start,
        transitions=[
            (start, "To Do", "In Progress"),
            (stamp(day, hour), "In Progress", "Done"),
        ],
        resolution=extra.pop("resolution", "Done"),
        fields=extra,
    )


def open_item(key: str, type_name: str = "Story", **fields: Any) -> dict:
    return issue(key, type_name, created=stamp(TODAY - timedelta(days=3)), fields=fields)


def daily(per_day: int, days: int, *, end: date = TODAY, prefix: str = "S") -> list[dict]:
    """`per_day` Stories done on each of the `days` days before `end`."""
    return [
        done(f"{prefix}-{d * per_day + i + 1}", end - timedelta(days=days - d))
        for d in range(days)
        for i in range(per_day)
    ]


def project(issues: list[dict], fields: list[dict] | None = None) -> ProjectData:
    return ProjectData(issues=issues, statuses=statuses(), fields=fields or [], source="file")


def settings(**forecast: Any) -> dict[str, Any]:
    chosen = default_settings()
    chosen["time_zone"] = "UTC"
    chosen["forecast"].update(forecast)
    return chosen


def series_of(issues: list[dict], days: int = 14, zone: str = "UTC", **options: Any):
    tz = resolve_time_zone(zone)
    ds = build_dataset(project(issues), full_mappings(None), tz)
    return throughput_series(ds, tz, TODAY, days, forecast_options(None, **options))


# ----------------------------------------------------------------------------- throughput


def test_throughput_counts_completed_flow_items_per_day_with_zeros_between() -> None:
    issues = [
        done("S-1", TODAY - timedelta(days=5)),
        done("S-2", TODAY - timedelta(days=5)),
        done("S-3", TODAY - timedelta(days=2)),
        done("S-4", TODAY),  # today is not history yet
    ]
    series = series_of(issues)
    # from the first completion (5 days ago) to yesterday
    assert series.days[0] == TODAY - timedelta(days=5)
    assert series.counts.tolist() == [2, 0, 0, 1, 0]


def test_throughput_leaves_out_canceled_items_non_flow_types_and_unfinished_work() -> None:
    day = TODAY - timedelta(days=1)
    issues = [
        done("S-1", day),
        done("S-2", day, resolution="Won't Do"),  # canceled
        done("E-1", day, "Epic"),  # not a flow item
        open_item("S-3"),
    ]
    assert series_of(issues).counts.tolist() == [1]


def test_throughput_days_are_days_in_the_configured_zone() -> None:
    # 23:30 UTC on Apr 12 is 01:30 on Apr 13 in Berlin (UTC+2 in April)
    issues = [done("S-1", date(2024, 4, 11)), done("S-2", date(2024, 4, 12), hour=23)]
    assert series_of(issues, zone="UTC").counts.tolist() == [1, 1, 0, 0]
    assert series_of(issues, zone="Europe/Berlin").counts.tolist() == [1, 0, 1, 0]


def test_flow_type_filter_keeps_only_those_types() -> None:
    day = TODAY - timedelta(days=1)
    issues = [done("S-1", day), done("B-1", day, "Bug"), done("B-2", day, "Bug")]
    assert series_of(issues, flow_types=["Defect"]).counts.tolist() == [2]
    assert series_of(issues, flow_types=["Feature", "Defect"]).counts.tolist() == [3]


def test_with_working_days_a_weekend_completion_counts_on_the_friday_before() -> None:
    # Fri Apr 12: 1, Sat Apr 13: 2, Sun Apr 14: 0 -> Friday holds 3; Thu Apr 11: 1
    issues = [
        done("S-1", date(2024, 4, 11)),
        done("S-2", date(2024, 4, 12)),
        done("S-3", date(2024, 4, 13)),
        done("S-4", date(2024, 4, 13)),
    ]
    series = series_of(issues, working_days=["Mon", "Tue", "Wed", "Thu", "Fri"])
    assert series.days == [date(2024, 4, 11), date(2024, 4, 12)]
    assert series.counts.tolist() == [1, 3]


# ----------------------------------------------------------------------------- forecasts


def test_how_many_with_a_steady_two_a_day_gives_twice_the_days_at_every_likelihood() -> None:
    # 2 a day for 12 weeks; Apr 15 to Apr 24 is 10 days -> 20 items at every likelihood
    result = forecast_for_project(
        project(daily(2, 84)), settings(), HOW_MANY, NOW, until="2024-04-24"
    )
    assert result["days"] == 10
    assert [row["items"] for row in result["likelihoods"]] == [20, 20, 20, 20]
    assert result["histogram"] == [{"items": 20, "trials": 10_000}]
    assert result["history"]["start"] == "2024-01-22" and result["history"]["end"] == "2024-04-14"
    assert result["history"]["items"] == 168 and result["history"]["per_day"] == 2.0
    assert result["stability"]["stable"] is True
    # 12 weeks of history leave no room before them for a replay yet
    assert result["track_record"]["replays"] == 0
    assert "Not enough history" in result["track_record"]["message"]


def test_track_record_replays_the_forecast_on_older_history() -> None:
    # 2 a day for 20 weeks: anchors need 84 days before them and 10 after
    result = forecast_for_project(
        project(daily(2, 140)), settings(), HOW_MANY, NOW, until="2024-04-24"
    )
    record = result["track_record"]
    assert record["replays"] == 7  # (140 - 10 - 84) // 7 + 1
    assert [row["share"] for row in record["held"]] == [1.0, 1.0, 1.0, 1.0]
    assert "held in 7 of 7 past forecasts" in forecast_text(result)


def test_when_with_working_days_skips_the_weekend_in_the_dates() -> None:
    # 1 a day Mon-Fri: 7 items from Monday Apr 15 take Mon..Fri and Mon, Tue -> Tue Apr 23
    weekdays = [
        d for d in daily(1, 84) if date.fromisoformat(d["fields"]["updated"][:10]).weekday() < 5
    ]
    result = forecast_for_project(
        project(weekdays),
        settings(working_days=["Mon", "Tue", "Wed", "Thu", "Fri"]),
        WHEN,
        NOW,
        items=7,
    )
    assert [row["date"] for row in result["likelihoods"]] == ["2024-04-23"] * 4
    assert result["items"] == 7 and result["items_source"] == "typed"
    assert result["history"]["days"] == 60  # 12 weeks of 5 working days


def test_the_same_data_and_seed_give_the_same_forecast() -> None:
    rng = np.random.default_rng(3)
    issues = [
        done(f"S-{d}-{i}", TODAY - timedelta(days=d))
        for d in range(1, 120)
        for i in range(int(rng.poisson(1.5)))
    ]
    first = forecast_for_project(project(issues), settings(seed=11), WHEN, NOW, items=30)
    again = forecast_for_project(project(issues), settings(seed=11), WHEN, NOW, items=30)
    other = forecast_for_project(project(issues), settings(seed=12), WHEN, NOW, items=30)
    assert first == again
    assert first["histogram"] != other["histogram"]


# ----------------------------------------------------------------------------- epics


def test_epic_children_are_counted_from_the_cached_issues_not_done_only() -> None:
    epic = open_item("P-1", "Epic")
    children = [
        open_item("P-2", parent={"key": "P-1"}),
        open_item("P-3", parent={"key": "P-1"}),
        done("P-4", TODAY - timedelta(days=2), parent={"key": "P-1"}),
        open_item("P-5", customfield_10014="P-1"),  # Epic Link field (company-managed)
        open_item("P-6", parent={"key": "P-99"}),
    ]
    issues = [*daily(1, 84), epic, *children]
    fields = [{"id": "customfield_10014", "name": "Epic Link"}]
    result = forecast_for_project(project(issues, fields), settings(), WHEN, NOW, epic="p-1")
    assert (result["items"], result["items_source"], result["items_query"]) == (3, "epic", "P-1")
    assert [row["date"] for row in result["likelihoods"]] == ["2024-04-17"] * 4


def test_an_epic_not_in_the_cache_is_looked_up_only_where_it_can_be() -> None:
    tz = resolve_time_zone("UTC")
    data = project(daily(1, 10))
    ds = build_dataset(data, full_mappings(None), tz)
    assert open_children_in_cache(data, ds, "NOPE-1") is None
    with pytest.raises(UserError, match="NOPE-1 is not in the data and JIRA is not set up"):
        forecast_for_project(data, settings(), WHEN, NOW, epic="NOPE-1")


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("mode", "kwargs", "message"),
    [
        (HOW_MANY, {"until": "2024-04-14"}, "2024-04-14 is in the past .today is 2024-04-15."),
        (HOW_MANY, {"until": "2024-02-30"}, "Cannot read the date '2024-02-30'"),
        (HOW_MANY, {"until": None}, "Give the date to forecast to"),
        (WHEN, {"items": 0}, "The number of items must be at least 1, not 0"),
        (WHEN, {"items": "many"}, "must be a whole number"),
        (WHEN, {}, "Say what to finish"),
        (WHEN, {"items": 3, "epic": "P-1"}, "Say what to finish"),
        (WHEN, {"epic": "P 1"}, "'P 1' is not an issue key"),
        (WHEN, {"jql": "project = P"}, "A JQL count needs JIRA"),
    ],
)
def test_bad_forecast_input_is_refused_with_a_clear_message(mode, kwargs, message) -> None:
    with pytest.raises(UserError, match=message):
        forecast_for_project(project(daily(1, 84)), settings(), mode, NOW, **kwargs)


def test_a_history_window_without_completions_is_refused_before_simulating() -> None:
    # everything was done more than 12 weeks ago
    old = daily(3, 30, end=TODAY - timedelta(weeks=13))
    with pytest.raises(UserError, match="No flow items were completed in the history window"):
        forecast_for_project(project(old), settings(), HOW_MANY, NOW, until="2024-05-01")
    # a longer window reaches them
    result = forecast_for_project(
        project(old), settings(history_weeks=20), HOW_MANY, NOW, until="2024-05-01"
    )
    assert result["stability"]["stable"] is False
    assert "poor guide" in result["stability"]["warnings"][0]


def test_a_project_without_issues_is_refused() -> None:
    with pytest.raises(UserError, match="No issues to forecast from"):
        forecast_for_project(project([]), settings(), HOW_MANY, NOW, until="2024-05-01")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"history_weeks": 0}, "1 to 104 weeks, not 0"),
        ({"history_weeks": "x"}, "whole number"),
        ({"history_weeks": "inf"}, "whole number"),
        ({"history_weeks": 2.5}, "whole number"),
        ({"seed": -1}, "0 or more"),
        ({"working_days": ["Funday"]}, "Unknown working day 'Funday'"),
        ({"flow_types": ["Epic"]}, "Unknown flow type 'Epic'"),
    ],
)
def test_bad_options_are_refused_with_what_to_use(options, message) -> None:
    with pytest.raises(UserError, match=message):
        forecast_options(None, **options)


def test_saved_forecast_options_are_read_back_as_settings(data_dir: Path) -> None:
    form = {"history_weeks": "8", "seed": 5, "working_days": ["Fri", "Mon"], "flow_types": []}
    save_forecast_settings(data_dir, form)
    saved = load_settings(data_dir)["forecast"]
    assert saved == {
        "history_weeks": 8,
        "seed": 5,
        "working_days": ["Mon", "Fri"],
        "flow_types": [],
    }
    with pytest.raises(UserError):
        save_forecast_settings(data_dir, {**form, "history_weeks": 500})
    assert load_settings(data_dir)["forecast"]["history_weeks"] == 8
