"""The "Flow analytics" section: cycle-time scatter, flow-time histogram, aging work in
progress (chart and table), cumulative flow, time in state and blocked time, built from the
plain result of `data.services.analytics_service.analytics_for_view`.

Component ids (the contract with `callbacks/flow_analytics.py` and the browser tests):
`fa-scatter`, `fa-histogram`, `fa-aging`, `fa-aging-table`, `fa-cfd`, `fa-time-in-state`,
`fa-blocked`, `fa-summary`, `fa-cfd-pick` (the clicked band, from `assets/cfd_click.js`), and
the service-level controls `sle-days`, `sle-percent`, `sle-save`, `sle-message`. Every mark
carries in `customdata` what `selection_from_click` needs to name the items behind it.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.charts import GRAPH_CONFIG, TYPE_COLORS, chart_config, chart_name
from ui.formatting import ordered_types
from ui.html_block import HtmlBlock, static_markup

#: The charts of the section: (id, title, definition shown in the tooltip).
CHARTS: tuple[tuple[str, str, str], ...] = (
    (
        "fa-scatter",
        "Cycle-time scatter",
        "Each flow item completed in the period at its completion date and flow time (days "
        "from work start to completion), coloured by flow type. Lines: the 50th, 70th, 85th "
        "and 95th percentiles of all these items (linear interpolation). With a service level "
        "set, its line and the share of items within it. Click a point to open the item.",
    ),
    (
        "fa-histogram",
        "Flow-time histogram",
        "How many items completed in the period took each number of days (bars of whole "
        "days from 0), with the same percentile lines. Click a bar to list its items.",
    ),
    (
        "fa-aging",
        "Aging work in progress",
        "Every flow item Active or Waiting at the period's end, in the column of its status "
        "(workflow order) at its age since work start. Background bands: the percentiles of "
        "the flow time of items completed in the period; items older than the 85th "
        "percentile are drawn in red. Click a point to open the item.",
    ),
    (
        "fa-cfd",
        "Cumulative flow",
        "Flow items in each state at the end of every day of the period (New, each "
        "Active/Waiting status in workflow order, Done), stacked. Hover shows the counts and "
        "the day's arrivals (work starts) and departures (completions). Click a band to list "
        "the items in it that day.",
    ),
    (
        "fa-time-in-state",
        "Time in state",
        "For items completed in the period: total days spent in each Active/Waiting status "
        "between work start and completion (re-entries added), the median per item that "
        "visited it, and each Waiting status's share of all Waiting time. Waiting statuses "
        "first. Click a bar to list the items that spent time there.",
    ),
    (
        "fa-blocked",
        "Blocked time",
        "Days each flow item was flagged (JIRA's Flagged field, Impediment, or the field "
        "mapped for it) inside the period, most blocked first, and the total over all of "
        "them. Red: still flagged at the period's end. Flagged Active time counts as Waiting "
        "in flow efficiency. Click a bar to open the item.",
    ),
)
STATE_COLORS = {"Active": "#0f766e", "Waiting": "#d97706", "New": "#cbd5e1", "Done": "#94a3b8"}
#: Percentile line styles (the 85th, the usual forecast line, is the strongest).
LINE_STYLES = {
    "p50": ("#64748b", "dot"),
    "p70": ("#64748b", "dash"),
    "p85": ("#b91c1c", "dash"),
    "p95": ("#64748b", "longdash"),
}
#: Aging background bands between consecutive percentiles, younger to older.
AGING_BANDS = ("#dcfce7", "#fef9c3", "#fde68a", "#fed7aa", "#fecaca")
WEBGL_FROM = 1000
#: The store the cumulative flow's click script writes the clicked band and day to.
CFD_PICK = "fa-cfd-pick"
#: The graphs whose own clickData names the mark (the cumulative flow's comes via CFD_PICK).
CLICK_GRAPHS = tuple(graph_id for graph_id, _, _ in CHARTS if graph_id != "fa-cfd")


def _title(text: str) -> dict[str, Any]:
    return {"text": text, "font": {"size": 14}, "x": 0.02, "xanchor": "left"}


def _base_layout(title: str, y_title: str) -> dict[str, Any]:
    return {
        "title": _title(title),
        "margin": {"l": 52, "r": 16, "t": 40, "b": 40},
        "height": 320,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.18, "font": {"size": 10}},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": "#eef0f3"},
        "hovermode": "closest",
        "shapes": [],
        "annotations": [],
    }


def _percentile_marks(layout: dict[str, Any], lines: dict[str, Any], axis: str) -> None:
    """Percentile lines across the plot: horizontal (`axis` "y") or vertical ("x")."""
    for name, value in lines.items():
        if value is None:
            continue
        color, dash = LINE_STYLES[name]
        if axis == "y":
            shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value, "y1": value}
            note = {"xref": "paper", "x": 1, "y": value, "xanchor": "right", "yanchor": "bottom"}
        else:
            shape = {"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": value, "x1": value}
            note = {"yref": "paper", "y": 1, "x": value, "xanchor": "left", "yanchor": "top"}
        shape["line"] = {"color": color, "dash": dash, "width": 1.5 if name == "p85" else 1}
        layout["shapes"].append(shape)
        layout["annotations"].append(
            {
                **note,
                "text": f"{name} {value:.1f} d",
                "showarrow": False,
                "font": {"size": 10, "color": color},
            }
        )


def scatter_figure(result: dict[str, Any]) -> dict[str, Any]:
    """The cycle-time scatter: one trace per flow type, percentile lines, the SLE."""
    points = result["scatter"]
    kind = "scattergl" if points["shown"] >= WEBGL_FROM else "scatter"
    by_type: dict[str, list[int]] = {}
    for index, name in enumerate(points["flow_types"]):
        by_type.setdefault(name, []).append(index)
    traces = [
        {
            "type": kind,
            "mode": "markers",
            "name": name,
            "x": [points["completed"][i] for i in by_type[name]],
            "y": [points["days"][i] for i in by_type[name]],
            "customdata": [points["keys"][i] for i in by_type[name]],
            "marker": {"color": TYPE_COLORS.get(name, "#6b7280"), "size": 7, "opacity": 0.75},
            "hovertemplate": "%{customdata}<br>%{y:.1f} days<br>done %{x}<extra>"
            + name
            + "</extra>",
        }
        for name, _ in ordered_types({name: 0 for name in by_type})
    ]
    title = f"Cycle-time scatter · {points['n']:,} items"
    if points["shown"] < points["n"]:
        title += f" ({points['shown']:,} drawn, percentiles of all)"
    sle = points.get("sle")
    if sle:
        share = "none in period" if sle["share"] is None else f"{sle['share']:.1f} % within"
        title += f" · SLE {sle['percent']:g} % within {sle['days']:g} d: {share}"
    layout = _base_layout(title, "flow time (days)")
    layout["xaxis"] = {"type": "date", "gridcolor": "#eef0f3"}
    _percentile_marks(layout, points["percentiles"], "y")
    if sle:
        met = sle["met"]
        color = "#15803d" if met else "#b91c1c"
        layout["shapes"].append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": sle["days"],
                "y1": sle["days"],
                "line": {"color": color, "width": 2},
            }
        )
        layout["annotations"].append(
            {
                "xref": "paper",
                "x": 0,
                "y": sle["days"],
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "text": f"SLE {sle['days']:g} d",
                "font": {"size": 10, "color": color},
            }
        )
    return {"data": traces, "layout": layout}


def histogram_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Flow-time histogram bars (customdata: each bar's first day) and percentile lines."""
    hist = result["histogram"]
    width = hist["width_days"]
    trace = {
        "type": "bar",
        "name": "items",
        "x": [start + width / 2 for start in hist["starts"]],
        "y": hist["counts"],
        "width": [width * 0.95] * len(hist["starts"]),
        "customdata": hist["starts"],
        "marker": {"color": "#0f766e"},
        "hovertemplate": f"%{{y}} items: %{{customdata}} to +{width} days<extra></extra>",
    }
    layout = _base_layout(f"Flow-time histogram · {hist['n']:,} items", "items")
    layout["xaxis"] = {"title": {"text": "flow time (days)"}, "rangemode": "tozero"}
    layout["showlegend"] = False
    _percentile_marks(layout, hist["percentiles"], "x")
    return {"data": [trace], "layout": layout}


