"""Callbacks of the workspace switcher: open the dialog, apply an action, switch, export and
import.

`apply` calls `data.services.workspace_views.workspace_action` once and hands its result to
`ui.workspace_switcher.result_view`; any change writes a new `data-version`, so every card,
chart and panel recomputes for the workspace now shown.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, no_update

from data.performance_utils import timed
from data.services.workspace_updates import start_update_all_view, update_all_status
from data.services.workspace_views import export_action, import_action, workspace_action
from ui.workspace_switcher import dialog_view, result_view, update_all_view, workspace_options

BUTTONS = {
    "workspace-new": "create",
    "workspace-rename": "rename",
    "workspace-duplicate": "duplicate",
    "workspace-delete": "delete",
}


def register(app: dash.Dash, data_root: Path) -> None:
    """Register the switcher's callbacks; workspaces live in the data directory `data_root`."""

    @app.callback(
        Output("workspace-dialog", "is_open"),
        Output("workspace-dialog-title", "children"),
        Output("workspace-dialog-text", "children"),
        Output("workspace-name-row", "className"),
        Output("workspace-name", "value"),
        Output("workspace-confirm", "children"),
        Output("workspace-confirm", "color"),
        Output("workspace-pending", "data"),
        [Input(button, "n_clicks") for button in BUTTONS],
        State("workspace-select", "options"),
        State("workspace-select", "value"),
        prevent_initial_call=True,
    )
    def open_dialog(*values: Any) -> tuple[Any, ...]:
        options, value = values[-2:]
        return dialog_view(BUTTONS[dash.ctx.triggered_id], options, value)

    @app.callback(
        Output("workspace-dialog", "is_open", allow_duplicate=True),
        Input("workspace-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel(_clicks: int | None) -> bool:
        return False

    @app.callback(
        Output("workspace-select", "options"),
        Output("workspace-select", "value"),
        Output("workspace-message", "children"),
        Output("workspace-message", "className"),
        Output("workspace-dialog", "is_open", allow_duplicate=True),
        Output("data-version", "data", allow_duplicate=True),
        Input("workspace-select", "value"),
        Input("workspace-confirm", "n_clicks"),
        State("workspace-pending", "data"),
        State("workspace-name", "value"),
        prevent_initial_call=True,
    )
    def apply(
        selected: str | None, _confirm: int | None, pending: str | None, name: str | None
    ) -> tuple[Any, ...]:
        action = "switch" if dash.ctx.triggered_id == "workspace-select" else pending
        with timed("workspace_action", action=action or ""):
            result = workspace_action(data_root, action, selected, name)
        refused = bool(result["error"])
        return (
            *result_view(result),
            refused and action != "switch",  # a refused name keeps the dialog open
            no_update if refused else f"workspace-{time.time_ns()}",
        )

    @app.callback(
        Output("workspace-download", "data"),
        Output("workspace-message", "children", allow_duplicate=True),
        Output("workspace-message", "className", allow_duplicate=True),
        Input("workspace-export", "n_clicks"),
        State("workspace-select", "value"),
        State("workspace-export-data", "value"),
        prevent_initial_call=True,
    )
    def export(_clicks: int | None, selected: str | None, with_data: Any) -> tuple[Any, ...]:
        with timed("workspace_export", with_data=bool(with_data)):
            result = export_action(data_root, selected, bool(with_data))
        if result["error"]:
            return no_update, result["error"], "small text-danger"
        return result["download"], "", "small text-muted"

    @app.callback(
        Output("workspace-select", "options", allow_duplicate=True),
        Output("workspace-select", "value", allow_duplicate=True),
        Output("workspace-message", "children", allow_duplicate=True),
        Output("workspace-message", "className", allow_duplicate=True),
        Output("workspace-import", "contents"),
        Input("workspace-import", "contents"),
        State("workspace-import", "filename"),
        prevent_initial_call=True,
    )
    def import_file(contents: str | None, filename: str | None) -> tuple[Any, ...]:
        if contents is None:  # cleared after the last import
            raise dash.exceptions.PreventUpdate
        with timed("workspace_import"):
            result = import_action(data_root, contents, filename)
        return (*result_view(result), None)  # the switcher's callback then shows it

    @app.callback(
        Output("workspace-update-all-status", "children"),
        Output("workspace-update-all-poll", "disabled"),
        Input("workspace-update-all", "n_clicks"),
        prevent_initial_call=True,
    )
    def update_all(_clicks: int | None) -> tuple[Any, ...]:
        with timed("update_all_start"):
            progress = start_update_all_view(data_root)
        return update_all_view(progress)

    @app.callback(
        Output("workspace-update-all-status", "children", allow_duplicate=True),
        Output("workspace-update-all-poll", "disabled", allow_duplicate=True),
        Output("data-version", "data", allow_duplicate=True),
        Output("workspace-select", "options", allow_duplicate=True),
        Input("workspace-update-all-poll", "n_intervals"),
        prevent_initial_call=True,
    )
    def poll_update_all(_n: int | None) -> tuple[Any, ...]:
        progress = update_all_status(data_root)
        lines, finished = update_all_view(progress)
        if not finished:
            return lines, False, no_update, no_update
        options = workspace_options(progress["summaries"])  # their new "updated" times
        return lines, True, f"update-all-{time.time_ns()}", options
