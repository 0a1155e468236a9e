"""Callbacks of the item panel: a click on a figure becomes a request, a request a list.

Figures on the cards (headlines, sparkline weeks, "Excluded:"/"Flagged:" reasons) write their
request to the `item-request` store in the browser (`assets/open_items.js`); trend chart points
write one here. Both go to the store (see `ui/item_panel.py` for the contract other page
areas use too); `show_items` lists the request's items for the period on screen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, ctx

from configuration.metric_defaults import ALL_METRICS
from data.errors import UserError
from data.performance_utils import timed
from data.services.item_view import item_view, items_csv_for_view
from data.storage.workspaces import active_root
from ui.item_panel import (
    first_page,
    item_panel_body,
    item_panel_error,
    matching_text,
    request_for_point,
    table_rows,
)

log = logging.getLogger(__name__)


def register(app: dash.Dash, root: Path) -> None:
    """Register the item panel's callbacks; `root` is the data directory the page shows."""

    @app.callback(
        Output("item-request", "data", allow_duplicate=True),
        [Input(f"trend-{key}", "clickData") for key in ALL_METRICS],
        prevent_initial_call=True,
    )
    def open_point(*_clicks: dict[str, Any] | None) -> dict[str, Any]:
        metric = str(ctx.triggered_id or "").removeprefix("trend-")
        request = request_for_point(metric, ctx.triggered[0].get("value"))
        if request is None:
            raise dash.exceptions.PreventUpdate
        return request

    @app.callback(
        Output("item-panel-body", "children"),
        Output("item-panel", "title"),
        Output("item-panel", "is_open"),
        Input("item-request", "data"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def show_items(request: dict[str, Any] | None, shown: dict[str, str] | None) -> tuple:
        if not request:
            raise dash.exceptions.PreventUpdate
        try:
            with timed("item_panel", metric=request.get("metric")) as timer:
                view = item_view(active_root(root), request, shown)
                timer.fields["items"] = view["count"]
        except UserError as exc:
            log.warning("items not listed", extra={"operation": "item_panel", "error": str(exc)})
            return item_panel_error(str(exc)), "Items", True
        return item_panel_body(view), view["title"], True

    @app.callback(
        Output("item-table", "data"),
        Output("item-table", "page_count"),
        Output("item-table", "page_current"),
        Output("item-matching", "children"),
        Input("item-table", "page_current"),
        Input("item-table", "sort_by"),
        Input("item-filter", "value"),
        State("item-request", "data"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def page_items(
        page: int | None,
        sort_by: list[dict[str, str]] | None,
        text: str | None,
        request: dict[str, Any] | None,
        shown: dict[str, str] | None,
    ) -> tuple:
        if not request:
            raise dash.exceptions.PreventUpdate
        wanted = first_page(ctx.triggered[0]["prop_id"], page)
        with timed("item_page", page=wanted):
            view = item_view(
                active_root(root), request, shown, page=wanted, sort_by=sort_by, text=text
            )
        return table_rows(view), view["pages"], view["page"], matching_text(view)

    @app.callback(
        Output("item-download", "data"),
        Input("item-csv", "n_clicks"),
        State("item-table", "sort_by"),
        State("item-filter", "value"),
        State("item-request", "data"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def download_items(
        clicks: int | None,
        sort_by: list[dict[str, str]] | None,
        text: str | None,
        request: dict[str, Any] | None,
        shown: dict[str, str] | None,
    ) -> dict[str, str]:
        if not clicks or not request:
            raise dash.exceptions.PreventUpdate
        with timed("item_csv"):
            download = items_csv_for_view(
                active_root(root), request, shown, sort_by=sort_by, text=text
            )
        return {**download, "type": "text/csv"}
