"""Settings and project files on disk: atomic writes and tolerant reads.

Every file the app writes goes through `atomic_write_bytes`: a temporary file in the same
folder, flushed and fsynced, then `os.replace`d over the target. A crash at any moment leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

from configuration.settings import (
    default_settings,
    make_private_dir,
    merge_settings,
    settings_path,
    token_scope,
)
from configuration.settings_schema import repaired, settings_problems
from data.errors import UserError

log = logging.getLogger(__name__)


class SettingsError(UserError):
    """The settings file exists but cannot be used; the message says what to do."""


def atomic_write_bytes(
    path: Path, payload: bytes | memoryview, *, mode: int | None = None, durable: bool = True
) -> None:
    """Write `payload` to `path` atomically; `mode` (e.g. 0o600) is set before the data lands.

    `durable=False` skips the fsyncs, for files that can be rebuilt: a crash may then lose the
    new file, never leave half of it under its name."""
    make_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent
    )
    try:
        if mode is not None:
            _set_mode(fd, tmp_name, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if not durable:
        return
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _set_mode(fd: int, name: str, mode: int) -> None:
    """Set the temporary file's permission bits before any data is written to it.

    `os.fchmod` is missing on Windows before Python 3.13; `os.chmod` by name does the same
    there (Windows keeps only the read-only bit, and the file is private to the user's
    profile folder anyway)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(name, mode)


#: Leftovers of a writer that was killed: `.<name>.<pid>-<random>.tmp` (atomic writes) and
#: `.<name>.staging-<pid>-<random>.jsonl` (a sync's pages).
_LEFTOVER = re.compile(r"^\..+?\.(?:staging-)?(?P<pid>\d+)-[^.]+\.(?:tmp|jsonl)$")
_OLD_STYLE_TMP = re.compile(r"^\..+\.tmp$")
#: A temporary file without a pid (an older version wrote it) is a leftover after this long.
STALE_TEMP_SECONDS = 15 * 60


def sweep_leftovers(root: Path) -> int:
    """Delete the temporary files that writers killed (kill -9, power loss) left in the data
    directory and its cache; a file whose writer still runs is kept. Returns how many."""
    from configuration.settings import cache_dir

    folders = [root]
    cache = cache_dir(root)
    if cache.is_dir():
        folders += [cache, *(p for p in cache.rglob("*") if p.is_dir())]
    now, removed = time.time(), 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _LEFTOVER.match(entry.name)
            with contextlib.suppress(OSError):
                if match:
                    stale = not psutil.pid_exists(int(match.group("pid")))
                else:
                    stale = bool(_OLD_STYLE_TMP.match(entry.name)) and (
                        now - entry.stat().st_mtime > STALE_TEMP_SECONDS
                    )
                if stale and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed += 1
    if removed:
        log.info(
            "leftover temporary files removed", extra={"operation": "start_up", "files": removed}
        )
    return removed


def write_json(path: Path, value: Any, *, mode: int | None = None) -> None:
    """Write `value` as indented JSON, atomically."""
    atomic_write_bytes(path, orjson.dumps(value, option=orjson.OPT_INDENT_2), mode=mode)


def _read_saved(root: Path) -> dict[str, Any]:
    """The saved settings merged over the defaults, not yet validated."""
    path = settings_path(root)
    if not path.exists():
        return default_settings()
    try:
        saved = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SettingsError(
            f"Settings file {path} cannot be read ({exc.__class__.__name__}); "
            "fix it or delete it to start from the defaults."
        ) from None
    if not isinstance(saved, dict):
        raise SettingsError(f"Settings file {path} does not hold a JSON object; delete it.")
    return merge_settings(default_settings(), saved)


def _bind_old_token(settings: dict[str, Any]) -> dict[str, Any]:
    """A token saved before tokens were bound belongs to the url and auth beside it."""
    jira = settings["jira"]
    if jira.get("token") and jira.get("token_for") is None:
        jira["token_for"] = token_scope(jira)
    return settings


