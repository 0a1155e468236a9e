"""Flow analytics on small hand-worked projects: percentile lines, the service level, the
histogram, aging work in progress, cumulative flow at day boundaries in a non-UTC zone, time
in state with re-entries, and the items behind a clicked mark.

Every expected number is worked out by hand in the comment above it. Instants are 2024, UTC
unless the test is about a zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from configuration.metric_defaults import default_mappings
from data.engine import dataset as dataset_module
from data.engine import flow_analytics
from data.engine.dataset import Dataset, build_dataset
from data.engine.flow_analytics import flow_analytics as analytics
from data.engine.flow_analytics import selected_keys
from data.engine.periods import parse_period
from data.errors import UserError
from data.flow_calculator import flow_load
from data.services.analytics_service import save_service_level, service_level
from data.storage.persistence import load_settings
from data.storage.project_data import ProjectData
from tests.issue_builder import flag_history, issue, statuses

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 4, 15, tzinfo=UTC)


def t(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> str:
    return f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00.000+0000"


def item(key: str, *moves: tuple, created: str | None = None, **extra) -> dict:
    """A Story moving through `moves` = (when, from, to), created at the first move."""
    done = moves and moves[-1][2] in ("Done", "Closed")
    return issue(
        key,
        extra.pop("type_name", "Story"),
        created=created or moves[0][0],
        transitions=list(moves),
        resolution=extra.pop("resolution", "Done" if done else None),
        **extra,
    )


def done_in(key: str, start_day: int, days: float) -> dict:
    """In Progress from `start_day` 00:00, Done `days` later."""
    hours = days * 24
    end_day, hour = start_day + int(hours // 24), int(hours % 24)
    return item(
        key,
        (t(start_day, 0), "To Do", "In Progress"),
        (t(end_day, hour), "In Progress", "Done"),
        created=t(1, 0),
    )


@pytest.fixture(autouse=True)
def _fresh_caches():
    dataset_module.clear_caches()
    yield
    dataset_module.clear_caches()


def dataset(issues: list[dict], zone: ZoneInfo = UTC_ZONE) -> Dataset:
    project = ProjectData(issues, statuses(), version="test")
    return build_dataset(project, default_mappings(), zone)


def window(text: str, zone: ZoneInfo = UTC_ZONE) -> tuple[int, int]:
    period = parse_period(text, NOW, zone)
    return period.start_ms, period.end_ms


MARCH = window("2024-03-01:2024-03-28")  # [Mar 1 00:00, Mar 29 00:00)


def test_percentile_lines_interpolate_linearly_and_the_service_level_is_scored() -> None:
    # flow times 1, 2, 3, 4, 10 days. Ranks (n - 1) * p: p50 -> 2 -> 3; p70 -> 2.8 ->
    # 3 + 0.8 * 1 = 3.8; p85 -> 3.4 -> 4 + 0.4 * 6 = 6.4; p95 -> 3.8 -> 4 + 0.8 * 6 = 8.8.
    # SLE 85 % within 5 days: 4 of 5 = 80 % within, not met.
    issues = [done_in(f"S-{n}", 2 + n, days) for n, days in enumerate([1, 2, 3, 4, 10])]
    result = analytics(dataset(issues), *MARCH, UTC_ZONE, sle_days=5, sle_percent=85)

    scatter = result["scatter"]
    assert scatter["n"] == 5
    assert scatter["percentiles"] == {"p50": 3.0, "p70": 3.8, "p85": 6.4, "p95": 8.8}
    assert scatter["sle"] == {
        "days": 5,
        "percent": 85,
        "within": 4,
        "share": 80.0,
        "met": False,
    }
    assert sorted(scatter["days"]) == [1.0, 2.0, 3.0, 4.0, 10.0]
    assert scatter["completed"][0] == "2024-03-03T00:00:00"  # S-0: started Mar 2, 1 day
    # histogram: one-day bars from 0 to 10
    hist = result["histogram"]
    assert hist["width_days"] == 1
    assert hist["counts"] == [0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
    assert hist["percentiles"] == scatter["percentiles"]


def test_no_completed_item_gives_no_percentile_and_an_unscored_service_level() -> None:
    issues = [item("S-1", (t(2), "To Do", "In Progress"))]
    result = analytics(dataset(issues), *MARCH, UTC_ZONE, sle_days=5)
    assert result["scatter"]["percentiles"] == {"p50": None, "p70": None, "p85": None, "p95": None}
    assert result["scatter"]["sle"]["share"] is None
    assert result["scatter"]["sle"]["met"] is None
    assert result["histogram"]["counts"] == []


def test_a_long_tail_widens_the_histogram_bars_to_at_most_40() -> None:
    # 2 and 100 days: 1-day bars would be 101; widths 1, 2 (51 bars) are too many; 3 gives
    # 34 bars: 2 days in bar 0, 100 days in bar 33.
    issues = [
        done_in("S-1", 2, 2),
        item(
            "S-2",
            (t(1, 0, month=1), "To Do", "In Progress"),
            (t(10, 0, month=4), "In Progress", "Done"),
        ),
    ]
    hist = analytics(dataset(issues), *window("2024-03-01:2024-04-14"), UTC_ZONE)["histogram"]
    assert hist["width_days"] == 3
    assert len(hist["counts"]) == 34
    assert hist["counts"][0] == 1 and hist["counts"][33] == 1 and sum(hist["counts"]) == 2


def test_aging_lists_items_in_progress_at_the_end_oldest_first_past_p85_marked() -> None:
    # End: Mar 29 00:00. A: In Progress since Mar 20 10:00 -> 8 d 14 h = 8.5833 days.
    # B: In Progress Mar 25 10:00, Blocked Mar 27 10:00 -> age 3.5833 days, Waiting.
    # C: starts exactly at the end: not applied yet, not in progress.
    # D: done in 5 days (the only completion: every percentile is 5): A is past it, B not.
    # E: canceled, was in progress: left out.
    issues = [
        item("A", (t(20), "To Do", "In Progress"), created=t(1)),
        item("B", (t(25), "To Do", "In Progress"), (t(27), "In Progress", "Blocked"), created=t(1)),
        item("C", (t(29, 0), "To Do", "In Progress"), created=t(1)),
        done_in("D", 2, 5),
        item(
            "E",
            (t(3), "To Do", "In Progress"),
            (t(28, 0, month=4), "In Progress", "Done"),
            resolution="Won't Do",
        ),
    ]
    ds = dataset(issues)
    aging = analytics(ds, *MARCH, UTC_ZONE)["aging"]

    assert aging["n"] == 2
    assert flow_load(ds, *MARCH)[0]["at_end"] == 2  # the Flow load card's rule, C not applied
    assert aging["columns"] == ["In Progress", "Blocked"]
    assert aging["column_states"] == ["Active", "Waiting"]
    assert [
        (row["key"], row["status"], row["state"], row["age_days"]) for row in aging["table"]
    ] == [
        ("A", "In Progress", "Active", 8.5833),
        ("B", "Blocked", "Waiting", 3.5833),
    ]
    assert aging["percentiles"]["p85"] == 5.0
    assert [row["past_p85"] for row in aging["table"]] == [True, False]
    assert aging["past_p85_count"] == 1


def test_cumulative_flow_counts_at_local_day_ends_in_berlin() -> None:
    # Berlin is UTC+1 in early March. Period Mar 4-5 in Berlin: [Mar 3 23:00Z, Mar 5 23:00Z);
    # day ends Mar 4 23:00Z and Mar 5 23:00Z.
    # X: In Progress Mar 4 22:30Z (23:30 Berlin, Mar 4): In Progress at both ends; arrival Mar 4.
    # Y: In Progress at Mar 4 23:00Z exactly (Mar 5 00:00 Berlin): still New at the end of
    #    Mar 4 (a transition at the instant is not applied); arrival Mar 5; Done Mar 5 12:00Z.
    # Z: created Mar 5 10:00Z, never moved: New at the end of Mar 5 only.
    issues = [
        item("X", (t(4, 22, 30), "To Do", "In Progress"), created=t(1)),
        item(
            "Y", (t(4, 23), "To Do", "In Progress"), (t(5, 12), "In Progress", "Done"), created=t(1)
        ),
        issue("Z", "Story", created=t(5)),
    ]
    ds = dataset(issues, BERLIN)
    start, end = window("2024-03-04:2024-03-05", BERLIN)
    cfd = analytics(ds, start, end, BERLIN)["cfd"]

    assert cfd["days"] == ["2024-03-04", "2024-03-05"]
    assert [(band["name"], band["counts"]) for band in cfd["bands"]] == [
        ("New", [1, 1]),
        ("In Progress", [1, 1]),
        ("Done", [0, 1]),
    ]
    assert cfd["arrivals"] == [1, 1]
    assert cfd["departures"] == [0, 1]
    new_then = selected_keys(
        ds, start, end, BERLIN, {"chart": "cfd", "band": "New", "day": "2024-03-04"}
    )
    assert new_then == {"title": "New at the end of 2024-03-04", "keys": ["Y"]}


def test_time_in_state_sums_re_entries_and_sorts_waiting_first() -> None:
    # P: In Progress Mar 2 10:00-Mar 4 10:00 (2 d), Blocked to Mar 5 10:00 (1 d), In Progress
    #    to Mar 6 22:00 (1.5 d), Blocked to Mar 7 10:00 (0.5 d), In Progress to Mar 8 10:00
    #    (1 d), Done: In Progress 4.5 d, Blocked 1.5 d.
    # Q: In Progress Mar 10-11 (1 d), Blocked Mar 11-14 (3 d), Done.
    # Blocked: 2 items, median (1.5, 3) = 2.25, total 4.5; In Progress: median (4.5, 1) = 2.75,
    # total 5.5. Waiting share 4.5 / 10 = 45 %.
    issues = [
        item(
            "P",
            (t(2), "To Do", "In Progress"),
            (t(4), "In Progress", "Blocked"),
            (t(5), "Blocked", "In Progress"),
            (t(6, 22), "In Progress", "Blocked"),
            (t(7), "Blocked", "In Progress"),
            (t(8), "In Progress", "Done"),
            created=t(1),
        ),
        item(
            "Q",
            (t(10), "To Do", "In Progress"),
            (t(11), "In Progress", "Blocked"),
            (t(14), "Blocked", "Done"),
            created=t(1),
        ),
    ]
    ds = dataset(issues)
    tis = analytics(ds, *MARCH, UTC_ZONE)["time_in_state"]

    assert tis["rows"] == [
        {
            "status": "Blocked",
            "state": "Waiting",
            "items": 2,
            "median_days": 2.25,
            "total_days": 4.5,
            "share_of_waiting": 100.0,
        },
        {
            "status": "In Progress",
            "state": "Active",
            "items": 2,
            "median_days": 2.75,
            "total_days": 5.5,
            "share_of_waiting": None,
        },
    ]
    assert tis["waiting_percent"] == 45.0
    picked = selected_keys(ds, *MARCH, UTC_ZONE, {"chart": "time_in_state", "status": "Blocked"})
    assert sorted(picked["keys"]) == ["P", "Q"]


def with_flags(raw: dict, *changes: tuple[str, bool]) -> dict:
    """`raw` with flag changes `(when, raised)` of JIRA's Flagged field in its changelog."""
    histories = raw["changelog"]["histories"]
    for index, (when, raised) in enumerate(changes):
        histories.append(flag_history(when, raised, str(800 + index)))
    return raw


