"""The fast engine equals the reference: every metric field and every weekly point.

Two kinds of input: random small projects from hypothesis (random types, transitions written
in random order with ties, random UTC offsets, date-only values, cancellations, links,
fixVersions, mapped custom fields, zones and periods), and the sample project generator's
datasets for several periods, zones and both deployment sources.

A longer hunt for disagreements: `FLOWDASH_HYPOTHESIS_EXAMPLES=2000 pytest <this file> -k random`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.issue_builder import (
    FLAGGED_FIELD,
    STATUS_ROWS,
    flag_history,
    flag_item,
    issue,
    link,
    statuses,
    version,
)
from tests.reference_metrics import (
    comparable,
    fast_report,
    first_difference,
    reference_report,
)

BASE = datetime(2024, 1, 1, tzinfo=UTC)
BASE_MS = int(BASE.timestamp() * 1000)
DAY_MS = 86_400_000
SPAN_DAYS = 150  # issues live in Jan 1 .. end of May 2024

# names compare case-insensitively: some come in other cases
TYPES = [
    "Story",
    "bug",
    "Task",
    "Technical Debt",
    "Security",
    "Spike",
    "Epic",
    "Sub-task",
    "Incident",
    "incident",
    "Deployment",
    "DEPLOYMENT",
    "Release",
]
# the last three are in no `/status` list: their category comes from an issue's current
# status or a link's embedded status (random per issue), else none (reading 9); "On_Hold" and
# "pending-review" are Waiting by their words (reading 10)
STATUS_NAMES = [name for _, name, _ in STATUS_ROWS] + ["Mystery State", "On_Hold", "pending-review"]
CATEGORIES = ["indeterminate", "new", "done"]
# curly apostrophes read as ' (reading 11)
RESOLUTIONS = [
    "Done",
    "Done",
    "Fixed",
    "Won't Do",
    "Won\u2019t Do",
    "DUPLICATE",
    "Cannot Reproduce",
]
OFFSETS = [0, 0, 330, -480, 480, 60, -300]  # minutes
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
POINTS = "customfield_10016"
ENV = "customfield_10100"
SUCCESS = "customfield_10101"
IMPACT = "customfield_10102"
COMMIT = "customfield_10103"
DEPLOYED = "customfield_10104"
DETECTED = "customfield_10105"
RESOLVED = "customfield_10106"
BLOCKER = "customfield_10108"
REWORK = "customfield_10107"


def jira_time(ms: int, offset_minutes: int, zulu: bool = False) -> str:
    """Epoch ms as JIRA writes it, in the given UTC offset."""
    moment = datetime.fromtimestamp(ms / 1000, timezone(timedelta(minutes=offset_minutes)))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}"
    if zulu and offset_minutes == 0:
        return text + "Z"
    return text + moment.strftime("%z")


def day_text(ms: int) -> str:
    """A date-only value for the UTC day of an instant."""
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


@st.composite
def instants(draw: st.DrawFn, low: int = 0, high: int = SPAN_DAYS * DAY_MS) -> int:
    """An instant in the test span; often on a whole minute or hour, so that ties happen."""
    raw = draw(st.integers(low, high))
    grain = draw(st.sampled_from([1, 60_000, 3_600_000, DAY_MS]))
    return BASE_MS + raw - raw % grain


@st.composite
def time_values(draw: st.DrawFn, allow_missing: bool = True) -> str | None:
    """A JIRA date-time in a random offset, a date-only value, or nothing."""
    kind = draw(st.sampled_from(["time", "time", "date"] + (["none"] if allow_missing else [])))
    if kind == "none":
        return None
    ms = draw(instants())
    if kind == "date":
        return day_text(ms)
    return jira_time(ms, draw(st.sampled_from(OFFSETS)), draw(st.booleans()))


@st.composite
def raw_issue(draw: st.DrawFn, key: str, keys: list[str], version_names: list[str]) -> dict:
    """One random issue: type, labels, changelog with ties and random order, fields."""
    type_name = draw(st.sampled_from(TYPES))
    created = draw(instants())
    offset = draw(st.sampled_from(OFFSETS))
    moves: list[tuple[Any, ...]] = []
    current = draw(st.sampled_from(STATUS_NAMES))
    when = created
    for index in range(draw(st.integers(0, 6))):
        when += draw(st.sampled_from([0, 1, 60_000, 3_600_000, DAY_MS, 3 * DAY_MS]))
        when += draw(st.integers(0, 2 * DAY_MS)) * draw(st.booleans())
        target = draw(st.sampled_from(STATUS_NAMES))
        moves.append(
            (jira_time(when, draw(st.sampled_from(OFFSETS))), current, target, 100 + index)
        )
        current = target
    done_now = current.lower() in ("done", "closed")
    resolution = draw(st.sampled_from(RESOLUTIONS)) if done_now else None
    if done_now and draw(st.booleans()):
        resolutiondate = jira_time(when, offset)
    else:
        resolutiondate = draw(time_values()) if done_now or draw(st.booleans()) else None
    fields: dict[str, Any] = {
        POINTS: draw(st.sampled_from([None, 1, 2.5, 3, 8, "5", True])),
        ENV: draw(
            st.sampled_from(
                [None, "production", "Prod", {"value": "prod"}, "staging", ["qa", "PROD"], ""]
            )
        ),
        SUCCESS: draw(
            st.sampled_from(
                [None, True, False, "Failed", "yes", {"value": "No"}, "unsuccessful", "ok"]
            )
        ),
        IMPACT: draw(st.sampled_from([None, None, True, False, "Yes", "no", {"value": "true"}])),
        COMMIT: draw(time_values()),
        DEPLOYED: draw(time_values()),
        DETECTED: draw(time_values()),
        RESOLVED: draw(time_values()),
        REWORK: draw(st.sampled_from([None, None, True, False, "Yes", {"value": "no"}])),
    }
    fix_versions = [
        version(
            name,
            draw(st.one_of(st.none(), instants().map(day_text))),
            released=draw(st.booleans()) or draw(st.booleans()),
        )
        for name in draw(st.lists(st.sampled_from(version_names), max_size=2, unique=True))
    ]
    category_of_unknown = draw(st.sampled_from(CATEGORIES))
    links = [
        link(
            other,
            direction=draw(st.sampled_from(["outward", "inward"])),
            status=draw(st.sampled_from([None, *STATUS_NAMES])),
            category_of_unknown=draw(st.sampled_from(CATEGORIES)),
        )
        for other in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True))
        if other != key
    ]
    labels = draw(
        st.lists(
            st.sampled_from(
                [
                    "tech-debt",
                    "frontend",
                    "Technical-Debt",
                    "team\u2018s-risk",
                    "HotFix",
                    "rollback",
                ]
            ),
            max_size=2,
            unique=True,
        )
    )
    built = issue(
        key,
        type_name,
        created=jira_time(created, offset),
        transitions=moves,
        status=current,
        resolution=resolution,
        resolutiondate=resolutiondate,
        fix_versions=fix_versions,
        labels=labels,
        links=links,
        fields=fields,
        category_of_unknown=category_of_unknown,
    )
    histories = built["changelog"]["histories"]
    for history in histories:
        entry = history["items"][0]
        if draw(st.integers(0, 5)) == 0:  # a status id the lists do not know, other case
            entry["from"], entry["to"] = None, "99999"
            entry["fromString"] = entry["fromString"].upper()
            entry["toString"] = entry["toString"].lower()
        if draw(st.integers(0, 5)) == 0:  # another field changed in the same history
            history["items"].insert(0, {"field": "assignee", "from": None, "to": "u1"})
    flag_at = created
    for index in range(draw(st.integers(0, 4))):  # flag changes, ties and repeats included
        flag_at += draw(st.sampled_from([0, 60_000, 3_600_000, DAY_MS])) * draw(st.integers(0, 3))
        raised = draw(st.booleans())
        if histories and draw(st.integers(0, 3)) == 0:  # in the history of a status change
            histories[draw(st.integers(0, len(histories) - 1))]["items"].append(flag_item(raised))
        else:
            named = draw(st.sampled_from([{}, {}, {"field": "flagged"}, {"field": "Blocker"}]))
            if named.get("field") == "Blocker":  # another field: counts only when mapped
                named["field_id"] = BLOCKER
            histories.append(
                flag_history(jira_time(flag_at, offset), raised, str(700 + index), **named)
            )
    built["changelog"]["histories"] = draw(st.permutations(histories))
    created_form = draw(st.integers(0, 19))
    if created_form < 2:  # a date-only `created`, as some imports have
        built["fields"]["created"] = day_text(created)
    elif created_form == 2:  # none at all: the engines must not stumble
        built["fields"]["created"] = None
    return built


@st.composite
def projects(draw: st.DrawFn) -> list[dict]:
    """1-25 random issues that link to each other and share version names."""
    count = draw(st.integers(1, 25))
    keys = [f"R-{index}" for index in range(1, count + 1)]
    names = ["1.0", "1.1", "1.2", "2.0", "1.0.1", "v2.0.3", "2.0.0"]
    return [draw(raw_issue(key, keys, names)) for key in keys]


@st.composite
def mapping_choices(draw: st.DrawFn) -> dict[str, Any]:
    """Which optional fields are mapped, and the failure-window switch."""
    chosen: dict[str, Any] = {"failure_by_time_window": draw(st.booleans())}
    if draw(st.booleans()):
        chosen["status_states"] = {"in review": "Waiting", "mystery state": "Active"}
    if draw(st.integers(0, 3)) == 0:  # a label name with an apostrophe, curly in the issues
        chosen["flow_type_labels"] = {"tech-debt": "Debt", "team's-risk": "Risk"}
    if draw(st.integers(0, 3)) == 0:  # deployment time from a custom date field
        chosen["deployment_time_field"] = DEPLOYED
    if draw(st.integers(0, 3)) == 0:  # the flag read from a mapped field, not "Flagged"
        chosen["flagged_field"] = draw(st.sampled_from([FLAGGED_FIELD, BLOCKER]))
    if draw(st.integers(0, 4)) == 0:  # other rework labels and hotfix pattern
        chosen["rework_labels"] = ["frontend"]
        chosen["hotfix_version_pattern"] = r"^1\."
    if draw(st.integers(0, 3)) == 0:  # other deployment and incident types
        chosen["deployment_types"] = ["release"]
        chosen["incident_types"] = ["incident", "bug"]
    for name, field_id in (
        ("story_points_field", POINTS),
        ("environment_field", ENV),
        ("deployment_success_field", SUCCESS),
        ("production_impact_field", IMPACT),
        ("commit_date_field", COMMIT),
        ("deployed_date_field", DEPLOYED),
        ("incident_detected_field", DETECTED),
        ("incident_resolved_field", RESOLVED),
        ("rework_field", REWORK),
    ):
        if draw(st.integers(0, 2)) == 0:
            chosen[name] = field_id
    return chosen


# custom ranges: a month, two whole ISO weeks (ending on a Monday 00:00), under a week, and
# the weeks around the switch to summer time in Europe and the US
PERIODS = st.one_of(
    st.sampled_from(
        [
            "7d",
            "30d",
            "90d",
            "2024-03-01:2024-03-31",
            "2024-02-26:2024-03-10",
            "2024-03-06:2024-03-08",
            "2024-03-25:2024-04-07",
            "2024-03-04:2024-03-17",
        ]
    ),
    st.integers(1, 120).map(lambda n: f"{n}d"),
)


def assert_same(issues: list[dict], **options: Any) -> None:
    fast = comparable(fast_report(issues, statuses(), **options))
    ref = comparable(reference_report(issues, statuses(), **options))
    difference = first_difference(fast, ref)
    assert difference is None, difference


@settings(
    max_examples=int(os.environ.get("FLOWDASH_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    issues=projects(),
    mappings=mapping_choices(),
    period=PERIODS,
    now=instants(60 * DAY_MS, SPAN_DAYS * DAY_MS).map(
        lambda ms: datetime.fromtimestamp(ms / 1000, UTC)
    ),
    tz=st.sampled_from(ZONES),
    source=st.sampled_from(["issues", "fixversions"]),
    on_monday=st.booleans(),
    tier_year=st.sampled_from([2023, 2024]),
)
def test_fast_report_equals_reference_on_random_projects(
    issues, mappings, period, now, tz, source, on_monday, tier_year
) -> None:
    if on_monday:  # `now` on the Monday 00:00 (in the zone) starting its week: reading 1 and 2
        local = now.astimezone(ZoneInfo(tz))
        day = local.date() - timedelta(days=local.weekday())
        now = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))
    assert_same(
        issues,
        mappings=mappings,
        period=period,
        now=now,
        tz=tz,
        deployment_source=source,
        tier_year=tier_year,
    )


SAMPLE_NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample_issues() -> list[dict]:
    from data.jira.sample_project import generate_issues

    return generate_issues(1500, 7, now=SAMPLE_NOW)


@pytest.mark.parametrize(
    ("period", "tz", "source"),
    [
        ("30d", "UTC", "issues"),
        ("90d", "Europe/Berlin", "issues"),
        ("7d", "America/New_York", "fixversions"),
        ("2024-03-01:2024-03-31", "Asia/Kolkata", "fixversions"),
        ("365d", "UTC", "issues"),
    ],
)
def test_fast_report_equals_reference_on_the_sample_project(
    sample_issues, period, tz, source
) -> None:
    assert_same(sample_issues, period=period, now=SAMPLE_NOW, tz=tz, deployment_source=source)


def test_fast_report_equals_reference_when_normalized_in_blocks(sample_issues, monkeypatch) -> None:
    from data.engine import dataset, issue_table

    monkeypatch.setattr(issue_table, "BLOCK", 256)  # 1,500 issues in six blocks
    dataset.clear_caches()
    assert_same(sample_issues, period="90d", now=SAMPLE_NOW, tz="Europe/Berlin")


def test_fast_report_equals_reference_on_the_sample_project_with_fields_mapped() -> None:
    from data.jira.sample_project import fields, generate_issues

    issues = generate_issues(400, 11, now=SAMPLE_NOW)
    names = {f["name"].lower(): f["id"] for f in fields()}
    mappings = {
        key: names[name]
        for key, name in (
            ("story_points_field", "story points"),
            ("environment_field", "environment"),
        )
        if name in names
    }
    assert_same(issues, mappings=mappings, period="90d", now=SAMPLE_NOW, tz="Europe/Berlin")
