"""Callbacks of the "Flow analytics" section: the shown period in, the charts on screen; a
click on a mark in, the item panel's request out; the service level saved (from the controls
beside the section title or the Settings panel, through one save path).

The charts follow `shown-inputs` (the period and exact "now" of the cards), so they always
describe the numbers above them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, no_update

from data.errors import UserError
from data.performance_utils import timed
from data.services.analytics_service import (
    analytics_for_view,
    items_for_view,
    save_service_level,
    saved_service_level,
)
from data.storage.workspaces import active_root
from ui.flow_analytics import (
    CFD_PICK,
    CHARTS,
    CLICK_GRAPHS,
    aging_table,
    analytics_configs,
    analytics_figures,
    selection_from_click,
    service_level_values,
    summary_line,
)

log = logging.getLogger(__name__)

GRAPH_IDS = [graph_id for graph_id, _, _ in CHARTS]


def register(app: dash.Dash, root: Path) -> None:
    """Register the section's callbacks."""

    @app.callback(
        [Output(graph_id, "figure") for graph_id in GRAPH_IDS],
        [Output(graph_id, "config") for graph_id in GRAPH_IDS],
        Output("fa-aging-table", "children"),
        Output("fa-summary", "children"),
        Output("sle-days", "value"),
        Output("sle-percent", "value"),
        Input("shown-inputs", "data"),
        Input("sle-version", "data"),
    )
    def show_analytics(shown: dict[str, str] | None, _version: Any) -> list[Any]:
        """Draw the section for the period on screen (the page is built with its first
        `shown-inputs`, so this runs on load too)."""
        if not shown:
            raise dash.exceptions.PreventUpdate
        try:
            with timed("flow_analytics", period=shown["period"]) as timer:
                result = analytics_for_view(
                    active_root(root), shown["period"], datetime.fromisoformat(shown["now"])
                )
                timer.fields["issues"] = result["issues"]
        except UserError as exc:  # the cards callback shows the message
            log.warning(
                "flow analytics not shown",
                extra={"operation": "flow_analytics", "error": str(exc)},
            )
            raise dash.exceptions.PreventUpdate from None
        return [
            *analytics_figures(result),
            *analytics_configs(result),
            aging_table(result),
            summary_line(result),
            *service_level_values(result["sle_setting"]),
        ]

    @app.callback(
        Output("item-request", "data", allow_duplicate=True),
        [Input(graph_id, "clickData") for graph_id in CLICK_GRAPHS],
        Input(CFD_PICK, "data"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def open_clicked(*args: Any) -> Any:
        shown = args[-1]
        graph_id = dash.ctx.triggered_id
        clicks = dict(zip((*CLICK_GRAPHS, CFD_PICK), args[:-1], strict=True))
        selection = selection_from_click(graph_id, clicks.get(graph_id))
        if not shown or selection is None:
            raise dash.exceptions.PreventUpdate
        try:
            with timed("flow_analytics_items", chart=selection["chart"]):
                return items_for_view(
                    active_root(root),
                    shown["period"],
                    datetime.fromisoformat(shown["now"]),
                    selection,
                )
        except UserError as exc:
            log.warning(
                "items not listed", extra={"operation": "flow_analytics", "error": str(exc)}
            )
            raise dash.exceptions.PreventUpdate from None

    @app.callback(
        Output("settings-sle-days", "value"),
        Output("settings-sle-percent", "value"),
        Output("settings-sle-result", "children"),
        Input("open-settings", "n_clicks"),
        prevent_initial_call=True,
    )
    def fill_settings_service_level(_clicks: int | None) -> tuple[Any, ...]:
        return (*service_level_values(saved_service_level(active_root(root))), "")

    @app.callback(
        Output("sle-message", "children"),
        Output("settings-sle-result", "children", allow_duplicate=True),
        Output("sle-version", "data"),
        Input("sle-save", "n_clicks"),
        Input("settings-sle-save", "n_clicks"),
        State("sle-days", "value"),
        State("sle-percent", "value"),
        State("settings-sle-days", "value"),
        State("settings-sle-percent", "value"),
        State("sle-version", "data"),
        prevent_initial_call=True,
    )
    def save_sle(*values: Any) -> tuple[Any, ...]:
        """One save path for both forms (beside the section title, in the Settings panel):
        the message goes to the form that was used."""
        *_, days, percent, panel_days, panel_percent, version = values
        from_panel = dash.ctx.triggered_id == "settings-sle-save"
        if from_panel:
            days, percent = panel_days, panel_percent
        try:
            with timed("save_service_level", form="settings" if from_panel else "section"):
                save_service_level(active_root(root), days, percent)
        except UserError as exc:
            message, new_version = str(exc), no_update
        else:
            message, new_version = "Saved.", (version or 0) + 1
        if from_panel:
            return no_update, message, new_version
        return message, no_update, new_version
