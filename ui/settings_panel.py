"""The settings panel: JIRA connection, JQL and the button that opens the mapping dialog."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def settings_button() -> dbc.Button:
    """The header button (id "open-settings") that opens the settings panel."""
    return dbc.Button("Settings", id="open-settings", color="secondary", outline=True, size="sm")


def settings_panel() -> dbc.Offcanvas:
    """The settings panel, closed until "open-settings" is clicked."""
    return dbc.Offcanvas(
        html.Div("Settings", id="settings-body"),
        id="settings-panel",
        title="Settings",
        placement="end",
        is_open=False,
    )
