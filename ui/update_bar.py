"""The "Update data" controls: button, cancel, progress bar, status text and fetch statistics."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def update_controls() -> html.Div:
    """Update data button (id "update-data"), cancel button, progress, status and statistics."""
    return html.Div(
        [
            dbc.Button("Update data", id="update-data", color="primary", size="sm"),
            dbc.Button("Cancel", id="cancel-update", color="link", size="sm", disabled=True),
            dbc.Progress(id="update-progress", value=0, className="d-none"),
            html.Span(id="update-status", className="small text-muted"),
            html.Div(id="fetch-statistics", className="small text-muted"),
        ],
        id="update-controls",
        className="d-flex align-items-center gap-2",
    )
