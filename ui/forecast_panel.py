"""The Forecast section: options, the two forms, and a forecast's levels, odds and track record.

Component ids (the contract with `callbacks/forecast.py` and the browser tests):
options `forecast-history-weeks`, `forecast-seed`, `forecast-working-days`,
`forecast-flow-types`, `forecast-save` and `forecast-save-status`; "How many by a date"
`forecast-until`, `forecast-how-many-run`, `forecast-how-many-error`,
`forecast-how-many-result`; "When will N items be done" `forecast-source` (items | jql |
epic), `forecast-items`, `forecast-query`, `forecast-when-run`, `forecast-when-error`,
`forecast-when-result`. In a result, each likelihood row is `[data-likelihood=P]` with
`[data-role=level]` (what the forecast says) and `[data-role=held]` (its track record);
stability warnings are `[data-role=stability-warning]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from configuration.metric_defaults import FLOW_TYPES
from ui.charts import GRAPH_CONFIG, LINE_COLOR, SECOND_COLOR

WEEKDAY_OPTIONS = [
    {"label": day, "value": day} for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
]
SOURCE_OPTIONS = [
    {"label": "Number of items", "value": "items"},
    {"label": "JQL", "value": "jql"},
    {"label": "Epic key", "value": "epic"},
]
#: How far ahead the date field starts.
DEFAULT_HORIZON_DAYS = 30
DEFAULT_ITEMS = 20


def _labelled(label: str, control: Any, help_text: str = "") -> html.Div:
    children = [dbc.Label(label, html_for=getattr(control, "id", None), class_name="small mb-1")]
    children.append(control)
    if help_text:
        children.append(dbc.FormText(help_text))
    return html.Div(children, className="forecast-field")


def options_row() -> html.Div:
    """History window, seed, working days and flow types; filled from the settings. Number
    fields have no min/max in the browser: the data layer checks them and says what to use."""
    return html.Div(
        [
            _labelled(
                "History (weeks)",
                dbc.Input(id="forecast-history-weeks", type="number", size="sm"),
            ),
            _labelled("Seed", dbc.Input(id="forecast-seed", type="number", size="sm")),
            _labelled(
                "Working days",
                dbc.Checklist(id="forecast-working-days", options=WEEKDAY_OPTIONS, inline=True),
                "None ticked: every day counts, weekends included.",
            ),
            _labelled(
                "Flow types",
                dbc.Checklist(
                    id="forecast-flow-types",
                    options=[{"label": name, "value": name} for name in FLOW_TYPES],
                    inline=True,
                ),
                "None ticked: every flow type.",
            ),
            html.Div(
                [
                    dbc.Button(
                        "Save as defaults",
                        id="forecast-save",
                        size="sm",
                        color="secondary",
                        outline=True,
                    ),
                    html.Span(id="forecast-save-status", className="small ms-2"),
                ],
                className="forecast-field align-self-end",
            ),
        ],
        className="forecast-options d-flex flex-wrap gap-3 align-items-start",
    )


def how_many_form(today: date) -> dbc.Card:
    """ "How many by a date": the target day and Forecast."""
    until = (today + timedelta(days=DEFAULT_HORIZON_DAYS)).isoformat()
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3("How many by a date", className="forecast-title"),
                html.Div(
                    [
                        _labelled(
                            "By (included)",
                            dbc.Input(id="forecast-until", type="date", value=until, size="sm"),
                        ),
                        dbc.Button(
                            "Forecast",
                            id="forecast-how-many-run",
                            size="sm",
                            color="primary",
                            class_name="align-self-end",
                        ),
                    ],
                    className="d-flex gap-2",
                ),
                dbc.Alert(id="forecast-how-many-error", color="danger", is_open=False),
                html.Div(id="forecast-how-many-result", className="forecast-result"),
            ]
        ),
        class_name="forecast-card",
    )


def when_form() -> dbc.Card:
    """ "When will N items be done": N typed in, or a JQL or an epic key; and Forecast."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3("When will N items be done", className="forecast-title"),
                dbc.RadioItems(
                    id="forecast-source", options=SOURCE_OPTIONS, value="items", inline=True
                ),
                html.Div(
                    [
                        _labelled(
                            "Items",
                            dbc.Input(
                                id="forecast-items",
                                type="number",
                                value=DEFAULT_ITEMS,
                                size="sm",
                            ),
                        ),
                        _labelled(
                            "JQL or epic key",
                            dbc.Input(
                                id="forecast-query",
                                type="text",
                                placeholder="project = DEMO AND fixVersion = 2.0  |  DEMO-42",
                                size="sm",
                            ),
                        ),
                        dbc.Button(
                            "Forecast",
                            id="forecast-when-run",
                            size="sm",
                            color="primary",
                            class_name="align-self-end",
                        ),
                    ],
                    className="d-flex flex-wrap gap-2",
                ),
                dbc.Alert(id="forecast-when-error", color="danger", is_open=False),
                html.Div(id="forecast-when-result", className="forecast-result"),
            ]
        ),
        class_name="forecast-card",
    )