#: The workspace registry and folder names (`data.storage.workspaces` owns them; repeated here
# because
#: that module builds on this one).
_REGISTRY_FILE = "workspaces.json"
_WORKSPACES_DIR = "workspaces"


def _sibling_workspaces(root: Path) -> list[Path]:
    """The other workspaces' folders of the data directory `root` belongs to ([] when the data
    directory has only its one workspace)."""
    root = Path(root)

    def holds_workspaces(folder: Path) -> bool:
        return (folder / _REGISTRY_FILE).exists() or (folder / _WORKSPACES_DIR).is_dir()

    if holds_workspaces(root):
        data_root = root
    elif root.parent.name == _WORKSPACES_DIR and holds_workspaces(root.parent.parent):
        data_root = root.parent.parent
    else:
        return []
    folders = [data_root]
    with contextlib.suppress(OSError):
        folders += sorted(p for p in (data_root / _WORKSPACES_DIR).iterdir() if p.is_dir())
    return [f for f in folders if f != root and not f.name.startswith(".")]


def _token_held_elsewhere(root: Path, scope: dict[str, str]) -> dict[str, Any] | None:
    """The `jira` section of another workspace that saved a token for `scope` (site + auth)."""
    for folder in _sibling_workspaces(root):
        try:
            other = _read_saved(folder)["jira"]
        except (SettingsError, KeyError, TypeError):
            continue
        if isinstance(other, dict) and other.get("token") and token_scope(other) == scope:
            return other
    return None


def _share_token(root: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """A workspace without a token of its own uses the one another workspace saved for the same
    JIRA site and authentication: the token is stored once per site, bound to it."""
    jira = settings["jira"]
    if jira.get("token") or not str(jira.get("url") or "").strip():
        return settings
    holder = _token_held_elsewhere(root, token_scope({"url": jira["url"], "auth": jira["auth"]}))
    if holder is not None:
        jira["token"], jira["token_for"] = holder["token"], token_scope(holder)
    return settings


def problems_text(root: Path, problems: list[str]) -> str:
    """One line naming the settings file and its first problems."""
    shown = "; ".join(problems[:3]) + (
        f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    )
    return f"Settings file {settings_path(root)} has invalid values: {shown}."


def load_settings(root: Path) -> dict[str, Any]:
    """The saved settings merged over the defaults (the defaults when nothing is saved).

    Checked against the schema (`configuration.settings_schema`): a wrong type anywhere raises
    `SettingsError` with one line naming the keys, never a traceback later on."""
    settings = _read_saved(root)
    problems = settings_problems(settings)
    if problems:
        raise SettingsError(
            problems_text(root, problems) + " Fix them in Settings, or in the file."
        )
    return _share_token(root, _bind_old_token(settings))


def load_settings_for_repair(root: Path) -> tuple[dict[str, Any], list[str]]:
    """The settings with every invalid key reset to its default, and what was wrong.

    What the settings panel opens on, so that a broken file can be repaired from the page; an
    unreadable file (not JSON) still raises `SettingsError`."""
    settings, problems = repaired(_read_saved(root))
    return _share_token(root, _bind_old_token(settings)), problems


def keep_invalid_copy(root: Path) -> Path:
    """Copy the settings file aside (`settings.json.invalid`) before a repair overwrites it."""
    path = settings_path(root)
    copy = path.with_name(path.name + ".invalid")
    atomic_write_bytes(copy, path.read_bytes(), mode=0o600)
    return copy


def save_settings(root: Path, settings: dict[str, Any]) -> None:
    """Save settings atomically; mode 0600 because the file may hold a JIRA token. A token that
    another workspace already holds for the same site is not written again (it is shared)."""
    jira = settings.get("jira") or {}
    if jira.get("token"):
        holder = _token_held_elsewhere(root, token_scope(jira))
        if holder is not None and holder["token"] == jira["token"]:
            settings = {**settings, "jira": {**jira, "token": "", "token_for": None}}
    write_json(settings_path(root), settings, mode=0o600)
    log.info("settings saved", extra={"operation": "save_settings", "path": str(root)})
