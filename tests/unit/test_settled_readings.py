"""METRICS.md "Settled readings (revision 3)": one hand-worked test (or a few) per reading,
each on the reference and the fast engine.

Every expected number is worked out by hand in the comment above it. Periods are custom ranges
in UTC unless a test is about zones: "2024-03-01:2024-03-28" is [Mar 1 00:00, Mar 29 00:00),
28 days, 4 weeks; Mar 4, 11, 18 and 25 2024 are Mondays.
"""

from __future__ import annotations

import pytest

from tests.issue_builder import issue, link, version
from tests.reference_metrics import comparable
from tests.unit.test_dora_metrics import deployment, incident, t
from tests.unit.test_flow_metrics import done_story, item

MIDNIGHT = "T00:00:00.000+0000"


def weeks_of(metric: dict) -> list[str]:
    return [point["week_start"] for point in metric["weekly"]]


# ---------------------------------------------------------------- 1. trend length


@pytest.mark.parametrize(
    ("period", "tz", "count", "first", "last"),
    [
        # ends Mon Mar 11 00:00; 84 days earlier is Mon Dec 18 00:00: exactly 12 weeks
        ("2024-03-04:2024-03-10", "UTC", 12, "2023-12-18", "2024-03-04"),
        # under a week, ends Thu Mar 7 00:00; 84 days earlier Thu Dec 14, week of Dec 11
        ("2024-03-05:2024-03-06", "UTC", 13, "2023-12-11", "2024-03-04"),
        # longer than 84 days: every week of the period, Mon Jan 1 .. week of Mar 25
        ("2024-01-01:2024-03-31", "UTC", 13, "2024-01-01", "2024-03-25"),
        # ends Mon Apr 1 00:00 CEST, after the switch to summer time: 84 calendar days back
        # is Mon Jan 8 00:00 CET, so still 12 weeks and no stray week of Jan 1
        ("2024-03-25:2024-03-31", "Europe/Berlin", 12, "2024-01-08", "2024-03-25"),
    ],
)
def test_weekly_series_has_every_iso_week_overlapping_the_last_84_days(
    report, period, tz, count, first, last
) -> None:
    result = report([done_story("S-1", t(5), t(6))], period, tz=tz)
    for key in ("deployment_frequency", "flow_time", "flow_load", "flow_distribution"):
        weeks = weeks_of(result[key])
        assert (len(weeks), weeks[0], weeks[-1]) == (count, first, last)


def test_weekly_series_across_daylight_saving_uses_each_weeks_exact_length(report) -> None:
    # Berlin, week of Mar 25 2024 has 167 hours (summer time from Mar 31 02:00)
    issues = [done_story(f"S-{n}", t(20), t(26 + n)) for n in range(2)]  # done Mar 26, 27
    velocity = report(issues, "2024-03-25:2024-03-31", tz="Europe/Berlin")["flow_velocity"]
    point = {p["week_start"]: p for p in velocity["weekly"]}["2024-03-25"]
    # 2 / (167 / 24 / 7) = 2 / 0.994048 = 2.0120 per week
    assert (point["n"], point["values"]["per_week"]) == (2, 2.012)


def test_a_completion_at_exactly_a_monday_period_end_is_in_no_week_of_the_series(report) -> None:
    # [Mar 4, Mar 11): S-1 done Mar 11 00:00 is after the period and its last week
    result = report([done_story("S-1", t(5), "2024-03-11" + MIDNIGHT)], "2024-03-04:2024-03-10")
    velocity = result["flow_velocity"]
    assert velocity["values"]["total"] == 0
    assert weeks_of(velocity)[-1] == "2024-03-04"
    assert sum(point["n"] for point in velocity["weekly"]) == 0


# ---------------------------------------------------------------- 2. load's weekly average


def test_flow_load_weekly_average_counts_week_ends_after_the_start_up_to_the_end(report) -> None:
    period = "2024-03-04:2024-03-17"  # [Mon Mar 4, Mon Mar 18): week ends Mar 11 and Mar 18
    issues = [
        item("L-1", "Story", (t(1), "To Do", "In Progress")),  # Active throughout
        # starts exactly at the week end Mar 11 00:00: not yet applied there
        item("L-2", "Story", ("2024-03-11" + MIDNIGHT, "To Do", "In Progress"), created=t(1)),
        # Active from Mar 5, done exactly at Mar 18 00:00: still Active in that count
        done_story("L-3", t(5), "2024-03-18" + MIDNIGHT),
    ]
    load = report(issues, period)["flow_load"]
    # Mar 4 is the start: not a week end of the period. Mar 11: L-1, L-3 = 2;
    # Mar 18 (= end): L-1, L-2, L-3 = 3; average 2.5
    assert load["values"] == {
        "at_end": 3,
        "weekly_average": 2.5,
        "by_state": {"Active": 3, "Waiting": 0},
    }


