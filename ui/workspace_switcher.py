"""The workspace switcher in the header: a select, four actions and their dialog.

Component ids (the contract with `callbacks/workspaces.py` and the browser tests):
`workspace-select` (one option per workspace, "Team A · updated 2026-12-02 01:40 UTC"),
`workspace-new`, `workspace-rename`, `workspace-duplicate`, `workspace-delete` (open the
dialog), `workspace-dialog` (the modal), `workspace-dialog-title`, `workspace-dialog-text`,
`workspace-name` (the name typed), `workspace-confirm` (applies), `workspace-cancel`,
`workspace-pending` (Store: the action the dialog confirms), `workspace-message` (what the
last action did, or why it was refused), `workspace-export` with `workspace-export-data` (the
"with data" box) and `workspace-download`, `workspace-import` (a dcc.Upload),
`workspace-update-all` (updates every workspace in turn), `workspace-update-all-status` (one
line per workspace, `data-workspace` and `data-state` on each) and `workspace-update-all-poll`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html, no_update

#: What each action's dialog says and whether it asks for a name.
DIALOGS: dict[str, tuple[str, str, bool, str]] = {
    "create": (
        "New workspace",
        "It starts with the sample project; set JIRA in Settings.",
        True,
        "Create",
    ),
    "rename": ("Rename workspace", "Its data and settings stay as they are.", True, "Rename"),
    "duplicate": (
        "Duplicate workspace",
        "The copy keeps the settings, mappings and fetched data: try other mappings without "
        "fetching again.",
        True,
        "Duplicate",
    ),
    "delete": (
        "Delete workspace",
        "Its settings, fetched issues and tables are deleted. This cannot be undone.",
        False,
        "Delete",
    ),
}


def updated_text(updated: str | None) -> str:
    """ "updated 2026-12-02 01:40 UTC" from an ISO instant, "never updated" without one."""
    if not updated:
        return "never updated"
    return f"updated {updated[:10]} {updated[11:16]} UTC"


def workspace_options(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The select's options: each workspace's name and when it was last updated."""
    return [
        {
            "label": f"{row['name']} · "
            + (
                "sample project"
                if row["source"] == "sample project"
                else updated_text(row["updated"])
            ),
            "value": row["slug"],
        }
        for row in rows
    ]


def current_slug(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The slug of the current workspace in `rows`."""
    return next((row["slug"] for row in rows if row["current"]), None)


def workspace_switcher(rows: Sequence[Mapping[str, Any]]) -> html.Div:
    """The header's switcher, filled with `rows`
    (`data.services.workspace_views.workspace_summaries`)."""
    button = {"size": "sm", "color": "secondary", "outline": True}
    return html.Div(
        [
            dbc.Label("Workspace", html_for="workspace-select", class_name="mb-0 small"),
            dbc.Select(
                id="workspace-select",
                options=workspace_options(rows),
                value=current_slug(rows),
                size="sm",
                style={"minWidth": "14rem"},
            ),
            dbc.ButtonGroup(
                [
                    dbc.Button("New", id="workspace-new", title="New workspace", **button),
                    dbc.Button("Rename", id="workspace-rename", **button),
                    dbc.Button("Duplicate", id="workspace-duplicate", **button),
                    dbc.Button("Delete", id="workspace-delete", **button),
                    dbc.Button("Export", id="workspace-export", **button),
                ]
            ),
            dbc.Checkbox(id="workspace-export-data", label="with data", value=False),
            dcc.Upload(
                dbc.Button("Import", **button),
                id="workspace-import",
                accept=".json,application/json",
                multiple=False,
            ),
            dcc.Download(id="workspace-download"),
            dbc.Button("Update all", id="workspace-update-all", **button),
            html.Ul(id="workspace-update-all-status", className="small list-unstyled mb-0"),
            dcc.Interval(id="workspace-update-all-poll", interval=500, disabled=True),
            html.Span(id="workspace-message", className="small text-muted", role="status"),
            dcc.Store(id="workspace-pending"),
            workspace_dialog(),
        ],
        id="workspace-switcher",
        className="d-flex flex-wrap align-items-center gap-2",
    )


def workspace_dialog() -> dbc.Modal:
    """The dialog every action goes through (a name for create/rename/duplicate, a
    confirmation for delete)."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id="workspace-dialog-title")),
            dbc.ModalBody(
                [
                    html.P(id="workspace-dialog-text"),
                    html.Div(
                        [
                            dbc.Label("Name", html_for="workspace-name"),
                            dbc.Input(id="workspace-name", type="text", maxLength=60),
                        ],
                        id="workspace-name-row",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="workspace-cancel", color="secondary", outline=True),
                    dbc.Button("OK", id="workspace-confirm", color="primary"),
                ]
            ),
        ],
        id="workspace-dialog",
        is_open=False,
    )


def dialog_view(
    action: str, options: Sequence[Mapping[str, str]] | None, value: str | None
) -> tuple[Any, ...]:
    """The dialog for `action` on the selected workspace: open, title, text, name row class,
    the name filled in, confirm label and colour, and the pending action."""
    label = next((o["label"] for o in options or [] if o["value"] == value), "")
    current_name = label.rsplit(" · ", 1)[0]
    title, text, named, confirm = DIALOGS[action]
    name = {"rename": current_name, "duplicate": f"{current_name} copy"}.get(action, "")
    if action == "delete":
        text = f"Delete {current_name}? {text}"
    return (
        True,
        title,
        text,
        "" if named else "d-none",
        name,
        confirm,
        "danger" if action == "delete" else "primary",
        action,
    )


def result_view(result: Mapping[str, Any]) -> tuple[Any, ...]:
    """After an action: the options, the current workspace, the message and its colour (a
    message of None keeps the one on the page)."""
    rows = result["workspaces"]
    error = result.get("error")
    message = result.get("message", "")
    if message is None and not error:
        return workspace_options(rows), result["current"], no_update, no_update
    return (
        workspace_options(rows),
        result["current"],
        error or message,
        "small text-danger" if error else "small text-muted",
    )


def update_all_view(progress: Mapping[str, Any]) -> tuple[list[html.Li], bool]:
    """One line per workspace of an "update all" ("Team A: running, 300 issues · Fetching"),
    and whether the poll should stop (nothing running)."""
    lines = []
    for row in progress.get("workspaces", []):
        detail = f", {row['issues']:,} issues" if row.get("issues") else ""
        message = f" · {row['message']}" if row.get("message") else ""
        lines.append(
            html.Li(
                f"{row['name']}: {row['state']}{detail}{message}",
                **{"data-workspace": row["slug"], "data-state": row["state"]},
            )
        )
    return lines, progress.get("state") != "running"
