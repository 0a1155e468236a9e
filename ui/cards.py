"""The metric cards: one per DORA and Flow metric, built from the report's metric objects.

Every card carries stable attributes for tests and tools: `data-metric` (the report key),
`data-status`, `data-tier` on the card; `data-role` on its parts (`headline`, `unit`, `tier`,
`n`, `message`, `excluded`, `notes`, `sparkline`, `detail`, `share`). Builders only arrange
what the report holds; they never compute a metric.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import html

from configuration.metric_defaults import DORA_METRICS, FLOW_METRICS
from ui.formatting import (
    INSUFFICIENT_DATA,
    NONE_IN_PERIOD,
    format_number,
    format_percent,
    format_reason,
    format_value,
    ordered_types,
    partial_week,
)
from ui.html_block import HtmlBlock, static_markup
from ui.item_panel import open_items_attrs

#: Short definitions (from METRICS.md) shown in each card's tooltip.
DEFINITIONS: dict[str, str] = {
    "deployment_frequency": (
        "Production deployments with a time in the period, divided by the period's length."
    ),
    "lead_time_for_changes": (
        "For each change (Feature or Defect, not an incident) deployed in the period: deployed "
        "date minus commit date. Items without a commit date and negative values are left out."
    ),
    "change_failure_rate": (
        "Failed production deployments / production deployments in the period x 100. Failed: "
        "the success field says so, an incident links to it, or an incident was detected "
        "before the next deployment."
    ),
    "deployment_rework_rate": (
        "Rework production deployments / production deployments in the period x 100. Rework: "
        "the rework field says so, a rework label (hotfix, rework, rollback), a hotfix version "
        "(fixVersions), or a link to an incident still open when it was deployed. No tier."
    ),
    "failed_deployment_recovery_time": (
        "For incidents resolved in the period that failed a deployment (linked to it, or "
        "detected before the next one): resolved minus that deployment's time. Carries the tier."
    ),
    "recovery_time": (
        "Incident recovery time: for every incident resolved in the period, resolved minus "
        "detected. Negative values are left out. No tier (it is on the failed-deployment figure)."
    ),
    "flow_velocity": (
        "Flow items completed in the period: the count, and the count per week, by flow type."
    ),
    "flow_time": (
        "For flow items completed in the period: completion minus work start (median and p85)."
    ),
    "flow_efficiency": (
        "Total Active time / (Active + Waiting time) between work start and completion, summed "
        "over the items completed in the period."
    ),
    "flow_load": (
        "Flow items in an Active or Waiting state: the count at the period's end, and the "
        "average of the counts at the end of each week."
    ),
    "flow_distribution": (
        "Share of each flow type among the flow items completed in the period, beside the "
        "reference ranges of a balanced portfolio."
    ),
}

#: Names used when the report is missing a label (it never should be).
TITLES: dict[str, str] = {
    "deployment_frequency": "Deployment frequency",
    "lead_time_for_changes": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "deployment_rework_rate": "Deployment rework rate",
    "failed_deployment_recovery_time": "Failed deployment recovery time",
    "recovery_time": "Incident recovery time",
    "flow_velocity": "Flow velocity",
    "flow_time": "Flow time",
    "flow_efficiency": "Flow efficiency",
    "flow_load": "Flow load",
    "flow_distribution": "Flow distribution",
}

#: Below this many items (deployments, changes, incidents), a tier or rate is only indicative.
FEW_DATA = 10
FEW_DATA_KEYS = (*DORA_METRICS, "flow_efficiency")

SPARK_STEP = 10
SPARK_HEIGHT = 34

#: Bootstrap colour name of each DORA tier badge.
TIER_COLORS: dict[str, str] = {
    "Elite": "success",
    "High": "info",
    "Medium": "warning",
    "Low": "danger",
}

FLOW_TYPE_CLASSES: dict[str, str] = {
    "Feature": "type-feature",
    "Defect": "type-defect",
    "Risk": "type-risk",
    "Debt": "type-debt",
    "Other": "type-other",
}


def _attrs(**pairs: Any) -> dict[str, Any]:
    """`data_metric="x"` -> `{"data-metric": "x"}` (Dash takes data-* props as keywords)."""
    return {f"data-{key.replace('_', '-')}": value for key, value in pairs.items()}


def _detail(stat: str, text: str) -> html.Div:
    return html.Div(text, className="metric-detail", **_attrs(role="detail", stat=stat))


def _details(key: str, values: dict[str, Any]) -> list[html.Div]:
    """The small lines under the headline; a statistic without a value gets no line."""
    lines = _detail_lines(key, values)
    return [
        line for line in lines if values.get(getattr(line, "data-stat").split(".")[0]) is not None
    ]


def _detail_lines(key: str, values: dict[str, Any]) -> list[html.Div]:
    """One line per statistic the card does not show large."""
    num = format_number
    if key == "deployment_frequency":
        return [
            _detail("count", f"{num(values.get('count'))} deployments"),
            _detail("per_week", f"{num(values.get('per_week'))} per week"),
        ]
    if key == "lead_time_for_changes":  # one unit per card, the headline's: days
        return [_detail("p85_days", f"p85 {num(values.get('p85_days'))} days")]
    if key in ("failed_deployment_recovery_time", "recovery_time"):  # the headline's: hours
        return [_detail("p85_hours", f"p85 {num(values.get('p85_hours'))} hours")]
    if key == "change_failure_rate":
        return [
            _detail(
                "failed",
                f"{num(values.get('failed'))} failed of "
                f"{num(values.get('deployments'))} deployments",
            )
        ]
    if key == "deployment_rework_rate":
        return [
            _detail(
                "rework",
                f"{num(values.get('rework'))} rework of "
                f"{num(values.get('deployments'))} deployments",
            )
        ]
    if key == "flow_velocity":
        lines = [_detail("total", f"{num(values.get('total'))} completed")]
        for name, per_type in ordered_types(values.get("by_type") or {}):
            lines.append(
                _detail(
                    f"by_type.{name}",
                    f"{name} {num(per_type.get('count'))} ({num(per_type.get('per_week'))}/week)",
                )
            )
        if values.get("points_total") is not None:
            lines.append(
                _detail(
                    "points_per_week",
                    f"{num(values.get('points_total'))} points · "
                    f"{num(values.get('points_per_week'))} per week",
                )
            )
        return lines
    if key == "flow_time":
        return [_detail("p85_days", f"p85 {num(values.get('p85_days'))} days")]
    if key == "flow_efficiency":
        return [
            _detail(
                "median_item_percent",
                f"per-item median {format_percent(values.get('median_item_percent'))}",
            ),
            _detail(
                "active_days",
                f"active {num(values.get('active_days'))} d · "
                f"waiting {num(values.get('waiting_days'))} d",
            ),
        ]
    if key == "flow_load":
        states = values.get("by_state") or {}
        return [
            _detail("weekly_average", f"weekly average {num(values.get('weekly_average'))}"),
            _detail(
                "by_state",
                " · ".join(f"{state} {num(count)}" for state, count in states.items()),
            ),
        ]
    return []


def sparkline_points(metric: dict[str, Any]) -> list[tuple[str, Any]]:
    """The weekly headline values a sparkline draws: `(week_start, value or None)`; empty
    when the metric has no headline or no weekly series."""
    headline = metric.get("headline")
    weekly = metric.get("weekly") or []
    if headline is None or not weekly:
        return []
    return [(week["week_start"], (week.get("values") or {}).get(headline)) for week in weekly]


def sparkline_svg(points: list[tuple[str, Any]], partial_days: int | None = None) -> str:
    """The bars of a sparkline as SVG markup (the page shows it as an image, the offline
    report inline): each week's value relative to the highest week, a dashed baseline for a
    week without a value (never a zero bar), the latest week darker, or hollow and dashed
    when it is partial (`partial_days` of 7 in the period)."""
    top = max((value for _, value in points if value is not None), default=0) or 1
    shapes = []
    for index, (_, value) in enumerate(points):
        x = index * SPARK_STEP
        if value is None:
            shapes.append(
                f"<line x1='{x}' x2='{x + SPARK_STEP - 2}' y1='{SPARK_HEIGHT - 0.5}' "
                f"y2='{SPARK_HEIGHT - 0.5}' stroke='#d1d5db' stroke-dasharray='2 1'/>"
            )
            continue
        height = max(1.5, SPARK_HEIGHT * value / top)
        last = index == len(points) - 1
        if last and partial_days:
            shapes.append(
                f"<rect x='{x + 0.5}' y='{SPARK_HEIGHT - height + 0.5:.2f}' "
                f"width='{SPARK_STEP - 3}' height='{max(height - 1, 0.5):.2f}' rx='0.6' "
                f"fill='none' stroke='#0f766e' stroke-dasharray='1.5 1'/>"
            )
            continue
        color = "#0f766e" if last else "#5eead4"
        shapes.append(
            f"<rect x='{x}' y='{SPARK_HEIGHT - height:.2f}' width='{SPARK_STEP - 2}' "
            f"height='{height:.2f}' rx='0.6' fill='{color}'/>"
        )
    return (
        "<svg xmlns='http://www.w3.org/2000/svg' preserveAspectRatio='none' "
        f"viewBox='0 0 {len(points) * SPARK_STEP - 2} {SPARK_HEIGHT}'>{''.join(shapes)}</svg>"
    )


def sparkline_title(
    metric: dict[str, Any], points: list[tuple[str, Any]], partial_days: int | None
) -> str:
    """The sparkline's tooltip: first and last week with their values, the partial note."""
    first, last = points[0], points[-1]
    partial = f" (partial: {partial_days} of 7 days)" if partial_days else ""
    return (
        f"Weekly {metric['headline'].replace('_', ' ')}: week of {first[0]} "
        f"{format_number(first[1])} … week of {last[0]} {format_number(last[1])}{partial}"
    )


