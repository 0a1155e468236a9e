"""Callbacks of the export buttons: the report on screen, as CSV or JSON, to a download.

The exported report is the one the cards were built from (kept in the `last-report` store),
so the file always equals what is shown.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, ctx

from data.export import export_filename, report_to_csv, report_to_json
from data.performance_utils import timed

log = logging.getLogger(__name__)

MEDIA_TYPES = {"csv": "text/csv", "json": "application/json"}


def register(app: dash.Dash, root: Path) -> None:
    """Register the export callback (`root` unused: the report comes from the page's store)."""
    del root

    @app.callback(
        Output("download-export", "data"),
        Input("export-csv", "n_clicks"),
        Input("export-json", "n_clicks"),
        State("last-report", "data"),
        prevent_initial_call=True,
    )
    def export_report(_csv: int | None, _json: int | None, report: dict[str, Any] | None) -> Any:
        if not report:
            raise dash.exceptions.PreventUpdate
        fmt = "csv" if ctx.triggered_id == "export-csv" else "json"
        with timed("export", format=fmt) as timer:
            content = report_to_csv(report) if fmt == "csv" else report_to_json(report)
            timer.fields["bytes"] = len(content)
        return {
            "content": content,
            "filename": export_filename(report, fmt),
            "type": MEDIA_TYPES[fmt],
        }
