"""Callbacks of "Update data": start, poll progress, cancel, show fetch statistics."""

from __future__ import annotations

from pathlib import Path

import dash


def register(app: dash.Dash, root: Path) -> None:
    """Register the update callbacks on `app` (stub: wired in the next commit)."""
    del app, root
