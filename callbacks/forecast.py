"""Callbacks of the Forecast section: options in, one data call, a forecast on screen.

Each reads the form, calls one function of `data.services.forecast_service`, times it and hands the
result to `ui.forecast_panel`. A `UserError` (a date in the past, N = 0, an unknown epic, no
completions in the history window) shows in the form's alert and keeps the last forecast on
screen.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, no_update

from data.errors import UserError
from data.performance_utils import timed
from data.services.forecast_service import (
    forecast_for_view,
    forecast_form_values,
    save_forecast_settings,
)
from data.storage.workspaces import active_root
from ui.forecast_panel import forecast_result

log = logging.getLogger(__name__)

OPTION_STATES = [
    State("forecast-history-weeks", "value"),
    State("forecast-seed", "value"),
    State("forecast-working-days", "value"),
    State("forecast-flow-types", "value"),
]


def _options(weeks: Any, seed: Any, working: Any, types: Any) -> dict[str, Any]:
    """The option fields as the data layer reads them; an empty field means the setting."""
    return {
        "history_weeks": None if weeks in (None, "") else weeks,
        "seed": None if seed in (None, "") else seed,
        "working_days": working or [],
        "flow_types": types or [],
    }


def register(app: dash.Dash, root: Path, *, now: datetime | None = None) -> None:
    """Register the forecast callbacks; `now` fixes the clock (None: the clock)."""

    def run(form: dict[str, Any]) -> tuple[Any, Any, bool]:
        moment = now or datetime.now(UTC)
        try:
            with timed("dashboard_forecast", mode=form["mode"]) as timer:
                result = forecast_for_view(active_root(root), form, moment)
        except UserError as exc:
            log.warning(
                "forecast not shown", extra={"operation": "dashboard_forecast", "error": str(exc)}
            )
            return no_update, str(exc), True
        return forecast_result(result, timer.duration_ms), None, False

    @app.callback(
        Output("forecast-how-many-result", "children"),
        Output("forecast-how-many-error", "children"),
        Output("forecast-how-many-error", "is_open"),
        Input("forecast-how-many-run", "n_clicks"),
        State("forecast-until", "value"),
        *OPTION_STATES,
        prevent_initial_call=True,
    )
    def how_many(_clicks: int | None, until: str | None, *options: Any) -> tuple[Any, ...]:
        return run({"mode": "how_many", "until": until, **_options(*options)})

    @app.callback(
        Output("forecast-when-result", "children"),
        Output("forecast-when-error", "children"),
        Output("forecast-when-error", "is_open"),
        Input("forecast-when-run", "n_clicks"),
        State("forecast-source", "value"),
        State("forecast-items", "value"),
        State("forecast-query", "value"),
        *OPTION_STATES,
        prevent_initial_call=True,
    )
    def when(
        _clicks: int | None, source: str | None, items: Any, query: str | None, *options: Any
    ) -> tuple[Any, ...]:
        form = {"mode": "when", "source": source or "items", "items": items, "query": query}
        return run({**form, **_options(*options)})

    @app.callback(
        Output("forecast-history-weeks", "value"),
        Output("forecast-seed", "value"),
        Output("forecast-working-days", "value"),
        Output("forecast-flow-types", "value"),
        Input("data-version", "data"),
    )
    def fill_options(_version: Any) -> tuple[Any, ...]:
        values = forecast_form_values(active_root(root))
        return (
            values["history_weeks"],
            values["seed"],
            values["working_days"],
            values["flow_types"],
        )

    @app.callback(
        Output("forecast-save-status", "children"),
        Input("forecast-save", "n_clicks"),
        *OPTION_STATES,
        prevent_initial_call=True,
    )
    def save(_clicks: int | None, *options: Any) -> str:
        try:
            with timed("save_forecast_settings"):
                saved = save_forecast_settings(active_root(root), _options(*options))
        except UserError as exc:
            return f"Not saved: {exc}"
        return f"Saved: {saved.history_weeks} weeks, seed {saved.seed}."