def forecast_section(today: date) -> html.Section:
    """The whole Forecast section of the page."""
    return html.Section(
        [
            html.H2("Forecast", className="section-title"),
            html.P(
                "Monte Carlo over the team's own daily throughput: 10,000 trials of past days "
                "drawn at random. Each forecast is replayed on older history to show how often "
                "it held.",
                className="small text-muted mb-2",
            ),
            options_row(),
            html.Div([how_many_form(today), when_form()], className="forecast-grid"),
        ],
        className="forecast",
        **{"data-section": "forecast"},
    )


# ----------------------------------------------------------------------------- results


def _level_text(result: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    if result["mode"] == "how_many":
        return f"at least {row['items']:,} items"
    if row["date"] is None:
        return "not within ten years"
    return f"by {date.fromisoformat(row['date']).strftime('%a %d %b %Y')}"


def _held_text(record: Mapping[str, Any], likelihood: int) -> str:
    for row in record.get("held") or []:
        if row["likelihood"] == likelihood:
            return f"held {row['count']} of {record['replays']} ({row['share'] * 100:.0f} %)"
    return "no track record yet"


def levels_table(result: Mapping[str, Any]) -> html.Table:
    """One row per likelihood: what the forecast says, and how often it held in replays."""
    record = result["track_record"]
    rows = [
        html.Tr(
            [
                html.Td(f"{row['likelihood']} % likely", className="forecast-odds"),
                html.Td(_level_text(result, row), **{"data-role": "level"}),
                html.Td(_held_text(record, row["likelihood"]), **{"data-role": "held"}),
            ],
            **{"data-likelihood": str(row["likelihood"])},
        )
        for row in result["likelihoods"]
    ]
    head = html.Thead(
        html.Tr([html.Th("likelihood"), html.Th("forecast"), html.Th("track record")])
    )
    return html.Table([head, html.Tbody(rows)], className="table table-sm forecast-levels")


def histogram_figure(result: Mapping[str, Any]) -> dict[str, Any]:
    """Trials per outcome (items, or finishing date), with the 85 % level marked."""
    how_many = result["mode"] == "how_many"
    bins = result["histogram"]
    x = [b["items"] if how_many else b["date"] for b in bins]
    y = [b["trials"] / result["trials"] * 100 for b in bins]
    level = next(row for row in result["likelihoods"] if row["likelihood"] == 85)
    mark = level["items"] if how_many else level["date"]
    shapes = []
    if mark is not None:
        shapes.append(
            {
                "type": "line",
                "x0": mark,
                "x1": mark,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": SECOND_COLOR, "dash": "dash", "width": 1.5},
            }
        )
    return {
        "data": [{"type": "bar", "x": x, "y": y, "marker": {"color": LINE_COLOR}}],
        "layout": {
            "height": 200,
            "margin": {"l": 44, "r": 12, "t": 10, "b": 36},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "bargap": 0.1,
            "shapes": shapes,
            "xaxis": {
                "title": {"text": "items done" if how_many else "done on", "font": {"size": 11}},
                **({} if how_many else {"type": "date", "tickformat": "%d %b"}),
            },
            "yaxis": {
                "title": {"text": "% of trials", "font": {"size": 11}},
                "rangemode": "tozero",
            },
        },
    }


def history_line(result: Mapping[str, Any]) -> str:
    """ "History 2024-01-22 to 2024-04-14: 168 items in 84 days (2.00 a day, 0 days without)"."""
    h = result["history"]
    return (
        f"History {h['start']} to {h['end']}: {h['items']:,} items in {h['days']} days "
        f"({h['per_day']:.2f} a day, {h['days_without_completions']} days without "
        f"completions); {result['trials']:,} trials, seed {result['seed']}."
    )


def forecast_result(result: Mapping[str, Any], duration_ms: float | None = None) -> html.Div:
    """A forecast on screen: the question, levels with track record, histogram, warnings."""
    if result["mode"] == "how_many":
        question = f"By {result['until']} ({result['days']} days from {result['as_of']})"
    else:
        origin = {"typed": "", "jql": " matching the JQL", "epic": " open in the epic"}
        question = (
            f"{result['items']:,} items{origin[result['items_source']]}"
            f"{' ' + result['items_query'] if result['items_query'] else ''}, from "
            f"{result['as_of']}"
        )
    record = result["track_record"]
    record_text = (
        record["message"]
        if record["message"]
        else f"Track record: {record['replays']} past forecasts, weekly from "
        f"{record['first']} to {record['last']}, scored against what happened."
    )
    warnings = [
        html.Div(
            text,
            className="alert alert-warning py-1 px-2 small mb-1",
            **{"data-role": "stability-warning"},
        )
        for text in result["stability"]["warnings"]
    ]
    timing = f" · computed in {duration_ms:,.0f} ms" if duration_ms is not None else ""
    return html.Div(
        [
            html.Div(question, className="forecast-question", **{"data-role": "question"}),
            levels_table(result),
            *warnings,
            dcc.Graph(figure=histogram_figure(result), config=GRAPH_CONFIG),
            html.Div(history_line(result) + timing, className="small text-muted"),
            html.Div(record_text, className="small text-muted", **{"data-role": "track-record"}),
        ],
        **{"data-mode": result["mode"]},
    )