def test_flow_load_weekly_average_has_no_value_without_a_week_end(report) -> None:
    issues = [item("L-1", "Story", (t(1), "To Do", "In Progress"))]
    # [Tue Mar 5, Sun Mar 10): no Monday 00:00 with start < it <= end
    assert report(issues, "2024-03-05:2024-03-09")["flow_load"]["values"]["weekly_average"] is None
    # [Tue Mar 5, Mon Mar 11): the end itself is a week end: 1 item there
    assert report(issues, "2024-03-05:2024-03-10")["flow_load"]["values"]["weekly_average"] == 1.0


# ---------------------------------------------------------------- 3. the end is exclusive


def test_events_at_exactly_the_period_end_are_outside_it_the_load_included(report) -> None:
    end = "2024-03-29" + MIDNIGHT  # the end of [Mar 1, Mar 29)
    issues = [
        done_story("S-1", t(5), end),  # done at the end: not completed in the period
        issue("S-2", "Story", created=end, status="In Progress"),  # created at the end
        # Active, then Blocked exactly at the end: still Active in the load at the end
        item("S-3", "Story", (t(2), "To Do", "In Progress"), (end, "In Progress", "Blocked")),
        deployment("D-1", end),
        deployment("D-0", "2024-03-28T23:59:59.999+0000"),
    ]
    result = report(issues)
    assert result["flow_velocity"]["values"]["total"] == 0
    load = result["flow_load"]["values"]
    # S-1 and S-3 Active; S-2 does not exist yet
    assert (load["at_end"], load["by_state"]) == (2, {"Active": 2, "Waiting": 0})
    assert result["deployment_frequency"]["values"]["count"] == 1


# ---------------------------------------------------------------- 4. tied deployments


def test_deployments_at_one_instant_share_one_incident_window(report) -> None:
    issues = [
        deployment("D-0", t(5)),
        deployment("D-1", t(10)),
        deployment("D-2", t(10)),  # tied with D-1: the next after both is D-3
        deployment("D-3", t(20)),
        # at the tied instant: not strictly after D-1/D-2, not strictly before it for D-0
        incident("I-1", t(10), t(11)),
        incident("I-2", t(15), t(16)),  # in the shared window (t10, t20): D-1 and D-2 failed
    ]
    cfr = report(issues)["change_failure_rate"]
    # D-1, D-2 of 4: 50 %
    assert cfr["values"] == {"percent": 50.0, "failed": 2, "deployments": 4}


# ---------------------------------------------------------------- 5. nothing can fail


@pytest.mark.parametrize(
    ("extra", "options"),
    [
        ([], {}),
        # a canceled incident is no incident
        ([incident("I-1", t(6), t(7), resolution="Won't Do")], {}),
        # a success field cannot fail a fixVersion deployment
        (
            [done_story("S-1", t(1), t(2), fix_versions=[version("1.0", "2024-03-05")])],
            {"deployment_source": "fixversions", "mappings": {"deployment_success_field": "cf"}},
        ),
    ],
)
def test_change_failure_rate_with_nothing_that_can_fail_is_insufficient(
    report, extra, options
) -> None:
    cfr = report([deployment("D-1", t(5)), *extra], **options)["change_failure_rate"]
    assert cfr["status"] == "insufficient_data"
    assert "incidents or a success field" in cfr["message"]
    assert cfr["values"] == {"percent": None, "failed": None, "deployments": None}
    assert cfr["tier"] is None


def test_change_failure_rate_with_a_success_field_and_no_failure_is_zero(report) -> None:
    ok = "customfield_10300"
    issues = [deployment("D-1", t(5), fields={ok: "yes"})]
    cfr = report(issues, mappings={"deployment_success_field": ok})["change_failure_rate"]
    assert (cfr["status"], cfr["values"]["percent"], cfr["tier"]) == ("ok", 0.0, "Elite")


# ---------------------------------------------------------------- 6. a zero count is a value


def test_flow_load_of_zero_at_the_end_is_ok_while_weekly_counts_are_not_zero(report) -> None:
    issues = [done_story("S-1", t(5), t(20))]  # Active Mar 5 .. Mar 20
    load = report(issues)["flow_load"]
    # week ends Mar 4: 0, Mar 11: 1, Mar 18: 1, Mar 25: 0 -> 0.5
    assert load["values"] == {
        "at_end": 0,
        "weekly_average": 0.5,
        "by_state": {"Active": 0, "Waiting": 0},
    }
    assert (load["status"], load["message"], load["n"]) == ("ok", None, 0)