def test_blocked_time_clips_flagged_spans_at_the_period_edges() -> None:
    # March: [Mar 1 00:00, Mar 29 00:00). All In Progress from Feb 20 (started before).
    # F1: flagged Feb 27 00:00 - Mar 2 12:00: across the start, 1.5 d inside.
    # F2: flagged Mar 27 00:00, never cleared: across the end, 2 d inside; flagged at the end.
    # F3: flagged Mar 5-6 and Mar 8 00:00-12:00: two spans, 1.5 d.
    # F4: flagged at Mar 29 00:00 exactly: nothing inside, and not flagged at the end (a change
    #     at exactly the end is not applied yet).
    # F5: flagged Feb 1-10: before the period. F6: canceled, flagged in March: left out.
    # Total 5 d over 3 items, most first (F1 before F3 on a tie: table order).
    def started(key: str, **extra) -> dict:
        return item(
            key, (t(20, 0, month=2), "To Do", "In Progress"), created=t(1, 0, month=2), **extra
        )

    issues = [
        with_flags(started("F1"), (t(27, 0, month=2), True), (t(2, 12), False)),
        with_flags(started("F2"), (t(27, 0), True)),
        with_flags(
            started("F3"), (t(5, 0), True), (t(6, 0), False), (t(8, 0), True), (t(8, 12), False)
        ),
        with_flags(started("F4"), (t(29, 0), True)),
        with_flags(started("F5"), (t(1, 0, month=2), True), (t(10, 0, month=2), False)),
        with_flags(
            item(
                "F6",
                (t(20, 0, month=2), "To Do", "In Progress"),
                (t(20), "In Progress", "Done"),
                created=t(1, 0, month=2),
                resolution="Won't Do",
            ),
            (t(3, 0), True),
            (t(4, 0), False),
        ),
    ]
    ds = dataset(issues)
    blocked = analytics(ds, *MARCH, UTC_ZONE)["blocked"]

    assert (blocked["n"], blocked["total_days"], blocked["flagged_at_end"]) == (3, 5.0, 1)
    assert [
        (row["key"], row["blocked_days"], row["flagged_at_end"]) for row in blocked["items"]
    ] == [
        ("F2", 2.0, True),
        ("F1", 1.5, False),
        ("F3", 1.5, False),
    ]
    assert selected_keys(ds, *MARCH, UTC_ZONE, {"chart": "blocked", "key": "F3"})["keys"] == ["F3"]