def sparkline(
    metric: dict[str, Any], metric_key: str, partial_days: int | None = None
) -> html.Div | None:
    """The card's sparkline (`sparkline_image`) with a transparent button over each bar
    (`data-role=spark-week`) that opens the items of that week."""
    image = sparkline_image(metric, partial_days)
    if image is None:
        return None
    weeks = [
        html.Button(
            className="spark-week",
            title=f"Items of the week of {week['week_start']}",
            type="button",
            **open_items_attrs(metric_key, week=week["week_start"]),
            **_attrs(role="spark-week", week=week["week_start"]),
        )
        for week in metric["weekly"]
    ]
    return html.Div([image, html.Div(weeks, className="spark-weeks")], className="spark-wrap")


def sparkline_image(metric: dict[str, Any], partial_days: int | None = None) -> html.Img | None:
    """A weekly trend as tiny bars in one inline SVG image (`sparkline_svg`): one element,
    cheap to redraw. A partial latest week is drawn hollow and dashed and the title says so,
    so that a short week never reads as a drop (the Compare view shows it without the card's
    week buttons)."""
    points = sparkline_points(metric)
    if not points:
        return None
    return html.Img(
        src="data:image/svg+xml;utf8," + quote(sparkline_svg(points, partial_days)),
        alt="weekly trend" + (", last week partial" if partial_days else ""),
        title=sparkline_title(metric, points, partial_days),
        className="sparkline",
        **_attrs(role="sparkline", weeks=len(points), partial_days=partial_days),
    )


