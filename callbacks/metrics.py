"""Callbacks of the metric cards and trend charts: period in, report on screen.

`show_metrics` reads the period controls, computes the report through the data layer (the
metric cache makes a repeated period free) and hands it to the `ui/` builders. A `UserError`
(bad custom range, unreadable settings) shows as an alert and leaves the numbers on screen.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, no_update

from data.errors import UserError
from data.metrics_service import report_for_project
from data.performance_utils import timed
from data.persistence import load_settings
from data.project import current_project
from ui.cards import ALL_METRICS, metric_cards
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


def compute_report(root: Path, period: str, now: datetime | None) -> dict[str, Any]:
    """The report for `period` on the project the dashboard shows (sample or JIRA cache)."""
    settings = load_settings(root)
    return report_for_project(current_project(root, settings), settings, period, now=now)


def register(app: dash.Dash, root: Path, *, now: datetime | None = None) -> None:
    """Register the metric callbacks; `now` fixes the clock (None: the clock)."""

    @app.callback(
        Output("metric-cards", "children"),
        Output("last-report", "data"),
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
        try:
            period = period_text(choice, start, end)
            with timed("dashboard_metrics", period=period) as timer:
                report = compute_report(root, period, now)
                timer.fields["issues"] = report["dataset"]["issues"]
        except UserError as exc:
            log.warning(
                "metrics not shown", extra={"operation": "dashboard_metrics", "error": str(exc)}
            )
            return (*([no_update] * 7), str(exc), True)
        warnings = warnings_text(report["dataset"])
        return (
            metric_cards(report),
            report,
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
        Input("last-report", "data"),
        prevent_initial_call=True,
    )
    def show_trends(report: dict[str, Any] | None) -> list[dict[str, Any]]:
        if not report:
            raise dash.exceptions.PreventUpdate
        with timed("dashboard_trends", period=report["period"].get("label")):
            return trend_figures(report)

    @app.callback(
        Output("custom-range", "className"),
        Input("period-choice", "value"),
    )
    def show_custom_range(choice: str | None) -> str:
        return "custom-range" if choice == CUSTOM else "custom-range d-none"
