"""Flow metrics and the weekly series on small hand-worked projects, on both engines.

Every expected number is worked out by hand in the comment above it. Periods are custom ranges
in UTC unless a test is about zones: "2024-03-01:2024-03-28" is [Mar 1 00:00, Mar 29 00:00),
28 days, 4 weeks.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from tests.issue_builder import issue

FLOW_KEYS = ("flow_velocity", "flow_time", "flow_efficiency", "flow_distribution")


def t(day: int, hour: int = 10, minute: int = 0, month: int = 3, offset: str = "+0000") -> str:
    """A JIRA timestamp in 2024."""
    return f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00.000{offset}"


def item(key: str, type_name: str, *moves: tuple, created: str | None = None, **extra) -> dict:
    """An issue moving through `moves` = (when, from, to), created at the first move."""
    return issue(key, type_name, created=created or moves[0][0], transitions=list(moves), **extra)


def done_story(key: str, start: str, done: str, type_name: str = "Story", **extra) -> dict:
    """To Do -> In Progress at `start` -> Done at `done`."""
    return item(
        key,
        type_name,
        (start, "To Do", "In Progress"),
        (done, "In Progress", "Done"),
        resolution=extra.pop("resolution", "Done"),
        **extra,
    )


# ---------------------------------------------------------------- derivations


def test_newest_first_changelog_gives_the_same_numbers_as_oldest_first(report) -> None:
    moves = [
        (t(2), "To Do", "In Progress"),
        (t(4), "In Progress", "Blocked"),
        (t(5), "Blocked", "In Progress"),
        (t(9), "In Progress", "Done"),
    ]
    oldest = report([issue("S-1", "Story", created=t(1), transitions=moves, resolution="Done")])
    newest = report(
        [
            issue(
                "S-1",
                "Story",
                created=t(1),
                transitions=moves,
                resolution="Done",
                newest_first=True,
            )
        ]
    )
    for key in FLOW_KEYS:
        assert newest[key] == oldest[key]
    # started Mar 2, done Mar 9: 7 days; Active 2 + 4 = 6 days, Waiting 1 day
    assert newest["flow_time"]["values"] == {"median_days": 7.0, "p85_days": 7.0}
    assert newest["flow_efficiency"]["values"]["active_days"] == 6.0
    assert newest["flow_efficiency"]["values"]["waiting_days"] == 1.0


def test_transitions_at_the_same_instant_follow_the_history_id(report) -> None:
    # Both at Mar 5 10:00: history 7 (In Progress -> Done) after history 6 (To Do -> In
    # Progress), whatever the order in the file; so the issue is Done since Mar 5.
    moves = [(t(5), "In Progress", "Done", 7), (t(5), "To Do", "In Progress", 6)]
    one = issue("S-1", "Story", created=t(1), transitions=moves, status="Done", resolution="Done")
    result = report([one])
    assert result["flow_velocity"]["values"]["total"] == 1
    # work start = completion = Mar 5 10:00: flow time 0
    assert result["flow_time"]["values"]["median_days"] == 0.0


def test_reopened_item_completes_at_its_last_entry_into_done(report) -> None:
    reopened = item(
        "S-1",
        "Story",
        (t(2), "To Do", "In Progress"),
        (t(4), "In Progress", "Done"),
        (t(6), "Done", "In Progress"),
        (t(7), "In Progress", "Blocked"),
        (t(8), "Blocked", "In Progress"),
        (t(9), "In Progress", "Done"),
        (t(10), "Done", "Closed"),  # Done -> Closed does not move completion
        resolution="Done",
        created=t(1),
    )
    result = report([reopened])
    # completion Mar 9 10:00, start Mar 2 10:00: 7 days
    assert result["flow_time"]["values"]["median_days"] == 7.0
    # Active Mar 2-4 (2 d) + Mar 6-7 (1 d) + Mar 8-9 (1 d) = 4 d; Waiting Mar 7-8 = 1 d;
    # Done Mar 4-6 counts on neither side: 4 / 5 = 80 %
    assert result["flow_efficiency"]["values"] == {
        "percent": 80.0,
        "median_item_percent": 80.0,
        "active_days": 4.0,
        "waiting_days": 1.0,
    }
    # completed once, at Mar 9, in the week of Mar 4
    weekly = {p["week_start"]: p["n"] for p in result["flow_velocity"]["weekly"]}
    assert weekly["2024-03-04"] == 1
    assert sum(weekly.values()) == 1


def test_reopened_item_not_done_again_is_not_complete_and_counts_as_load(report) -> None:
    reopened = item(
        "S-1",
        "Story",
        (t(2), "To Do", "In Progress"),
        (t(4), "In Progress", "Done"),
        (t(6), "Done", "In Progress"),
        resolution=None,
    )
    other = done_story("S-2", t(1, month=2), t(2, month=2))  # so the dataset has completions
    result = report([reopened, other])
    assert result["flow_velocity"]["values"]["total"] == 0
    assert result["flow_velocity"]["status"] == "none_in_period"
    assert result["flow_load"]["values"]["at_end"] == 1


def test_item_without_a_start_transition_starts_when_created_and_is_noted(report) -> None:
    issues = [
        # To Do -> Done directly: work start falls back to created (Mar 1 10:00); 3 days
        item("T-1", "Task", (t(4), "To Do", "Done"), created=t(1), resolution="Done"),
        # no changelog at all, in Done: completion = resolutiondate Mar 8 10:00; 2 days
        issue("T-2", "Task", created=t(6), status="Done", resolution="Done", resolutiondate=t(8)),
        # created straight into In Progress (initial state Active): start is recorded
        item("T-3", "Task", (t(9), "In Progress", "Done"), created=t(5), resolution="Done"),
    ]
    result = report(issues)
    flow_time = result["flow_time"]
    # [3, 2, 4] days: median 3; p85 rank 1.7 of [2, 3, 4]: 3 + 0.7 = 3.7
    assert flow_time["values"] == {"median_days": 3.0, "p85_days": 3.7}
    assert flow_time["notes"] == {"start_not_recorded": 2}
    # T-1 and T-2 have no Active or Waiting time; T-3 is all Active; all three are in the sums
    eff = result["flow_efficiency"]
    assert eff["notes"] == {"no_active_or_waiting_time": 2}
    assert eff["n"] == 3
    assert eff["values"]["percent"] == 100.0


def test_offsets_plus_0530_and_minus_0800_are_read_as_utc_instants(report) -> None:
    # start 10:00 +0530 = 04:30 UTC Mar 4; done 20:30 -0800 = 04:30 UTC Mar 5: exactly 1 day
    one = done_story("S-1", t(4, 10, offset="+0530"), t(4, 20, 30, offset="-0800"))
    assert report([one])["flow_time"]["values"]["median_days"] == 1.0


def test_date_only_resolution_is_the_last_instant_of_that_day_in_the_zone(report) -> None:
    # created 2024-03-09 18:30 UTC; resolved "2024-03-10" with no changelog.
    # In Kolkata (+05:30) the day ends 2024-03-10T18:29:59.999Z: 86_399_999 ms = 0.99999999 d.
    one = issue(
        "T-1",
        "Task",
        created="2024-03-09T18:30:00.000+0000",
        status="Done",
        resolution="Done",
        resolutiondate="2024-03-10",
    )
    kolkata = report([one], tz="Asia/Kolkata")["flow_time"]["values"]["median_days"]
    assert kolkata == 1.0
    # In UTC it ends 2024-03-10T23:59:59.999Z: 29.5 h = 1.2292 d
    assert report([one], tz="UTC")["flow_time"]["values"]["median_days"] == 1.2292


def test_completion_exactly_at_the_period_end_is_outside_and_at_its_start_inside(
    report,
) -> None:
    issues = [
        # started inside, completed at Mar 29 00:00 = the period's end: not in the period
        done_story("S-1", t(20), "2024-03-29T00:00:00.000+0000"),
        # completed at Mar 1 00:00 = the period's start: in it
        done_story("S-2", t(25, month=2), "2024-03-01T00:00:00.000+0000"),
        # completed one ms before the end: in it
        done_story("S-3", t(20), "2024-03-28T23:59:59.999+0000"),
    ]
    velocity = report(issues)["flow_velocity"]
    assert velocity["values"]["total"] == 2
    # 2 in 4 weeks
    assert velocity["values"]["per_week"] == 0.5


# ---------------------------------------------------------------- velocity and distribution


def test_velocity_and_distribution_by_flow_type(report) -> None:
    issues = [
        done_story("S-1", t(2), t(3)),  # Story -> Feature
        done_story("S-2", t(2), t(4), type_name="Task"),  # Feature
        done_story("B-1", t(2), t(5), type_name="Bug"),  # Defect
        done_story("X-1", t(2), t(6), type_name="Spike"),  # unknown type -> Other
        done_story("S-3", t(2), t(7), labels=["Tech-Debt"]),  # the label wins -> Debt
        done_story("V-1", t(2), t(8), type_name="Vulnerability"),  # Risk
        done_story("E-1", t(2), t(9), type_name="Epic"),  # not a flow item
        done_story("U-1", t(2), t(9), type_name="Sub-task"),  # not a flow item
        done_story("S-4", t(2), t(10), resolution="Won't Do"),  # canceled
        done_story("S-5", t(2), t(2, month=4)),  # completed after the period
    ]
    result = report(issues)
    velocity = result["flow_velocity"]
    # 6 items in 4 weeks: 1.5 per week; Feature 2 -> 0.5, the others 1 -> 0.25
    assert velocity["values"] == {
        "total": 6,
        "per_week": 1.5,
        "by_type": {
            "Feature": {"count": 2, "per_week": 0.5},
            "Defect": {"count": 1, "per_week": 0.25},
            "Other": {"count": 1, "per_week": 0.25},
            "Debt": {"count": 1, "per_week": 0.25},
            "Risk": {"count": 1, "per_week": 0.25},
        },
    }
    assert velocity["excluded"] == {"canceled": 1}
    assert (velocity["headline"], velocity["unit"]) == ("per_week", "items per week")
    dist = result["flow_distribution"]
    # 2/6 = 33.33 %, 1/6 = 16.67 %
    assert dist["values"]["counts"] == {"Feature": 2, "Defect": 1, "Other": 1, "Debt": 1, "Risk": 1}
    assert dist["values"]["shares"] == {
        "Feature": 33.33,
        "Defect": 16.67,
        "Other": 16.67,
        "Debt": 16.67,
        "Risk": 16.67,
    }
    assert dist["values"]["reference"] == {
        "Feature": [40, 50],
        "Defect": [15, 25],
        "Risk": [10, 15],
        "Debt": [20, 25],
    }
    assert (dist["headline"], dist["unit"], dist["n"]) == (None, "%", 6)
    assert dist["excluded"] == {"canceled": 1}


def test_story_points_are_summed_and_items_without_points_are_noted(report) -> None:
    sp = "customfield_10016"
    issues = [
        done_story("S-1", t(2), t(3), fields={sp: 3}),
        done_story("S-2", t(2), t(4), fields={sp: 5.5}),
        done_story("S-3", t(2), t(5), fields={sp: None}),
        done_story("S-4", t(2), t(6), fields={sp: "8"}),  # text is not a number here
        done_story("S-5", t(2), t(7)),
    ]
    velocity = report(issues, mappings={"story_points_field": sp})["flow_velocity"]
    # 3 + 5.5 = 8.5 points in 4 weeks: 2.125 per week
    assert velocity["values"]["points_total"] == 8.5
    assert velocity["values"]["points_per_week"] == 2.125
    assert velocity["notes"] == {"no_story_points": 3}
    assert velocity["n"] == 5
    without = report(issues)["flow_velocity"]
    assert "points_total" not in without["values"]
    assert without["notes"] == {}


# ---------------------------------------------------------------- time and efficiency


def test_flow_time_median_and_p85_and_canceled_excluded(report) -> None:
    issues = [done_story(f"S-{d}", t(1), t(1 + d)) for d in (1, 2, 3, 4, 10)]
    issues.append(done_story("S-9", t(1), t(3), resolution="Rejected"))
    ft = report(issues)["flow_time"]
    # [1, 2, 3, 4, 10] days: median 3; p85 rank 0.85 x 4 = 3.4: 4 + 0.4 x 6 = 6.4
    assert ft["values"] == {"median_days": 3.0, "p85_days": 6.4}
    assert (ft["n"], ft["excluded"], ft["headline"], ft["unit"]) == (
        5,
        {"canceled": 1},
        "median_days",
        "days",
    )


def test_flow_efficiency_sums_times_over_items_not_a_mean_of_ratios(report) -> None:
    issues = [
        # A: 1 day Active: 100 %
        done_story("A-1", t(2), t(3)),
        # B: 1 day Active, 3 days Waiting: 25 %
        item(
            "B-1",
            "Story",
            (t(2), "To Do", "In Progress"),
            (t(3), "In Progress", "Ready for QA"),
            (t(6), "Ready for QA", "Done"),
            resolution="Done",
        ),
        # C: To Do -> Done: neither; left out of the median, noted
        item("C-1", "Story", (t(4), "To Do", "Done"), created=t(2), resolution="Done"),
    ]
    eff = report(issues)["flow_efficiency"]
    # sum: 2 Active / (2 + 3) = 40 %, while the mean of 100 % and 25 % would be 62.5 %;
    # the per-item median of [100, 25] is 62.5
    assert eff["values"] == {
        "percent": 40.0,
        "median_item_percent": 62.5,
        "active_days": 2.0,
        "waiting_days": 3.0,
    }
    # n: all three items are in the sums (C-1 adds nothing to them)
    assert eff["n"] == 3
    assert eff["notes"] == {"no_active_or_waiting_time": 1}
    assert (eff["headline"], eff["unit"]) == ("percent", "%")


def test_waiting_words_are_whole_words(report) -> None:
    # "Threshold Check" is Active ("threshold" is not "hold"); "On Hold" is Waiting
    one = item(
        "S-1",
        "Story",
        (t(2), "To Do", "Threshold Check"),
        (t(3), "Threshold Check", "On Hold"),
        (t(5), "On Hold", "Done"),
        resolution="Done",
    )
    eff = report([one])["flow_efficiency"]["values"]
    assert (eff["active_days"], eff["waiting_days"]) == (1.0, 2.0)


# ---------------------------------------------------------------- load


def test_flow_load_at_the_period_end_and_weekly_average(report) -> None:
    period = "2024-03-04:2024-03-24"  # Mon Mar 4 .. Sun Mar 24: [Mar 4, Mar 25)
    issues = [
        # Active from Mar 1 on
        item("L-1", "Story", (t(1), "To Do", "In Progress"), created=t(1)),
        # Active Mar 10, Waiting Mar 12, done Mar 26 (after the end)
        item(
            "L-2",
            "Bug",
            (t(10), "To Do", "In Progress"),
            (t(12), "In Progress", "Blocked"),
            (t(26), "Blocked", "Done"),
            resolution="Done",
            created=t(1),
        ),
        # created straight into In Progress on Mar 15: no changelog, Active since created
        issue("L-3", "Task", created=t(15), status="In Progress"),
        # never started
        issue("L-4", "Story", created=t(1)),
        # not a flow item
        item("L-5", "Epic", (t(1), "To Do", "In Progress")),
        # Active from Mar 2, canceled Mar 26: was Active at the end -> excluded, counted
        item(
            "L-6",
            "Story",
            (t(2), "To Do", "In Progress"),
            (t(26), "In Progress", "Done"),
            resolution="Won't Do",
        ),
        # moves into In Progress exactly at the end (Mar 25 00:00): the end is exclusive,
        # the transition is not applied
        item(
            "L-7", "Story", ("2024-03-25T00:00:00.000+0000", "To Do", "In Progress"), created=t(1)
        ),
    ]
    load = report(issues, period)["flow_load"]
    # just before Mar 25 00:00: L-1 Active, L-2 Waiting, L-3 Active
    assert load["values"]["at_end"] == 3
    assert load["values"]["by_state"] == {"Active": 2, "Waiting": 1}
    # week ends with start < end of week <= end: Mar 11 (L-1, L-2) = 2,
    # Mar 18 (L-1, L-2, L-3) = 3, Mar 25 (L-1, L-2, L-3; not L-7) = 3: 8 / 3 = 2.6667
    assert load["values"]["weekly_average"] == 2.6667
    assert (load["n"], load["excluded"], load["headline"], load["unit"]) == (
        3,
        {"canceled": 1},
        "at_end",
        "items",
    )
    weekly = {p["week_start"]: p for p in load["weekly"]}
    # the week of Mar 11 ends Mar 18 00:00: L-1, L-3 (created Mar 15) Active, L-2 Waiting
    assert weekly["2024-03-11"]["values"] == {"at_end": 3, "by_state": {"Active": 2, "Waiting": 1}}
    assert weekly["2024-03-11"]["n"] == 3
    # the week of Mar 4 ends Mar 11 00:00: L-1, L-2 Active
    assert weekly["2024-03-04"]["values"] == {"at_end": 2, "by_state": {"Active": 2, "Waiting": 0}}


def test_flow_load_weekly_average_is_null_without_a_week_end_in_the_period(report) -> None:
    # Tue Mar 5 .. Sat Mar 9: no Monday 00:00 inside
    issues = [item("L-1", "Story", (t(1), "To Do", "In Progress"))]
    load = report(issues, "2024-03-05:2024-03-09")["flow_load"]
    assert load["values"] == {
        "at_end": 1,
        "weekly_average": None,
        "by_state": {"Active": 1, "Waiting": 0},
    }


# ---------------------------------------------------------------- nothing, or nothing in period


def test_flow_metrics_without_completed_items_are_insufficient_data(report) -> None:
    result = report([item("L-1", "Story", (t(1), "To Do", "In Progress"))])
    for key in FLOW_KEYS:
        assert result[key]["status"] == "insufficient_data"
        assert result[key]["message"].startswith("No completed flow items")
    assert result["flow_load"]["status"] == "ok"


def test_flow_metrics_with_completions_only_outside_the_period_are_none_in_period(
    report,
) -> None:
    # ... except the load: its 0 at the end is a real value, status ok
    result = report([done_story("S-1", t(1, month=2), t(2, month=2))])
    velocity = result["flow_velocity"]
    assert (velocity["status"], velocity["message"]) == ("none_in_period", "None in period")
    assert velocity["values"] == {"total": 0, "per_week": 0.0, "by_type": {}}
    ft = result["flow_time"]
    assert ft["status"] == "none_in_period"
    assert ft["values"] == {"median_days": None, "p85_days": None}
    eff = result["flow_efficiency"]["values"]
    assert (eff["percent"], eff["median_item_percent"]) == (None, None)
    assert (eff["active_days"], eff["waiting_days"]) == (0.0, 0.0)
    dist = result["flow_distribution"]["values"]
    assert (dist["shares"], dist["counts"]) == ({}, {})
    load = result["flow_load"]
    assert load["values"]["at_end"] == 0
    assert (load["status"], load["message"]) == ("ok", None)


# ---------------------------------------------------------------- weekly series


def test_weekly_series_reaches_back_84_days_before_the_end_in_iso_weeks(report) -> None:
    # now = Wed 2024-03-13 03:00 UTC = Tue Mar 12 23:00 in New York; 7d ends there.
    # 84 days earlier: Tue Dec 19 23:00, in the week of Dec 18: 13 weeks, Dec 18 .. Mar 11
    now = datetime(2024, 3, 13, 3, tzinfo=UTC)
    result = report([done_story("S-1", t(4), t(6))], "7d", tz="America/New_York", now=now)
    for key in ("deployment_frequency", "flow_velocity", "flow_load", "flow_distribution"):
        weeks = [point["week_start"] for point in result[key]["weekly"]]
        assert len(weeks) == 13
        assert weeks[-1] == "2024-03-11"
        assert weeks[0] == "2023-12-18"
        days = [date.fromisoformat(w) for w in weeks]
        assert all(d.weekday() == 0 for d in days)
        assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(days))


def test_weekly_series_covers_every_week_of_a_long_period(report) -> None:
    # Mon Jan 1 .. Sun Mar 31 2024: 13 ISO weeks
    result = report([done_story("S-1", t(4), t(6))], "2024-01-01:2024-03-31")
    weeks = [p["week_start"] for p in result["flow_time"]["weekly"]]
    assert (len(weeks), weeks[0], weeks[-1]) == (13, "2024-01-01", "2024-03-25")
    # S-1 done Wed Mar 6: in the week of Mar 4, 2 days
    point = {p["week_start"]: p for p in result["flow_time"]["weekly"]}["2024-03-04"]
    assert point == {
        "week_start": "2024-03-04",
        "n": 1,
        "values": {"median_days": 2.0, "p85_days": 2.0},
    }


def test_weeks_are_iso_weeks_in_the_zone_with_their_exact_length(report) -> None:
    ny = "America/New_York"
    issues = [
        # Monday Mar 11 00:00 in New York (EDT since Mar 10): the week of Mar 11
        done_story("S-1", t(5), "2024-03-11T00:00:00.000-0400"),
        # one ms earlier: still the week of Mar 4
        done_story("S-2", t(5), "2024-03-10T23:59:59.999-0400"),
        # Monday 02:00 UTC is still Sunday evening in New York: the week of Mar 4
        done_story("S-3", t(5), "2024-03-11T02:00:00.000+0000"),
    ]
    result = report(issues, "2024-03-01:2024-03-31", tz=ny)
    weekly = {p["week_start"]: p for p in result["flow_velocity"]["weekly"]}
    assert weekly["2024-03-11"]["values"]["total"] == 1
    assert weekly["2024-03-04"]["values"]["total"] == 2
    # the week of Mar 4 lost an hour to daylight saving: 6 d 23 h = 6.9583 days;
    # 2 / (6.958333 / 7) = 2.0120 per week
    assert weekly["2024-03-04"]["values"]["per_week"] == 2.012
    # no deployment anywhere: insufficient data, whose weekly points have no values either
    dep = {p["week_start"]: p for p in result["deployment_frequency"]["weekly"]}
    assert dep["2024-03-04"]["values"] == {"count": None, "per_day": None, "per_week": None}