def _reason_links(metric_key: str, label: str, counts: dict[str, int], role: str) -> html.Div:
    """ "Excluded: canceled 4 · negative 2", each reason a link to its items."""
    parts: list[Any] = [f"{label}: "]
    for index, (reason, count) in enumerate(counts.items()):
        if index:
            parts.append(" · ")
        parts.append(
            html.Span(
                f"{format_reason(reason)} {count:,}",
                className="item-link",
                role="button",
                tabIndex=0,
                **open_items_attrs(metric_key, reason=reason),
                title="List these items",
                **_attrs(reason=reason),
            )
        )
    return html.Div(parts, className=f"metric-{role}", **_attrs(role=role))


def _distribution_body(values: dict[str, Any]) -> list[Any]:
    """Actual shares as bars, each beside its reference range (a shaded band on the same scale)."""
    shares = values.get("shares") or {}
    counts = values.get("counts") or {}
    reference = values.get("reference") or {}
    rows = []
    for name, _ in ordered_types({**reference, **shares}):
        share = shares.get(name)
        low_high = reference.get(name)
        band = (
            html.Div(
                className="dist-band",
                style={"left": f"{low_high[0]}%", "width": f"{low_high[1] - low_high[0]}%"},
            )
            if low_high
            else None
        )
        bar = html.Div(
            className=f"dist-bar {FLOW_TYPE_CLASSES.get(name, 'type-other')}",
            style={"width": f"{min(share or 0, 100)}%"},
        )
        reference_text = f"ref {low_high[0]}–{low_high[1]} %" if low_high else "no reference"
        in_range = (
            low_high is not None and share is not None and low_high[0] <= share <= low_high[1]
        )
        rows.append(
            html.Div(
                [
                    html.Span(name, className="dist-name"),
                    html.Div([band, bar], className="dist-track"),
                    html.Span(
                        format_percent(share) if share is not None else "–",
                        className="dist-share" + (" in-range" if in_range else ""),
                        title=f"{format_number(counts.get(name, 0))} items",
                    ),
                    html.Span(reference_text, className="dist-ref"),
                ],
                className="dist-row",
                **_attrs(role="share", type=name, share=share, in_range=str(in_range).lower()),
            )
        )
    return rows


