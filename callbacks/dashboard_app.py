"""The Dash application: page layout, local assets, and every page area's callbacks.

`create_app(root)` is what `python app.py` serves; `root` is the data directory, and every
callback works on the workspace the header's switcher shows (`data.workspaces.active_root`).
For tests and demos the clock can be fixed: pass `now=` or set `FLOWDASH_NOW` to an ISO 8601
instant (e.g. `2024-05-31T00:00:00+00:00`);
"Last N days" then ends at that instant, exactly as `python app.py metrics --now ...` does.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import dash

import callbacks.compare
import callbacks.export
import callbacks.forecast
import callbacks.items
import callbacks.metrics
import callbacks.quality
import callbacks.settings
import callbacks.update
import callbacks.workspaces
from data.errors import UserError
from data.workspace_views import workspace_summaries
from ui.layout import page_layout

log = logging.getLogger(__name__)

#: Environment variable fixing the dashboard's "now" (ISO 8601); unset means the clock.
NOW_ENV = "FLOWDASH_NOW"
#: Local CSS (Bootstrap 5.3.6, vendored: the app must work offline, no CDN) and the page style.
ASSETS = Path(__file__).resolve().parent.parent / "ui" / "assets"


def fixed_now(explicit: datetime | None = None) -> datetime | None:
    """The fixed "now": `explicit`, else `$FLOWDASH_NOW`, else None (the clock decides)."""
    if explicit is not None:
        return explicit
    text = os.environ.get(NOW_ENV, "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"{NOW_ENV}={text!r} is not an ISO 8601 instant; use e.g. 2024-05-31T00:00:00+00:00."
        ) from None


def create_app(root: Path, *, now: datetime | None = None) -> dash.Dash:
    """The dashboard for the data directory `root`; `now` fixes the clock (see module doc)."""
    pinned = fixed_now(now)
    app = dash.Dash(
        __name__,
        title="flowdash",
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,
    )

    def layout() -> dash.html.Div:
        today = (pinned or datetime.now(UTC)).astimezone().date()
        return page_layout(today, workspace_summaries(root))

    app.layout = layout
    callbacks.metrics.register(app, root, now=pinned)
    callbacks.export.register(app, root)
    callbacks.forecast.register(app, root, now=pinned)
    callbacks.settings.register(app, root)
    callbacks.update.register(app, root)
    callbacks.items.register(app, root)
    callbacks.quality.register(app, root)
    callbacks.workspaces.register(app, root)
    callbacks.compare.register(app, root)
    log.info(
        "dashboard created",
        extra={"operation": "create_app", "data_dir": str(root), "fixed_now": str(pinned or "")},
    )
    return app
