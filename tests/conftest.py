"""Shared fixtures: every test gets its own data directory; browsers run Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from configuration.sensitive_data_filter import forget_secrets

CHROMIUM = "/usr/lib/chromium/chromium"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
JIRA_SAMPLES = SHARED / "jira-samples"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory for settings, caches and logs, never the project's own."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("FLOWDASH_DATA_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_secret_from_another_test() -> Iterator[None]:
    """Each test starts with no registered secret: a token one test saved (say "wrong") must
    not be redacted from another test's messages (paths included)."""
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium headless with the flags this machine needs."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
