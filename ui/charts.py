"""Weekly trend charts, one per metric, built from the report's weekly series.

Figures are plain dicts (no validation pass on the server), with few traces and no animation,
so that a period switch redraws quickly. The toolbar holds one button, the camera: a PNG of the
chart named after the metric and the period (`chart_config`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from dash import dcc, html

from configuration.metric_defaults import ALL_METRICS
from ui.cards import TITLES
from ui.formatting import format_number, ordered_types, partial_week, period_days
from ui.html_block import HtmlBlock, static_markup

TYPE_COLORS: dict[str, str] = {
    "Feature": "#2563eb",
    "Defect": "#dc2626",
    "Risk": "#c2410c",
    "Debt": "#7c3aed",
    "Other": "#6b7280",
}
LINE_COLOR = "#0f766e"
#: Background of the partial last week.
PARTIAL_FILL = "rgba(148, 163, 184, 0.18)"
SECOND_COLOR = "#64748b"  # 4.8:1 on white: chart marks need 3:1

#: The chart toolbar holds the camera only (PNG download), shown on hover; no Plotly logo.
GRAPH_CONFIG: dict[str, Any] = {
    "displayModeBar": "hover",
    "modeBarButtons": [["toImage"]],
    "displaylogo": False,
    "responsive": True,
}
IMAGE_SCALE = 2

#: Secondary statistic drawn beside the headline (dashed), where the metric has one.
SECONDARY: dict[str, str] = {
    "lead_time_for_changes": "p85_days",
    "failed_deployment_recovery_time": "p85_hours",
    "recovery_time": "p85_hours",
    "flow_time": "p85_days",
}


def _layout(title: str, unit: str, *, stacked: bool = False) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}, "x": 0.02, "xanchor": "left"},
        "margin": {"l": 44, "r": 12, "t": 36, "b": 32},
        "height": 220,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "showlegend": stacked,
        "legend": {"orientation": "h", "y": -0.2, "font": {"size": 10}, "traceorder": "normal"},
        "barmode": "stack",
        "bargap": 0.25,
        "yaxis": {
            "title": {"text": unit, "font": {"size": 11}},
            "rangemode": "tozero",
            "gridcolor": "#eef0f3",
            "zeroline": False,
        },
        "xaxis": {"type": "date", "tickformat": "%d %b", "tickfont": {"size": 10}},
        "hovermode": "x unified",
    }


def _series(weekly: list[dict[str, Any]], key: str) -> list[Any]:
    return [(week.get("values") or {}).get(key) for week in weekly]


def _rounded_hover(traces: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    """Hover labels rounded as the cards round (`format_number`), with the axis' unit."""
    suffix = f" {unit}" if unit else ""
    for trace in traces:
        trace["customdata"] = [format_number(y) for y in trace.get("y") or []]
        trace["hovertemplate"] = f"%{{customdata}}{suffix}"
    return traces


def _mark_partial(figure: dict[str, Any], week_start: str, days: int) -> None:
    """Shade the partial last week, dim its marks, and say how many days it holds."""
    monday = date.fromisoformat(week_start)
    figure["layout"]["shapes"] = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": f"{monday - timedelta(days=4)}T12:00",
            "x1": f"{monday + timedelta(days=3)}T12:00",
            "y0": 0,
            "y1": 1,
            "fillcolor": PARTIAL_FILL,
            "line": {"width": 0},
            "layer": "below",
        }
    ]
    figure["layout"]["annotations"] = [
        {
            "x": week_start,
            "y": 1,
            "xref": "x",
            "yref": "paper",
            "yanchor": "bottom",
            "text": f"partial: {days} of 7 days",
            "showarrow": False,
            "font": {"size": 10, "color": "#374151"},
        }
    ]
    for trace in figure["data"]:
        count = len(trace.get("x") or [])
        if trace["type"] == "bar":
            trace["marker"]["opacity"] = [1.0] * (count - 1) + [0.45]
        elif "markers" in trace.get("mode", ""):
            trace["marker"]["symbol"] = ["circle"] * (count - 1) + ["circle-open"]
            trace["marker"]["size"] = [5] * (count - 1) + [8]