def _headline(key: str, metric: dict[str, Any]) -> html.Div:
    """The large value and its unit, or the words saying why there is none."""
    text = format_value(metric)
    has_value = text not in (INSUFFICIENT_DATA, NONE_IN_PERIOD)
    if key == "flow_distribution" and metric.get("status") != "insufficient_data":
        shares = (metric.get("values") or {}).get("shares") or {}
        if shares:
            parts: list[Any] = []
            for index, (name, share) in enumerate(ordered_types(shares)):
                if index:
                    parts.append(html.Span(" · ", className="sep"))
                parts.append(
                    html.Span(
                        f"{name} {format_number(share)}",
                        className=f"chip {FLOW_TYPE_CLASSES.get(name, 'type-other')}",
                    )
                )
            return html.Div(
                [
                    html.Span(
                        parts, className="headline headline-small", **_attrs(role="headline")
                    ),
                    html.Span(" %", className="unit", **_attrs(role="unit")),
                ],
                className="headline-row",
            )
    unit = metric.get("unit") or ""
    return html.Div(
        [
            html.Span(
                text,
                className="headline" if has_value else "headline headline-missing",
                **_attrs(role="headline"),
            ),
            html.Span(
                f" {unit}" if has_value and unit else "", className="unit", **_attrs(role="unit")
            ),
        ],
        className="headline-row",
    )


def few_data_caveat(key: str, metric: dict[str, Any]) -> str | None:
    """ "few data: tier indicative" for a tier or rate from fewer than FEW_DATA items."""
    n = metric.get("n") or 0
    if key not in FEW_DATA_KEYS or metric.get("status") != "ok" or n >= FEW_DATA:
        return None
    what = "tier" if metric.get("tier") else "value"
    return f"few data (n = {n}): {what} indicative"


