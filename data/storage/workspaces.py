"""Workspaces: several teams' JIRA queries, each with its own settings, caches and tables.

The data directory itself is the workspace "default" (so a data directory written before
workspaces existed is read as it is: nothing moves, nothing is refetched). Every other
workspace is a folder `<data dir>/workspaces/<slug>/` laid out exactly like the data directory
(`settings.json`, `cache/`), so every function that takes `root` works on any workspace.

`<data dir>/workspaces.json` holds the names and which workspace the dashboard shows; it is
written atomically under a file lock (several processes may change it at once). Without that
file there is exactly one workspace, "default", and it is the current one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import portalocker

from configuration.settings import make_private_dir, settings_path
from data.errors import UserError
from data.storage.persistence import (
    atomic_write_bytes,
    load_settings_for_repair,
    save_settings,
    write_json,
)

log = logging.getLogger(__name__)

#: The workspace that is the data directory itself.
DEFAULT_SLUG = "default"
DEFAULT_NAME = "Default"
REGISTRY_FILE = "workspaces.json"
WORKSPACES_DIR = "workspaces"
REGISTRY_FORMAT = 1
MAX_NAME_LENGTH = 60
#: How long deleting a workspace waits for its running update to stop after cancelling it.
DELETE_WAIT_SECONDS = 30.0


class WorkspaceError(UserError):
    """A workspace operation that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Workspace:
    """One workspace: `slug` names its folder (fixed at creation), `name` is what users see."""

    slug: str
    name: str
    root: Path
    current: bool = False


def registry_path(data_root: Path) -> Path:
    """`<data dir>/workspaces.json`."""
    return Path(data_root) / REGISTRY_FILE


def _folder(data_root: Path, slug: str) -> Path:
    return Path(data_root) if slug == DEFAULT_SLUG else Path(data_root) / WORKSPACES_DIR / slug


def _empty_registry() -> dict[str, Any]:
    return {
        "format": REGISTRY_FORMAT,
        "current": DEFAULT_SLUG,
        "workspaces": {DEFAULT_SLUG: {"name": DEFAULT_NAME}},
    }


def _read_registry(data_root: Path) -> dict[str, Any]:
    """The registry, or the one-workspace registry of a data directory without one."""
    path = registry_path(data_root)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _empty_registry()
    except OSError as exc:
        raise WorkspaceError(f"{path} cannot be read ({exc.__class__.__name__}).") from None
    try:
        registry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise WorkspaceError(f"{path} is not valid JSON; fix it or delete it.") from None
    if not isinstance(registry, dict):
        raise WorkspaceError(f"{path} does not list workspaces by name; fix it or delete it.")
    spaces = registry.get("workspaces")
    if not isinstance(spaces, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("name"), str) for v in spaces.values()
    ):
        raise WorkspaceError(f"{path} does not list workspaces by name; fix it or delete it.")
    spaces.setdefault(DEFAULT_SLUG, {"name": DEFAULT_NAME})
    if registry.get("current") not in spaces:
        registry["current"] = DEFAULT_SLUG
    return registry


@contextlib.contextmanager
def _registry_locked(data_root: Path) -> Iterator[dict[str, Any]]:
    """Read-modify-write of the registry under a file lock; written back atomically."""
    make_private_dir(Path(data_root))
    lock_path = Path(data_root) / ".workspaces.lock"
    with portalocker.Lock(str(lock_path), mode="a+b", timeout=10):
        registry = _read_registry(data_root)
        yield registry
        atomic_write_bytes(
            registry_path(data_root),
            orjson.dumps(registry, option=orjson.OPT_INDENT_2),
            mode=0o600,
        )


def list_workspaces(data_root: Path) -> list[Workspace]:
    """Every workspace, "default" first, then by name."""
    registry = _read_registry(data_root)
    current = registry["current"]
    spaces = [
        Workspace(slug, entry["name"], _folder(data_root, slug), slug == current)
        for slug, entry in registry["workspaces"].items()
    ]
    return sorted(spaces, key=lambda w: (w.slug != DEFAULT_SLUG, w.name.casefold()))


def find_workspace(data_root: Path, name: str | None = None) -> Workspace:
    """The workspace called `name` (its name or its slug, any case); None: the current one."""
    spaces = list_workspaces(data_root)
    if name is None:
        return next(w for w in spaces if w.current)
    wanted = name.strip().casefold()
    for space in spaces:
        if wanted in (space.name.casefold(), space.slug):
            return space
    known = ", ".join(w.name for w in spaces)
    raise WorkspaceError(f"No workspace called {name!r}; the workspaces are: {known}.")


def active_root(data_root: Path) -> Path:
    """The folder of the workspace the dashboard shows now (the data directory for "default")."""
    return find_workspace(data_root).root


def _clean_name(name: Any, registry: dict[str, Any], *, keep: str | None = None) -> str:
    """A usable new name, or `WorkspaceError` saying what is wrong with it."""
    text = " ".join(str(name or "").split())
    if not text:
        raise WorkspaceError("Give the workspace a name.")
    if len(text) > MAX_NAME_LENGTH:
        raise WorkspaceError(f"A workspace name has at most {MAX_NAME_LENGTH} characters.")
    for slug, entry in registry["workspaces"].items():
        if slug != keep and entry["name"].casefold() == text.casefold():
            raise WorkspaceError(f"A workspace called {entry['name']!r} exists already.")
    return text


