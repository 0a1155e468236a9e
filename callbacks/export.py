"""Callbacks of the export buttons: the report on screen, as CSV, JSON or the offline HTML
report, to a download.

The export computes the report again from the inputs of the one on screen (the period and the
exact "now" kept in the `shown-inputs` store): the metric cache returns the very report the
cards were built from, so the file always equals what is shown.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, ctx

from data.errors import UserError
from data.performance_utils import timed
from data.services.export import export_filename, report_to_csv, report_to_json
from data.services.metrics_service import report_for_shown
from data.services.shared_report import shared_report_for_view
from data.storage.workspaces import active_root
from ui.html_report import report_filename, report_html

log = logging.getLogger(__name__)

MEDIA_TYPES = {"csv": "text/csv", "json": "application/json"}


def register(app: dash.Dash, root: Path) -> None:
    """Register the export callback; `root` is the data directory the page shows."""

    @app.callback(
        Output("download-export", "data"),
        Input("export-csv", "n_clicks"),
        Input("export-json", "n_clicks"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def export_report(_csv: int | None, _json: int | None, shown: dict[str, str] | None) -> Any:
        if not shown:
            raise dash.exceptions.PreventUpdate
        fmt = "csv" if ctx.triggered_id == "export-csv" else "json"
        try:
            with timed("export", format=fmt) as timer:
                report = report_for_shown(active_root(root), shown)
                content = report_to_csv(report) if fmt == "csv" else report_to_json(report)
                timer.fields["bytes"] = len(content)
        except UserError as exc:  # the cards callback shows the reason
            log.warning("export refused", extra={"operation": "export", "error": str(exc)})
            raise dash.exceptions.PreventUpdate from None
        return {
            "content": content,
            "filename": export_filename(report, fmt),
            "type": MEDIA_TYPES[fmt],
        }

    @app.callback(
        Output("download-report-file", "data"),
        Input("download-report", "n_clicks"),
        State("shown-inputs", "data"),
        prevent_initial_call=True,
    )
    def download_report(_clicks: int | None, shown: dict[str, str] | None) -> Any:
        if not shown:
            raise dash.exceptions.PreventUpdate
        try:
            with timed("html_report") as timer:
                shared = shared_report_for_view(root, shown)  # the workspace shown, named
                content = report_html(shared)
                timer.fields["bytes"] = len(content)
        except UserError as exc:  # the cards callback shows the reason
            log.warning("report refused", extra={"operation": "html_report", "error": str(exc)})
            raise dash.exceptions.PreventUpdate from None
        return {
            "content": content,
            "filename": report_filename(shared["report"]),
            "type": "text/html",
        }
