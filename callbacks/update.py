"""Callbacks of "Update data": start, poll progress, cancel, show fetch statistics.

The fetch runs in a thread of the server process (`data.jira.fetcher`); the page polls
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

from data.errors import UserError
from data.jira import fetcher
from data.performance_utils import timed
from data.storage.persistence import load_settings
from data.storage.workspaces import active_root
from ui.update_bar import (
    FINISHED,
    RUNNING,
    progress_bar,
    statistics_view,
    status_text,
    update_alert,
)

ALREADY_RUNNING = "An update is already running; following it."
STALE_REFRESH = "The data is older than its time-to-live; refreshing it."
ELSEWHERE = "Another update (e.g. python app.py fetch) is running; try again when it ends."


def progress_outputs(*, duplicate: bool = False) -> dict[str, Output]:
    """The outputs a progress snapshot fills, by name (Dash dict outputs); `duplicate` for the
    callbacks that share them with `on_load`."""
    targets = {
        "value": ("update-progress", "value"),
        "label": ("update-progress", "label"),
        "bar_class": ("update-progress", "class_name"),
        "status": ("update-status", "children"),
        "cancel_class": ("cancel-update", "class_name"),
        "update_disabled": ("update-data", "disabled"),
        "poll_disabled": ("update-poll", "disabled"),
    }
    return {
        name: Output(component, prop, allow_duplicate=duplicate)
        for name, (component, prop) in targets.items()
    }


ALERT_KEYS = ("alert_text", "alert_color", "alert_open")


def alert_outputs() -> dict[str, Output]:
    """The update alert's outputs, by name (shared with other callbacks: duplicates)."""
    props = ("children", "color", "is_open")
    return {
        name: Output("update-alert", prop, allow_duplicate=True)
        for name, prop in zip(ALERT_KEYS, props, strict=True)
    }


PROGRESS_KEYS = tuple(progress_outputs())


def _progress_view(progress: dict[str, Any], note: str = "") -> dict[str, Any]:
    """Values of `progress_outputs()` for one progress snapshot."""
    running = progress.get("state") == RUNNING
    bar = progress_bar(progress)
    text = status_text(progress)
    return {
        "value": bar["value"],
        "label": bar["label"],
        "bar_class": bar["class_name"],
        "status": f"{note} {text}".strip() if note else text,
        "cancel_class": "" if running else "d-none",
        "update_disabled": running,
        "poll_disabled": not running,
    }


def _status_only(text: str) -> dict[str, Any]:
    """Values of `progress_outputs()` that change only the status line."""
    return {**dict.fromkeys(PROGRESS_KEYS, no_update), "status": text}


def _settings_or_none(root: Path) -> dict[str, Any] | None:
    """The saved settings, or None when they cannot be read (the page reports that elsewhere)."""
    try:
        return load_settings(root)
    except UserError:
        return None


def register(app: dash.Dash, root: Path) -> None:
    """Register the update callbacks on `app`; data and settings live in `root`."""

    @app.callback(
        output={**progress_outputs(), "statistics": Output("fetch-statistics", "children")},
        inputs=Input("update-controls", "id"),
    )
    def on_load(_id: str) -> dict[str, Any]:
        """On page load: refresh a cache past its time-to-live (incrementally), follow a fetch
        another tab started, show the last statistics."""
        try:
            with timed("refresh_if_stale") as timer:
                settings = load_settings(active_root(root))
                timer.fields["started"] = fetcher.refresh_if_stale(active_root(root), settings)
        except UserError as exc:
            return {**_status_only(str(exc)), "statistics": no_update}
        progress = fetcher.update_progress(active_root(root), settings)
        view = _progress_view(progress, STALE_REFRESH if timer.fields["started"] else "")
        if progress.get("state") in FINISHED:
            view["status"] = ""  # an old outcome is news only to the tab that watched it
        return {**view, "statistics": statistics_view(progress.get("summary"))}

    @app.callback(
        output={**progress_outputs(duplicate=True), **alert_outputs()},
        inputs=Input("update-data", "n_clicks"),
        prevent_initial_call=True,
    )
    def start(_clicks: int | None) -> dict[str, Any]:
        """Start a fetch in the background, or follow the one that runs."""
        try:
            with timed("update_start") as timer:
                started = fetcher.start_update(active_root(root), load_settings(active_root(root)))
                timer.fields["started"] = started
        except UserError as exc:
            return {
                **_status_only(str(exc)),
                **dict(zip(ALERT_KEYS, [str(exc), "danger", True], strict=True)),
            }
        progress = fetcher.update_progress(active_root(root))
        if not started and progress.get("state") != RUNNING:
            # the running fetch belongs to another process (e.g. `python app.py fetch`)
            return {**_status_only(ELSEWHERE), **dict.fromkeys(ALERT_KEYS, no_update)}
        if progress.get("state") != RUNNING:  # finished already: the poll reports it
            progress = {**progress, "state": RUNNING}
        closed = dict(zip(ALERT_KEYS, [None, "danger", False], strict=True))
        return {**_progress_view(progress, "" if started else ALREADY_RUNNING), **closed}

    @app.callback(
        output={
            **progress_outputs(duplicate=True),
            "statistics": Output("fetch-statistics", "children", allow_duplicate=True),
            "data_version": Output("data-version", "data", allow_duplicate=True),
            **alert_outputs(),
        },
        inputs=Input("update-poll", "n_intervals"),
        prevent_initial_call=True,
    )
    def poll(_n: int | None) -> dict[str, Any]:
        """Show the fetch's progress; when it ends, stop polling and refresh the dashboard
        (or, failed or cancelled, say in an alert that the numbers are the previous data)."""
        progress = fetcher.update_progress(active_root(root), _settings_or_none(active_root(root)))
        view = _progress_view(progress)
        if progress.get("state") == RUNNING:
            return {
                **view,
                "statistics": no_update,
                "data_version": no_update,
                **dict.fromkeys(ALERT_KEYS, no_update),
            }
        changed = progress.get("state") == "done"
        return {
            **view,
            "statistics": statistics_view(progress.get("summary")),
            "data_version": f"update-{time.time_ns()}" if changed else no_update,
            **dict(zip(ALERT_KEYS, update_alert(progress), strict=True)),
        }

    @app.callback(
        Output("fetch-statistics", "children", allow_duplicate=True),
        Input("data-version", "data"),
        prevent_initial_call=True,
    )
    def statistics_of_query(_version: Any) -> str:
        """After settings or data changed: the statistics of the current query's last fetch
        only (a new site or JQL has none yet; never another query's)."""
        return statistics_view(
            fetcher.update_progress(active_root(root), _settings_or_none(active_root(root))).get(
                "summary"
            )
        )

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
