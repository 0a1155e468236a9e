"""Export a workspace as one JSON file and import it back, here or on another machine.

The file holds the workspace's name, its settings and mappings (never the token: `jira.token`
and `jira.token_for` are left out), and optionally its fetched issues (the cache files, as
written by the fetch, so the import needs no refetch). Importing validates everything before
anything is written: a bad file or a name that exists already is refused with a message and
changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from configuration.settings import cache_dir, default_settings, merge_settings
from configuration.settings_schema import settings_problems
from data.storage import workspaces as store
from data.storage.persistence import atomic_write_bytes, save_settings

#: Marks a flowdash workspace file and its format (bump on an incompatible change).
EXPORT_KIND = "flowdash-workspace"
EXPORT_FORMAT = 1
#: The largest file an import reads (the page sends it whole).
MAX_IMPORT_BYTES = 512 * 1024 * 1024
_CACHE_FILE = re.compile(r"^issues-[0-9a-f]{8,64}\.json$")


def export_workspace(data_root: Path, which: str | None, *, with_data: bool = False) -> bytes:
    """The workspace `which` (None: the current one) as the bytes of one JSON file."""
    from data.storage.persistence import load_settings_for_repair

    space = store.find_workspace(data_root, which)
    settings, _ = load_settings_for_repair(space.root)
    jira = dict(settings["jira"])
    jira.pop("token", None)
    jira.pop("token_for", None)
    document: dict[str, Any] = {
        "kind": EXPORT_KIND,
        "format": EXPORT_FORMAT,
        "name": space.name,
        "exported": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "settings": {**settings, "jira": jira},
    }
    if with_data:
        folder = cache_dir(space.root)
        files = sorted(folder.glob("issues-*.json")) if folder.is_dir() else []
        document["data"] = {
            path.name: base64.b64encode(path.read_bytes()).decode("ascii")
            for path in files
            if _CACHE_FILE.match(path.name)
        }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def export_filename(name: str) -> str:
    """`flowdash-workspace-<slug>.json`."""
    return f"flowdash-workspace-{store.name_slug(name)}.json"


def _checked(payload: bytes, source: str) -> dict[str, Any]:
    """The parsed, validated document; `WorkspaceError` naming what is wrong otherwise."""
    if len(payload) > MAX_IMPORT_BYTES:
        raise store.WorkspaceError(
            f"{source} is larger than {MAX_IMPORT_BYTES // 2**20} MB; export it without data."
        )
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise store.WorkspaceError(f"{source} is not a JSON file.") from None
    if not isinstance(document, dict) or document.get("kind") != EXPORT_KIND:
        raise store.WorkspaceError(
            f'{source} is not a flowdash workspace (no "kind": "{EXPORT_KIND}").'
        )
    if document.get("format") != EXPORT_FORMAT:
        raise store.WorkspaceError(
            f"{source} has workspace format {document.get('format')!r}; this flowdash reads "
            f"format {EXPORT_FORMAT}."
        )
    saved = document.get("settings")
    if not isinstance(saved, dict):
        raise store.WorkspaceError(f"{source} holds no settings object.")
    found = saved.get("jira")
    jira = found if isinstance(found, dict) else {}
    saved = {**saved, "jira": {k: v for k, v in jira.items() if k not in ("token", "token_for")}}
    settings = merge_settings(default_settings(), saved)
    problems = settings_problems(settings)
    if problems:
        raise store.WorkspaceError(f"{source} has invalid settings: {'; '.join(problems[:3])}.")
    data = document.get("data") or {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and _CACHE_FILE.match(k) and isinstance(v, str) for k, v in data.items()
    ):
        raise store.WorkspaceError(f'{source} has a "data" section this flowdash cannot read.')
    try:
        files = {name: base64.b64decode(text, validate=True) for name, text in data.items()}
    except (binascii.Error, ValueError):
        raise store.WorkspaceError(f"{source} has damaged data (not base64).") from None
    return {"name": document.get("name"), "settings": settings, "files": files}


def import_workspace(
    data_root: Path, payload: bytes, *, name: str | None = None, source: str = "The file"
) -> store.Workspace:
    """A new workspace from an exported file, under `name` or the file's own name. The token is
    never read from the file: a workspace on a site another workspace has a token for shares
    it, otherwise Settings asks for one."""
    checked = _checked(payload, source)
    wanted = name or checked["name"]
    if not isinstance(wanted, str) or not wanted.strip():
        raise store.WorkspaceError(f"{source} names no workspace; give it a name.")
    try:
        space = store.create_workspace(data_root, wanted)
    except store.WorkspaceError as exc:
        if "exists already" in str(exc):
            raise store.WorkspaceError(f"{exc} Import it under another name.") from None
        raise
    try:
        save_settings(space.root, checked["settings"])
        for file_name, content in checked["files"].items():
            atomic_write_bytes(cache_dir(space.root) / file_name, content, mode=0o600)
    except OSError as exc:
        store.delete_workspace(data_root, space.slug)
        raise store.WorkspaceError(
            f"{source} could not be imported ({exc.strerror or exc}); nothing was kept."
        ) from None
    return space


def import_upload(data_root: Path, contents: str | None, filename: str | None) -> store.Workspace:
    """An import from the page's upload (`data:...;base64,<payload>`)."""
    source = f"{filename or 'The file'}"
    if not contents or "," not in contents:
        raise store.WorkspaceError("Choose a workspace file (.json) to import.")
    try:
        payload = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise store.WorkspaceError(f"{source} could not be read from the page.") from None
    return import_workspace(data_root, payload, source=source)
