"""What is shown about the workspaces: the header switcher's list and `python app.py workspaces`.

Also the one call the switcher's callback makes, `workspace_action`, which applies create /
rename / duplicate / delete / switch and returns the new list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from data import workspaces as store
from data.errors import UserError


def workspace_summaries(data_root: Path) -> list[dict[str, Any]]:
    """Each workspace as the switcher and `python app.py workspaces` show it: name, slug,
    whether current, its source (JIRA site and JQL, or the sample), issues cached and when
    its data was last updated (None: never)."""
    from configuration.settings import jira_configured
    from data.cache_manager import cache_status
    from data.persistence import SettingsError, load_settings_for_repair

    rows = []
    for space in store.list_workspaces(data_root):
        row: dict[str, Any] = {"name": space.name, "slug": space.slug, "current": space.current}
        try:
            settings, _ = load_settings_for_repair(space.root)
        except SettingsError:
            rows.append({**row, "source": "unreadable settings", "issues": 0, "updated": None})
            continue
        if jira_configured(settings):
            status = cache_status(space.root, settings)
            jira = settings["jira"]
            source = f"{jira['url']} · {jira.get('jql') or ''}".strip(" ·")
            rows.append(
                {
                    **row,
                    "source": source,
                    "issues": status["issues"],
                    "updated": status["last_sync"],
                }
            )
        else:
            rows.append({**row, "source": "sample project", "issues": None, "updated": None})
    return rows


def workspaces_for_cli(data_root: Path, output: str = "text") -> str:
    """`python app.py workspaces`: one line per workspace (the current one marked *), or JSON."""
    rows = workspace_summaries(data_root)
    if output == "json":
        return orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode()
    width = max(len(row["name"]) for row in rows)
    lines = []
    for row in rows:
        mark = "*" if row["current"] else " "
        issues = "" if row["issues"] is None else f"{row['issues']:,} issues, "
        updated = f"updated {row['updated']}" if row["updated"] else "never updated"
        lines.append(
            f"{mark} {row['name']:<{width}}  {row['source']}  ({issues}{updated})".rstrip()
        )
    return "\n".join(lines)


ACTIONS = ("switch", "create", "rename", "duplicate", "delete")


def workspace_action(
    data_root: Path, action: str | None, which: str | None, name: str | None = None
) -> dict[str, Any]:
    """Apply one switcher action and return `{"workspaces": rows, "current": slug,
    "message": text, "error": text | None}`; a refused action changes nothing and says why."""
    message, error = "", None
    try:
        if action == "switch" and which:
            message = f"Showing {store.switch_workspace(data_root, which).name}."
        elif action == "create":
            made = store.create_workspace(data_root, name or "")
            store.switch_workspace(data_root, made.slug)
            message = f"Created {made.name}: it shows the sample until JIRA is set in Settings."
        elif action == "rename" and which:
            message = f"Renamed to {store.rename_workspace(data_root, which, name or '').name}."
        elif action == "duplicate" and which:
            made = store.duplicate_workspace(data_root, which, name or "")
            store.switch_workspace(data_root, made.slug)
            message = f"Created {made.name}, a copy with the same data."
        elif action == "delete" and which:
            gone = store.find_workspace(data_root, which).name
            store.delete_workspace(data_root, which)
            message = f"Deleted {gone}."
    except UserError as exc:
        error = str(exc)
    rows = workspace_summaries(data_root)
    current = next(row["slug"] for row in rows if row["current"])
    return {"workspaces": rows, "current": current, "message": message, "error": error}
