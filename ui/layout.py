"""The dashboard page: header, sample banner, period selector, exports, cards and trends.

Component ids here are the contract with `callbacks/` and the browser tests:
`data-version` (Store other pages write to when data or settings change), `shown-inputs` (the
period and the exact "now" of the report on screen: the trend charts and exports recompute
from them, a free metric-cache hit, so they always equal the cards), `period-choice`,
`custom-start`, `custom-end`, `apply-custom`, `metric-cards`, `export-csv`, `export-json`;
the item panel's (`ui/item_panel.py`) and the data-quality view's (`ui/quality_view.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.charts import trend_graphs
from ui.compare_view import compare_button, compare_dialog
from ui.forecast_panel import forecast_section
from ui.item_panel import item_panel_layout
from ui.quality_view import quality_badge, quality_panel
from ui.settings_panel import settings_button, settings_panel
from ui.update_bar import update_controls
from ui.workspace_switcher import workspace_switcher

PERIOD_OPTIONS: list[dict[str, str]] = [
    {"label": "Last 7 days", "value": "7d"},
    {"label": "Last 30 days", "value": "30d"},
    {"label": "Last 90 days", "value": "90d"},
    {"label": "Custom range", "value": "custom"},
]
DEFAULT_PERIOD = "30d"

SAMPLE_BANNER_TEXT = (
    "You are looking at a generated sample project, not your team's data. "
    "To see your own metrics: open Settings, enter your JIRA site, e-mail, API token and JQL, "
    "save, then click Update data."
)


def header(workspaces: Sequence[Mapping[str, Any]] = ()) -> html.Header:
    """Title and the workspace switcher on the left; update controls and settings on the right."""
    return html.Header(
        [
            html.Div(
                [
                    html.H1("flowdash", className="app-title"),
                    html.Span("DORA and Flow metrics from JIRA", className="app-subtitle"),
                ],
                className="d-flex align-items-baseline gap-3",
            ),
            workspace_switcher(workspaces),
            html.Div(
                [quality_badge(), update_controls(), compare_button(), settings_button()],
                className="d-flex align-items-center gap-3 ms-auto",
            ),
        ],
        className="app-header d-flex flex-wrap align-items-center gap-3",
    )


def period_selector(today: date) -> html.Div:
    """7 / 30 / 90 days or a custom range (two date inputs and Apply, shown for "Custom")."""
    start = (today - timedelta(days=30)).isoformat()
    end = (today - timedelta(days=1)).isoformat()
    return html.Div(
        [
            dbc.RadioItems(
                id="period-choice",
                options=PERIOD_OPTIONS,
                value=DEFAULT_PERIOD,
                class_name="btn-group period-choice",
                input_class_name="btn-check",
                label_class_name="btn btn-outline-primary btn-sm",
                label_checked_class_name="active",
            ),
            html.Div(
                [
                    dbc.Label("From", html_for="custom-start", class_name="mb-0 small"),
                    dbc.Input(id="custom-start", type="date", value=start, size="sm"),
                    dbc.Label("to", html_for="custom-end", class_name="mb-0 small"),
                    dbc.Input(id="custom-end", type="date", value=end, size="sm"),
                    dbc.Button("Apply", id="apply-custom", size="sm", color="primary"),
                ],
                id="custom-range",
                className="custom-range d-none",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-3",
    )


def export_buttons() -> html.Div:
    """Export what is on screen, as CSV or JSON."""
    return html.Div(
        [
            dbc.Button("Export CSV", id="export-csv", size="sm", color="secondary", outline=True),
            dbc.Button("Export JSON", id="export-json", size="sm", color="secondary", outline=True),
            dcc.Download(id="download-export"),
        ],
        className="d-flex gap-2 ms-auto",
    )


def page_layout(today: date, workspaces: Sequence[Mapping[str, Any]] = ()) -> html.Div:
    """The whole page; `today` sets the default custom range (the 30 days before it),
    `workspaces` fill the switcher (`data.workspace_views.workspace_summaries`)."""
    return html.Div(
        [
            dcc.Store(id="data-version", data=0),
            dcc.Store(id="shown-inputs"),
            dcc.Store(id="focus-metric"),
            header(workspaces),
            compare_dialog(),
            settings_panel(),
            item_panel_layout(),
            quality_panel(),
            html.Main(
                [
                    dbc.Alert(
                        [html.Strong("Sample project. "), SAMPLE_BANNER_TEXT],
                        id="sample-banner",
                        color="info",
                        is_open=False,
                        class_name="sample-banner",
                    ),
                    dbc.Alert(id="metrics-error", color="danger", is_open=False, dismissable=True),
                    dbc.Alert(id="dataset-warnings", color="warning", is_open=False),
                    html.Div(
                        [period_selector(today), export_buttons()],
                        className="toolbar d-flex flex-wrap align-items-center gap-3",
                    ),
                    html.Div(
                        [
                            html.Span(id="period-label", **{"data-role": "period"}),
                            html.Span(id="dataset-info", className="text-muted"),
                        ],
                        className="period-line d-flex flex-wrap gap-3",
                    ),
                    # Loading state: Dash marks the div `data-dash-is-loading` while its callback
                    # runs; the CSS dims the old cards and spins (lighter than dcc.Loading).
                    html.Div(id="metric-cards", className="metric-cards"),
                    html.Section(
                        [
                            html.H2("Weekly trends", className="section-title"),
                            html.Div(trend_graphs(None), className="trend-grid"),
                        ],
                        className="trends",
                        **{"data-section": "trends"},
                    ),
                    forecast_section(today),
                ],
                className="app-main",
            ),
        ],
        className="app",
    )


def dataset_line(dataset: dict[str, Any], duration_ms: float | None) -> str:
    """ "1,500 issues · sample project · computed in 42 ms" under the period selector."""
    source = {"sample": "sample project", "jira": "JIRA cache"}.get(
        dataset.get("source", ""), dataset.get("source", "")
    )
    parts = [f"{dataset.get('issues', 0):,} issues", source]
    if duration_ms is not None:
        parts.append(f"computed in {duration_ms:,.0f} ms")
    return " · ".join(part for part in parts if part)


def warnings_text(dataset: dict[str, Any]) -> str | None:
    """The dataset's warnings (e.g. truncated changelogs) as one line, or None."""
    warnings = dataset.get("warnings") or []
    return " ".join(str(warning) for warning in warnings) or None
