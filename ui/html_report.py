"""The offline HTML report: one self-contained file to share the numbers of a period.

Everything is inlined (styles, the report's data, the chart script and plotly.js from the
installed plotly package); fonts are the reader's system fonts, so nothing is fetched when the
file is opened. The page is composed of section builders (`SECTIONS`), each taking the shared
report (`data.services.shared_report`: `report`, `context`, `statistics`, `analytics`, `quality`)
and returning HTML text; a new section is one more function. Printed (or saved as PDF) it keeps
each card and chart whole: charts have a fixed width that fits an A4 page and never break
across pages.

Builders only arrange what the report holds (numbers formatted as on the cards, the flow
analytics charts built by the page's own figure builders, `ui/flow_analytics.py`); they
compute nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from html import escape
from typing import Any

from configuration.metric_defaults import ALL_METRICS, DORA_METRICS, FLOW_METRICS
from ui.cards import DEFINITIONS, TITLES, sparkline_points, sparkline_svg, sparkline_title
from ui.charts import chart_name, image_filename, trend_figure
from ui.flow_analytics import CHARTS, analytics_figures, summary_line
from ui.formatting import (
    format_counts,
    format_number,
    format_period,
    format_value,
    partial_week,
    period_days,
)

#: Chart size: fits an A4 page's printable width (about 718 px at 96 dpi) with room to spare.
CHART_WIDTH = 640
CHART_HEIGHT = 240
#: The flow analytics charts are taller (percentile notes, status columns, bar labels).
ANALYTICS_HEIGHT = 320
REPORT_DATA_ID = "flowdash-report"

Shared = dict[str, Any]
Section = Callable[[Shared], str]

STYLE = (
    """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2937;margin:0;padding:24px;background:#f8fafc;font-size:14px;line-height:1.4}
