"""Static markup as one page component: the tables that are a chart's text alternative.

A table of 13 weeks by 4 columns is about 70 Dash components; the page held some 800 of them
in such tables, and Dash's renderer pays for every component on the page at every update
(opening the item panel, switching workspace, the first view). `HtmlBlock` is one component
whose markup the server builds; every text in it goes through `escape`, so JIRA text (a
summary, a status name) cannot add markup. The browser side is `assets/html_block.js`; a
hand-written component, because the one library for raw HTML in Dash
(dash-dangerously-set-inner-html) is unmaintained and ten lines do the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any, ClassVar

from dash.development.base_component import Component


class HtmlBlock(Component):  # type: ignore[misc]
    """A `<div>` holding `markup` (built here, escaped) as its content."""

    _children_props: ClassVar[list[str]] = []
    _base_nodes: ClassVar[list[str]] = []
    _namespace = "flowdash"
    _type = "HtmlBlock"

    def __init__(self, markup: str, id: str | None = None, className: str | None = None) -> None:
        self._prop_names = ["id", "markup", "className"]
        self._valid_wildcard_attributes: list[str] = []
        self.available_properties = list(self._prop_names)
        self.available_wildcard_properties: list[str] = []
        props: dict[str, Any] = {"markup": markup}
        if id is not None:
            props["id"] = id
        if className is not None:
            props["className"] = className
        super().__init__(**props)


def attributes(**values: Any) -> str:
    """` name="value"` for each value that is not None, escaped; `class_` is written `class`
    and `data_key` `data-key`."""
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in values.items()
        if value is not None
    )


def cell(tag: str, text: Any, **attrs: Any) -> str:
    """One `<td>` or `<th>` holding `text`, escaped."""
    return f"<{tag}{attributes(**attrs)}>{escape(str(text))}</{tag}>"


def table_markup(
    head: Sequence[str],
    rows: Iterable[tuple[Sequence[str], dict[str, Any]]],
    **attrs: Any,
) -> str:
    """A `<table>`: `head` as column headers, each row as its cells (built with `cell`) and
    its own attributes."""
    header = "".join(cell("th", name, scope="col") for name in head)
    body = "".join(
        f"<tr{attributes(**row_attrs)}>{''.join(cells)}</tr>" for cells, row_attrs in rows
    )
    return (
        f"<table{attributes(**attrs)}><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


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
