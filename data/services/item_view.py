"""The item panel's view of an item list: one page at a time, sorted and filtered on the server.

The panel opens a list of up to tens of thousands of rows; only the page on screen travels to
the browser, and only that page is described (`evidence.lazy_item_list`): opening 5,000 items
costs their selection and one page of rows (`PAGE_SIZE`). The list is kept per request (the
last few lists); the first sort, filter or CSV download describes every item once, and later
ones reuse that.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from data.engine.evidence import ItemList, item_list, items_to_csv, lazy_item_list
from data.engine.field_mapper import full_mappings, mappings_hash
from data.services.metrics_service import cli_clock, cli_project, clock_now
from data.services.project import current_project
from data.services.source_options import SourceOptions
from data.storage.persistence import load_settings

#: Rows per page: 25 keep the panel quick to open (the browser mounts every row of the page).
PAGE_SIZE = 25
_KEPT = 4
_lists: OrderedDict[tuple[Any, ...], ItemList] = OrderedDict()
_lock = threading.Lock()


def items_for_view(root: Path, request: dict[str, Any], shown: dict[str, str] | None) -> ItemList:
    """The item list of a request, from the project on screen (sample or JIRA cache),
    for the period and "now" of the report on screen (`shown`; before any: the last 30
    days). Kept per (request, period, now, project version, mappings)."""
    settings = load_settings(root)
    project = current_project(root, settings)
    period = (shown or {}).get("period") or "30d"
    now = datetime.fromisoformat(shown["now"]) if shown and shown.get("now") else clock_now()
    key = (
        orjson.dumps(request, option=orjson.OPT_SORT_KEYS),
        period,
        now.isoformat(),
        project.version or id(project),
        mappings_hash(full_mappings(settings.get("mappings"))),
        settings.get("time_zone"),
    )
    with _lock:
        if key in _lists:
            _lists.move_to_end(key)
            return _lists[key]
    answer = lazy_item_list(project, settings, request, period, now)
    with _lock:
        _lists[key] = answer
        while len(_lists) > _KEPT:
            _lists.popitem(last=False)
    return answer


def _matching(answer: dict[str, Any], text: str | None) -> list[dict[str, Any]]:
    """Items with `text` (any case) in any of their columns."""
    items: list[dict[str, Any]] = answer["items"]
    needle = (text or "").strip().lower()
    if not needle:
        return items
    columns = answer["columns"]
    return [
        item
        for item in items
        if any(
            needle in str(item.get(name, "")).lower()
            for name in columns
            if item.get(name) is not None
        )
    ]


def _sorted(
    items: list[dict[str, Any]], sort_by: list[dict[str, str]] | None
) -> list[dict[str, Any]]:
    """Items by one column (the first of `sort_by`), empty values last either way."""
    if not sort_by:
        return items
    column = sort_by[0]["column_id"]
    descending = sort_by[0].get("direction") == "desc"
    present = [item for item in items if item.get(column) is not None]
    absent = [item for item in items if item.get(column) is None]
    present.sort(key=lambda item: item[column], reverse=descending)
    return present + absent


def item_view(
    root: Path,
    request: dict[str, Any],
    shown: dict[str, str] | None,
    *,
    page: int = 0,
    sort_by: list[dict[str, str]] | None = None,
    text: str | None = None,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of a request's items, filtered by `text` and sorted by `sort_by`: the list's
    title, count, columns and JIRA links, with `items` (the page), `matching` (how many pass
    the filter), `page`, `pages` and `page_size`."""
    listed = items_for_view(root, request, shown)
    if sort_by or (text or "").strip():
        answer = listed.answer()
        rows = _sorted(_matching(answer, text), sort_by)
        matching = len(rows)
    else:  # the list's own order: describe the page only
        answer, rows, matching = listed.header, [], listed.count
    pages = max(1, -(-matching // page_size))
    page = min(max(0, page), pages - 1)
    start = page * page_size
    part = slice(start, start + page_size)
    return {
        **answer,
        "items": rows[part] if rows or matching == 0 else listed.rows(part),
        "matching": matching,
        "page": page,
        "pages": pages,
        "page_size": page_size,
    }


def items_csv_for_view(
    root: Path,
    request: dict[str, Any],
    shown: dict[str, str] | None,
    *,
    sort_by: list[dict[str, str]] | None = None,
    text: str | None = None,
) -> dict[str, str]:
    """Every item the panel's filter keeps, in its order, as a CSV download (`content`,
    `filename`)."""
    answer = items_for_view(root, request, shown).answer()
    rows = _sorted(_matching(answer, text), sort_by)
    name = answer.get("metric") or "list"
    if answer.get("week"):
        name += f"-{answer['week']}"
    if answer.get("excluded"):
        name += f"-{answer['excluded']}"
    return {
        "content": items_to_csv({**answer, "items": rows}),
        "filename": f"flowdash-items-{name}.csv",
    }


def items_for_cli(
    root: Path,
    settings: dict[str, Any],
    source: SourceOptions,
    *,
    metric: str,
    week: str | None = None,
    excluded: str | None = None,
    output: str = "json",
) -> str:
    """`python app.py items`: the rows the item panel lists for `metric` (one `week`, or the
    items `excluded` for a reason), as JSON or CSV (`output`), from the data `source` names.

    It lives here, not beside `item_list` in `data/engine/evidence.py`, because it takes the
    services' `SourceOptions` and reads the project through the services' `cli_project`: the
    engine must not import the services above it (the layers run one way)."""
    zone, now = cli_clock(settings, source)
    moment = now or clock_now()
    project = cli_project(root, settings, source.input_file)
    request = {"metric": metric, "week": week, "excluded": excluded}
    answer = item_list(
        project,
        settings,
        request,
        source.period,
        moment,
        tz=zone.key,
        deployment_source=source.deployments,
    )
    if output == "csv":
        return items_to_csv(answer)
    return orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n"
