"""Callbacks of the Compare view: open it (or re-sort it) for the period on screen, and open a
workspace's card from a cell.

`show` calls `data.services.comparison.comparison_for_shown` once and hands the result to
`ui.compare_view.compare_view`. A cell's click only picks that workspace in the switcher (whose
callback switches and recomputes) and names the card to scroll to.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, no_update

from data.errors import UserError
from data.performance_utils import timed
from data.services.comparison import comparison_for_shown
from ui.compare_view import compare_view

log = logging.getLogger(__name__)


def register(app: dash.Dash, data_root: Path) -> None:
    """Register the Compare callbacks; workspaces live in the data directory `data_root`."""

    @app.callback(
        Output("compare-dialog", "is_open"),
        Output("compare-table", "children"),
        Output("compare-period", "children"),
        Output("compare-error", "children"),
        Output("compare-error", "is_open"),
        Input("open-compare", "n_clicks"),
        Input("compare-sort", "value"),
        Input("compare-descending", "value"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def show(_open: int | None, by: str | None, descending: Any, shown: Any) -> tuple[Any, ...]:
        try:
            with timed("compare_workspaces") as timer:
                result = comparison_for_shown(data_root, shown, by, bool(descending))
                timer.fields["workspaces"] = len(result["workspaces"])
        except UserError as exc:
            log.warning("comparison not shown", extra={"operation": "compare", "error": str(exc)})
            return True, no_update, no_update, str(exc), True
        table, period = compare_view(result)
        return True, table, period, None, False

    @app.callback(
        Output("workspace-select", "value", allow_duplicate=True),
        Output("compare-dialog", "is_open", allow_duplicate=True),
        Output("focus-metric", "data"),
        Input({"type": "compare-cell", "workspace": ALL, "metric": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def open_card(clicks: list[int | None]) -> tuple[Any, ...]:
        cell = dash.ctx.triggered_id
        if not cell or not any(clicks):  # the table was (re)drawn, nothing clicked
            raise dash.exceptions.PreventUpdate
        return cell["workspace"], False, cell["metric"]

    # In the browser: once the cards are redrawn, bring the chosen one into view and mark it.
    app.clientside_callback(
        """(children, metric) => {
            if (!metric) { return window.dash_clientside.no_update; }
            const card = document.querySelector(`.metric-cards [data-metric="${metric}"]`);
            if (card) {
                card.scrollIntoView({block: "center"});
                card.classList.add("card-focus");
            }
            return null;
        }""",
        Output("focus-metric", "data", allow_duplicate=True),
        Input("metric-cards", "children"),
        State("focus-metric", "data"),
        prevent_initial_call=True,
    )
