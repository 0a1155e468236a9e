"""Weekly trend charts, one per metric, built from the report's weekly series.

Figures are plain dicts (no validation pass on the server), with few traces and no animation,
so that a period switch redraws quickly. The toolbar holds one button, the camera: a PNG of the
chart named after the metric and the period (`chart_config`).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from configuration.metric_defaults import ALL_METRICS
from ui.cards import TITLES
from ui.formatting import ordered_types, period_days

TYPE_COLORS: dict[str, str] = {
    "Feature": "#2563eb",
    "Defect": "#dc2626",
    "Risk": "#ea580c",
    "Debt": "#7c3aed",
    "Other": "#6b7280",
}
LINE_COLOR = "#0f766e"
SECOND_COLOR = "#94a3b8"

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


def trend_figure(key: str, metric: dict[str, Any]) -> dict[str, Any]:
    """The weekly series of one metric as a figure dict (empty axes when there is no series)."""
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
        return {"data": traces, "layout": _layout(title, axis, stacked=True)}
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
    return {"data": traces, "layout": layout}


def image_filename(key: str, period: dict[str, Any] | None) -> str:
    """The PNG name of a chart: `<metric>_<first day>_<last day>` (Plotly adds `.png`)."""
    days = period_days(period or {})
    return key if days is None else f"{key}_{days[0].isoformat()}_{days[1].isoformat()}"


def chart_config(key: str, period: dict[str, Any] | None) -> dict[str, Any]:
    """The graph config of one chart for a period: the camera, and the PNG's name."""
    image = {"format": "png", "filename": image_filename(key, period), "scale": IMAGE_SCALE}
    return {**GRAPH_CONFIG, "toImageButtonOptions": image}


def chart_configs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One graph config per metric, in `ALL_METRICS` order."""
    return [chart_config(key, report.get("period")) for key in ALL_METRICS]


def trend_graphs(report: dict[str, Any] | None) -> list[html.Div]:
    """The "Trends" grid: one chart per metric (empty charts before the first report)."""
    cells = []
    for key in ALL_METRICS:
        metric = (report or {}).get(key) or {"label": TITLES[key], "weekly": []}
        cells.append(
            html.Div(
                dcc.Graph(
                    id=f"trend-{key}",
                    figure=trend_figure(key, metric),
                    config=chart_config(key, (report or {}).get("period")),
                    className="trend-graph",
                ),
                className="trend-cell card",
                **{"data-trend": key},
            )
        )
    return cells


def trend_figures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One figure per metric, in `ALL_METRICS` order (the order of the graphs in the grid)."""
    return [trend_figure(key, report[key]) for key in ALL_METRICS]