def name_slug(name: str) -> str:
    """`name` in lower-case ASCII letters, digits and dashes ("Team Ähre" -> "team-ahre")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40] or "workspace"


def slugify(name: str, taken: set[str]) -> str:
    """A folder name for `name` (`name_slug`) that is not yet taken and is not "default"."""
    base = name_slug(name)
    slug, number = base, 2
    while slug in taken or slug == DEFAULT_SLUG or slug.startswith("."):
        slug, number = f"{base}-{number}", number + 1
    return slug


def _new_folder(data_root: Path, registry: dict[str, Any], name: str) -> tuple[str, Path]:
    taken = set(registry["workspaces"])
    parent = make_private_dir(Path(data_root) / WORKSPACES_DIR)
    taken |= {p.name for p in parent.iterdir()}
    slug = slugify(name, taken)
    folder = parent / slug
    make_private_dir(folder)
    return slug, folder


def create_workspace(data_root: Path, name: str) -> Workspace:
    """A new workspace with the default settings (it shows the sample until JIRA is set)."""
    with _registry_locked(data_root) as registry:
        clean = _clean_name(name, registry)
        slug, folder = _new_folder(data_root, registry, clean)
        registry["workspaces"][slug] = {"name": clean, "created": _now_text()}
    log.info("workspace created", extra={"operation": "workspace_create", "workspace": slug})
    return Workspace(slug, clean, folder)


def duplicate_workspace(data_root: Path, source: str, name: str) -> Workspace:
    """A copy of `source`'s settings, mappings and caches (issues and tables): the copy shows
    the same data at once, so other mappings can be tried without fetching anything."""
    original = find_workspace(data_root, source)
    with _registry_locked(data_root) as registry:
        clean = _clean_name(name, registry)
        slug, folder = _new_folder(data_root, registry, clean)
        try:
            if settings_path(original.root).exists():  # its token stays with the original
                save_settings(folder, load_settings_for_repair(original.root)[0])
            cache = original.root / "cache"
            if cache.is_dir():
                shutil.copytree(cache, folder / "cache", ignore=_not_copied)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise WorkspaceError(
                f"Workspace {original.name!r} could not be copied ({exc.__class__.__name__}: "
                f"{exc.strerror or exc}); nothing was changed."
            ) from None
        registry["workspaces"][slug] = {"name": clean, "created": _now_text()}
    log.info(
        "workspace duplicated",
        extra={"operation": "workspace_duplicate", "workspace": slug, "source": original.slug},
    )
    return Workspace(slug, clean, folder)


def _not_copied(_folder: str, names: list[str]) -> list[str]:
    """Lock files and temporary files stay behind when a cache is copied."""
    return [n for n in names if n.endswith((".lock", ".tmp", ".jsonl")) or n.startswith(".")]


def rename_workspace(data_root: Path, which: str, name: str) -> Workspace:
    """Give a workspace another name; its folder (slug) stays, so nothing moves on disk."""
    space = find_workspace(data_root, which)
    with _registry_locked(data_root) as registry:
        clean = _clean_name(name, registry, keep=space.slug)
        registry["workspaces"][space.slug]["name"] = clean
    return Workspace(space.slug, clean, space.root, space.current)


def switch_workspace(data_root: Path, which: str) -> Workspace:
    """Make `which` the workspace the dashboard shows."""
    space = find_workspace(data_root, which)
    with _registry_locked(data_root) as registry:
        registry["current"] = space.slug
    return Workspace(space.slug, space.name, space.root, True)


def delete_workspace(data_root: Path, which: str) -> None:
    """Delete a workspace and its caches. A running update of it is cancelled first (its
    writes then go nowhere: the folder is gone, not recreated). "default" cannot be deleted:
    it is the data directory itself."""
    from data.jira.fetcher import cancel_update
    from data.storage.locks import fetch_lock

    space = find_workspace(data_root, which)
    if space.slug == DEFAULT_SLUG:
        raise WorkspaceError(
            "The default workspace is the data directory itself and cannot be deleted."
        )
    cancel_update(space.root)
    lock = fetch_lock(space.root)
    if not lock.acquire(DELETE_WAIT_SECONDS):
        raise WorkspaceError(
            f"An update of {space.name!r} is still running (another process?); "
            "wait for it to finish, then delete the workspace."
        )
    try:
        _hand_over_token(space.root)
        with _registry_locked(data_root) as registry:
            registry["workspaces"].pop(space.slug, None)
            if registry["current"] == space.slug:
                registry["current"] = DEFAULT_SLUG
            trash = space.root.with_name(f".deleted-{space.slug}-{os.getpid()}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(space.root, trash)  # one step: no half-deleted workspace is seen
    finally:
        lock.release()
    shutil.rmtree(trash, ignore_errors=True)
    log.info("workspace deleted", extra={"operation": "workspace_delete", "workspace": space.slug})


def _hand_over_token(root: Path) -> None:
    """Before `root` is deleted: the token it holds moves to the first other workspace on the
    same site and authentication that uses it, so that the others keep it."""
    from configuration.settings import token_scope
    from data.storage.persistence import SettingsError, _read_saved, _sibling_workspaces

    try:
        jira = _read_saved(root)["jira"]
    except SettingsError:
        return
    if not jira.get("token"):
        return
    scope = token_scope(jira)
    for folder in _sibling_workspaces(root):
        try:
            other = _read_saved(folder)
        except SettingsError:
            continue
        mine = other["jira"]
        if (
            not mine.get("token")
            and token_scope({"url": mine["url"], "auth": mine["auth"]}) == scope
        ):
            mine["token"], mine["token_for"] = jira["token"], scope
            write_json(settings_path(folder), other, mode=0o600)
            return


def _now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