def metric_card(key: str, metric: dict[str, Any], period: dict[str, Any] | None = None) -> html.Div:
    """One card: title, definition tooltip, headline, tier, `n`, details, trend, exclusions;
    the report's `period` marks a partial last week in the trend."""
    status = metric.get("status", "ok")
    tier = metric.get("tier")
    values = metric.get("values") or {}
    title_row = html.Div(
        [
            html.Span(metric.get("label") or TITLES.get(key, key), className="card-title-text"),
            html.Button(
                "i",
                id=tip_id(key),
                type="button",
                className="info-icon",
                **_attrs(role="info"),
                **{"aria-label": f"Definition: {DEFINITIONS.get(key, '')}"},
            ),
            html.Span(
                tier,
                className=f"badge text-bg-{TIER_COLORS.get(tier, 'secondary')} ms-auto tier-badge",
                **_attrs(role="tier"),
            )
            if tier
            else None,
        ],
        className="d-flex align-items-center gap-1 card-title-row",
    )
    figure = [
        _headline(key, metric),
        html.Div(f"n = {format_number(metric.get('n'))}", className="metric-n", **_attrs(role="n")),
    ]
    if tier and metric.get("tier_note"):
        figure.insert(
            1, html.Div(metric["tier_note"], className="tier-note", **_attrs(role="tier-note"))
        )
    body: list[Any] = [
        title_row,
        html.Div(  # the figure: a click lists the items it comes from
            figure,
            className="figure-target",
            role="button",
            tabIndex=0,
            **open_items_attrs(key),
            title="List the items behind this figure",
            **_attrs(role="figure"),
        ),
    ]
    caveat = few_data_caveat(key, metric)
    if caveat:
        body.append(html.Div(caveat, className="metric-caveat", **_attrs(role="caveat")))
    if metric.get("message") and metric["message"] != format_value(metric):
        body.append(
            html.Div(metric["message"], className="metric-message", **_attrs(role="message"))
        )
    if status != "insufficient_data":
        if key == "flow_distribution":
            body.extend(_distribution_body(values))
        else:
            body.extend(_details(key, values))
        partial = partial_week(period, metric.get("weekly") or [])
        spark = sparkline(metric, key, partial) if key != "flow_distribution" else None
        if spark is not None:
            body.append(spark)
    if metric.get("excluded"):
        body.append(_reason_links(key, "Excluded", metric["excluded"], "excluded"))
    if metric.get("notes"):
        body.append(_reason_links(key, "Flagged", metric["notes"], "notes"))
    return html.Div(
        html.Div(body, className="card-body"),
        className=f"card metric-card h-100 status-{status.replace('_', '-')}",
        **_attrs(metric=key, status=status, tier=tier or ""),
    )


def metric_cards(report: dict[str, Any]) -> html.Div:
    """The DORA row (6 cards) and the Flow row (5 cards) of one report, as static markup (one
    component: see `ui/html_block.py`) and the definitions' tooltips."""

    def row(keys: tuple[str, ...], title: str, section: str) -> html.Section:
        return html.Section(
            [
                html.H2(title, className="section-title"),
                html.Div(
                    [
                        html.Div(
                            metric_card(key, report[key], report.get("period")),
                            className="card-cell",
                        )
                        for key in keys
                    ],
                    className=f"card-grid card-grid-{len(keys)}",
                ),
            ],
            **_attrs(section=section),
        )

    rows = [row(DORA_METRICS, "DORA", "dora"), row(FLOW_METRICS, "Flow", "flow")]
    tips = [definition_tooltip(key) for key in (*DORA_METRICS, *FLOW_METRICS)]
    return html.Div([HtmlBlock(static_markup(rows)), *tips])


def tip_id(key: str) -> str:
    """The id of a card's ⓘ button, the target of its definition's tooltip."""
    return f"tip-{key}"


def definition_tooltip(key: str) -> dbc.Tooltip:
    """The tooltip of a card's ⓘ button: the metric's definition."""
    return dbc.Tooltip(DEFINITIONS.get(key, ""), target=tip_id(key), placement="top")


def no_data_notice(text: str) -> html.Div:
    """What the cards area shows when JIRA is configured but nothing was fetched yet."""
    return html.Div(
        dbc.Alert(text, color="info", class_name="mb-0"),
        className="no-data-notice",
        **_attrs(role="no-data"),
    )


def out_of_data_text(outside: str, span: dict[str, str]) -> str:
    """Why a period has no numbers: it lies before the first issue or after the last change."""
    first, last = span["first"][:10], span["last"][:10]
    where = (
        f"it ends before the first issue (created {first})"
        if outside == "before"
        else f"it starts after the last recorded change ({last})"
    )
    return (
        f"No data in this period: {where}. The data runs from {first} to {last}; "
        "choose a period inside it."
    )


def out_of_data_notice(outside: str, span: dict[str, str]) -> html.Div:
    """What the cards area shows for a period outside the data, instead of tiers and zeros."""
    return html.Div(
        dbc.Alert(out_of_data_text(outside, span), color="warning", class_name="mb-0"),
        className="no-data-notice",
        **_attrs(role="out-of-data"),
    )
