"""Callback of the item panel: a request `{"title", "keys"}` in, the panel open with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import Input, Output

from data.analytics_service import item_details
from data.performance_utils import timed
from ui.item_panel import item_list


def register(app: dash.Dash, root: Path) -> None:
    """Open the item panel whenever a chart writes a request to `item-request`."""

    @app.callback(
        Output("item-panel", "is_open"),
        Output("item-panel", "title"),
        Output("item-panel-body", "children"),
        Input("item-request", "data"),
        prevent_initial_call=True,
    )
    def open_items(request: dict[str, Any] | None) -> tuple[Any, ...]:
        if not request:
            raise dash.exceptions.PreventUpdate
        keys = [str(key) for key in request.get("keys") or []]
        with timed("item_panel", items=len(keys)):
            details = item_details(root, keys)
        return True, request.get("title") or "Items", item_list(details)