# ---------------------------------------------------------------- 7. insufficient: no values


def test_insufficient_data_has_null_values_tiers_and_weekly_values(report) -> None:
    result = report([done_story("S-1", t(5), t(6))])  # no deployments, no incidents
    for key, values in (
        ("deployment_frequency", {"count": None, "per_day": None, "per_week": None}),
        ("change_failure_rate", {"percent": None, "failed": None, "deployments": None}),
        (
            "recovery_time",
            {"median_hours": None, "p85_hours": None, "median_days": None, "p85_days": None},
        ),
    ):
        metric = result[key]
        assert (metric["status"], metric["values"], metric["tier"]) == (
            "insufficient_data",
            values,
            None,
        )
        assert all(point["values"] == values for point in metric["weekly"])
    # S-1 is a change: lead time has its value
    assert result["lead_time_for_changes"]["values"]["median_days"] == 1.0


def test_flow_metrics_without_flow_items_have_null_values_but_keep_the_reference(report) -> None:
    result = report([deployment("D-1", t(5))])
    assert result["flow_load"]["values"] == {
        "at_end": None,
        "weekly_average": None,
        "by_state": None,
    }
    velocity = result["flow_velocity"]["values"]
    assert velocity == {"total": None, "per_week": None, "by_type": None}
    distribution = result["flow_distribution"]["values"]
    assert (distribution["shares"], distribution["counts"]) == (None, None)
    assert distribution["reference"]["Feature"] == [40, 50]


# ---------------------------------------------------------------- 8. efficiency's n


def test_flow_efficiency_n_counts_items_without_active_or_waiting_time(report) -> None:
    issues = [
        done_story("A-1", t(2), t(3)),  # 1 day Active
        # To Do -> Done directly: in the sums with nothing, left out of the median
        item("C-1", "Story", (t(4), "To Do", "Done"), created=t(4), resolution="Done"),
    ]
    eff = report(issues)["flow_efficiency"]
    assert (eff["n"], eff["notes"]) == (2, {"no_active_or_waiting_time": 1})
    assert (eff["values"]["percent"], eff["values"]["median_item_percent"]) == (100.0, 100.0)


# ---------------------------------------------------------------- 9. status categories


def peer_check_story(key: str = "S-1", **extra) -> dict:
    """To Do -> Peer Check (Mar 2) -> In Progress (Mar 4) -> Done (Mar 6); "Peer Check" is
    in no `/status` list. As New, work starts Mar 4 (2 days); as Active, Mar 2 (4 days)."""
    return item(
        key,
        "Story",
        (t(2), "To Do", "Peer Check"),
        (t(4), "Peer Check", "In Progress"),
        (t(6), "In Progress", "Done"),
        resolution="Done",
        **extra,
    )


def test_status_category_from_a_status_embedded_in_an_issue_link(report) -> None:
    linker = issue(
        "S-2",
        "Epic",
        created=t(1),
        links=[link("S-1", status="Peer Check", category_of_unknown="new")],
    )
    result = report([peer_check_story(), linker])
    assert result["flow_time"]["values"]["median_days"] == 2.0
    assert comparable(result)["dataset"]["unknown_statuses"] == []


def test_current_statuses_of_issues_win_over_statuses_in_links(report) -> None:
    linker = issue(
        "S-2",
        "Epic",
        created=t(1),
        links=[link("S-1", status="Peer Check", category_of_unknown="new")],
    )
    in_check = issue("S-3", "Epic", created=t(1), status="Peer Check")  # indeterminate
    result = report([peer_check_story(), linker, in_check])
    assert result["flow_time"]["values"]["median_days"] == 4.0


def test_a_status_in_no_list_issue_or_link_is_in_progress_with_a_warning(report) -> None:
    result = report([peer_check_story()])
    assert result["flow_time"]["values"]["median_days"] == 4.0
    assert comparable(result)["dataset"]["unknown_statuses"] == ["peer check"]


# ---------------------------------------------------------------- 10. words


