"""What the page builds around the numbers: partial week, few-data caveat, source line, tables."""

from __future__ import annotations

import re

from ui.cards import few_data_caveat
from ui.charts import trend_figure, trend_table
from ui.formatting import partial_week
from ui.layout import source_line

WEEKS = [{"week_start": "2024-05-20", "n": 1, "values": {}}, {"week_start": "2024-05-27"}]


def test_a_period_ending_on_thursday_leaves_3_days_of_its_last_week():
    period = {"end": "2024-05-30T00:00:00+02:00"}
    assert partial_week(period, WEEKS) == 3


def test_a_period_ending_at_monday_midnight_has_a_whole_last_week():
    assert partial_week({"end": "2024-06-03T00:00:00+00:00"}, WEEKS) is None
    assert partial_week({"end": "2024-05-27T10:00:00+00:00"}, WEEKS) == 1


def test_partial_week_shades_and_labels_the_figure():
    metric = {
        "label": "Deployment frequency",
        "headline": "per_day",
        "unit": "per day",
        "weekly": [
            {"week_start": "2024-05-20", "values": {"per_day": 1.0}},
            {"week_start": "2024-05-27", "values": {"per_day": 0.28571}},
        ],
    }
    figure = trend_figure("deployment_frequency", metric, {"end": "2024-05-29T00:00:00+00:00"})
    assert figure["layout"]["annotations"][0]["text"] == "partial: 2 of 7 days"
    assert figure["data"][0]["marker"]["symbol"] == ["circle", "circle-open"]
    assert figure["data"][0]["customdata"] == ["1", "0.29"]  # rounded as the card rounds


def test_few_data_caveat_only_below_10_items_with_a_value():
    assert few_data_caveat("change_failure_rate", {"status": "ok", "n": 4, "tier": "Elite"}) == (
        "few data (n = 4): tier indicative"
    )
    assert (
        few_data_caveat("change_failure_rate", {"status": "ok", "n": 10, "tier": "Elite"}) is None
    )
    assert few_data_caveat("recovery_time", {"status": "none_in_period", "n": 0}) is None
    assert few_data_caveat("flow_velocity", {"status": "ok", "n": 2}) is None


def test_source_line_names_site_jql_count_and_update_in_the_zone():
    line = source_line(
        {
            "kind": "jira",
            "site": "https://acme.atlassian.net",
            "jql": "project = DEMO",
            "issues": 5000,
            "updated": "2026-12-02T13:05:00+00:00",
            "time_zone": "Europe/Berlin",
        },
        42.0,
    )
    assert line == (
        "https://acme.atlassian.net · project = DEMO · 5,000 issues · "
        "updated 2 Dec 2026 14:05 (Europe/Berlin) · computed in 42 ms"
    )
    assert source_line({"kind": "sample", "issues": 1500}, None) == "sample project · 1,500 issues"


def test_trend_table_has_one_row_per_week_and_a_column_per_trace():
    figure = {
        "data": [
            {"name": "median", "x": ["2024-05-20", "2024-05-27"], "y": [1.234, None]},
            {"name": "p85", "x": ["2024-05-20", "2024-05-27"], "y": [12.345, 3]},
        ]
    }
    markup = trend_table(figure).markup
    cells = re.findall(r"<t([hd])[^>]*>([^<]*)</t[hd]>", markup)
    assert cells == [
        ("h", "Week of"), ("h", "median"), ("h", "p85"),
        ("h", "2024-05-20"), ("d", "1.23"), ("d", "12.3"),
        ("h", "2024-05-27"), ("d", "–"), ("d", "3"),
    ]  # fmt: skip
    assert markup.count("<tr>") == 3


def test_trend_table_escapes_the_names_it_shows():
    figure = {"data": [{"name": "<b>Won't Fix</b>", "x": ["2024-05-20"], "y": [1]}]}
    markup = trend_table(figure).markup
    assert "<b>" not in markup
    assert "&lt;b&gt;Won&#x27;t Fix&lt;/b&gt;" in markup


def test_each_duration_card_speaks_in_its_headlines_unit_only():
    from ui.cards import metric_card

    lead = {
        "label": "Lead time for changes",
        "status": "ok",
        "headline": "median_days",
        "unit": "days",
        "n": 12,
        "values": {"median_days": 2.5, "p85_days": 6.25, "median_hours": 60, "p85_hours": 150},
        "weekly": [],
    }
    recovery = {
        **lead,
        "label": "Failed deployment recovery time",
        "headline": "median_hours",
        "unit": "hours",
    }
    lead_lines = detail_lines(metric_card("lead_time_for_changes", lead))
    recovery_lines = detail_lines(metric_card("recovery_time", recovery))
    assert lead_lines == ["p85 6.25 days"]
    assert recovery_lines == ["p85 150 hours"]


def detail_lines(component) -> list[str]:
    """The texts of a card's detail lines (data-role=detail)."""
    found = []
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if not hasattr(node, "to_plotly_json"):
            continue
        if getattr(node, "data-role", None) == "detail":
            found.append(node.children)
        stack.append(getattr(node, "children", None))
    return found
