"""The dashboard page: header, sample banner, period selector, exports, cards and trends.

Component ids here are the contract with `callbacks/` and the browser tests:
`data-version` (Store other pages write to when data or settings change), `shown-inputs` (the
period and the exact "now" of the report on screen: the trend charts and exports recompute
from them, a free metric-cache hit, so they always equal the cards), `period-choice`,
`custom-start`, `custom-end`, `apply-custom`, `metric-cards`, `export-csv`, `export-json`,
`download-report` (the offline HTML report) and its `download-report-file`, `update-alert` (a
failed or cancelled update, or one that cannot start), `page-url` (the URL, which holds the
period: `ui.period_url`), `data-state` (the alert saying that the numbers on screen are kept
from the previous data, and why), `dataset-info` (the data source line: site or sample
project, JQL, issues, last update), `mapping-offer` (JIRA fields the mappings do not use,
`mapping-offer-text`, and `offer-mappings`, which opens the mapping dialog); the item panel's
(`ui/item_panel.py`) and the data-quality view's (`ui/quality_view.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.cards import metric_cards, no_data_notice, out_of_data_notice
from ui.charts import trend_figures, trend_graphs
from ui.compare_view import compare_button, compare_dialog
from ui.flow_analytics import analytics_section
from ui.forecast_panel import forecast_section
from ui.formatting import format_period
from ui.item_panel import item_panel_layout
from ui.mapping_dialog import mapping_dialog
from ui.period_url import controls_for
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
                className="header-actions d-flex flex-wrap align-items-center gap-3 ms-auto",
            ),
        ],
        className="app-header d-flex flex-wrap align-items-center gap-3",
    )


def period_selector(today: date, period: str) -> html.Div:
    """7 / 30 / 90 days or a custom range (two date inputs and Apply, shown for "Custom"),
    set to show `period`; the custom dates default to the 30 days before `today`."""
    choice, start, end = controls_for(period)
    start = start or (today - timedelta(days=30)).isoformat()
    end = end or (today - timedelta(days=1)).isoformat()
    return html.Div(
        [
            dbc.RadioItems(
                id="period-choice",
                options=PERIOD_OPTIONS,
                value=choice,
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
                className="custom-range" if choice == "custom" else "custom-range d-none",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-3",
    )


def export_buttons() -> html.Div:
    """Export what is on screen, as CSV or JSON, or as a report to share (one HTML file)."""
    return html.Div(
        [
            dbc.Button("Export CSV", id="export-csv", size="sm", color="secondary", outline=True),
            dbc.Button("Export JSON", id="export-json", size="sm", color="secondary", outline=True),
            dbc.Button(
                "Download report", id="download-report", size="sm", color="primary", outline=True
            ),
            dcc.Download(id="download-export"),
            dcc.Download(id="download-report-file"),
        ],
        className="d-flex gap-2 ms-auto",
    )


@dataclass
class PageView:
    """What one computation puts on the page: cards, charts and the lines around them.

    `no_data` marks the notice shown when JIRA is configured but nothing is fetched yet."""

    cards: Any
    figures: list[dict[str, Any]]
    shown: dict[str, str] | None = None
    sample: bool = False
    period_label: str = ""
    source_line: str = ""
    warnings: str | None = None
    no_data: bool = False
    notice_text: str = ""
    offer: str = ""
    #: the report's period (the charts' PNG names); None before any report
    period: dict[str, Any] | None = None

    def outputs(self) -> list[Any]:
        """Values of the metrics callback's outputs (see callbacks.metrics.VIEW_OUTPUTS)."""
        return [
            self.cards,
            self.shown,
            self.sample,
            self.period_label,
            self.source_line,
            self.warnings,
            bool(self.warnings),
            None,
            False,
            None,
            False,
            self.offer,
            bool(self.offer),
        ]


def metrics_view(view: dict[str, Any], shown: dict[str, str], duration_ms: float) -> PageView:
    """The page view of `data.services.metrics_service.page_view`'s result for the period in
    `shown`; a period outside the data shows why instead of cards (the charts show its empty
    weeks)."""
    report = view["report"]
    outside = view.get("outside")
    return PageView(
        cards=(
            out_of_data_notice(outside, report["dataset"]["span"])
            if outside
            else metric_cards(report)
        ),
        figures=trend_figures(report),
        shown=shown,
        sample=report["dataset"].get("source") == "sample",
        period_label=format_period(report["period"]),
        source_line=source_line(view["source"], duration_ms),
        warnings=warnings_text(report["dataset"]),
        offer=field_offer_text(view.get("offers") or []),
        period=report.get("period"),
    )


def field_offer_text(offers: list[dict[str, Any]]) -> str:
    """The alert offering JIRA fields the mappings do not use, and what each would change."""
    if not offers:
        return ""
    parts = [
        f"{offer['field_name']} ({offer['field_id']}) as {offer['mapping']} would change "
        + _joined(offer["metrics"])
        for offer in offers
    ]
    noun = "a field" if len(offers) == 1 else "fields"
    return f"JIRA has {noun} the mappings do not use: {'; '.join(parts)}."


