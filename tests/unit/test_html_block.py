"""Static markup for `HtmlBlock`: what a tree of plain elements becomes, and what it refuses."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import dash_bootstrap_components as dbc
import pytest
from dash import html

from configuration.metric_defaults import DORA_METRICS, FLOW_METRICS
from data.services.metrics_service import report_for_view
from ui.cards import metric_cards
from ui.flow_analytics import aging_table
from ui.html_block import HtmlBlock, static_markup
from ui.item_panel import open_items_attrs


def test_static_markup_keeps_attributes_and_escapes_text():
    tree = html.Div(
        [html.Span("<b>Won't Fix</b>", className="reason", **{"data-role": "n"}), 3, None],
        role="button",
        tabIndex=0,
        title='say "hi"',
        **{"aria-label": "a & b"},
    )
    assert static_markup(tree) == (
        '<div role="button" tabindex="0" title="say &quot;hi&quot;" aria-label="a &amp; b">'
        '<span class="reason" data-role="n">&lt;b&gt;Won&#x27;t Fix&lt;/b&gt;</span>3</div>'
    )


def test_static_markup_writes_void_elements_and_inline_styles():
    tree = [html.Img(src="data:x", alt="trend"), html.Div(style={"left": "5%", "marginTop": 0})]
    assert static_markup(tree) == (
        '<img alt="trend" src="data:x"><div style="left: 5%; margin-top: 0"></div>'
    )


def test_static_markup_refuses_components_with_behaviour():
    with pytest.raises(ValueError, match="Tooltip"):
        static_markup(html.Div(dbc.Tooltip("tip", target="x")))
    with pytest.raises(ValueError, match="pattern-matching id"):
        static_markup(html.Button(id={"type": "open", "index": 1}))


def test_the_aging_table_is_one_block_marking_the_rows_past_p85():
    row = {"key": "A-1", "status": "In Progress", "state": "Active", "flow_type": "Feature"}
    result = {"aging": {"n": 1, "table": [{**row, "age_days": 2.5, "past_p85": True}]}}
    block = aging_table(result).children[0]
    assert isinstance(block, HtmlBlock)
    assert block.markup == (
        '<table class="table table-sm table-hover mb-0"><thead><tr><th>item</th>'
        "<th>status</th><th>state</th><th>flow type</th>"
        '<th class="text-end">age (days)</th></tr></thead><tbody>'
        '<tr class="table-danger" data-key="A-1"><td>A-1</td><td>In Progress</td>'
        '<td>Active</td><td>Feature</td><td class="text-end">2.5</td></tr></tbody></table>'
    )


def test_open_items_attribute_holds_the_panels_request():
    assert json.loads(open_items_attrs("flow_time")["data-open-items"]) == {
        "metric": "flow_time",
        "week": None,
        "excluded": None,
    }
    request = json.loads(open_items_attrs("flow_time", week="2026-11-02")["data-open-items"])
    assert request["week"] == "2026-W45"
    request = json.loads(open_items_attrs("flow_time", reason="canceled")["data-open-items"])
    assert request["excluded"] == "canceled"


def test_the_cards_are_one_block_beside_their_definition_tooltips(data_dir: Path):
    report = report_for_view(data_dir, "30d", datetime.now(UTC))
    block, *tips = metric_cards(report).children
    assert isinstance(block, HtmlBlock)
    keys = re.findall(r'<div class="card metric-card[^>]* data-metric="([a-z_]+)"', block.markup)
    assert keys == [*DORA_METRICS, *FLOW_METRICS]
    assert [tip.target for tip in tips] == [f"tip-{key}" for key in keys]
    assert all(f'id="tip-{key}"' in block.markup for key in keys)
