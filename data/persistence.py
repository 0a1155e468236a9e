"""Settings and project files on disk: atomic writes and tolerant reads.

Every file the app writes goes through `atomic_write_bytes`: a temporary file in the same
folder, flushed and fsynced, then `os.replace`d over the target. A crash at any moment leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from configuration.settings import default_settings, merge_settings, settings_path
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def write_json(path: Path, value: Any, *, mode: int | None = None) -> None:
    """Write `value` as indented JSON, atomically."""
    atomic_write_bytes(path, orjson.dumps(value, option=orjson.OPT_INDENT_2), mode=mode)


def load_settings(root: Path) -> dict[str, Any]:
    """The saved settings merged over the defaults; the defaults when nothing is saved."""
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


def save_settings(root: Path, settings: dict[str, Any]) -> None:
    """Save settings atomically; mode 0600 because the file may hold a JIRA token."""
    write_json(settings_path(root), settings, mode=0o600)
    log.info("settings saved", extra={"operation": "save_settings", "path": str(root)})
