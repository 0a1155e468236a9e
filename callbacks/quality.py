"""Callbacks of the data-quality view: the header badge, its panel, and its "Items" buttons.

The report is computed when the page loads and whenever data or settings change
(`data-version`); a rule's "Items" button asks the item panel for that rule's keys.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx

from data.engine.quality import quality_for_view
from data.errors import UserError
from data.performance_utils import timed
from data.storage.workspaces import active_root
from ui.quality_view import QUALITY_ITEMS, badge_color, quality_body, quality_keys

log = logging.getLogger(__name__)


def register(app: dash.Dash, root: Path) -> None:
    """Register the data-quality callbacks; `root` is the data directory the page shows."""

    @app.callback(
        Output("quality-badge", "children"),
        Output("quality-badge", "color"),
        Output("quality-body", "children"),
        Output("quality-keys", "data"),
        Input("data-version", "data"),
    )
    def show_quality(_version: Any) -> tuple:
        try:
            with timed("quality_report") as timer:
                report = quality_for_view(active_root(root))
                timer.fields["problems"] = report["problems"]
        except UserError as exc:  # no data yet, or unreadable settings: say so in the panel
            log.warning("quality not shown", extra={"operation": "quality", "error": str(exc)})
            return "Data quality", "secondary", str(exc), {}
        return (
            report["summary"],
            badge_color(report["problems"]),
            quality_body(report),
            quality_keys(report),
        )

    @app.callback(
        Output("quality-panel", "is_open"),
        Input("quality-badge", "n_clicks"),
        prevent_initial_call=True,
    )
    def open_quality(_clicks: int | None) -> bool:
        return True

    @app.callback(
        Output("item-request", "data", allow_duplicate=True),
        Output("quality-panel", "is_open", allow_duplicate=True),
        Input({"type": QUALITY_ITEMS, "rule": ALL}, "n_clicks"),
        State("quality-keys", "data"),
        prevent_initial_call=True,
    )
    def list_rule_items(_clicks: list[int | None], keys: dict[str, Any] | None) -> tuple:
        if not isinstance(ctx.triggered_id, dict) or not ctx.triggered[0].get("value"):
            raise dash.exceptions.PreventUpdate
        return (keys or {})[ctx.triggered_id["rule"]], False