@pytest.mark.parametrize(
    ("name", "active", "waiting"),
    [
        ("On_Hold", 2.0, 2.0),
        ("On-Hold", 2.0, 2.0),
        ("On Hold", 2.0, 2.0),
        ("ON_HOLD", 2.0, 2.0),
        ("Waiting/Vendor", 2.0, 2.0),
        ("pending_review", 2.0, 2.0),
        ("Threshold_Check", 4.0, 0.0),  # "threshold" is not "hold"
    ],
)
def test_waiting_words_are_separated_by_any_non_alphanumeric_character(
    report, name, active, waiting
) -> None:
    # In Progress Mar 2, `name` Mar 3 .. Mar 5, In Progress, Done Mar 6
    one = item(
        "S-1",
        "Story",
        (t(2), "To Do", "In Progress"),
        (t(3), "In Progress", name),
        (t(5), name, "In Progress"),
        (t(6), "In Progress", "Done"),
        resolution="Done",
    )
    eff = report([one])["flow_efficiency"]["values"]
    assert (eff["active_days"], eff["waiting_days"]) == (active, waiting)


# ---------------------------------------------------------------- 11. names


def test_curly_apostrophes_read_as_straight_ones_in_every_name(report) -> None:
    env = "customfield_10100"
    mappings = {
        "environment_field": env,
        "production_values": ["customer's prod"],
        "flow_types": {"story": "Feature", "customer's request": "Defect"},
        "status_states": {"dev's review": "Waiting"},
        "flow_type_labels": {"won't-fix-debt": "Debt"},
    }
    issues = [
        done_story("S-1", t(2), t(3), resolution="Won\u2019t Do"),  # canceled
        done_story("S-2", t(2), t(3), resolution="WON\u2018T FIX"),  # canceled
        done_story("S-3", t(2), t(4), type_name="Customer\u2019s Request"),  # a Defect
        done_story("S-4", t(2), t(4), labels=["Won\u2018t-Fix-Debt"]),  # a Debt item
        # In Progress Mar 2, Dev’s Review (Waiting) Mar 3, Done Mar 5
        item(
            "S-5",
            "Story",
            (t(2), "To Do", "In Progress"),
            (t(3), "In Progress", "Dev\u2019s Review"),
            (t(5), "Dev\u2019s Review", "Done"),
            resolution="Done",
        ),
        deployment("D-1", t(6), fields={env: "Customer\u2019s PROD"}),
    ]
    result = report(issues, mappings=mappings)
    assert result["flow_velocity"]["excluded"] == {"canceled": 2}
    assert result["flow_distribution"]["values"]["counts"] == {
        "Defect": 1,
        "Debt": 1,
        "Feature": 1,
    }
    # S-3, S-4: 2 days Active each; S-5: 1 day Active, 2 days Waiting
    eff = result["flow_efficiency"]["values"]
    assert (eff["active_days"], eff["waiting_days"]) == (5.0, 2.0)
    assert result["deployment_frequency"]["values"]["count"] == 1


# ---------------------------------------------------------------- 12. deployments left out


def test_deployments_left_out_are_counted_by_reason_production_filter_first(report) -> None:
    env = "customfield_10100"
    issues = [
        deployment("D-1", t(5), fields={env: "production"}),
        # staging and canceled: not_production, not canceled
        deployment("D-2", t(6), fields={env: "staging"}, resolution="Won't Do"),
        # staging, never deployed: not_production (undated: counted in every period)
        issue("D-3", "Deployment", created=t(7), fields={env: "staging"}),
        # production, never deployed: no_deployment_date (undated: every period)
        issue("D-4", "Deployment", created=t(7), fields={env: "prod"}),
        deployment("D-5", t(8), fields={env: "prod"}, resolution="Won't Do"),  # canceled
        deployment("D-6", t(10, month=2), fields={env: "staging"}),  # before the period
    ]
    result = report(issues, mappings={"environment_field": env})
    expected = {"not_production": 2, "no_deployment_date": 1, "canceled": 1}
    assert result["deployment_frequency"]["excluded"] == expected
    assert result["change_failure_rate"]["excluded"] == expected
    assert result["deployment_frequency"]["values"]["count"] == 1


def test_released_versions_without_a_release_date_are_counted_once_by_name(report) -> None:
    issues = [
        done_story("S-1", t(1), t(2), fix_versions=[version("1.0"), version("1.1", "2024-03-05")]),
        # 1.0 again without a date: one version, one exclusion; 2.0 is not released
        done_story(
            "S-2", t(1), t(2), fix_versions=[version("1.0"), version("2.0", released=False)]
        ),
        # 1.2 dated on one issue and not on another: a deployment at its date
        done_story("S-3", t(1), t(2), fix_versions=[version("1.2")]),
        done_story("S-4", t(1), t(2), fix_versions=[version("1.2", "2024-03-12")]),
    ]
    df = report(issues, deployment_source="fixversions")["deployment_frequency"]
    assert df["values"]["count"] == 2
    assert df["excluded"] == {"released_without_release_date": 1}