def test_histogram_click_names_the_items_of_that_bar() -> None:
    issues = [done_in(f"S-{n}", 2 + n, days) for n, days in enumerate([1, 2, 2.5, 4])]
    ds = dataset(issues)
    picked = selected_keys(ds, *MARCH, UTC_ZONE, {"chart": "histogram", "start": 2})
    assert picked == {"title": "Flow time 2-3 days", "keys": ["S-1", "S-2"]}
    assert selected_keys(ds, *MARCH, UTC_ZONE, {"chart": "cfd", "band": "Nope", "day": "x"}) == {
        "title": "No items",
        "keys": [],
    }


def test_a_large_scatter_is_sampled_but_percentiles_use_every_point(monkeypatch) -> None:
    monkeypatch.setattr(flow_analytics, "MAX_POINTS", 3)
    issues = [done_in(f"S-{n}", 2 + n, days) for n, days in enumerate([1, 2, 3, 4, 10])]
    scatter = analytics(dataset(issues), *MARCH, UTC_ZONE)["scatter"]
    assert (scatter["n"], scatter["shown"], len(scatter["keys"])) == (5, 3, 3)
    assert scatter["keys"] == ["S-0", "S-2", "S-4"]
    assert scatter["percentiles"]["p50"] == 3.0


def test_service_level_is_saved_and_a_bad_value_changes_nothing(tmp_path: Path) -> None:
    save_service_level(tmp_path, "7.5", "80")
    assert service_level(load_settings(tmp_path)) == (7.5, 80.0)
    for days, percent, message in [
        ("abc", 85, "is not a number"),
        ("-1", 85, "must be above 0"),
        ("5", 120, "between 1 and 100"),
    ]:
        with pytest.raises(UserError, match=message):
            save_service_level(tmp_path, days, percent)
        assert service_level(load_settings(tmp_path)) == (7.5, 80.0)
    save_service_level(tmp_path, "", 85)
    assert service_level(load_settings(tmp_path)) == (None, 85.0)
