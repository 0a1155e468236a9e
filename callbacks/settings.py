"""Callbacks of the settings panel and the field-mapping dialog."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Input, Output, State


def register(app: dash.Dash, root: Path) -> None:
    """Register the settings callbacks on `app`; settings live in the data directory `root`."""

    @app.callback(
        Output("settings-panel", "is_open"),
        Input("open-settings", "n_clicks"),
        State("settings-panel", "is_open"),
        prevent_initial_call=True,
    )
    def toggle_panel(_clicks: int | None, is_open: bool) -> bool:
        return not is_open