def trend_figure(
    key: str, metric: dict[str, Any], period: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The weekly series of one metric as a figure dict (empty axes when there is no series);
    with the report's `period`, a partial last week is marked (`partial_week`)."""
    figure = _trend_figure(key, metric)
    weekly = metric.get("weekly") or []
    days = partial_week(period, weekly)
    if days is not None:
        _mark_partial(figure, weekly[-1]["week_start"], days)
    return figure


def _trend_figure(key: str, metric: dict[str, Any]) -> dict[str, Any]:
    weekly = metric.get("weekly") or []
    weeks = [week["week_start"] for week in weekly]
    title = metric.get("label") or TITLES.get(key, key)
    unit = metric.get("unit") or ""
    if key in ("flow_velocity", "flow_distribution"):
        nested = "by_type" if key == "flow_velocity" else "shares"
        seen = {t: 0 for week in weekly for t in (week.get("values") or {}).get(nested) or {}}
        traces = []
        for name, _ in ordered_types(seen):
            ys = []
            for week in weekly:
                entry = ((week.get("values") or {}).get(nested) or {}).get(name)
                ys.append(entry.get("count") if isinstance(entry, dict) else entry)
            traces.append(
                {
                    "type": "bar",
                    "name": name,
                    "x": weeks,
                    "y": ys,
                    "marker": {"color": TYPE_COLORS.get(name, "#6b7280")},
                }
            )
        axis = "items" if key == "flow_velocity" else "%"
        return {"data": _rounded_hover(traces, axis), "layout": _layout(title, axis, stacked=True)}
    headline = metric.get("headline")
    traces = []
    if headline is not None:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": headline.replace("_", " "),
                "x": weeks,
                "y": _series(weekly, headline),
                "line": {"color": LINE_COLOR, "width": 2},
                "marker": {"size": 5},
                "connectgaps": False,
            }
        )
    secondary = SECONDARY.get(key)
    if secondary:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": secondary.replace("_", " "),
                "x": weeks,
                "y": _series(weekly, secondary),
                "line": {"color": SECOND_COLOR, "width": 1.5, "dash": "dash"},
                "connectgaps": False,
            }
        )
    layout = _layout(title, unit)
    layout["showlegend"] = bool(secondary)
    return {"data": _rounded_hover(traces, unit), "layout": layout}


def trend_table(figure: dict[str, Any]) -> HtmlBlock:
    """The figure's numbers as a table (its text alternative): one row per week, one column
    per trace, values as the chart's hover shows them; static markup (`ui/html_block.py`)."""
    traces = figure.get("data") or []
    weeks = traces[0].get("x", []) if traces else []
    header = html.Tr(
        [html.Th("Week of", scope="col")]
        + [html.Th(trace.get("name", ""), scope="col") for trace in traces]
    )
    rows = []
    for index, week in enumerate(weeks):
        cells = [html.Th(str(week)[:10], scope="row")]
        for trace in traces:
            ys = trace.get("y") or []
            value = ys[index] if index < len(ys) else None
            cells.append(html.Td("–" if value is None else format_number(value)))
        rows.append(html.Tr(cells))
    table = html.Table([html.Thead(header), html.Tbody(rows)], className="table table-sm")
    return HtmlBlock(static_markup(table))


def image_filename(key: str, period: dict[str, Any] | None) -> str:
    """The PNG name of a chart: `<metric>_<first day>_<last day>` (Plotly adds `.png`)."""
    days = period_days(period or {})
    return key if days is None else f"{key}_{days[0].isoformat()}_{days[1].isoformat()}"


def chart_name(title: str) -> str:
    """A chart title as a file name: "Cycle-time scatter" -> "cycle_time_scatter"."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def chart_config(key: str, period: dict[str, Any] | None) -> dict[str, Any]:
    """The graph config of one chart for a period: the camera, and the PNG's name."""
    image = {"format": "png", "filename": image_filename(key, period), "scale": IMAGE_SCALE}
    return {**GRAPH_CONFIG, "toImageButtonOptions": image}


def chart_configs(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One graph config per metric, in `ALL_METRICS` order."""
    return [chart_config(key, (report or {}).get("period")) for key in ALL_METRICS]


def trend_graphs(
    figures: list[dict[str, Any]], period: dict[str, Any] | None = None
) -> list[html.Div]:
    """The "Trends" grid: one chart per metric, showing `figures` (of `trend_figures`) with
    the PNG camera named for `period`, each with its table below (closed;
    `trend-table-<key>` holds it)."""
    cells = []
    for key, figure in zip(ALL_METRICS, figures, strict=True):
        title = (figure.get("layout") or {}).get("title", {}).get("text") or TITLES[key]
        cells.append(
            html.Div(
                [
                    dcc.Graph(
                        id=f"trend-{key}",
                        figure=figure,
                        config=chart_config(key, period),
                        className="trend-graph",
                    ),
                    html.Details(
                        [
                            html.Summary(f"{title}: table of the weekly values"),
                            html.Div(trend_table(figure), id=f"trend-table-{key}"),
                        ],
                        className="trend-table",
                    ),
                ],
                className="trend-cell card",
                **{"data-trend": key},
            )
        )
    return cells


def trend_figures(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One figure per metric, in `ALL_METRICS` order (the order of the graphs in the grid);
    empty axes for every metric when there is no report."""
    period = (report or {}).get("period")
    return [
        trend_figure(key, (report or {}).get(key) or {"label": TITLES[key], "weekly": []}, period)
        for key in ALL_METRICS
    ]
