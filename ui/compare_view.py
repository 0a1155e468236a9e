"""The Compare view: every workspace's nine metrics for the period on screen, side by side.

Component ids (the contract with `callbacks/compare.py` and the browser tests):
`open-compare` (header button), `compare-dialog` (the modal), `compare-sort` (sort by the
name or a metric's headline), `compare-descending` (switch), `compare-table` (the table: one
row per workspace, `data-workspace` on each row), `compare-error`, and on each cell a
pattern id `{"type": "compare-cell", "workspace": slug, "metric": key}` (a click opens that
workspace's card) with `data-metric`, `data-tier` and the card's `data-role` parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from configuration.metric_defaults import ALL_METRICS
from ui.cards import TIER_COLORS, TITLES, sparkline_image
from ui.formatting import format_period, format_value


def compare_button() -> dbc.Button:
    """The header button that opens the Compare view."""
    return dbc.Button("Compare", id="open-compare", color="secondary", outline=True, size="sm")


def compare_dialog() -> dbc.Modal:
    """The Compare view, filled when opened (and when the sort changes)."""
    sort_options = [{"label": "Name", "value": "name"}] + [
        {"label": TITLES[key], "value": key} for key in ALL_METRICS
    ]
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Compare workspaces")),
            dbc.ModalBody(
                [
                    html.Div(
                        [
                            dbc.Label("Sort by", html_for="compare-sort", class_name="mb-0 small"),
                            dbc.Select(
                                id="compare-sort",
                                options=sort_options,
                                value="name",
                                size="sm",
                                style={"maxWidth": "16rem"},
                            ),
                            dbc.Switch(id="compare-descending", label="Highest first", value=False),
                            html.Span(id="compare-period", className="small text-muted ms-auto"),
                        ],
                        className="d-flex flex-wrap align-items-center gap-3 mb-2",
                    ),
                    dbc.Alert(id="compare-error", color="danger", is_open=False),
                    html.Div(id="compare-table", className="table-responsive"),
                ]
            ),
        ],
        id="compare-dialog",
        is_open=False,
        size="xl",
        scrollable=True,
    )


def _cell(slug: str, key: str, metric: Mapping[str, Any]) -> html.Td:
    tier = metric.get("tier")
    unit = metric.get("unit") or ""
    text = format_value(dict(metric))
    has_value = metric.get("status") != "insufficient_data" and metric.get("headline") is not None
    parts: list[Any] = [
        html.Div(
            [
                html.Span(text, className="headline", **{"data-role": "headline"}),
                html.Span(f" {unit}" if has_value and unit else "", className="unit small"),
            ]
        ),
        html.Div(
            [
                html.Span(
                    f"n = {metric.get('n', 0):,}",
                    className="small text-muted",
                    **{"data-role": "n"},
                ),
                html.Span(
                    tier,
                    className=f"badge text-bg-{TIER_COLORS.get(tier, 'secondary')} ms-2",
                    **{"data-role": "tier"},
                )
                if tier
                else None,
            ]
        ),
        sparkline_image(dict(metric)),
    ]
    return html.Td(
        html.Div(
            parts,
            id={"type": "compare-cell", "workspace": slug, "metric": key},
            n_clicks=0,
            role="button",
            title="Open this workspace's card",
            className="compare-cell",
            **{"data-metric": key, "data-tier": tier or ""},
        )
    )


def compare_table(result: Mapping[str, Any]) -> html.Table:
    """One row per workspace, one column per metric; a workspace without numbers says why."""
    head = html.Thead(
        html.Tr([html.Th("Workspace")] + [html.Th(TITLES[key]) for key in ALL_METRICS])
    )
    rows = []
    for entry in result["workspaces"]:
        name = html.Th(
            [entry["workspace"], html.Span(" (shown)", className="small text-muted")]
            if entry["current"]
            else entry["workspace"],
            scope="row",
        )
        report = entry.get("report")
        if report is None:
            cells = [html.Td(entry["message"], colSpan=len(ALL_METRICS), className="text-muted")]
        else:
            cells = [_cell(entry["slug"], key, report[key]) for key in ALL_METRICS]
        rows.append(html.Tr([name, *cells], **{"data-workspace": entry["slug"]}))
    return html.Table([head, html.Tbody(rows)], className="table table-sm align-top compare-table")


def compare_view(result: Mapping[str, Any]) -> tuple[Any, str]:
    """The table and the period line ("Last 30 days: 2 Nov – 1 Dec 2026") above it."""
    report = next((e["report"] for e in result["workspaces"] if e.get("report")), None)
    period = format_period(report["period"]) if report else str(result.get("period", ""))
    return compare_table(result), period
