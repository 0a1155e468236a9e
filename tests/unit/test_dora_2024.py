"""METRICS.md "DORA 2024 additions" on hand-worked projects, on the reference and the fast engine.

Deployment rework rate, failed deployment recovery time beside incident recovery time, and the
2024 tiers (nearest cluster for change failure rate). Every expected number is worked out by
hand in the comment above it; the period is March 2024 in UTC ([Mar 1, Mar 29), 28 days).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.issue_builder import link, version
from tests.unit.test_dora_metrics import deployment, incident, story, t

REWORK = "customfield_10500"
OK_FIELD = "customfield_10300"


def test_deployment_rework_rate_counts_labels_the_rework_field_and_open_linked_incidents(
    report,
) -> None:
    issues = [
        deployment("D-1", t(5), labels=["HotFix"]),  # a rework label, in another case
        deployment("D-2", t(8), fields={REWORK: {"value": "Yes"}}),  # the rework field
        deployment("D-3", t(12), links=[link("I-1")]),  # I-1 open since Mar 11: rework
        deployment("D-4", t(15), links=[link("I-2", direction="inward")]),  # I-2 resolved first
        deployment("D-5", t(20), links=[link("I-3")]),  # I-3 detected after D-5
        deployment("D-6", t(22), fields={REWORK: "no"}),
        deployment("D-0", t(29, month=2), labels=["rollback"]),  # before the period
        incident("I-1", t(11)),
        incident("I-2", t(13), t(14)),
        incident("I-3", t(21), t(23)),
    ]
    rework = report(issues, mappings={"rework_field": REWORK})["deployment_rework_rate"]
    # 6 deployments in March, D-1, D-2 and D-3 rework: 3/6 = 50 %
    assert rework["values"] == {"percent": 50.0, "rework": 3, "deployments": 6}
    assert (rework["n"], rework["status"], rework["tier"]) == (6, "ok", None)
    assert (rework["label"], rework["headline"], rework["unit"]) == (
        "Deployment rework rate",
        "percent",
        "%",
    )
    # without the field mapped D-2 is an ordinary deployment: 2/6 = 33.33 %
    unmapped = report(issues)["deployment_rework_rate"]
    assert unmapped["values"] == {"percent": 33.33, "rework": 2, "deployments": 6}


def test_deployment_rework_rate_with_fixversions_reads_the_hotfix_pattern(report) -> None:
    issues = [
        story("S-1", t(1), t(2), fix_versions=[version("1.4.0", "2024-03-05")]),
        story("S-2", t(1), t(2), fix_versions=[version("1.4.1", "2024-03-09")]),  # patch 1
        story("S-3", t(1), t(2), fix_versions=[version("v1.4.10", "2024-03-12")]),  # patch 10
        story("S-4", t(1), t(2), fix_versions=[version("2.0", "2024-03-15")]),
        story("S-5", t(1), t(2), fix_versions=[version("1.4.2", None, released=False)]),
    ]
    rework = report(issues, deployment_source="fixversions")["deployment_rework_rate"]
    # four released versions in March, 1.4.1 and v1.4.10 hotfixes: 2/4 = 50 %
    assert rework["values"] == {"percent": 50.0, "rework": 2, "deployments": 4}
    # another pattern: versions whose name starts with "2."
    other = report(
        issues, deployment_source="fixversions", mappings={"hotfix_version_pattern": r"^2\."}
    )["deployment_rework_rate"]
    assert other["values"] == {"percent": 25.0, "rework": 1, "deployments": 4}


def test_deployment_rework_rate_without_deployments_is_insufficient(report) -> None:
    rework = report([incident("I-1", t(3), t(4))])["deployment_rework_rate"]
    assert (rework["status"], rework["message"]) == ("insufficient_data", "No deployments")
    assert rework["values"] == {"percent": None, "rework": None, "deployments": None}


def failed_deployment_project() -> list[dict]:
    """Three deployments and six incidents; the comments give both recovery figures."""
    return [
        deployment("D-1", t(4, 10)),
        deployment("D-2", t(10, 10)),
        deployment("D-3", t(20, 10)),
        # in D-1's window, no link: from D-1 (Mar 4 10:00) to Mar 5 16:00 = 30 h; detected: 6 h
        incident("I-1", t(5, 10), t(5, 16)),
        # detected in D-2's window but linked to D-1: the link wins; Mar 4 10:00 to Mar 12
        # 22:00 = 204 h; detected: 12 h
        incident("I-2", t(12, 10), t(12, 22), links=[link("D-1")]),
        # linked only to D-3, which came after its detection: the earliest linked one, D-3;
        # Mar 20 10:00 to 14:00 = 4 h; detected Mar 19 10:00: 28 h
        incident("I-3", t(19, 10), t(20, 14), links=[link("D-3", direction="inward")]),
        # before every deployment: failed none (a note); detected: 24 h
        incident("I-4", t(1, 10), t(2, 10)),
        incident("I-5", t(6), t(7), resolution="Won't Do"),  # canceled
        # linked to D-2 but resolved before it: negative, left out; detected: 22 h
        incident("I-6", t(9, 10), t(10, 8), links=[link("D-2")]),
    ]


def test_failed_deployment_recovery_time_is_measured_from_the_failed_deployment(report) -> None:
    result = report(failed_deployment_project())
    failed = result["failed_deployment_recovery_time"]
    # [30, 204, 4] -> [4, 30, 204]: median 30 h; p85 rank 1.7: 30 + 0.7 x 174 = 151.8 h
    assert failed["values"] == {
        "median_hours": 30.0,
        "p85_hours": 151.8,
        "median_days": 1.25,
        "p85_days": 6.325,
    }
    assert failed["n"] == 3
    assert failed["excluded"] == {"canceled": 1, "negative": 1}
    assert failed["notes"] == {"no_failed_deployment": 1}
    assert failed["tier"] == "Medium"  # 2023: under a week
    assert failed["label"] == "Failed deployment recovery time"


def test_incident_recovery_time_is_resolved_minus_detected_for_every_incident_and_has_no_tier(
    report,
) -> None:
    incidents = report(failed_deployment_project())["recovery_time"]
    # [6, 12, 28, 24, 22] -> [6, 12, 22, 24, 28]: median 22 h; p85 rank 3.4: 24 + 0.4 x 4 = 25.6
    assert incidents["values"]["median_hours"] == 22.0
    assert incidents["values"]["p85_hours"] == 25.6
    assert (incidents["n"], incidents["excluded"]) == (5, {"canceled": 1})
    assert incidents["label"] == "Incident recovery time"
    assert incidents["tier"] is None


def test_failed_deployment_recovery_time_without_the_time_window_needs_a_link(report) -> None:
    result = report(failed_deployment_project(), mappings={"failure_by_time_window": False})
    failed = result["failed_deployment_recovery_time"]
    # I-1 has no link any more: only I-2 (204 h) and I-3 (4 h); median 104 h
    assert failed["values"]["median_hours"] == 104.0
    assert failed["notes"] == {"no_failed_deployment": 2}


def test_failed_deployment_recovery_time_needs_incidents_and_deployments(report) -> None:
    no_incidents = report([deployment("D-1", t(5))])["failed_deployment_recovery_time"]
    assert (no_incidents["status"], no_incidents["message"]) == (
        "insufficient_data",
        "No incidents",
    )
    no_deployments = report([incident("I-1", t(3), t(4))])["failed_deployment_recovery_time"]
    assert no_deployments["message"] == "No deployments"
    assert no_deployments["values"]["median_hours"] is None


@pytest.mark.parametrize(
    ("failed", "tier_2023", "tier_2024"),
    [
        (0, "Elite", "Elite"),  # 0 %: nearest 5 %
        (1, "Elite", "Elite"),  # 5 %
        (2, "High", "Medium"),  # 10 %: Medium's cluster value
        (3, "Medium", "High"),  # 15 %: as near 10 % as 20 %; the tie goes to the better, High
        (4, "Low", "High"),  # 20 %
        (6, "Low", "High"),  # 30 %: as near 20 % as 40 %: High
        (7, "Low", "Low"),  # 35 %: nearest 40 %
    ],
)
def test_change_failure_rate_2024_tier_is_the_nearest_cluster(
    report, failed, tier_2023, tier_2024
) -> None:
    issues = [deployment(f"D-{i}", t(1 + i), fields={OK_FIELD: i >= failed}) for i in range(20)]
    mappings = {"deployment_success_field": OK_FIELD}
    cfr_2023 = report(issues, mappings=mappings)["change_failure_rate"]
    cfr_2024 = report(issues, mappings=mappings, tier_year=2024)["change_failure_rate"]
    assert cfr_2023["values"]["percent"] == failed * 5
    assert (cfr_2023["tier"], cfr_2024["tier"]) == (tier_2023, tier_2024)
    assert cfr_2023["tier_note"] is None
    assert "nearest cluster" in cfr_2024["tier_note"]


@pytest.mark.parametrize(
    ("minutes", "tier_2023", "tier_2024"),
    [
        (59, "Elite", "Elite"),
        (60, "High", "High"),
        (1439, "High", "High"),
        (1440, "Medium", "Low"),  # a day: Medium in 2023, no Medium range left in 2024
        (10080, "Low", "Low"),
    ],
)
def test_failed_deployment_recovery_tiers_by_report_year(
    report, minutes, tier_2023, tier_2024
) -> None:
    start = datetime(2024, 3, 1, 10, tzinfo=UTC).timestamp()
    resolved = datetime.fromtimestamp(start + minutes * 60, UTC)
    issues = [
        deployment("D-1", "2024-03-01T10:00:00.000+0000"),
        incident(
            "I-1", "2024-03-01T10:00:30.000+0000", resolved.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        ),
    ]
    tiers = [
        report(issues, "2024-03-01:2024-03-31", tier_year=year)["failed_deployment_recovery_time"]
        for year in (2023, 2024)
    ]
    assert [metric["tier"] for metric in tiers] == [tier_2023, tier_2024]
    assert (
        tiers[1]["tier_note"] == "2024 tiers: under a day is High (High and Medium share the range)"
    )
    assert tiers[1]["tier_note"] is not None and tiers[0]["tier_note"] is None


def test_tier_year_is_reported_in_the_settings(report) -> None:
    assert report([deployment("D-1", t(5))], tier_year=2024)["settings"]["tier_year"] == 2024
    assert report([deployment("D-1", t(5))])["settings"]["tier_year"] == 2023
