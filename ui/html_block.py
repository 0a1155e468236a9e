"""Static markup as one page component: the cards, and the tables of the charts.

Dash's renderer pays for every component on the page at every update (opening the item
panel, switching workspace, the first view): the cards were some 370 components, the charts'
tables some 800. `HtmlBlock` is one component holding markup that `static_markup` writes on
the server from a tree of plain `dash.html` elements, escaping every text, so JIRA text (a
summary, a status name) cannot add markup. The browser side is `assets/html_block.js`; a
hand-written component, because the one library for raw HTML in Dash
(dash-dangerously-set-inner-html) is unmaintained and ten lines do the same.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any, ClassVar

from dash.development.base_component import Component


class HtmlBlock(Component):  # type: ignore[misc]
    """A `<div>` holding `markup` (built here, escaped) as its content."""

    _children_props: ClassVar[list[str]] = []
    _base_nodes: ClassVar[list[str]] = []
    _namespace = "flowdash"
    _type = "HtmlBlock"

    def __init__(self, markup: str) -> None:
        self._prop_names = ["markup"]
        self._valid_wildcard_attributes: list[str] = []
        self.available_properties = ["markup"]
        self.available_wildcard_properties: list[str] = []
        super().__init__(markup=markup)


#: Elements without content or closing tag.
_VOID = frozenset({"img", "br", "hr", "input", "wbr"})
#: Dash props that are not attributes of the element.
_NOT_ATTRIBUTES = frozenset(
    {"children", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "key"}
)
_CAMEL = re.compile("[A-Z]")
#: Dash prop names that HTML spells differently.
_ATTRIBUTE_NAMES = {
    "className": "class",
    "tabIndex": "tabindex",
    "htmlFor": "for",
    "colSpan": "colspan",
}


def static_markup(node: Any) -> str:
    """A tree of `dash.html` components (and text) as HTML, for `HtmlBlock`: its data-, aria-
    and other attributes kept, text escaped. Only plain elements may be in it: a component
    with behaviour (a tooltip, an input) raises `ValueError`; keep it outside the block."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return escape(str(node))
    if isinstance(node, list | tuple):
        return "".join(static_markup(child) for child in node)
    if not isinstance(node, Component) or node._namespace != "dash_html_components":
        raise ValueError(f"{type(node).__name__} cannot be static markup")
    tag = node._type.lower()
    props = node.to_plotly_json()["props"]
    if isinstance(props.get("id"), dict):
        raise ValueError(f"a pattern-matching id ({props['id']}) needs a Dash component")
    if props.get("style"):
        props["style"] = "; ".join(
            f"{_CAMEL.sub(lambda upper: '-' + upper[0].lower(), name)}: {value}"
            for name, value in props["style"].items()
        )
    values = {
        _ATTRIBUTE_NAMES.get(name, name): value
        for name, value in props.items()
        if name not in _NOT_ATTRIBUTES and value is not None and value is not False
    }
    opening = "".join(
        f' {name}="{escape(str(name if value is True else value))}"'
        for name, value in values.items()
    )
    if tag in _VOID:
        return f"<{tag}{opening}>"
    return f"<{tag}{opening}>{static_markup(props.get('children'))}</{tag}>"
