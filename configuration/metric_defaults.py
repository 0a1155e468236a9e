"""Default metric mappings and DORA tiers, as `../shared/METRICS.md` defines them.

Mappings are plain JSON-serialisable dicts so that they can be saved in settings.json, hashed
for cache keys and edited in the settings panel. Names are compared case-insensitively, so
every name here is lower case.
"""

from __future__ import annotations

import copy
from typing import Any

#: The report's metric keys, in the order the page shows them.
DORA_METRICS = (
    "deployment_frequency",
    "lead_time_for_changes",
    "change_failure_rate",
    "recovery_time",
)
FLOW_METRICS = ("flow_velocity", "flow_time", "flow_efficiency", "flow_load", "flow_distribution")
ALL_METRICS = DORA_METRICS + FLOW_METRICS

STATES = ("New", "Active", "Waiting", "Done")
FLOW_TYPES = ("Feature", "Defect", "Risk", "Debt", "Other")

#: Words that make an `indeterminate` status a waiting state (whole words only).
WAITING_WORDS = ("blocked", "block", "waiting", "wait", "hold", "pending")
#: A status whose name starts with this is a waiting state too.
WAITING_PREFIX = "ready for"

DEFAULT_MAPPINGS: dict[str, Any] = {
    # status name (lower case) -> state; statuses not listed follow the category rule
    "status_states": {},
    "canceled_resolutions": [
        "won't do",
        "won't fix",
        "duplicate",
        "cannot reproduce",
        "cancelled",
        "canceled",
        "rejected",
    ],
    # issue type (lower case) -> flow type; types listed in non_flow_types are not flow items;
    # any other type is "Other"
    "flow_types": {
        "story": "Feature",
        "new feature": "Feature",
        "improvement": "Feature",
        "task": "Feature",
        "bug": "Defect",
        "defect": "Defect",
        "incident": "Defect",
        "security": "Risk",
        "vulnerability": "Risk",
        "risk": "Risk",
        "technical debt": "Debt",
        "tech debt": "Debt",
    },
    # label (lower case) -> flow type; a label wins over the issue type
    "flow_type_labels": {"tech-debt": "Debt", "technical-debt": "Debt"},
    "non_flow_types": ["epic", "sub-task", "subtask", "deployment", "release"],
    # "issues": deployment issues; "fixversions": released fixVersions with a releaseDate
    "deployment_source": "issues",
    "deployment_types": ["deployment", "release"],
    "deployment_time_field": "resolutiondate",
    # field id of the deployment's environment; None means every deployment is production
    "environment_field": None,
    "production_values": ["production", "prod"],
    # field id whose value says whether a deployment succeeded (false / "failed" = failed)
    "deployment_success_field": None,
    # count a deployment failed when an incident is detected before the next deployment
    "failure_by_time_window": True,
    "incident_types": ["incident"],
    "production_impact_field": None,
    "incident_detected_field": None,
    "incident_resolved_field": None,
    "commit_date_field": None,
    "deployed_date_field": None,
    "story_points_field": None,
}

#: Reference ranges (percent) shown beside the actual flow distribution.
DISTRIBUTION_REFERENCE: dict[str, tuple[int, int]] = {
    "Feature": (40, 50),
    "Defect": (15, 25),
    "Risk": (10, 15),
    "Debt": (20, 25),
}


def default_mappings() -> dict[str, Any]:
    """A fresh, mutable copy of the default mappings."""
    return copy.deepcopy(DEFAULT_MAPPINGS)


def deployment_frequency_tier(per_day: float) -> str:
    """Tier of a deployment rate: >= 1/day Elite, >= 1/week High, >= 1/30 days Medium."""
    if per_day >= 1:
        return "Elite"
    if per_day * 7 >= 1:
        return "High"
    if per_day * 30 >= 1:
        return "Medium"
    return "Low"


def lead_time_tier(median_hours: float) -> str:
    """Tier of a median lead time: < 1 day Elite, < 1 week High, < 30 days Medium."""
    if median_hours < 24:
        return "Elite"
    if median_hours < 24 * 7:
        return "High"
    if median_hours < 24 * 30:
        return "Medium"
    return "Low"


def change_failure_rate_tier(percent: float) -> str:
    """Tier of a change failure rate: <= 5 % Elite, <= 10 % High, <= 15 % Medium."""
    if percent <= 5:
        return "Elite"
    if percent <= 10:
        return "High"
    if percent <= 15:
        return "Medium"
    return "Low"


def recovery_time_tier(median_hours: float) -> str:
    """Tier of a median recovery time: < 1 hour Elite, < 1 day High, < 1 week Medium."""
    if median_hours < 1:
        return "Elite"
    if median_hours < 24:
        return "High"
    if median_hours < 24 * 7:
        return "Medium"
    return "Low"
