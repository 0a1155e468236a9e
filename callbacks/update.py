"""Callbacks of "Update data": start, poll progress, cancel, show fetch statistics.

The fetch runs in a thread of the server process (`data.fetcher`); the page polls
`update_progress(root)` every 500 ms through the `update-poll` interval, which is enabled only
while a fetch runs. When the fetch ends the poll writes a new value into `data-version` (the
dashboard recomputes) and stops. A second click, or a second tab, gets "already running" and
follows the same fetch. Opening the page refreshes a cache older than its time-to-live
(`cache.ttl_hours`), incrementally. A failed or cancelled fetch leaves the previous data in
place (the fetcher guarantees it); the page says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, no_update

from data import fetcher
from data.errors import UserError
from data.performance_utils import timed
from data.persistence import load_settings
from data.workspaces import active_root
from ui.update_bar import FINISHED, RUNNING, progress_bar, statistics_view, status_text

ALREADY_RUNNING = "An update is already running; following it."
STALE_REFRESH = "The data is older than its time-to-live; refreshing it."
ELSEWHERE = "Another update (e.g. python app.py fetch) is running; try again when it ends."

PROGRESS_OUTPUTS = [
    Output("update-progress", "value"),
    Output("update-progress", "label"),
    Output("update-progress", "class_name"),
    Output("update-status", "children"),
    Output("cancel-update", "class_name"),
    Output("update-data", "disabled"),
    Output("update-poll", "disabled"),
]


def _progress_view(progress: dict[str, Any], note: str = "") -> list[Any]:
    """Values of PROGRESS_OUTPUTS for one progress snapshot."""
    running = progress.get("state") == RUNNING
    bar = progress_bar(progress)
    text = status_text(progress)
    return [
        bar["value"],
        bar["label"],
        bar["class_name"],
        f"{note} {text}".strip() if note else text,
        "" if running else "d-none",
        running,
        not running,
    ]


def register(app: dash.Dash, root: Path) -> None:
    """Register the update callbacks on `app`; data and settings live in `root`."""

    @app.callback(
        *PROGRESS_OUTPUTS,
        Output("fetch-statistics", "children"),
        Input("update-controls", "id"),
    )
    def on_load(_id: str) -> list[Any]:
        """On page load: refresh a cache past its time-to-live (incrementally), follow a fetch
        another tab started, show the last statistics."""
        try:
            with timed("refresh_if_stale") as timer:
                timer.fields["started"] = fetcher.refresh_if_stale(
                    active_root(root), load_settings(active_root(root))
                )
        except UserError as exc:
            return [no_update] * 3 + [str(exc)] + [no_update] * 4
        progress = fetcher.update_progress(active_root(root))
        view = _progress_view(progress, STALE_REFRESH if timer.fields["started"] else "")
        if progress.get("state") in FINISHED:
            view[3] = ""  # an old outcome is news only to the tab that watched it
        return [*view, statistics_view(progress.get("summary"))]

    @app.callback(
        *[
            Output(o.component_id, o.component_property, allow_duplicate=True)
            for o in PROGRESS_OUTPUTS
        ],
        Input("update-data", "n_clicks"),
        prevent_initial_call=True,
    )
    def start(_clicks: int | None) -> list[Any]:
        """Start a fetch in the background, or follow the one that runs."""
        try:
            with timed("update_start") as timer:
                started = fetcher.start_update(active_root(root), load_settings(active_root(root)))
                timer.fields["started"] = started
        except UserError as exc:
            return [no_update] * 3 + [str(exc)] + [no_update] * 3
        progress = fetcher.update_progress(active_root(root))
        if not started and progress.get("state") != RUNNING:
            # the running fetch belongs to another process (e.g. `python app.py fetch`)
            return [no_update] * 3 + [ELSEWHERE] + [no_update] * 3
        if progress.get("state") != RUNNING:  # finished already: the poll reports it
            progress = {**progress, "state": RUNNING}
        return _progress_view(progress, "" if started else ALREADY_RUNNING)

    @app.callback(
        *[
            Output(o.component_id, o.component_property, allow_duplicate=True)
            for o in PROGRESS_OUTPUTS
        ],
        Output("fetch-statistics", "children", allow_duplicate=True),
        Output("data-version", "data", allow_duplicate=True),
        Input("update-poll", "n_intervals"),
        prevent_initial_call=True,
    )
    def poll(_n: int | None) -> list[Any]:
        """Show the fetch's progress; when it ends, stop polling and refresh the dashboard."""
        progress = fetcher.update_progress(active_root(root))
        view = _progress_view(progress)
        if progress.get("state") == RUNNING:
            return [*view, no_update, no_update]
        changed = progress.get("state") == "done"
        return [
            *view,
            statistics_view(progress.get("summary")) or no_update,
            f"update-{time.time_ns()}" if changed else no_update,
        ]

    @app.callback(
        Output("update-status", "children", allow_duplicate=True),
        Input("cancel-update", "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel(_clicks: int | None) -> str:
        """Ask the running fetch to stop; the poll reports when it has."""
        with timed("update_cancel"):
            fetcher.cancel_update(active_root(root))
        return "Cancelling…"
