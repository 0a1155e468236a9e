"""How many items a "when" forecast must finish: typed in, an epic's open children, a JQL's
open issues.

An epic's children are read from the cached issues when the epic or any child of it is
there (done = completed under the configured mappings), else counted by JIRA; a JQL is always
counted by JIRA, the only place that evaluates JQL. Epic keys are checked before they reach
a query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from configuration.settings import jira_configured
from data.engine.dataset import Dataset
from data.engine.forecast_options import whole_number
from data.engine.issue_table import NONE
from data.errors import UserError
from data.storage.project_data import ProjectData

_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")


def _epic_link_fields(project: ProjectData) -> list[str]:
    return [
        str(f.get("id"))
        for f in project.fields
        if str(f.get("name", "")).strip().lower() == "epic link" and f.get("id")
    ]


def _linked_key(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("key")
    return str(value).upper() if isinstance(value, str) and value else None


def open_children_in_cache(project: ProjectData, ds: Dataset, epic: str) -> int | None:
    """Not-done children of `epic` (parent or Epic Link) among the cached issues, or None when
    neither the epic nor any child of it is there. Done is the dataset's completion: an issue
    completed (or canceled) under the configured mappings is not counted."""
    links = _epic_link_fields(project)
    found = False
    children = []
    for row, raw in enumerate(project.issues):
        fields = raw.get("fields") or {}
        if str(raw.get("key", "")).upper() == epic:
            found = True
        parents = [_linked_key(fields.get("parent"))] + [_linked_key(fields.get(f)) for f in links]
        if epic in parents:
            children.append(row)
    if not found and not children:
        return None
    return int(np.count_nonzero(ds.table.completion[np.array(children, dtype=np.int64)] == NONE))


def _jira_open_count(settings: Mapping[str, Any], jql: str) -> int:
    """Issues matching `jql` that JIRA does not file as Done, counted by JIRA (id listing)."""
    from data.jira.jira_client import client_from_settings

    with client_from_settings(dict(settings)) as client:
        return len(client.list_keys(f"({jql}) AND statusCategory != Done"))


def items_to_finish(
    project: ProjectData,
    ds: Dataset,
    settings: Mapping[str, Any],
    *,
    items: Any = None,
    jql: str | None = None,
    epic: str | None = None,
) -> tuple[int, str, str | None]:
    """(N, where it came from: "typed" | "jql" | "epic", the query) for a "when" forecast.

    An epic's open children are read from the cached issues when the epic or its children are
    there, else counted by JIRA; a JQL is always counted by JIRA (only JIRA evaluates JQL)."""
    given = [
        name
        for name, value in (("items", items), ("jql", jql), ("epic", epic))
        if value is not None and str(value).strip()
    ]
    if len(given) != 1:
        raise UserError("Say what to finish: a number of items, a JQL or an epic key (one).")
    if "items" in given:
        count = whole_number(items, "The number of items")
        if count < 1:
            raise UserError(f"The number of items must be at least 1, not {count}.")
        return count, "typed", None
    if epic:
        key = epic.strip().upper()
        if not _ISSUE_KEY.fullmatch(key):
            raise UserError(f"{epic!r} is not an issue key: use one like DEMO-42.")
        cached = open_children_in_cache(project, ds, key)
        if cached is None:
            cached = _epic_from_jira(settings, key)
        if cached < 1:
            raise UserError(f"Epic {key} has no open children: nothing left to forecast.")
        return cached, "epic", key
    query = str(jql).strip()
    if not jira_configured(settings):
        raise UserError("A JQL count needs JIRA: set it up in Settings (or give a number).")
    count = _jira_open_count(settings, query)
    if count < 1:
        raise UserError(f"No open issues match {query!r}: nothing left to forecast.")
    return count, "jql", query


def _epic_from_jira(settings: Mapping[str, Any], key: str) -> int:
    if not jira_configured(settings):
        raise UserError(
            f"Epic {key} is not in the data and JIRA is not set up to look it up: check the key."
        )
    from data.jira.jira_client import JiraQueryError, client_from_settings

    missing = f"Epic {key} was not found in JIRA: check the key."
    with client_from_settings(dict(settings)) as client:
        try:
            found = client.list_keys(f"key = {key}")
        except JiraQueryError:  # JIRA answers 400 for a key that does not exist
            raise UserError(missing) from None
        if not found:
            raise UserError(missing)
        link = "parent" if client.flavor == "cloud" else '"Epic Link"'
        return len(client.list_keys(f"{link} = {key} AND statusCategory != Done"))