def _jitter(index: int) -> float:
    """A spread in [-0.3, 0.3) that is the same for the same position in every render."""
    return ((index * 0.6180339887) % 1.0 - 0.5) * 0.6


def aging_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Aging WIP: a column per status, points at their age, percentile bands behind."""
    aging = result["aging"]
    columns = aging["columns"]
    column_of = {name: index for index, name in enumerate(columns)}
    xs = [column_of[name] + _jitter(i) for i, name in enumerate(aging["statuses"])]
    late = aging["past_p85"]
    colors = [
        "#b91c1c" if late[i] else TYPE_COLORS.get(name, "#6b7280")
        for i, name in enumerate(aging["flow_types"])
    ]
    kind = "scattergl" if aging["shown"] >= WEBGL_FROM else "scatter"
    trace = {
        "type": kind,
        "mode": "markers",
        "name": "items",
        "x": xs,
        "y": aging["ages"],
        "customdata": aging["keys"],
        "text": aging["statuses"],
        "marker": {
            "color": colors,
            "size": [10 if flag else 7 for flag in late],
            "line": {"width": 1, "color": "#ffffff"},
        },
        "hovertemplate": "%{customdata}<br>%{text}<br>age %{y:.1f} days<extra></extra>",
    }
    title = f"Aging work in progress · {aging['n']:,} items"
    if aging["past_p85_count"]:
        title += f" · {aging['past_p85_count']:,} past the 85th percentile"
    layout = _base_layout(title, "age since work start (days)")
    layout["showlegend"] = False
    layout["xaxis"] = {
        "tickmode": "array",
        "tickvals": list(range(len(columns))),
        "ticktext": columns,
        "range": [-0.5, max(len(columns), 1) - 0.5],
        "zeroline": False,
    }
    lines = aging["percentiles"]
    edges = [0.0] + [value for value in lines.values() if value is not None]
    top = max([*edges, *aging["ages"], 1.0]) * 1.08
    for index, low in enumerate(edges):
        high = edges[index + 1] if index + 1 < len(edges) else top
        layout["shapes"].append(
            {
                "type": "rect",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": low,
                "y1": high,
                "fillcolor": AGING_BANDS[min(index, len(AGING_BANDS) - 1)],
                "line": {"width": 0},
                "layer": "below",
                "opacity": 0.7,
            }
        )
    _percentile_marks(layout, lines, "y")
    layout["yaxis"]["range"] = [0, top]
    return {"data": [trace], "layout": layout}


def aging_table(result: dict[str, Any]) -> Any:
    """The aging items as a table, oldest first (at most the rows the data layer gave)."""
    aging = result["aging"]
    rows = aging["table"]
    if not rows:
        return html.P("No item is Active or Waiting at the period's end.", className="text-muted")
    body = [
        html.Tr(
            [
                html.Td(row["key"]),
                html.Td(row["status"]),
                html.Td(row["state"]),
                html.Td(row["flow_type"]),
                html.Td(f"{row['age_days']:.1f}", className="text-end"),
            ],
            className="table-danger" if row["past_p85"] else None,
            **{"data-key": row["key"]},
        )
        for row in rows
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th("item"),
                html.Th("status"),
                html.Th("state"),
                html.Th("flow type"),
                html.Th("age (days)", className="text-end"),
            ]
        )
    )
    table = html.Table([head, html.Tbody(body)], className="table table-sm table-hover mb-0")
    note = []
    if aging["n"] > len(rows):
        note = [html.P(f"The {len(rows)} oldest of {aging['n']:,} items.", className="small")]
    return html.Div(
        [*note, HtmlBlock(static_markup(table))],  # one component (ui/html_block.py)
        className="aging-table",
        tabIndex="0",  # scrollable: reachable by keyboard (WCAG 2.1.1)
        role="region",
        **{"aria-label": "Aging work in progress, oldest first"},
    )


def cfd_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Cumulative flow: stacked areas, Done at the bottom, New on top; the hover of the Done
    band also gives the day's arrivals and departures."""
    cfd = result["cfd"]
    days = cfd["days"]
    moves = list(zip(cfd["arrivals"], cfd["departures"], strict=True))
    traces = []
    palette = ["#0f766e", "#14b8a6", "#2dd4bf", "#5eead4", "#99f6e4"]
    waiting_palette = ["#d97706", "#f59e0b", "#fbbf24", "#fcd34d"]
    active_seen = waiting_seen = 0
    for band in reversed(cfd["bands"]):
        state = band["state"]
        if state == "Active":
            color = palette[active_seen % len(palette)]
            active_seen += 1
        elif state == "Waiting":
            color = waiting_palette[waiting_seen % len(waiting_palette)]
            waiting_seen += 1
        else:
            color = STATE_COLORS[state]
        extra = ""
        if state == "Done":
            extra = "<br>arrivals %{customdata[1]}, departures %{customdata[2]}"
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "stackgroup": "flow",
                "name": band["name"],
                "x": days,
                "y": band["counts"],
                "customdata": [[band["name"], a, d] for a, d in moves],
                "line": {"width": 0.5, "color": color},
                "fillcolor": color,
                "hovertemplate": f"{band['name']}: %{{y}}{extra}<extra></extra>",
            }
        )
    layout = _base_layout("Cumulative flow", "items")
    layout["hovermode"] = "x unified"
    layout["xaxis"] = {"type": "date", "gridcolor": "#eef0f3"}
    layout["legend"]["traceorder"] = "reversed"
    return {"data": traces, "layout": layout}