main{max-width:1400px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:15px;text-transform:uppercase;letter-spacing:.06em;color:#4b5563;margin:24px 0 8px}
.meta{color:#4b5563;margin:2px 0}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
.cards{display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(240px,1fr))}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 14px}
.card-title{font-weight:600;display:flex;gap:6px;align-items:center}
.tier{margin-left:auto;border-radius:4px;padding:1px 6px;font-size:12px;color:#fff}
.tier-Elite{background:#198754}.tier-High{background:#0aa2c0}
.tier-Medium{background:#f0ad00;color:#1f2937}.tier-Low{background:#dc3545}
.headline{font-size:26px;font-weight:700;margin-top:4px}
.headline.missing{font-size:16px;color:#6b7280;font-weight:600}
.headline.wide{font-size:16px}
.unit{color:#6b7280;font-size:14px;font-weight:400}
.small{font-size:12px;color:#4b5563}
.tier-note{font-size:12px;color:#6b7280;font-style:italic}
.stats{margin-top:6px;width:100%}
.stats td{border:none;padding:1px 0;font-size:12px}
.stats td:last-child{text-align:right}
.spark svg{display:block;width:100%;height:34px;margin-top:6px}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fff;border:1px solid #e5e7eb;border-radius:8px;width:"""
    + str(CHART_WIDTH + 2)
    + """px}
.chart-plot{width:"""
    + str(CHART_WIDTH)
    + """px;height:"""
    + str(CHART_HEIGHT)
    + """px}
.definition{font-size:12px;color:#6b7280;margin:4px 8px 8px}
h3{font-size:14px;margin:16px 0 6px}
.aging table{width:"""
    + str(CHART_WIDTH + 2)
    + """px}
td.num{text-align:right}
tr.late td{background:#fee2e2}
footer{margin-top:24px;color:#6b7280;font-size:12px}
@media print{
 @page{size:A4;margin:12mm}
 body{background:#fff;padding:0;font-size:12px}
 main{max-width:none}
 .cards{grid-template-columns:repeat(3,1fr)}
 .card,.chart,table,tr{break-inside:avoid;page-break-inside:avoid}
 .chart{border-color:#d1d5db}
 h2{break-after:avoid;page-break-after:avoid}
 section{break-inside:auto}
 .modebar-container{display:none!important}
}
"""
)

SCRIPT = (
    """
(function(){
  var config={displaylogo:false,responsive:false,modeBarButtons:[["toImage"]]};
  document.querySelectorAll("[data-figure]").forEach(function(el){
    var figure=JSON.parse(el.querySelector("script").textContent);
    var plot=el.querySelector(".chart-plot");
    var own=Object.assign({},config,{toImageButtonOptions:
      {format:"png",filename:el.getAttribute("data-filename"),scale:2}});
    Plotly.newPlot(plot,figure.data,figure.layout,own);
  });
  document.body.setAttribute("data-charts","drawn");
})();
"""
).strip()


def _json(value: Any) -> str:
    """JSON safe inside a `<script>` element (no `</` that could end it)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


@lru_cache(maxsize=1)
def plotly_script() -> str:
    """plotly.js from the installed plotly package (read once per process)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _row(*cells: str, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _title(key: str, metric: dict[str, Any]) -> str:
    return escape(metric.get("label") or TITLES.get(key, key))


# ----------------------------------------------------------------------------- sections


def header_section(shared: Shared) -> str:
    """Title, period, the workspace's name, where its data came from and the JQL, the
    dataset, when the file was written."""
    report, context = shared["report"], shared["context"]
    dataset = report.get("dataset") or {}
    lines = [
        f'<p class="meta" data-role="period">{escape(format_period(report["period"]))}</p>',
        f'<p class="meta" data-role="workspace">Workspace: {escape(context["workspace"])}</p>',
        f'<p class="meta" data-role="source">Data: {escape(context["source"])}</p>',
    ]
    if context.get("jql"):
        lines.append(
            f'<p class="meta" data-role="jql">JQL: <code>{escape(context["jql"])}</code></p>'
        )
    lines.append(
        f'<p class="meta">{format_number(dataset.get("issues"))} issues · written '
        f"{escape(context['written'])}</p>"
    )
    return "<header><h1>flowdash: DORA and Flow metrics</h1>" + "".join(lines) + "</header>"


def settings_section(shared: Shared) -> str:
    """The settings the numbers were computed with, the service level the cycle-time scatter
    scores, and the mappings that differ from the defaults."""
    settings = shared["report"].get("settings") or {}
    rows = [_row("setting", "value", header=True)]
    for name in ("deployment_source", "time_zone", "tier_year", "failure_by_time_window"):
        if name in settings:
            rows.append(_row(escape(name), escape(json.dumps(settings[name]).strip('"'))))
    analytics = shared.get("analytics")
    if analytics:
        sle = analytics["sle_setting"]
        text = "off" if sle["days"] is None else f"{sle['percent']:g} % within {sle['days']:g} days"
        rows.append(_row("service level (flow analytics)", escape(text)))
    for name, value in shared["context"]["mappings"].items():
        if name == "deployment_source":
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else json.dumps(value)
        rows.append(_row(escape(f"mappings.{name}"), escape(text)))
    return (
        '<section data-section="settings"><h2>Settings used</h2>'
        f"<table>{''.join(rows)}</table></section>"
    )


def _sparkline(key: str, metric: dict[str, Any], period: dict[str, Any]) -> str:
    """The card's weekly sparkline, inline SVG, a partial last week hollow as on the page."""
    points = sparkline_points(metric) if key != "flow_distribution" else []
    if not points or metric.get("status") == "insufficient_data":
        return ""
    days = partial_week(period, metric.get("weekly") or [])
    title = escape(sparkline_title(metric, points, days))
    label = "weekly trend" + (f", last week partial: {days} of 7 days" if days else "")
    return (
        f'<div class="spark" data-role="sparkline" data-weeks="{len(points)}" '
        f'data-partial-days="{days or ""}" role="img" aria-label="{label}" title="{title}">'
        f"{sparkline_svg(points, days)}</div>"
    )


def _card(
    key: str, metric: dict[str, Any], statistics: list[dict[str, str]], period: dict[str, Any]
) -> str:
    text = format_value(metric)
    has_value = metric.get("status") != "insufficient_data" and text != "None in period"
    unit = escape(metric.get("unit") or "") if has_value else ""
    tier = metric.get("tier")
    headline_class = "headline" + ("" if has_value else " missing")
    if key == "flow_distribution":
        headline_class += " wide"  # several shares on one line
    parts = [
        f'<div class="card-title">{_title(key, metric)}'
        + (
            f'<span class="tier tier-{escape(tier)}" data-role="tier">{escape(tier)}</span>'
            if tier
            else ""
        )
        + "</div>",
        f'<div class="{headline_class}">'
        f'<span data-role="headline">{escape(text)}</span> <span class="unit">{unit}</span></div>',
    ]
    if tier and metric.get("tier_note"):
        parts.append(
            f'<div class="tier-note" data-role="tier-note">{escape(metric["tier_note"])}</div>'
        )
    parts.append(f'<div class="small" data-role="n">n = {format_number(metric.get("n"))}</div>')
    if metric.get("message") and metric["message"] != text:
        parts.append(f'<div class="small" data-role="message">{escape(metric["message"])}</div>')
    rows = [
        _row(escape(row["statistic"]), escape(f"{row['value']} {row['unit']}".strip()))
        for row in statistics
        if row["metric"] == key and not row["statistic"].startswith("excluded.") and row["value"]
    ]
    if rows:
        parts.append(f'<table class="stats">{"".join(rows)}</table>')
    parts.append(_sparkline(key, metric, period))
    if metric.get("excluded"):
        excluded = escape(format_counts(metric["excluded"]))
        parts.append(f'<div class="small" data-role="excluded">Excluded: {excluded}</div>')
    if metric.get("notes"):
        flagged = escape(format_counts(metric["notes"]))
        parts.append(f'<div class="small" data-role="notes">Flagged: {flagged}</div>')
    return (
        f'<div class="card" data-metric="{key}" data-status="{escape(metric.get("status", ""))}"'
        f' data-tier="{escape(tier or "")}">' + "".join(parts) + "</div>"
    )


def cards_section(shared: Shared) -> str:
    """Every card, DORA then Flow, with tier, `n`, every statistic, the weekly sparkline and
    what was left out."""
    report, statistics = shared["report"], shared["statistics"]

    def grid(title: str, keys: tuple[str, ...], name: str) -> str:
        cards = "".join(
            _card(key, report[key], statistics, report["period"]) for key in keys if key in report
        )
        return (
            f'<section data-section="{name}"><h2>{title}</h2>'
            f'<div class="cards">{cards}</div></section>'
        )

    return grid("DORA", DORA_METRICS, "dora") + grid("Flow", FLOW_METRICS, "flow")


def _chart_html(
    name: str, figure: dict[str, Any], filename: str, definition: str, *, height: int
) -> str:
    """One chart: its figure as JSON (drawn by `SCRIPT`), fixed to the printable width, and
    its definition below; `filename` names its PNG."""
    figure["layout"] = {**figure["layout"], "width": CHART_WIDTH, "height": height}
    return (
        f'<div class="chart" data-figure="{escape(name)}" data-filename="{escape(filename)}">'
        f'<div class="chart-plot" style="height:{height}px"></div>'
        f'<script type="application/json">{_json(figure)}</script>'
        f'<div class="definition">{escape(definition)}</div></div>'
    )


def _chart(key: str, metric: dict[str, Any], period: dict[str, Any]) -> str:
    """A metric's weekly trend, its partial last week marked as on the page."""
    figure = trend_figure(key, metric, period)
    definition = DEFINITIONS.get(key, "")
    days = partial_week(period, metric.get("weekly") or [])
    if days is not None:
        definition += f" The last week is partial: {days} of 7 days in the period."
    return _chart_html(
        key, figure, image_filename(key, period), definition.strip(), height=CHART_HEIGHT
    )


def _charts(shared: Shared, keys: tuple[str, ...]) -> str:
    report = shared["report"]
    return "".join(_chart(key, report[key], report["period"]) for key in keys if key in report)


def dora_trends_section(shared: Shared) -> str:
    """The weekly trend of every DORA metric."""
    return (
        '<section data-section="dora-trends"><h2>DORA weekly trends</h2>'
        f'<div class="charts">{_charts(shared, DORA_METRICS)}</div></section>'
    )


def flow_trends_section(shared: Shared) -> str:
    """The weekly trend of every Flow metric, and the distribution beside its reference
    ranges."""
    distribution = shared["report"].get("flow_distribution") or {}
    values = distribution.get("values") or {}
    shares, reference = values.get("shares") or {}, values.get("reference") or {}
    rows = [_row("flow type", "share", "reference", header=True)]
    for name in dict.fromkeys([*reference, *shares]):
        low_high = reference.get(name)
        share = shares.get(name)
        rows.append(
            _row(
                escape(name),
                "–" if share is None else f"{format_number(share)} %",
                f"{low_high[0]}–{low_high[1]} %" if low_high else "no reference",
            )
        )
    return (
        '<section data-section="flow-trends"><h2>Flow weekly trends</h2>'
        f'<div class="charts">{_charts(shared, FLOW_METRICS)}</div>'
        "<h2>Flow distribution against the reference ranges</h2>"
        f"<table>{''.join(rows)}</table></section>"
    )


#: Sentences of the page's chart definitions that only make sense on the page.
_CLICK_SENTENCE = re.compile(r"\s*Click [^.]*\.")


def _aging_table(aging: dict[str, Any]) -> str:
    """The aging items, oldest first, as the page's table lists them; rows past the 85th
    percentile marked."""
    rows = aging["table"]
    if not rows:
        return '<p class="meta" data-role="aging-table">No item is in progress at the end.</p>'
    head = _row("item", "status", "state", "flow type", "age (days)", header=True)
    late = ' class="late"'
    body = "".join(
        f'<tr data-key="{escape(row["key"])}"{late if row["past_p85"] else ""}>'
        f"<td>{escape(row['key'])}</td><td>{escape(row['status'])}</td>"
        f"<td>{escape(row['state'])}</td><td>{escape(row['flow_type'])}</td>"
        f'<td class="num">{row["age_days"]:.1f}</td></tr>'
        for row in rows
    )
    note = ""
    if aging["n"] > len(rows):
        note = f'<p class="small">The {len(rows)} oldest of {aging["n"]:,} items.</p>'
    return (
        f'<div class="aging"><h3>Aging work in progress, oldest first</h3>{note}'
        f'<table data-role="aging-table"><thead>{head}</thead><tbody>{body}</tbody></table></div>'
    )


def flow_analytics_section(shared: Shared) -> str:
    """The page's "Flow analytics" charts for the same period (cycle-time scatter with the
    service level, histogram, aging work in progress and its table, cumulative flow, time in
    state, blocked time), static: drawn as SVG (no WebGL, so they print), nothing to click."""
    result, period = shared["analytics"], shared["report"]["period"]
    charts = []
    for (graph_id, title, definition), figure in zip(
        CHARTS, analytics_figures(result), strict=True
    ):
        for trace in figure["data"]:
            if trace.get("type") == "scattergl":
                trace["type"] = "scatter"
        charts.append(
            _chart_html(
                graph_id,
                figure,
                image_filename(chart_name(title), period),
                _CLICK_SENTENCE.sub("", definition),
                height=ANALYTICS_HEIGHT,
            )
        )
    return (
        '<section data-section="flow-analytics"><h2>Flow analytics</h2>'
        f'<p class="meta" data-role="analytics-summary">{escape(summary_line(result))}</p>'
        f'<div class="charts">{"".join(charts)}</div>{_aging_table(result["aging"])}</section>'
    )


#: Keys shown per data-quality rule; the rest are counted.
QUALITY_KEYS_SHOWN = 12


def _quality_rules(quality: dict[str, Any] | None) -> str:
    """The data-quality report's rules: what was found, how often, which metrics it affects
    and the first keys."""
    if not quality:
        return ""
    rows = [_row("check", "items", "metrics affected", "keys", header=True)]
    for rule in quality.get("rules") or []:
        keys = list(rule.get("keys") or [])
        shown = ", ".join(keys[:QUALITY_KEYS_SHOWN])
        if len(keys) > QUALITY_KEYS_SHOWN:
            shown += f" … and {len(keys) - QUALITY_KEYS_SHOWN:,} more"
        metrics = ", ".join(TITLES.get(m, m) for m in rule.get("metrics") or [])
        rows.append(
            f'<tr data-rule="{escape(rule["rule"])}"><td>{escape(rule["title"])}</td>'
            f"<td>{format_number(rule['count'])}</td><td>{escape(metrics)}</td>"
            f"<td>{escape(shown) or '–'}</td></tr>"
        )
    summary = escape(quality.get("summary") or "")
    return (
        f'<p class="meta" data-role="quality-summary">{summary} (whole project, not only the '
        f'period)</p><table data-role="quality-rules">{"".join(rows)}</table>'
    )


def quality_section(shared: Shared) -> str:
    """The data-quality summary: the project's data-quality report (every check, its count,
    the metrics it affects, the first keys), the dataset's warnings, and per metric what was
    left out or flagged and why."""
    report = shared["report"]
    warnings = (report.get("dataset") or {}).get("warnings") or []
    items = "".join(f"<li>{escape(w)}</li>" for w in warnings) or "<li>No warnings.</li>"
    rows = [_row("metric", "status", "left out", "flagged", header=True)]
    for key in ALL_METRICS:
        metric = report.get(key)
        if not metric:
            continue
        status = metric.get("status", "")
        if metric.get("message") and status != "ok":
            status = f"{status}: {metric['message']}"
        rows.append(
            _row(
                _title(key, metric),
                escape(status),
                escape(format_counts(metric.get("excluded")) or "none"),
                escape(format_counts(metric.get("notes")) or "none"),
            )
        )
    return (
        '<section data-section="quality"><h2>Data quality</h2>'
        f"{_quality_rules(shared.get('quality'))}"
        f'<ul data-role="warnings">{items}</ul>'
        f'<table data-role="left-out">{"".join(rows)}</table></section>'
    )


#: The report's sections, in page order.
SECTIONS: tuple[Section, ...] = (
    header_section,
    settings_section,
    cards_section,
    dora_trends_section,
    flow_trends_section,
    flow_analytics_section,
    quality_section,
)


def report_filename(report: dict[str, Any]) -> str:
    """`flowdash-report-<first day>_<last day>.html`."""
    days = period_days(report.get("period") or {})
    if days is None:
        return "flowdash-report.html"
    return f"flowdash-report-{days[0].isoformat()}_{days[1].isoformat()}.html"


def report_html(shared: Shared, sections: tuple[Section, ...] = SECTIONS) -> str:
    """The whole self-contained page of a shared report."""
    report = shared["report"]
    body = "".join(section(shared) for section in sections)
    period = escape(format_period(report["period"]))
    footer = (
        "<footer>Every number is computed as <code>python app.py metrics</code> computes it for "
        "the same data and period; definitions: METRICS.md.</footer>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>flowdash report · {period}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}{footer}</main>"
        f'<script type="application/json" id="{REPORT_DATA_ID}">{_json(report)}</script>'
        f"<script>{plotly_script()}</script><script>{SCRIPT}</script></body></html>"
    )
