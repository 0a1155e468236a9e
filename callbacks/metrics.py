"""Callbacks of the metric cards and trend charts: period in, report on screen.

The period lives in the page's URL (`ui.period_url`): the page is built with the URL's period
already computed (`initial_view`, no round trip before the first numbers), and a URL change
(a period button, Apply, back or forward) recomputes through `show_metrics`. It keeps the
period and the exact "now" it used in the `shown-inputs` store, from which the trend charts
(and the exports) compute the same report again: a metric-cache hit, so cards and charts
always come from the same data. A `UserError` (bad custom range, unreadable settings) shows as
an alert and leaves the numbers on screen; so does a change that leaves no data yet (settings
saved for a site or JQL not fetched) after JIRA data: those numbers stay, and an alert says
they are the previous data and what to do. After the sample project, whose numbers are not the
team's, the notice replaces cards and charts alike.
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
from data.performance_utils import timed
from data.services.metrics_service import NoJiraDataYet, page_view, report_for_shown
from data.storage.workspaces import active_root
from ui.charts import chart_configs, trend_figures, trend_table
from ui.layout import PageView, kept_numbers_text, metrics_view, no_data_view
from ui.period_url import PERIOD_SYNC_JS, controls_for, period_from_search

log = logging.getLogger(__name__)

HALF_RANGE = "Pick both a start date and an end date for the custom range."

#: The outputs `show_metrics` fills, in the order of `PageView.outputs()`.
VIEW_OUTPUTS = [
    Output("metric-cards", "children"),
    Output("shown-inputs", "data"),
    Output("sample-banner", "is_open"),
    Output("period-label", "children"),
    Output("dataset-info", "children"),
    Output("dataset-warnings", "children"),
    Output("dataset-warnings", "is_open"),
    Output("metrics-error", "children"),
    Output("metrics-error", "is_open"),
    Output("data-state", "children"),
    Output("data-state", "is_open"),
    Output("mapping-offer-text", "children"),
    Output("mapping-offer", "is_open"),
]


NOT_A_URL = "The page's address holds no period the dashboard can read: choose a period."


def checked_period(period: str) -> str:
    """`period`, or a UserError for a custom range with a date missing."""
    _, start, end = controls_for(period)
    if ":" in period and (not start or not end):
        raise UserError(HALF_RANGE)
    return period


def shown_now(fixed: datetime | None) -> datetime:
    """The "now" of a new report: the fixed one, else the clock to the minute (as the cache)."""
    return fixed or datetime.now(UTC).replace(second=0, microsecond=0)


def compute_view(root: Path, search: str | None, now: datetime | None) -> PageView:
    """The view of the URL's period: the report and its data source, timed; or the notice."""
    if search is not None and not isinstance(search, str):  # a forged callback, not a URL
        raise UserError(NOT_A_URL)
    period = period_from_search(search)
    moment = shown_now(now)
    try:
        with timed("dashboard_metrics", period=period) as timer:
            view = page_view(root, checked_period(period), moment)
            timer.fields["issues"] = view["report"]["dataset"]["issues"]
    except NoJiraDataYet as exc:
        return no_data_view(str(exc))
    shown = {
        "period": period,
        "now": moment.isoformat(),
        "source": view["report"]["dataset"].get("source") or "",
    }
    return metrics_view(view, shown, timer.duration_ms)


def initial_view(root: Path, search: str, now: datetime | None) -> PageView | None:
    """The view the page is built with (its URL's period); None if it cannot be computed
    (the first callback then says why)."""
    try:
        return compute_view(root, search, now)
    except UserError as exc:
        log.warning("first view not built", extra={"operation": "page", "error": str(exc)})
        return None


def register(app: dash.Dash, root: Path, *, now: datetime | None = None) -> None:
    """Register the metric callbacks; `now` fixes the clock (None: the clock)."""

    @app.callback(
        *VIEW_OUTPUTS,
        Input("page-url", "search"),
        Input("data-version", "data"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def show_metrics(search: str | None, _version: Any, shown: Any) -> list[Any]:
        try:
            view = compute_view(active_root(root), search, now)
        except UserError as exc:
            log.warning(
                "metrics not shown", extra={"operation": "dashboard_metrics", "error": str(exc)}
            )
            return [*([no_update] * 7), str(exc), True, *([no_update] * 4)]
        if view.no_data and shown and shown.get("source") == "jira":
            # keep the team's last good numbers (cards and charts alike), say what happened;
            # the sample's are not the team's numbers: the notice replaces them
            kept = kept_numbers_text(view.notice_text)
            return [*([no_update] * 7), None, False, kept, True, no_update, no_update]
        return view.outputs()

    @app.callback(
        [Output(f"trend-{key}", "figure") for key in ALL_METRICS]
        + [Output(f"trend-{key}", "config") for key in ALL_METRICS],
        [Output(f"trend-table-{key}", "children") for key in ALL_METRICS],
        Input("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def show_trends(shown: dict[str, str] | None) -> list[Any]:
        if not shown:  # no data to show (nothing fetched yet): no other data's charts either
            empty = trend_figures(None)
            return [*empty, *chart_configs(None), *(trend_table(figure) for figure in empty)]
        try:
            with timed("dashboard_trends"):
                report = report_for_shown(active_root(root), shown)
        except UserError as exc:  # data changed under us: the cards callback reports it
            log.warning(
                "trends not shown", extra={"operation": "dashboard_trends", "error": str(exc)}
            )
            raise dash.exceptions.PreventUpdate from None
        figures = trend_figures(report)
        return [*figures, *chart_configs(report), *(trend_table(figure) for figure in figures)]

    # In the browser, no round trip: URL <-> period controls, and the custom range's display.
    app.clientside_callback(
        PERIOD_SYNC_JS,
        Output("page-url", "search"),
        Output("period-choice", "value"),
        Output("custom-start", "value"),
        Output("custom-end", "value"),
        Input("page-url", "search"),
        Input("period-choice", "value"),
        Input("apply-custom", "n_clicks"),
        State("custom-start", "value"),
        State("custom-end", "value"),
    )
    app.clientside_callback(
        "(choice) => choice === 'custom' ? 'custom-range' : 'custom-range d-none'",
        Output("custom-range", "className"),
        Input("period-choice", "value"),
    )
