"""Callbacks of the settings panel and the field-mapping dialog.

Each reads its inputs, calls one function of `data.services.settings_service`, times it, and hands
the plain result to a `ui/` builder. Saving settings writes a new value into the `data-version`
store so that the dashboard recomputes; no save starts a fetch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, no_update

from data.errors import UserError
from data.performance_utils import timed
from data.services import settings_service
from data.storage.workspaces import active_root
from ui.mapping_dialog import mapping_dialog_body, mapping_form
from ui.settings_panel import mappings_saved_view, message_view, test_result_view, warnings_view

CONNECTION_STATES = [
    State("conn-url", "value"),
    State("conn-auth", "value"),
    State("conn-email", "value"),
    State("conn-token", "value"),
    State("conn-jql", "value"),
    State("conn-verify-tls", "value"),
]


def _connection(
    url: Any, auth: Any, email: Any, token: Any, jql: Any, verify_tls: Any
) -> dict[str, Any]:
    return {
        "url": url,
        "auth": auth,
        "email": email,
        "token": token,
        "jql": jql,
        "verify_tls": verify_tls,
    }


def _version(kind: str) -> str:
    """A fresh `data-version` value; the dashboard only needs it to differ from the last one."""
    return f"{kind}-{time.time_ns()}"


def register(app: dash.Dash, root: Path) -> None:
    """Register the settings callbacks on `app`; settings live in the data directory `root`."""

    @app.callback(
        Output("settings-panel", "is_open"),
        Output("conn-url", "value"),
        Output("conn-auth", "value"),
        Output("conn-email", "value"),
        Output("conn-jql", "value"),
        Output("conn-token", "placeholder"),
        Output("conn-token", "value"),
        Output("conn-verify-tls", "value"),
        Output("conn-result", "children"),
        Output("mapping-warnings", "children"),
        Input("open-settings", "n_clicks"),
        prevent_initial_call=True,
    )
    def open_panel(_clicks: int | None) -> tuple[Any, ...]:
        """Fill the form from the saved settings (never the token) and open the panel."""
        with timed("settings_panel_open"):
            try:
                model = settings_service.panel_model(active_root(root))
            except UserError as exc:
                return (True, *([no_update] * 7), message_view(str(exc)), None)
        form = model["form"]
        return (
            True,
            form["url"],
            form["auth"],
            form["email"],
            form["jql"],
            form["token_placeholder"],
            "",
            form["verify_tls"],
            message_view(model["problem"], "warning") if model["problem"] else None,
            warnings_view(model["warnings"]),
        )

    @app.callback(
        Output("conn-result", "children", allow_duplicate=True),
        Input("conn-test", "n_clicks"),
        *CONNECTION_STATES,
        prevent_initial_call=True,
        running=[(Output("conn-test", "disabled"), True, False)],
    )
    def test_connection(_clicks: int | None, *values: Any) -> Any:
        """Ask JIRA with the form's (unsaved) values; show title, flavor, user, matching count."""
        try:
            with timed("test_connection"):
                result = settings_service.check_connection_form(
                    active_root(root), _connection(*values)
                )
        except UserError as exc:
            return message_view(str(exc))
        return test_result_view(result)

    @app.callback(
        Output("conn-tz-result", "children"),
        Output("data-version", "data", allow_duplicate=True),
        Input("conn-use-tz", "n_clicks"),
        State("conn-tz", "children"),
        prevent_initial_call=True,
    )
    def use_time_zone(clicks: int | None, zone: str | None) -> tuple[Any, ...]:
        """Save the JIRA user's time zone as the dashboard's; the dashboard recomputes."""
        if not clicks:
            raise dash.exceptions.PreventUpdate
        try:
            with timed("use_time_zone"):
                saved = settings_service.use_time_zone(active_root(root), zone or "")
        except UserError as exc:
            return message_view(str(exc)), no_update
        return message_view(f"Time zone set to {saved}.", "success"), _version("time-zone")

    @app.callback(
        Output("conn-result", "children", allow_duplicate=True),
        Output("conn-token", "value", allow_duplicate=True),
        Output("conn-token", "placeholder", allow_duplicate=True),
        Output("data-version", "data", allow_duplicate=True),
        Input("conn-save", "n_clicks"),
        *CONNECTION_STATES,
        prevent_initial_call=True,
    )
    def save_connection(_clicks: int | None, *values: Any) -> tuple[Any, ...]:
        """Save the connection; an empty token field keeps the saved token."""
        try:
            with timed("save_connection"):
                settings = settings_service.save_connection_form(
                    active_root(root), _connection(*values)
                )
        except UserError as exc:
            return message_view(str(exc)), no_update, no_update, no_update
        placeholder = settings_service.token_placeholder(settings)
        note = "Saved. Click Update data to fetch." if settings["jira"]["url"] else "Saved."
        return message_view(note, "success"), "", placeholder, _version("settings")

    @app.callback(
        Output("mapping-dialog", "is_open"),
        Output("mapping-body", "children"),
        Output("mapping-result", "children"),
        Input("open-mappings", "n_clicks"),
        Input("offer-mappings", "n_clicks"),
        prevent_initial_call=True,
        running=[
            (Output("open-mappings", "disabled"), True, False),
            (Output("offer-mappings", "disabled"), True, False),
        ],
    )
    def open_mappings(_clicks: int | None, _offer_clicks: int | None) -> tuple[Any, ...]:
        """Fill the dialog from JIRA's fields and statuses (or the project's) and open it:
        from the settings panel, or from the page's offer of fields not mapped yet."""
        try:
            with timed("mapping_dialog_open"):
                model = settings_service.mapping_dialog_model(active_root(root))
        except UserError as exc:
            return True, None, message_view(str(exc))
        return True, mapping_dialog_body(model), warnings_view(model["warnings"])

    @app.callback(
        Output("mapping-dialog", "is_open", allow_duplicate=True),
        Input("mapping-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel_mappings(_clicks: int | None) -> bool:
        return False

    @app.callback(
        Output("mapping-dialog", "is_open", allow_duplicate=True),
        Output("mapping-result", "children", allow_duplicate=True),
        Output("mapping-warnings", "children", allow_duplicate=True),
        Output("data-version", "data", allow_duplicate=True),
        Input("mapping-save", "n_clicks"),
        State({"type": "mapping", "key": ALL}, "id"),
        State({"type": "mapping", "key": ALL}, "value"),
        State({"type": "status-state", "name": ALL}, "id"),
        State({"type": "status-state", "name": ALL}, "value"),
        State({"type": "type-flow", "name": ALL}, "id"),
        State({"type": "type-flow", "name": ALL}, "value"),
        prevent_initial_call=True,
    )
    def save_mappings(_clicks: int | None, *form_parts: Any) -> tuple[Any, ...]:
        """Validate and save the mappings; refusals keep the dialog open with the reason."""
        if not form_parts[0]:  # the dialog's form did not load: nothing to save
            return no_update, no_update, no_update, no_update
        form = mapping_form(*form_parts)
        try:
            with timed("save_mappings") as timer:
                result = settings_service.save_mappings_form(active_root(root), form)
                timer.fields["unavailable_metrics"] = len(result["warnings"])
        except UserError as exc:
            return True, message_view(str(exc)), no_update, no_update
        view = mappings_saved_view(result["warnings"], result["new_fields"])
        return False, None, view, _version("mappings")
