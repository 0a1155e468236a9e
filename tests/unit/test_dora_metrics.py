"""DORA metrics on small hand-worked projects, each checked on the reference and the fast engine.

Every expected number is worked out by hand in the comment above it. Periods are custom ranges
in UTC unless a test is about zones: "2024-03-01:2024-03-28" is [Mar 1 00:00, Mar 29 00:00),
28 days, 4 weeks.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.issue_builder import issue, link, version


def t(day: int, hour: int = 10, minute: int = 0, month: int = 3, offset: str = "+0000") -> str:
    """A JIRA timestamp in 2024."""
    return f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00.000{offset}"


def deployment(key: str, when: str, *, resolution: str = "Done", **extra) -> dict:
    """A Deployment issue resolved (deployed) at `when`."""
    return issue(
        key,
        extra.pop("type_name", "Deployment"),
        created=when,
        transitions=[(when, "To Do", "Done")],
        resolution=resolution,
        **extra,
    )


def incident(key: str, created: str, resolved: str | None = None, **extra) -> dict:
    """An Incident detected at `created`, resolved at `resolved` (open when None)."""
    transitions = [(resolved, "To Do", "Done")] if resolved else []
    return issue(
        key,
        extra.pop("type_name", "Incident"),
        created=created,
        transitions=transitions,
        resolution=extra.pop("resolution", "Done" if resolved else None),
        **extra,
    )


def story(key: str, start: str, done: str, *, created: str | None = None, **extra) -> dict:
    """A Story: To Do -> In Progress at `start` -> Done at `done`."""
    return issue(
        key,
        extra.pop("type_name", "Story"),
        created=created or start,
        transitions=[(start, "To Do", "In Progress"), (done, "In Progress", "Done")],
        resolution=extra.pop("resolution", "Done"),
        **extra,
    )


# ---------------------------------------------------------------- deployment frequency


def test_deployment_frequency_counts_deployments_in_the_period_per_day_and_week(report) -> None:
    issues = [
        deployment("D-1", t(5)),
        deployment("D-2", t(12)),
        deployment("D-3", t(19)),
        deployment("R-1", t(20), type_name="Release"),
        deployment("D-0", t(29, month=2)),  # Feb 29: before the period
        deployment("D-9", t(29)),  # Mar 29 10:00: after the period's end (Mar 29 00:00)
        story("S-1", t(2), t(6)),  # not a deployment
    ]
    df = report(issues)["deployment_frequency"]
    # 4 deployments in 28 days: 4/28 = 0.142857 -> 0.1429 per day, 4/(28/7) = 1.0 per week.
    assert df["values"] == {"count": 4, "per_day": 0.1429, "per_week": 1.0}
    assert (df["n"], df["status"], df["message"]) == (4, "ok", None)
    assert (df["headline"], df["unit"], df["label"]) == (
        "per_day",
        "per day",
        "Deployment frequency",
    )
    # 4/28 x 7 = 1.0 per week exactly: High (>= 1 per week, < 1 per day)
    assert df["tier"] == "High"


def test_deployment_issue_without_a_deployment_time_is_left_out_as_undated(report) -> None:
    issues = [
        deployment("D-1", t(5)),
        issue("D-2", "Deployment", created=t(6)),  # still To Do: no resolutiondate
        issue("D-3", "Deployment", created=t(7), transitions=[(t(8), "To Do", "In Progress")]),
    ]
    df = report(issues)["deployment_frequency"]
    assert df["values"]["count"] == 1
    assert df["excluded"] == {"no_deployment_date": 2}


def test_environment_field_keeps_only_production_deployments(report) -> None:
    env = "customfield_10100"
    issues = [
        deployment("D-1", t(5), fields={env: "Production"}),  # text, any case
        deployment("D-2", t(6), fields={env: {"value": "prod", "id": "1"}}),  # option
        deployment("D-3", t(7), fields={env: "staging"}),
        deployment("D-4", t(8), fields={env: None}),  # empty: not production
        deployment("D-5", t(9), fields={env: [{"value": "QA"}, {"value": "PROD"}]}),  # list
        deployment("D-6", t(10)),  # field absent: not production
    ]
    df = report(issues, mappings={"environment_field": env})["deployment_frequency"]
    # D-1, D-2, D-5
    assert df["values"]["count"] == 3


def test_canceled_deployment_is_left_out_and_counted_as_excluded(report) -> None:
    issues = [
        deployment("D-1", t(5)),
        deployment("D-2", t(6), resolution="Won't Do"),
        deployment("D-3", t(7), resolution="duplicate"),  # names compare case-insensitively
        deployment("D-4", t(20, month=2), resolution="Won't Do"),  # canceled, outside
    ]
    result = report(issues)
    assert result["deployment_frequency"]["values"]["count"] == 1
    assert result["deployment_frequency"]["excluded"] == {"canceled": 2}
    assert result["change_failure_rate"]["excluded"] == {"canceled": 2}


def test_period_without_deployments_shows_zero_and_tier_low(report) -> None:
    issues = [deployment("D-1", t(20, month=2)), incident("I-1", t(21, month=2), t(22, month=2))]
    result = report(issues)
    df = result["deployment_frequency"]
    assert df["values"] == {"count": 0, "per_day": 0.0, "per_week": 0.0}
    assert (df["status"], df["message"], df["n"], df["tier"]) == (
        "none_in_period",
        "None in period",
        0,
        "Low",
    )
    cfr = result["change_failure_rate"]
    assert cfr["values"] == {"percent": None, "failed": 0, "deployments": 0}
    assert (cfr["status"], cfr["tier"]) == ("none_in_period", None)


def test_no_deployments_in_the_whole_dataset_is_insufficient_data(report) -> None:
    result = report([story("S-1", t(2), t(6)), incident("I-1", t(3), t(4))])
    for key in ("deployment_frequency", "change_failure_rate"):
        assert result[key]["status"] == "insufficient_data"
        assert result[key]["message"].startswith("No deployments")
        assert result[key]["tier"] is None


@pytest.mark.parametrize(
    ("count", "period", "tier"),
    [
        # 7 in 7 days = 1.0 per day: Elite
        (7, "2024-03-01:2024-03-07", "Elite"),
        # 6 in 7 days = 0.857 per day, 6 per week: High
        (6, "2024-03-01:2024-03-07", "High"),
        # 1 in 7 days = exactly 1 per week: High
        (1, "2024-03-01:2024-03-07", "High"),
        # 4 in 30 days = 0.93 per week, 4 per 30 days: Medium
        (4, "2024-03-01:2024-03-30", "Medium"),
        # 1 in 30 days = exactly 1 per 30 days: Medium
        (1, "2024-03-01:2024-03-30", "Medium"),
        # 1 in 31 days: Low
        (1, "2024-03-01:2024-03-31", "Low"),
    ],
)
def test_deployment_frequency_tiers_at_their_boundaries(report, count, period, tier) -> None:
    issues = [deployment(f"D-{i}", t(1 + i % 7, hour=1 + i)) for i in range(count)]
    assert report(issues, period)["deployment_frequency"]["tier"] == tier


def test_fixversion_deployments_one_per_released_version_at_its_earliest_date(report) -> None:
    issues = [
        # "1.0" released on two issues with different dates: one deployment, Mar 4
        story("S-1", t(1), t(2), fix_versions=[version("1.0", "2024-03-05")]),
        story(
            "S-2",
            t(1),
            t(2),
            fix_versions=[version("1.0", "2024-03-04"), version("1.1", "2024-03-10")],
        ),
        # unreleased: not a deployment; released without a date: not one either
        story(
            "S-3",
            t(1),
            t(2),
            fix_versions=[version("2.0", "2024-03-15", released=False), version("2.1", None)],
        ),
        # date-only: Mar 28 23:59:59.999 in the zone is inside; Feb 29's end is outside
        story(
            "S-4",
            t(1),
            t(2),
            fix_versions=[version("1.2", "2024-03-28"), version("0.9", "2024-02-29")],
        ),
        # a canceled issue's release still happened
        story(
            "S-5", t(1), t(2), resolution="Won't Do", fix_versions=[version("1.3", "2024-03-20")]
        ),
        deployment("D-1", t(5)),  # deployment issues are not the source now
    ]
    df = report(issues, deployment_source="fixversions")["deployment_frequency"]
    # 1.0, 1.1, 1.2, 1.3
    assert df["values"]["count"] == 4
    by_issues = report(issues, deployment_source="issues")["deployment_frequency"]
    assert by_issues["values"]["count"] == 1


def test_fixversion_release_date_is_the_end_of_that_day_in_the_zone(report) -> None:
    issues = [story("S-1", t(1), t(2), fix_versions=[version("1.0", "2024-03-31")])]
    # In Los Angeles, March 31 ends at 2024-04-01T06:59:59.999Z: inside March there ...
    la = report(
        issues, "2024-03-01:2024-03-31", tz="America/Los_Angeles", deployment_source="fixversions"
    )
    assert la["deployment_frequency"]["values"]["count"] == 1
    # ... and in Tokyo the same date ends at 2024-03-31T14:59:59.999Z, inside its March too,
    tokyo = report(
        issues, "2024-03-01:2024-03-31", tz="Asia/Tokyo", deployment_source="fixversions"
    )
    assert tokyo["deployment_frequency"]["values"]["count"] == 1
    # but a period ending March 30 (in Tokyo) does not hold it.
    before = report(
        issues, "2024-03-01:2024-03-30", tz="Asia/Tokyo", deployment_source="fixversions"
    )
    assert before["deployment_frequency"]["values"]["count"] == 0


# ---------------------------------------------------------------- lead time for changes


def test_lead_time_per_change_from_work_start_to_linked_deployment_or_resolution(report) -> None:
    issues = [
        deployment("D-1", t(5, hour=9)),
        # S-1: started Mar 2 09:00, linked to D-1 (Mar 5 09:00): 72 h
        story("S-1", t(2, hour=9), t(4, hour=9), created=t(1, hour=9), links=[link("D-1")]),
        # B-1: a Bug started Mar 6 21:00, resolved Mar 7 09:00, no deployment linked: 12 h
        story("B-1", t(6, hour=21), t(7, hour=9), type_name="Bug"),
        # T-1: a Task To Do -> Done with no start: commit = created Mar 1 09:00,
        # resolved Mar 8 09:00: 168 h, start not recorded
        issue(
            "T-1",
            "Task",
            created=t(1, hour=9),
            transitions=[(t(8, hour=9), "To Do", "Done")],
            resolution="Done",
        ),
        # never started, still To Do, yet linked to D-1 (inward link held by D-1's side is
        # enough): deployed but no commit date
        issue("S-2", "Story", created=t(1), links=[link("D-1", direction="inward")]),
        # canceled change resolved in the period
        story("S-3", t(2), t(3), resolution="Won't Fix"),
        # not changes: an incident (a Defect flow item), an epic, a deployment
        incident("I-1", t(10), t(11)),
        story("E-1", t(2), t(9), type_name="Epic"),
    ]
    lt = report(issues)["lead_time_for_changes"]
    # sorted [12, 72, 168] h: median 72 h; p85 at rank 0.85 x 2 = 1.7: 72 + 0.7 x 96 = 139.2 h
    assert lt["values"] == {
        "median_hours": 72.0,
        "p85_hours": 139.2,
        "median_days": 3.0,
        "p85_days": 5.8,
    }
    assert lt["n"] == 3
    assert lt["excluded"] == {"no_commit_date": 1, "canceled": 1}
    assert lt["notes"] == {"start_not_recorded": 1}
    # median 72 h: under a week, not under a day
    assert lt["tier"] == "High"
    assert (lt["headline"], lt["unit"]) == ("median_days", "days")


def test_lead_time_uses_the_earliest_linked_production_deployment(report) -> None:
    env = "customfield_10100"
    issues = [
        deployment("D-1", t(10), fields={env: "prod"}),
        deployment("D-2", t(8), fields={env: "prod"}),
        deployment("D-3", t(4), fields={env: "staging"}),  # not production
        deployment("D-4", t(5), fields={env: "prod"}, resolution="Won't Do"),  # canceled
        story("S-1", t(3), t(7), links=[link("D-1"), link("D-2"), link("D-3"), link("D-4")]),
    ]
    lt = report(issues, mappings={"environment_field": env})["lead_time_for_changes"]
    # deployed = D-2, Mar 8 10:00; started Mar 3 10:00: 120 h = 5 days
    assert lt["values"]["median_hours"] == 120.0
    assert lt["values"]["median_days"] == 5.0


def test_lead_time_with_mapped_commit_and_deployed_dates_leaves_out_negatives(report) -> None:
    commit, deployed = "customfield_10200", "customfield_10201"
    mappings = {"commit_date_field": commit, "deployed_date_field": deployed}
    issues = [
        # mapped: commit Mar 10 06:00 (+0530 = 00:30 UTC), deployed Mar 10 (date-only: the
        # day's last ms in UTC): 23 h 29 min 59.999 s = 84_599_999 ms = 23.5 h
        story(
            "S-1",
            t(1),
            t(2),
            fields={commit: "2024-03-10T06:00:00.000+0530", deployed: "2024-03-10"},
        ),
        # deployed before committed: negative, left out and counted
        story("S-2", t(1), t(2), fields={commit: t(12), deployed: t(11)}),
        # no mapped commit: falls back to the work start (Mar 1 10:00); deployed Mar 2 10:00
        story("S-3", t(1), t(2), fields={deployed: t(2)}),
        # no mapped deployed date: falls back to resolutiondate (Mar 20 10:00)
        story("S-4", t(19), t(20), fields={commit: t(19, hour=22)}),
    ]
    lt = report(issues, mappings=mappings)["lead_time_for_changes"]
    # [23.5, 24, 12] h -> sorted [12, 23.5, 24]: median 23.5 h (Elite, < 1 day);
    # p85 rank 1.7: 23.5 + 0.7 x 0.5 = 23.85 h
    assert lt["values"]["median_hours"] == 23.5
    assert lt["values"]["p85_hours"] == 23.85
    assert lt["excluded"] == {"negative": 1}
    assert lt["n"] == 3
    assert lt["tier"] == "Elite"


def test_lead_time_with_fixversion_source_uses_the_earliest_released_version(report) -> None:
    issues = [
        # started Mar 2 00:00; versions: 1.1 released Mar 6, 1.0 released Mar 4 (ends
        # 23:59:59.999), 2.0 not released: deployed Mar 4 23:59:59.999
        story(
            "S-1",
            "2024-03-02T00:00:00.000+0000",
            t(3),
            fix_versions=[
                version("1.1", "2024-03-06"),
                version("1.0", "2024-03-04"),
                version("2.0", "2024-03-03", released=False),
            ],
        ),
    ]
    lt = report(issues, deployment_source="fixversions")["lead_time_for_changes"]
    # 2 days 23:59:59.999 = 259_199_999 ms = 71.99999997 h -> 72.0; 2.99999999 d -> 3.0
    assert lt["values"]["median_hours"] == 72.0
    assert lt["values"]["median_days"] == 3.0
    # with deployment issues as the source the version is ignored: resolutiondate Mar 3 10:00
    by_issues = report(issues, deployment_source="issues")["lead_time_for_changes"]
    assert by_issues["values"]["median_hours"] == 34.0


def test_lead_time_tiers_at_their_boundaries(report) -> None:
    def one_change(hours: int) -> list[dict]:
        start = datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000
        end = start + hours * 3_600_000
        text = datetime.fromtimestamp(end / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        return [story("S-1", "2024-03-01T00:00:00.000+0000", text)]

    tiers = {
        hours: report(one_change(hours), "2024-03-01:2024-04-30")["lead_time_for_changes"]["tier"]
        for hours in (23, 24, 167, 168, 719, 720)
    }
    assert tiers == {23: "Elite", 24: "High", 167: "High", 168: "Medium", 719: "Medium", 720: "Low"}


# ---------------------------------------------------------------- change failure rate


def test_change_failure_rate_by_linked_incident_and_by_time_window(report) -> None:
    issues = [
        deployment("D-0", t(25, month=2)),  # before the period: its window ends at D-1
        deployment("D-1", t(5)),
        deployment("D-2", t(10)),
        deployment("D-3", t(15)),
        deployment("D-4", t(20)),
        # detected exactly at D-1: not strictly after it, so in D-0's window
        incident("I-1", t(5), t(6)),
        # detected Mar 12: in D-2's window (Mar 10, Mar 15)
        incident("I-2", t(12), t(13)),
        # detected long before, but linked to D-3 (from the incident's side)
        incident("I-3", t(1, month=2), t(2, month=2), links=[link("D-3")]),
        # a canceled incident after D-4 fails nothing
        incident("I-4", t(22), t(23), resolution="Duplicate"),
    ]
    cfr = report(issues)["change_failure_rate"]
    # D-2 and D-3 failed, D-1 and D-4 did not: 2 / 4 = 50 %
    assert cfr["values"] == {"percent": 50.0, "failed": 2, "deployments": 4}
    assert (cfr["n"], cfr["tier"], cfr["headline"], cfr["unit"]) == (4, "Low", "percent", "%")
    off = report(issues, mappings={"failure_by_time_window": False})["change_failure_rate"]
    # only the link is left: 1 / 4
    assert off["values"] == {"percent": 25.0, "failed": 1, "deployments": 4}


def test_last_deployment_window_stays_open_and_tied_deployments_share_it(report) -> None:
    issues = [
        deployment("D-1", t(10)),
        deployment("D-2", t(10)),  # same instant: one window shared with D-1
        incident("I-1", t(25), t(26)),  # after the last deployments: their window is open
    ]
    cfr = report(issues)["change_failure_rate"]
    assert cfr["values"] == {"percent": 100.0, "failed": 2, "deployments": 2}


def test_deployment_failed_by_its_success_field(report) -> None:
    ok = "customfield_10300"
    issues = [
        deployment("D-1", t(2), fields={ok: False}),
        deployment("D-2", t(3), fields={ok: "Failed"}),
        deployment("D-3", t(4), fields={ok: {"value": "No"}}),
        deployment("D-4", t(5), fields={ok: "yes"}),
        deployment("D-5", t(6), fields={ok: True}),
        deployment("D-6", t(7), fields={ok: None}),
        deployment("D-7", t(8), fields={ok: "UNSUCCESSFUL"}),
        deployment("D-8", t(9)),
    ]
    cfr = report(issues, mappings={"deployment_success_field": ok})["change_failure_rate"]
    # D-1, D-2, D-3, D-7 of 8: 50 %; no incidents needed when a success field is mapped
    assert cfr["values"] == {"percent": 50.0, "failed": 4, "deployments": 8}
    assert cfr["status"] == "ok"


def test_change_failure_rate_without_incidents_or_success_field_is_insufficient(report) -> None:
    cfr = report([deployment("D-1", t(5))])["change_failure_rate"]
    assert cfr["status"] == "insufficient_data"
    assert cfr["message"].startswith("No incidents or a success field")
    assert cfr["tier"] is None


def test_change_failure_rate_with_fixversions_uses_the_time_window_only(report) -> None:
    ok = "customfield_10300"
    issues = [
        story("S-1", t(1), t(2), fix_versions=[version("1.0", "2024-03-05")]),
        story("S-2", t(1), t(2), fix_versions=[version("1.1", "2024-03-12")]),
        # detected Mar 6, after 1.0 (Mar 5 23:59:59.999) and before 1.1: 1.0 failed
        incident("I-1", t(6), t(7)),
        # linked to a deployment issue: no version can be linked, so this counts for nothing
        deployment("D-1", t(20), fields={ok: False}),
        incident("I-2", t(1, month=2), t(2, month=2), links=[link("D-1")]),
    ]
    cfr = report(
        issues, deployment_source="fixversions", mappings={"deployment_success_field": ok}
    )["change_failure_rate"]
    assert cfr["values"] == {"percent": 50.0, "failed": 1, "deployments": 2}


@pytest.mark.parametrize(
    ("failed", "total", "tier"),
    [(1, 20, "Elite"), (2, 20, "High"), (3, 20, "Medium"), (4, 20, "Low"), (0, 5, "Elite")],
)
def test_change_failure_rate_tiers_at_their_boundaries(report, failed, total, tier) -> None:
    ok = "customfield_10300"
    issues = [deployment(f"D-{i}", t(1 + i), fields={ok: i >= failed}) for i in range(total)]
    cfr = report(issues, mappings={"deployment_success_field": ok})["change_failure_rate"]
    # 1/20 = 5 %, 2/20 = 10 %, 3/20 = 15 %, 4/20 = 20 %
    assert cfr["values"]["percent"] == failed / total * 100
    assert cfr["tier"] == tier


# ---------------------------------------------------------------- recovery time


def test_recovery_time_from_detected_to_resolved_with_offsets(report) -> None:
    issues = [
        # 30 minutes
        incident("I-1", t(3, 10), t(3, 10, 30)),
        # detected 08:00 +0530 (02:30 UTC), resolved 19:30 -0800 (Mar 11 03:30 UTC): 25 h
        incident("I-2", t(10, 8, offset="+0530"), t(10, 19, 30, offset="-0800")),
        # a Bug with the production-impact field set counts as an incident: 2 h
        incident("B-1", t(20, 1), t(20, 3), type_name="Bug", fields={"customfield_1": "Yes"}),
        incident("B-2", t(20, 1), t(20, 9), type_name="Bug", fields={"customfield_1": "No"}),
        incident("I-3", t(1, month=2), t(2, month=2)),  # resolved before the period
        incident("I-4", t(5), t(6), resolution="Cannot Reproduce"),  # canceled
        incident("I-5", t(7)),  # open: no resolved time
    ]
    mttr = report(issues, mappings={"production_impact_field": "customfield_1"})["recovery_time"]
    # [0.5, 25, 2] -> sorted [0.5, 2, 25]: median 2 h; p85 rank 1.7: 2 + 0.7 x 23 = 18.1
    assert mttr["values"] == {
        "median_hours": 2.0,
        "p85_hours": 18.1,
        "median_days": 0.0833,
        "p85_days": 0.7542,
    }
    assert mttr["n"] == 3
    assert mttr["excluded"] == {"canceled": 1}
    assert mttr["tier"] is None  # incident recovery time: the tier is on the failed-deployment one
    assert (mttr["headline"], mttr["unit"]) == ("median_hours", "hours")


def test_recovery_time_with_mapped_detection_leaves_out_negatives(report) -> None:
    detected = "customfield_10400"
    issues = [
        incident("I-1", t(1), t(3), fields={detected: t(2)}),  # 24 h
        incident("I-2", t(1), t(3), fields={detected: t(4)}),  # detected after resolved
        incident("I-3", t(1), t(3)),  # no mapped value: created, 48 h
    ]
    mttr = report(issues, mappings={"incident_detected_field": detected})["recovery_time"]
    assert mttr["values"]["median_hours"] == 36.0
    assert mttr["excluded"] == {"negative": 1}
    assert mttr["n"] == 2


def test_recovery_time_none_in_period_versus_no_incidents_at_all(report) -> None:
    outside = report([incident("I-1", t(1, month=2), t(2, month=2)), deployment("D-1", t(5))])
    mttr = outside["recovery_time"]
    assert (mttr["status"], mttr["message"], mttr["n"], mttr["tier"]) == (
        "none_in_period",
        "None in period",
        0,
        None,
    )
    assert mttr["values"]["median_hours"] is None
    none = report([deployment("D-1", t(5))])["recovery_time"]
    assert none["status"] == "insufficient_data"
    assert none["message"].startswith("No incidents")
    assert none["tier"] is None
