"""Application settings: defaults, the data directory, and where each runtime file lives.

Settings are a plain dict (saved as `settings.json` in the data directory by
`data.storage.persistence`). Every key has a default here; a saved file only overrides what it
holds, so adding a setting never breaks an old file. Environment variables override both.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from configuration.metric_defaults import default_mappings
from configuration.site_url import site_url

VERSION = "0.1.0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable that points the app at another data directory.
DATA_DIR_ENV = "FLOWDASH_DATA_DIR"
#: Environment variable read for the JIRA token unless the settings name another.
DEFAULT_TOKEN_ENV = "FLOWDASH_JIRA_TOKEN"

DEFAULT_SETTINGS: dict[str, Any] = {
    "jira": {
        "url": "",
        # "basic": e-mail + API token (Cloud); "bearer": personal access token (Data Center)
        "auth": "basic",
        "email": "",
        # the token itself is stored only when typed into the settings panel (file mode 0600)
        "token": "",
        # the site and auth type the saved token was typed for ({"url", "auth"}); the token is
        # sent to that site only (None: a file from before, bound to the url and auth beside it)
        "token_for": None,
        "token_env": DEFAULT_TOKEN_ENV,
        "jql": "",
        "verify_tls": True,
        "timeout_seconds": 30,
    },
    "mappings": default_mappings(),
    # IANA zone for weekly buckets and date-only values; None = the machine's local zone
    "time_zone": None,
    # which DORA report's clusters give the tiers: 2023 or 2024 (METRICS.md, DORA 2024 additions)
    "tier_year": 2023,
    "cache": {"ttl_hours": 24},
    # service-level expectation of the cycle-time scatter: sle_percent % within sle_days days
    "analytics": {"sle_days": None, "sle_percent": 85},
    "rate_limit": {
        "requests": 100,
        "per_seconds": 10,
        "burst": 100,
        "max_attempts": 6,
        "max_backoff_seconds": 60,
        "workers": 4,
    },
    "logging": {
        "level": "INFO",
        "max_bytes": 10 * 1024 * 1024,
        "backups": 5,
        "retention_days": 30,
    },
    # allowed_hosts: host names browsers may use besides 127.0.0.1, localhost and [::1]
    "server": {"host": "127.0.0.1", "port": 8050, "allowed_hosts": []},
    # Monte Carlo forecasts (issue 14): see specs/forecast.md
    "forecast": {
        "history_weeks": 12,  # daily throughput of the last N whole weeks before today
        "seed": 1,  # the same data and seed give the same forecast
        "working_days": [],  # e.g. ["Mon", "Tue", "Wed", "Thu", "Fri"]; empty = every day
        "flow_types": [],  # e.g. ["Feature", "Defect"]; empty = every flow type
    },
}


def default_settings() -> dict[str, Any]:
    """A fresh, mutable copy of the default settings."""
    return copy.deepcopy(DEFAULT_SETTINGS)


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`base` updated by `override`, recursively for nested dicts; neither is modified."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_settings(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the `--data-dir` flag, else `$FLOWDASH_DATA_DIR`, else the project root.

    Settings (`settings.json`), caches (`cache/`) and logs (`logs/`) all live below it.
    """
    chosen = explicit or os.environ.get(DATA_DIR_ENV) or PROJECT_ROOT
    return Path(chosen).expanduser().resolve()


def settings_path(root: Path) -> Path:
    """Where the settings file lives inside a data directory."""
    return root / "settings.json"


def cache_dir(root: Path) -> Path:
    """Where caches live inside a data directory."""
    return root / "cache"


def log_dir(root: Path) -> Path:
    """Where log files live inside a data directory."""
    return root / "logs"


#: Folders the app creates hold tokens, issues (names, e-mails) and logs: owner only.
PRIVATE_DIR_MODE = 0o700
#: Log files: owner only, like the settings file.
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create `path` and its missing parents with mode 0700; existing folders keep their mode."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):
            new.mkdir(mode=PRIVATE_DIR_MODE)
        with contextlib.suppress(OSError):
            os.chmod(new, PRIVATE_DIR_MODE)  # mkdir's mode passes through the umask
    return path


def secure_data_dir(root: Path) -> None:
    """Make the data directory and every folder below it 0700 (created when missing).

    The project folder, when it is the data directory (the default), keeps its own mode;
    its `cache/` and `logs/` are made private all the same."""
    make_private_dir(root)
    folders = [cache_dir(root), log_dir(root)]
    for top in folders:
        if top.is_dir():
            folders += [
                Path(dirpath) / name for dirpath, names, _ in os.walk(top) for name in names
            ]
    if root != PROJECT_ROOT:
        folders.append(root)
    for folder in folders:
        with contextlib.suppress(OSError):
            if folder.is_dir() and not folder.is_symlink():
                os.chmod(folder, PRIVATE_DIR_MODE)


def jira_configured(settings: Mapping[str, Any]) -> bool:
    """True when a JIRA site is set; otherwise the dashboard shows the bundled sample project."""
    return bool(settings.get("jira", {}).get("url", "").strip())


def token_scope(jira: Mapping[str, Any]) -> dict[str, str]:
    """The site and auth type the saved token belongs to: `jira.token_for`, else (a file from
    before tokens were bound) the url and auth saved beside it."""
    bound = jira.get("token_for")
    if isinstance(bound, dict):
        return {"url": site_url(bound.get("url", "")), "auth": str(bound.get("auth", ""))}
    return {"url": site_url(jira.get("url", "")), "auth": str(jira.get("auth", "basic"))}


def token_fits(jira: Mapping[str, Any], url: str, auth: str) -> bool:
    """True when the saved token may be sent to `url` with `auth` (the site it was saved for)."""
    return token_scope(jira) == {"url": site_url(url), "auth": auth}


def jira_token(settings: Mapping[str, Any]) -> str:
    """The JIRA token: the saved one when it was saved for this site and auth type, else the
    named environment variable. A saved token is never sent to another site."""
    jira = settings.get("jira", {})
    saved = jira.get("token") or ""
    if saved and token_fits(jira, jira.get("url", ""), jira.get("auth", "basic")):
        return saved
    return os.environ.get(jira.get("token_env") or DEFAULT_TOKEN_ENV, "")
