"""The Dash application: page layout, local assets, and every page area's callbacks.

`create_app(root)` is what `python app.py` serves; `root` is the data directory, and every
callback works on the workspace the header's switcher shows (`data.storage.workspaces.active_root`).
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
import flask

import callbacks.compare
import callbacks.export
import callbacks.flow_analytics
import callbacks.forecast
import callbacks.items
import callbacks.metrics
import callbacks.quality
import callbacks.settings
import callbacks.update
import callbacks.workspaces
from callbacks.http_delivery import enable_fast_delivery
from data.errors import UserError
from data.services.workspace_views import workspace_summaries
from data.storage.workspaces import active_root
from ui.layout import page_layout
from ui.period_url import period_from_search, search_from_url

log = logging.getLogger(__name__)

#: Environment variable fixing the dashboard's "now" (ISO 8601); unset means the clock.
NOW_ENV = "FLOWDASH_NOW"
#: Local CSS (Bootstrap 5.3.6, vendored: the app must work offline, no CDN) and the page style.
ASSETS = Path(__file__).resolve().parent.parent / "ui" / "assets"
#: Plotly's basic bundle in ASSETS: loaded on demand by the charts (see plotly-basic-loader.js),
#: not as a blocking script of the page.
PLOTLY_BUNDLE = r"plotly-basic-[0-9.]+\.min\.js"


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


def page_search() -> str:
    """The query of the page being built (`?period=...`). Dash asks for the layout with a
    request of its own, so the page's URL is that request's Referer; none (or no request,
    e.g. a layout check at start) means the default period."""
    if not flask.has_request_context():
        return ""
    return search_from_url(flask.request.referrer)


def create_app(root: Path, *, now: datetime | None = None) -> dash.Dash:
    """The dashboard for the data directory `root`; `now` fixes the clock (see module doc)."""
    pinned = fixed_now(now)
    app = dash.Dash(
        __name__,
        title="flowdash",
        assets_folder=str(ASSETS),
        assets_ignore=PLOTLY_BUNDLE,
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,
    )

    def layout() -> dash.html.Div:
        today = (pinned or datetime.now(UTC)).astimezone().date()
        search = page_search()
        view = callbacks.metrics.initial_view(active_root(root), search, pinned)
        return page_layout(
            today, period_from_search(search), search, view, workspace_summaries(root)
        )

    app.layout = layout
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    enable_fast_delivery(app.server)
    callbacks.metrics.register(app, root, now=pinned)
    callbacks.export.register(app, root)
    callbacks.forecast.register(app, root, now=pinned)
    callbacks.settings.register(app, root)
    callbacks.update.register(app, root)
    callbacks.flow_analytics.register(app, root)
    callbacks.items.register(app, root)
    callbacks.quality.register(app, root)
    callbacks.workspaces.register(app, root)
    callbacks.compare.register(app, root)
    log.info(
        "dashboard created",
        extra={"operation": "create_app", "data_dir": str(root), "fixed_now": str(pinned or "")},
    )
    return app
