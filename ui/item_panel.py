"""The item panel: the items behind a figure, in a side panel over the page.

Contract with every page area that opens it (cards, sparklines, trend charts, the flow
charts, the data-quality view): write to `Output("item-request", "data",
allow_duplicate=True)` (with `prevent_initial_call=True`) either

- `{"metric": <metric key>, "week": <ISO week "2026-W45" or None>, "excluded": <reason or
  None>}`: the items of a figure, of one weekly point, or left out for a reason (a key of the
  report's `excluded` or `notes`); or
- `{"title": <str>, "keys": [<issue keys>]}`: an explicit list of issues.

The panel (`#item-panel`, an Offcanvas) then lists them: a table (`#item-table`) that sorts
by any column (header click), filters by text (`#item-filter`, any column) and pages 25 rows
at a time, all on the server (`data/services/item_view.py`), so a long list opens as fast as a short
one; `#item-csv` downloads every matching row as CSV. Also the "Open in JIRA" links
(`[data-role=jql-link]`), the count (`[data-role=item-count]`) and how many rows match the
filter (`#item-matching`).
The figures' click targets on the cards (headline, sparkline week, "Excluded:" reason) are
static markup (`ui/html_block.py`) carrying their request in a `data-open-items` attribute
(`open_items_attrs`); `assets/open_items.js` writes it to the store on a click or Enter.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

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


def item_panel_layout() -> html.Div:
    """The request store and the (closed) panel; the page layout includes this once."""
    return html.Div(
        [
            dcc.Store(id="item-request"),
            dcc.Download(id="item-download"),
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


def figure_request(metric: str, *, week: str = "", reason: str = "") -> dict[str, Any]:
    """The panel request of a metric's figure, of one week of it (the week's Monday, `week`),
    or of its items left out for `reason`."""
    return {
        "metric": metric,
        "week": iso_week_of(week) if week else None,
        "excluded": reason or None,
    }


def open_items_attrs(metric: str, *, week: str = "", reason: str = "") -> dict[str, str]:
    """The attribute of a click target on a card that opens the panel (`figure_request`)."""
    return {"data-open-items": json.dumps(figure_request(metric, week=week, reason=reason))}


def iso_week_of(monday: str) -> str:
    """`2026-11-02` (a week's Monday, as the report's `week_start`) -> `2026-W45`."""
    year, week, _ = date.fromisoformat(monday[:10]).isocalendar()
    return f"{year}-W{week:02d}"


def request_for_point(metric: str, click: dict[str, Any] | None) -> dict[str, Any] | None:
    """The panel request of a click on a weekly trend chart (its x is the week's Monday)."""
    points = (click or {}).get("points") or []
    if not points or not points[0].get("x"):
        return None
    return figure_request(metric, week=str(points[0]["x"]))


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


def table_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's items as table cells (links as markdown, instants shortened, yes/no)."""
    return [{name: _cell(item, name) for name in view["columns"]} for item in view["items"]]


def matching_text(view: dict[str, Any]) -> str:
    """ "12 match" under a filter that keeps only some rows, else nothing."""
    return "" if view["matching"] == view["count"] else f"{view['matching']:,} match"


def first_page(trigger: str, page: int | None) -> int:
    """The page to show: the asked one when paging (`trigger` is the changed "id.prop"), the
    first after a new sort or filter."""
    return (page or 0) if trigger == "item-table.page_current" else 0


def item_table(view: dict[str, Any]) -> dash_table.DataTable:
    """The first page of a view (`data.services.item_view.item_view`) as a table sorted and paged on
    the server."""
    columns = []
    for name in view["columns"]:
        column: dict[str, Any] = {"name": HEADERS.get(name, name), "id": name}
        if name == "key":
            column["presentation"] = "markdown"
        elif name in NUMERIC:
            column["type"] = "numeric"
        columns.append(column)
    return dash_table.DataTable(
        id="item-table",
        columns=columns,
        data=table_rows(view),
        sort_action="custom",
        sort_mode="single",
        sort_by=[],
        page_action="custom",
        page_current=view["page"],
        page_count=view["pages"],
        page_size=view["page_size"],
        markdown_options={"link_target": "_blank"},
        style_table={"overflowX": "auto"},
        style_cell={"fontSize": "0.8rem", "textAlign": "left", "maxWidth": "22rem"},
        style_data={"whiteSpace": "normal", "height": "auto"},
    )


def item_panel_body(view: dict[str, Any]) -> list[Any]:
    """The panel's content for the first page of a view (`data.services.item_view.item_view`)."""
    return [
        html.Div(
            [
                html.Span(f"{view['count']:,}", className="fw-bold", **{"data-role": "item-count"}),
                html.Span(" items", className="me-2"),
                html.Span(view["period"]["label"], className="text-muted small"),
            ],
            className="mb-2",
        ),
        _jira_line(view["jira"]),
        html.Div(
            [
                dbc.Input(
                    id="item-filter",
                    type="search",
                    placeholder="Filter (any column)",
                    debounce=True,
                    size="sm",
                    class_name="item-filter",
                ),
                html.Span(id="item-matching", className="text-muted small text-nowrap"),
                dbc.Button(
                    "Download CSV", id="item-csv", size="sm", color="secondary", outline=True
                ),
            ],
            className="d-flex align-items-center gap-2 mt-2",
        ),
        html.Div(item_table(view), className="mt-2 item-table-wrap"),
    ]


def item_panel_error(message: str) -> list[Any]:
    """What the panel shows when a request cannot be answered (the page keeps its numbers)."""
    return [dbc.Alert(message, color="warning", **{"data-role": "item-error"})]
