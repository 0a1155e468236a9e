"""The data-quality view: a header badge with the number of problems, and a panel listing
each rule with its count, the metrics it affects, its JQL and a button to list its items.

Ids: `quality-badge` (the header button), `quality-panel` (an Offcanvas), `quality-body`,
`quality-keys` (Store: rule -> {"title", "keys"}, what an "Items" button asks the item panel
for), and per rule `{"type": "quality-items", "rule": <rule key>}`.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

QUALITY_ITEMS = "quality-items"


def quality_badge() -> dbc.Button:
    """The header button; its text is set once the report is computed."""
    return dbc.Button(
        "Data quality",
        id="quality-badge",
        size="sm",
        color="secondary",
        outline=True,
        class_name="quality-badge",
    )


def quality_panel() -> html.Div:
    """The (closed) data-quality panel and the store of each rule's keys."""
    return html.Div(
        [
            dcc.Store(id="quality-keys"),
            dbc.Offcanvas(
                html.Div(id="quality-body"),
                id="quality-panel",
                title="Data quality",
                placement="end",
                is_open=False,
                scrollable=True,
                class_name="quality-panel",
            ),
        ]
    )


def badge_color(problems: int) -> str:
    """Green when there is nothing to check, amber otherwise."""
    return "success" if problems == 0 else "warning"


def _rule_row(rule: dict[str, Any]) -> html.Tr:
    links = [
        html.A(
            "Open in JIRA" if len(rule["links"]) == 1 else f"JIRA {index}",
            href=url,
            target="_blank",
            rel="noopener",
            className="me-2",
        )
        for index, url in enumerate(rule["links"], start=1)
    ]
    return html.Tr(
        [
            html.Td(rule["title"]),
            html.Td(f"{rule['count']:,}", **{"data-role": "rule-count"}),
            html.Td(
                ", ".join(name.replace("_", " ") for name in rule["metrics"]), className="small"
            ),
            html.Td([html.Div(rule["jql"] or "", className="quality-jql font-monospace"), *links]),
            html.Td(
                dbc.Button(
                    "Items",
                    id={"type": QUALITY_ITEMS, "rule": rule["rule"]},
                    size="sm",
                    color="primary",
                    outline=True,
                    disabled=rule["count"] == 0,
                    n_clicks=0,
                )
            ),
        ],
        **{"data-rule": rule["rule"]},
    )


def quality_body(report: dict[str, Any]) -> list[Any]:
    """The panel's content for a report of `data.engine.quality.quality_report`."""
    header = html.Tr(
        [html.Th(name) for name in ("Problem", "Items", "Affects", "Find in JIRA", "")]
    )
    return [
        html.P(
            [
                html.Strong(report["summary"]),
                f" among {report['issues']:,} issues (the whole project).",
            ],
            **{"data-role": "quality-summary"},
        ),
        html.P(report["note"], className="text-muted small") if report.get("note") else None,
        dbc.Table(
            [html.Thead(header), html.Tbody([_rule_row(rule) for rule in report["rules"]])],
            size="sm",
            hover=True,
            class_name="quality-table",
        ),
    ]


def quality_keys(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each rule's item-panel request (`{"title", "keys"}`), for the "Items" buttons."""
    return {
        rule["rule"]: {"title": rule["title"], "keys": rule["keys"]} for rule in report["rules"]
    }
