"""What is shown about the workspaces: the header switcher's list and `python app.py workspaces`.

Also the one call the switcher's callback makes, `workspace_action`, which applies create /
rename / duplicate / delete / switch and returns the new list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from data.errors import UserError
from data.storage import workspaces as store


def workspace_summaries(data_root: Path) -> list[dict[str, Any]]:
    """Each workspace as the switcher and `python app.py workspaces` show it: name, slug,
    whether current, its source (JIRA site and JQL, or the sample), issues cached and when
    its data was last updated (None: never)."""
    from configuration.settings import jira_configured
    from data.storage.cache_manager import cache_status
    from data.storage.persistence import SettingsError, load_settings_for_repair

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


def workspace_transfer_for_cli(
    data_root: Path,
    *,
    export: str | None = None,
    out: str | None = None,
    with_data: bool = False,
    import_file: str | None = None,
    name: str | None = None,
) -> str:
    """`workspaces --export NAME --out FILE [--with-data]` or `workspaces --import FILE
    [--name NAME]`."""
    from data.storage.persistence import atomic_write_bytes
    from data.storage.workspace_transfer import import_workspace

    if export:
        if not out:
            raise UserError("--export needs --out FILE.")
        from data.storage.workspace_transfer import export_workspace

        payload = export_workspace(data_root, export, with_data=with_data)
        atomic_write_bytes(Path(out), payload, mode=0o600)
        return f"wrote workspace {export} to {out}"
    if not import_file:
        raise UserError("Name a workspace to --export or a file to --import.")
    path = Path(import_file)
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    made = import_workspace(data_root, payload, name=name, source=str(path))
    return f"imported {made.name} into {made.root}"


ACTIONS = ("switch", "create", "rename", "duplicate", "delete")


def workspace_action(
    data_root: Path, action: str | None, which: str | None, name: str | None = None
) -> dict[str, Any]:
    """Apply one switcher action and return `{"workspaces": rows, "current": slug,
    "message": text | None, "error": text | None}`; a refused action changes nothing and says
    why. Choosing the workspace already shown (the switcher following an import, a create or
    a duplicate) changes nothing: its message is None, so the page keeps the one it has."""
    message: str | None = ""
    error = None
    try:
        if action == "switch" and which and store.find_workspace(data_root, which).current:
            message = None
        elif action == "switch" and which:
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


def import_action(data_root: Path, contents: str | None, filename: str | None) -> dict[str, Any]:
    """The page's import: the same result as `workspace_action`, `current` being the imported
    workspace (the switcher then shows it); a refused file changes nothing and says why."""
    from data.storage.workspace_transfer import import_upload

    try:
        made = store.switch_workspace(data_root, import_upload(data_root, contents, filename).slug)
    except UserError as exc:
        result = workspace_action(data_root, None, None)
        return {**result, "error": str(exc)}
    rows = workspace_summaries(data_root)
    return {"workspaces": rows, "current": made.slug, "message": f"Imported {made.name}.",
            "error": None}  # fmt: skip


def export_action(data_root: Path, which: str | None, with_data: bool) -> dict[str, Any]:
    """The page's export: `{"download": dcc.Download dict or None, "error": text or None}`."""
    from data.storage.workspace_transfer import export_filename, export_workspace

    try:
        space = store.find_workspace(data_root, which)
        payload = export_workspace(data_root, space.slug, with_data=with_data)
    except UserError as exc:
        return {"download": None, "error": str(exc)}
    return {
        "download": {"content": payload.decode(), "filename": export_filename(space.name)},
        "error": None,
    }
