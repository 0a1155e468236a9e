"""The item panel: the issues behind a clicked mark, each a link into JIRA.

Contract with every chart (shared with the "Evidence" issue's panel): the layout holds
`dcc.Store(id="item-request")` and the panel `item-panel`; a chart opens the panel by writing
`{"title": <str>, "keys": [<issue keys>]}` to `Output("item-request", "data",
allow_duplicate=True)` with `prevent_initial_call=True`. This is the minimal panel: keys,
links, summary and type where the project holds them.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html


def item_panel() -> html.Div:
    """The request store and the (closed) panel."""
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
            ),
        ]
    )


def item_list(details: dict[str, Any]) -> Any:
    """The panel's body: how many items, then one line per item (link, type, summary)."""
    items = details.get("items") or []
    if not items:
        return html.P("No items here.", className="text-muted")
    lines = []
    for item in items:
        key = item["key"]
        label = (
            html.A(key, href=item["url"], target="_blank", rel="noopener")
            if item.get("url")
            else html.Span(key)
        )
        parts = [label]
        if item.get("type"):
            parts.append(html.Span(f" · {item['type']}", className="text-muted"))
        if item.get("summary"):
            parts.append(html.Div(item["summary"], className="small"))
        lines.append(html.Li(parts, className="list-group-item", **{"data-key": key}))
    total = details.get("total", len(items))
    count = f"{total:,} items" if total == len(items) else f"{len(items):,} of {total:,} items"
    return html.Div(
        [html.P(count, className="small text-muted"), html.Ul(lines, className="list-group")]
    )