def _joined(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def no_data_view(text: str) -> PageView:
    """JIRA configured, nothing fetched: the notice, and empty charts (no other data's)."""
    return PageView(
        cards=no_data_notice(text),
        figures=trend_figures(None),
        no_data=True,
        notice_text=text,
    )


def kept_numbers_text(reason: str) -> str:
    """The alert over numbers kept on screen when the new settings have no data yet."""
    return (
        f"{reason} The numbers below are still those of the previous data; "
        "they change once the update has fetched the new project."
    )


def page_layout(
    today: date,
    period: str,
    search: str,
    view: PageView | None,
    workspaces: Sequence[Mapping[str, Any]] = (),
) -> html.Div:
    """The whole page, showing `period` (from the URL's `search`); `view` is its first
    computation (None: the first callback computes it); `today` sets the default range;
    `workspaces` fill the switcher (`data.services.workspace_views.workspace_summaries`)."""
    view = view or PageView(cards=None, figures=trend_figures(None))
    return html.Div(
        [
            dcc.Location(id="page-url", refresh=False, search=search),
            dcc.Store(id="data-version", data=0),
            dcc.Store(id="shown-inputs", data=view.shown),
            dcc.Store(id="focus-metric"),
            header(workspaces),
            compare_dialog(),
            settings_panel(),
            mapping_dialog(),  # outside the panel: the field offer opens it from the page too
            item_panel_layout(),
            quality_panel(),
            html.Main(
                [
                    dbc.Alert(
                        [html.Strong("Sample project. "), SAMPLE_BANNER_TEXT],
                        id="sample-banner",
                        color="info",
                        is_open=view.sample,
                        class_name="sample-banner",
                    ),
                    dbc.Alert(id="metrics-error", color="danger", is_open=False, dismissable=True),
                    dbc.Alert(id="data-state", color="warning", is_open=False),
                    dbc.Alert(id="update-alert", color="danger", is_open=False, dismissable=True),
                    dbc.Alert(
                        [
                            html.Span(view.offer, id="mapping-offer-text"),
                            dbc.Button(
                                "Map fields",
                                id="offer-mappings",
                                size="sm",
                                color="primary",
                                class_name="ms-2",
                            ),
                        ],
                        id="mapping-offer",
                        color="info",
                        is_open=bool(view.offer),
                        dismissable=True,
                    ),
                    dbc.Alert(
                        view.warnings,
                        id="dataset-warnings",
                        color="warning",
                        is_open=bool(view.warnings),
                    ),
                    html.Div(
                        [period_selector(today, period), export_buttons()],
                        className="toolbar d-flex flex-wrap align-items-center gap-3",
                    ),
                    html.Div(
                        [
                            html.Span(
                                view.period_label, id="period-label", **{"data-role": "period"}
                            ),
                            html.Span(view.source_line, id="dataset-info", className="data-source"),
                        ],
                        className="period-line d-flex flex-wrap gap-3",
                    ),
                    # Loading state: Dash marks the div `data-dash-is-loading` while its callback
                    # runs; the CSS dims the old cards and spins (lighter than dcc.Loading).
                    html.Div(view.cards, id="metric-cards", className="metric-cards"),
                    html.Section(
                        [
                            html.H2("Weekly trends", className="section-title"),
                            html.Div(
                                trend_graphs(view.figures, view.period), className="trend-grid"
                            ),
                        ],
                        className="trends",
                        **{"data-section": "trends"},
                    ),
                    analytics_section(),
                    forecast_section(today),
                ],
                className="app-main",
            ),
        ],
        className="app",
    )


def _updated_text(instant: str | None, zone: str | None) -> str:
    """ "updated 2 Dec 2026 14:05 (Europe/Berlin)" from an ISO instant, or ""."""
    if not instant:
        return ""
    try:
        moment = datetime.fromisoformat(instant)
        if zone:
            moment = moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):
        return ""
    return f"updated {moment:%-d %b %Y %H:%M} ({zone or moment.tzname()})"


def source_line(source: dict[str, Any], duration_ms: float | None) -> str:
    """Where the numbers come from: site (or "sample project"), JQL, issues, last update."""
    if source.get("kind") == "sample":
        parts = ["sample project"]
    else:
        parts = [source.get("site") or "JIRA", source.get("jql") or ""]
    parts.append(f"{int(source.get('issues') or 0):,} issues")
    parts.append(_updated_text(source.get("updated"), source.get("time_zone")))
    if duration_ms is not None:
        parts.append(f"computed in {duration_ms:,.0f} ms")
    return " · ".join(part for part in parts if part)


def warnings_text(dataset: dict[str, Any]) -> str | None:
    """The dataset's warnings (e.g. truncated changelogs) as one line, or None."""
    warnings = dataset.get("warnings") or []
    return " ".join(str(warning) for warning in warnings) or None
