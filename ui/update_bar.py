"""The "Update data" controls: button, cancel, progress bar, status text and fetch statistics.

Component ids (the contract with `callbacks/update.py` and the browser tests): `update-data`,
`cancel-update`, `update-progress` (a dbc.Progress, hidden when idle), `update-status`
(one line: "412 of 5,000 issues · 5 pages · 3 s", "rate limited, waiting 7 s", the error),
`fetch-statistics` (calls, cache hits and misses, bytes, seconds of the last update),
`update-poll` (the dcc.Interval, enabled only while a fetch runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

POLL_MS = 500

RUNNING = "running"
FINISHED = ("done", "failed", "cancelled")


def update_controls() -> html.Div:
    """Update data button (id "update-data"), cancel button, progress, status and statistics."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button("Update data", id="update-data", color="primary", size="sm"),
                    dbc.Button(
                        "Cancel",
                        id="cancel-update",
                        color="secondary",
                        outline=True,
                        size="sm",
                        class_name="d-none",
                    ),
                    dbc.Progress(
                        id="update-progress",
                        value=0,
                        striped=True,
                        animated=True,
                        class_name="update-progress d-none",
                        style={"width": "12rem", "maxWidth": "100%", "height": "1.1rem"},
                    ),
                ],
                className="d-flex flex-wrap align-items-center gap-2",
            ),
            html.Div(id="update-status", className="small text-muted", role="status"),
            html.Div(id="fetch-statistics", className="small text-muted"),
            dcc.Interval(id="update-poll", interval=POLL_MS, disabled=True),
        ],
        id="update-controls",
        className="d-flex flex-column align-items-end",
    )


def _bytes_text(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def progress_text(progress: Mapping[str, Any]) -> str:
    """One line for a running fetch: issues of total where known, pages, elapsed seconds."""
    issues = int(progress.get("issues") or 0)
    total = progress.get("total")
    parts = [f"{issues:,} of {total:,} issues" if total else f"{issues:,} issues"]
    parts.append(f"{int(progress.get('pages') or 0)} pages")
    parts.append(f"{float(progress.get('elapsed_s') or 0):.0f} s")
    text = " · ".join(parts)
    message = progress.get("message")
    return f"{text} · {message}" if message else text


def progress_bar(progress: Mapping[str, Any]) -> dict[str, Any]:
    """Properties of the progress bar: value (percent), label and class for this progress."""
    running = progress.get("state") == RUNNING
    total = progress.get("total")
    issues = int(progress.get("issues") or 0)
    if total:
        value = min(100.0, 100.0 * issues / total)
        label = f"{value:.0f} %"
    else:  # total unknown: a full striped, animated bar (the status line has the counts)
        value, label = 100.0, ""
    return {
        "value": value if running else 0,
        "label": label if running else "",
        "class_name": "update-progress" if running else "update-progress d-none",
    }


def status_text(progress: Mapping[str, Any]) -> str:
    """The status line for any state of the update."""
    state = progress.get("state")
    if state == RUNNING:
        return progress_text(progress)
    if state == "done":
        return "Updated."
    if state == "cancelled":
        return "Update cancelled; the previous data is kept."
    if state == "failed":
        reason = progress.get("message") or "unknown error"
        return f"Update failed: {reason} The previous data is kept."
    return ""


def statistics_view(summary: Mapping[str, Any] | None) -> str:
    """The fetch statistics of the last update: calls, cache hits and misses, bytes, seconds."""
    if not summary:
        return ""
    parts = [
        f"{int(summary.get('issues') or 0):,} issues ({summary.get('mode', 'fetch')})",
        f"{int(summary.get('api_calls') or 0)} API calls",
        f"cache {int(summary.get('cache_hits') or 0)} hits / "
        f"{int(summary.get('cache_misses') or 0)} misses",
        _bytes_text(float(summary.get("bytes") or 0)),
        f"{float(summary.get('seconds') or 0):.1f} s",
    ]
    return "Last update: " + ", ".join(parts)


def update_alert(progress: Mapping[str, Any]) -> tuple[str | None, str, bool]:
    """The page alert after an update that did not finish: (text, colour, open).

    A failed or cancelled update kept the previous data: the alert says so, and what to do;
    any other state closes the alert."""
    state = progress.get("state")
    if state == "failed":
        reason = progress.get("message") or "unknown error"
        return (
            f"Update failed: {reason} The numbers on screen are from the previous data.",
            "danger",
            True,
        )
    if state == "cancelled":
        return (
            "Update cancelled: the numbers on screen are from the previous data. "
            "Click Update data to try again.",
            "warning",
            True,
        )
    return None, "danger", False
