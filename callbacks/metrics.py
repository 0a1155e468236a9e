"""Callbacks of the metric cards and trend charts: period in, report on screen.

`show_metrics` reads the period controls, computes the report through the data layer and
hands it to the `ui/` builders; it keeps the period and the exact "now" it used in the
`shown-inputs` store, from which the trend charts (and the exports) compute the same report
again: a metric-cache hit, and a light page (no report travels to the browser and back).
A `UserError` (bad custom range, unreadable settings) shows as an alert and leaves the
numbers on screen.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, no_update

from configuration.metric_defaults import ALL_METRICS
from data.errors import UserError
from data.metrics_service import NoJiraDataYet, report_for_shown, report_for_view
from data.performance_utils import timed
from data.workspaces import active_root
from ui.cards import metric_cards, no_data_notice
from ui.charts import trend_figures
from ui.formatting import format_period
from ui.layout import dataset_line, warnings_text

log = logging.getLogger(__name__)

CUSTOM = "custom"


def period_text(choice: str | None, start: str | None, end: str | None) -> str:
    """The period as the data layer reads it: "7d" | "30d" | "90d" | "YYYY-MM-DD:YYYY-MM-DD"."""
    if choice != CUSTOM:
        return choice or "30d"
    if not start or not end:
        raise UserError("Pick both a start date and an end date for the custom range.")
    return f"{start}:{end}"


def shown_now(fixed: datetime | None) -> datetime:
    """The "now" of a new report: the fixed one, else the clock to the minute (as the cache)."""
    return fixed or datetime.now(UTC).replace(second=0, microsecond=0)


def register(app: dash.Dash, root: Path, *, now: datetime | None = None) -> None:
    """Register the metric callbacks; `now` fixes the clock (None: the clock)."""

    @app.callback(
        Output("metric-cards", "children"),
        Output("shown-inputs", "data"),
        Output("sample-banner", "is_open"),
        Output("period-label", "children"),
        Output("dataset-info", "children"),
        Output("dataset-warnings", "children"),
        Output("dataset-warnings", "is_open"),
        Output("metrics-error", "children"),
        Output("metrics-error", "is_open"),
        Input("period-choice", "value"),
        Input("apply-custom", "n_clicks"),
        Input("data-version", "data"),
        State("custom-start", "value"),
        State("custom-end", "value"),
    )
    def show_metrics(
        choice: str | None, _apply: int | None, _version: Any, start: str | None, end: str | None
    ) -> tuple[Any, ...]:
        if choice == CUSTOM and dash.ctx.triggered_id == "period-choice":
            raise dash.exceptions.PreventUpdate  # the range is computed when Apply is clicked
        try:
            period = period_text(choice, start, end)
            moment = shown_now(now)
            with timed("dashboard_metrics", period=period) as timer:
                report = report_for_view(active_root(root), period, moment)
                timer.fields["issues"] = report["dataset"]["issues"]
        except NoJiraDataYet as exc:
            return (no_data_notice(str(exc)), None, False, "", "", None, False, None, False)
        except UserError as exc:
            log.warning(
                "metrics not shown", extra={"operation": "dashboard_metrics", "error": str(exc)}
            )
            return (*([no_update] * 7), str(exc), True)
        warnings = warnings_text(report["dataset"])
        return (
            metric_cards(report),
            {"period": period, "now": moment.isoformat()},
            report["dataset"].get("source") == "sample",
            format_period(report["period"]),
            dataset_line(report["dataset"], timer.duration_ms),
            warnings,
            bool(warnings),
            None,
            False,
        )

    @app.callback(
        [Output(f"trend-{key}", "figure") for key in ALL_METRICS],
        Input("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def show_trends(shown: dict[str, str] | None) -> list[dict[str, Any]]:
        if not shown:
            raise dash.exceptions.PreventUpdate
        try:
            with timed("dashboard_trends"):
                report = report_for_shown(active_root(root), shown)
        except UserError as exc:  # data changed under us: the cards callback reports it
            log.warning(
                "trends not shown", extra={"operation": "dashboard_trends", "error": str(exc)}
            )
            raise dash.exceptions.PreventUpdate from None
        return trend_figures(report)

    # In the browser: showing the custom range controls needs no round trip to the server.
    app.clientside_callback(
        "(choice) => choice === 'custom' ? 'custom-range' : 'custom-range d-none'",
        Output("custom-range", "className"),
        Input("period-choice", "value"),
    )
