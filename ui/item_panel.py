"""The item panel: the items behind a figure, in a side panel over the page.

Contract with every page area that opens it (cards, sparklines, trend charts, the flow
charts, the data-quality view): write to `Output("item-request", "data",
allow_duplicate=True)` (with `prevent_initial_call=True`) either

- `{"metric": <metric key>, "week": <ISO week "2026-W45" or None>, "excluded": <reason or
  None>}`: the items of a figure, of one weekly point, or left out for a reason (a key of the
  report's `excluded` or `notes`); or
- `{"title": <str>, "keys": [<issue keys>]}`: an explicit list of issues.

The panel (`#item-panel`, an Offcanvas) then lists them: a table (`#item-table`) that sorts
by any column, filters by text per column, pages 100 rows at a time and downloads as CSV, the
"Open in JIRA" links (`[data-role=jql-link]`) and the count (`[data-role=item-count]`).
Ids of the figures' click targets: `{"type": "open-items", "metric", "reason", "week"}`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

#: Rows per page of the item table (the browser renders one page at a time).
PAGE_SIZE = 100
#: Headers of the item columns.
HEADERS: dict[str, str] = {
    "key": "Key",
    "summary": "Summary",
    "type": "Type",
    "flow_type": "Flow type",
    "state_now": "State now",
    "reason": "Reason",
    "created": "Created",
    "work_start": "Work start",
    "completion": "Completion",
    "deployed": "Deployed",
    "detected": "Detected",
    "resolved": "Resolved",
    "duration_days": "Duration (days)",
    "duration_hours": "Duration (hours)",
    "active_days": "Active (days)",
    "waiting_days": "Waiting (days)",
    "percent": "Efficiency %",
    "story_points": "Story points",
    "state_at_end": "State at end",
    "failed": "Failed",
    "failed_by": "Failed by",
    "incident": "Incident",
}
NUMERIC = {"duration_days", "duration_hours", "active_days", "waiting_days", "percent"}
NUMERIC |= {"story_points"}
#: The click target id type of figures, sparkline weeks and exclusion lines.
OPEN_ITEMS = "open-items"


def item_panel_layout() -> html.Div:
    """The request store and the (closed) panel; the page layout includes this once."""
    return html.Div(
        [
            dcc.Store(id="item-request"),
            dbc.Offcanvas(
                html.Div(id="item-panel-body"),
                id="item-panel",
                title="Items",
                placement="end",
                is_open=False,
                scrollable=True,
                class_name="item-panel",
            ),
        ]
    )


def open_items_id(metric: str, *, reason: str = "", week: str = "") -> dict[str, str]:
    """The id of a click target that opens the panel on a figure (all keys always present)."""
    return {"type": OPEN_ITEMS, "metric": metric, "reason": reason, "week": week}


def iso_week_of(monday: str) -> str:
    """`2026-11-02` (a week's Monday, as the report's `week_start`) -> `2026-W45`."""
    year, week, _ = date.fromisoformat(monday[:10]).isocalendar()
    return f"{year}-W{week:02d}"


def request_for_target(target: dict[str, str]) -> dict[str, Any]:
    """The panel request of a click target id (`open_items_id`)."""
    week = target.get("week") or ""
    return {
        "metric": target["metric"],
        "week": iso_week_of(week) if week else None,
        "excluded": target.get("reason") or None,
    }


def request_for_point(metric: str, click: dict[str, Any] | None) -> dict[str, Any] | None:
    """The panel request of a click on a weekly trend chart (its x is the week's Monday)."""
    points = (click or {}).get("points") or []
    if not points or not points[0].get("x"):
        return None
    return {"metric": metric, "week": iso_week_of(str(points[0]["x"])), "excluded": None}


def _cell(item: dict[str, Any], name: str) -> Any:
    value = item.get(name)
    if name == "key" and item.get("url"):
        return f"[{value}]({item['url']})"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in ("work_start", "completion", "deployed", "detected", "resolved", "created"):
        return value.replace("T", " ")[:16] if value else None
    return value


def _jira_line(jira: dict[str, Any]) -> html.Div:
    if not jira.get("links"):
        return html.Div(
            jira.get("note") or "", className="text-muted small", **{"data-role": "jira-note"}
        )
    many = len(jira["links"]) > 1
    links = [
        html.A(
            f"Open in JIRA ({index} of {len(jira['links'])})" if many else "Open in JIRA",
            href=url,
            target="_blank",
            rel="noopener",
            className="btn btn-sm btn-outline-primary",
            **{"data-role": "jql-link"},
        )
        for index, url in enumerate(jira["links"], start=1)
    ]
    return html.Div(links, className="d-flex flex-wrap gap-2")


def item_table(answer: dict[str, Any]) -> dash_table.DataTable:
    """The items as a sortable, filterable, paged table with a CSV download button."""
    columns = []
    for name in answer["columns"]:
        column: dict[str, Any] = {"name": HEADERS.get(name, name), "id": name}
        if name == "key":
            column["presentation"] = "markdown"
        elif name in NUMERIC:
            column["type"] = "numeric"
        columns.append(column)
    rows = [{name: _cell(item, name) for name in answer["columns"]} for item in answer["items"]]
    return dash_table.DataTable(
        id="item-table",
        columns=columns,
        data=rows,
        sort_action="native",
        sort_mode="single",
        filter_action="native",
        filter_options={"case": "insensitive", "placeholder_text": "filter"},
        page_action="native",
        page_size=PAGE_SIZE,
        export_format="csv",
        export_headers="display",
        markdown_options={"link_target": "_blank"},
        style_table={"overflowX": "auto"},
        style_cell={"fontSize": "0.8rem", "textAlign": "left", "maxWidth": "22rem"},
        style_data={"whiteSpace": "normal", "height": "auto"},
        css=[{"selector": ".export", "rule": "margin: 0 0 0.5rem 0;"}],
    )


def item_panel_body(answer: dict[str, Any]) -> list[Any]:
    """The panel's content for an answer of `data.evidence.item_list`."""
    return [
        html.Div(
            [
                html.Span(
                    f"{answer['count']:,}", className="fw-bold", **{"data-role": "item-count"}
                ),
                html.Span(" items", className="me-2"),
                html.Span(answer["period"]["label"], className="text-muted small"),
            ],
            className="mb-2",
        ),
        _jira_line(answer["jira"]),
        html.Div(item_table(answer), className="mt-2 item-table-wrap"),
    ]


def item_panel_error(message: str) -> list[Any]:
    """What the panel shows when a request cannot be answered (the page keeps its numbers)."""
    return [dbc.Alert(message, color="warning", **{"data-role": "item-error"})]
