"""Application settings: defaults, the data directory, and where each runtime file lives.

Settings are a plain dict (saved as `settings.json` in the data directory by
`data.persistence`). Every key has a default here; a saved file only overrides what it holds,
so adding a setting never breaks an old file. Environment variables override both.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from configuration.metric_defaults import default_mappings

APP_NAME = "flowdash"
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
    "server": {"host": "127.0.0.1", "port": 8050},
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


def jira_configured(settings: dict[str, Any]) -> bool:
    """True when a JIRA site is set; otherwise the dashboard shows the bundled sample project."""
    return bool(settings.get("jira", {}).get("url", "").strip())


def jira_token(settings: dict[str, Any]) -> str:
    """The JIRA token: typed into the settings, else read from the named environment variable."""
    jira = settings.get("jira", {})
    return jira.get("token") or os.environ.get(jira.get("token_env") or DEFAULT_TOKEN_ENV, "")