def time_in_state_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Horizontal bars of total days per status, Waiting first; hover gives the median, the
    items and the share of Waiting time."""
    tis = result["time_in_state"]
    rows = tis["rows"]
    trace = {
        "type": "bar",
        "orientation": "h",
        "name": "total days",
        "y": [row["status"] for row in rows],
        "x": [row["total_days"] for row in rows],
        "customdata": [row["status"] for row in rows],
        "text": [f"median {row['median_days']:.1f} d" for row in rows],
        "textposition": "auto",
        "marker": {"color": [STATE_COLORS[row["state"]] for row in rows]},
        "hovertext": [
            f"{row['status']} ({row['state']}): {row['total_days']:.1f} days in all, median "
            f"{row['median_days']:.1f} d over {row['items']} items"
            + (
                f", {row['share_of_waiting']:.1f} % of Waiting time"
                if row["share_of_waiting"] is not None
                else ""
            )
            for row in rows
        ],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    title = f"Time in state · {tis['n']:,} items"
    if tis["waiting_percent"] is not None:
        title += f" · {tis['waiting_percent']:.1f} % of the time Waiting"
    layout = _base_layout(title, "")
    layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    layout["xaxis"] = {"title": {"text": "days (total)"}, "rangemode": "tozero"}
    layout["showlegend"] = False
    return {"data": [trace], "layout": layout}


def blocked_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Horizontal bars of blocked days per item, most first; red while flagged at the end."""
    blocked = result["blocked"]
    items = blocked["items"]
    trace = {
        "type": "bar",
        "orientation": "h",
        "name": "blocked days",
        "y": [item["key"] for item in items],
        "x": [item["blocked_days"] for item in items],
        "customdata": [item["key"] for item in items],
        "marker": {
            "color": [
                LINE_STYLES["p85"][0] if item["flagged_at_end"] else STATE_COLORS["Waiting"]
                for item in items
            ]
        },
        "hovertext": [
            f"{item['key']} ({item['flow_type']}): blocked {item['blocked_days']:.1f} days"
            + (", flagged at the period's end" if item["flagged_at_end"] else "")
            for item in items
        ],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    title = (
        f"Blocked time · {blocked['total_days']:.1f} days over {blocked['n']:,} items · "
        f"{blocked['flagged_at_end']:,} flagged at the end"
    )
    layout = _base_layout(title, "")
    layout["yaxis"] = {"autorange": "reversed", "automargin": True, "type": "category"}
    layout["xaxis"] = {"title": {"text": "days flagged in the period"}, "rangemode": "tozero"}
    layout["showlegend"] = False
    return {"data": [trace], "layout": layout}


def analytics_figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures in `CHARTS` order."""
    return [
        scatter_figure(result),
        histogram_figure(result),
        aging_figure(result),
        cfd_figure(result),
        time_in_state_figure(result),
        blocked_figure(result),
    ]


def analytics_configs(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One graph config per chart, in `CHARTS` order: the camera saves a PNG named after the
    chart and the period's days, as the trend charts do."""
    return [chart_config(chart_name(title), result.get("window")) for _, title, _ in CHARTS]


def service_level_values(sle: dict[str, Any]) -> tuple[str, str]:
    """The saved service level `{"days", "percent"}` as the (days, percent) input texts."""
    days = "" if sle["days"] is None else f"{sle['days']:g}"
    return days, f"{sle['percent']:g}"


def summary_line(result: dict[str, Any]) -> str:
    """One line under the section title: how many items each chart counts."""
    return (
        f"{result['scatter']['n']:,} items completed · {result['aging']['n']:,} in progress at "
        f"the period's end · {len(result['cfd']['days'])} days"
    )


def selection_from_click(graph_id: str, click: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a click on a chart names, for `analytics_service.items_for_view` (None: no mark).

    The cumulative flow's clicks come as `CFD_PICK` data `{"band", "day"}` (written by
    `assets/cfd_click.js`, which reads the band under the pointer), not as its clickData."""
    if graph_id == CFD_PICK:
        if not isinstance(click, dict) or not click.get("band") or not click.get("day"):
            return None
        return {"chart": "cfd", "band": str(click["band"]), "day": str(click["day"])[:10]}
    points = (click or {}).get("points") or []
    if not points:
        return None
    point = points[0]
    data = point.get("customdata")
    if graph_id in ("fa-scatter", "fa-aging", "fa-blocked"):
        return {"chart": graph_id[3:], "key": data}
    if graph_id == "fa-histogram":
        return {"chart": "histogram", "start": data}
    if graph_id == "fa-time-in-state":
        return {"chart": "time_in_state", "status": data}
    return None


def _chart_cell(graph_id: str, title: str, definition: str) -> html.Div:
    tip = f"{graph_id}-info"
    return html.Div(
        [
            html.Div(
                [
                    html.Span(title, className="card-title-text"),
                    html.Span("i", id=tip, className="info-icon", role="note"),
                    dbc.Tooltip(definition, target=tip, placement="top"),
                ],
                className="d-flex align-items-center gap-2 px-2 pt-1",
            ),
            dcc.Graph(
                id=graph_id,
                config=GRAPH_CONFIG,
                figure={"data": [], "layout": {"height": 320}},
                className="analytics-graph",
            ),
        ],
        className="analytics-cell card",
        **{"data-chart": graph_id},
    )


def service_level_controls() -> html.Div:
    """ "Service level: [85] % within [N] days [Save]" (empty days: no SLE). Text inputs, so
    that every typed value reaches the server and a bad one gets its message (a number input
    hands over an out-of-range value as empty, which would silently turn the SLE off)."""
    return html.Div(
        [
            dbc.Label("Service level", html_for="sle-percent", class_name="mb-0 small"),
            dbc.Input(id="sle-percent", type="text", size="sm", value="85"),
            html.Span("% within", className="small"),
            dbc.Input(id="sle-days", type="text", size="sm", placeholder="N"),
            html.Span("days", className="small"),
            dbc.Button("Save", id="sle-save", size="sm", color="secondary", outline=True),
            html.Span(id="sle-message", className="small", role="status"),
        ],
        className="sle-controls d-flex flex-wrap align-items-center gap-2",
    )


def analytics_section() -> html.Section:
    """The section, with empty charts until the first result arrives."""
    cells = [_chart_cell(graph_id, title, text) for graph_id, title, text in CHARTS]
    cells.insert(3, html.Div(id="fa-aging-table", className="analytics-cell card p-2"))
    return html.Section(
        [
            dcc.Store(id="sle-version", data=0),
            dcc.Store(id=CFD_PICK),
            html.Div(
                [
                    html.H2("Flow analytics", className="section-title"),
                    html.Span(id="fa-summary", className="text-muted small"),
                    service_level_controls(),
                ],
                className="d-flex flex-wrap align-items-baseline gap-3",
            ),
            html.Div(cells, className="analytics-grid"),
        ],
        className="flow-analytics",
        **{"data-section": "flow-analytics"},
    )
