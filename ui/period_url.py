"""The chosen period in the page's URL: `?period=30d` or `?period=2024-05-01:2024-05-31`.

The value is the data layer's own period text (as `python app.py metrics --period` takes it),
so a reload, the back button or a shared link shows the same period. The page writes it in
the browser (`PERIOD_SYNC_JS`, a clientside callback: no round trip); the server reads it
back here when it builds the page and when the URL changes.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

DEFAULT_PERIOD = "30d"
PRESETS = ("7d", "30d", "90d")
CUSTOM = "custom"
PARAM = "period"


def period_from_search(search: str | None) -> str:
    """The period a URL query holds (`?period=...`), else the default (30 days)."""
    values = parse_qs((search or "").lstrip("?")).get(PARAM) or []
    text = values[0].strip() if values else ""
    return text or DEFAULT_PERIOD


def search_from_url(url: str | None) -> str:
    """The query part (with its "?") of a full URL, "" when it has none."""
    query = urlsplit(url or "").query
    return f"?{query}" if query else ""


def controls_for(period: str) -> tuple[str, str | None, str | None]:
    """The period buttons' value and the custom range's dates showing `period`."""
    if period in PRESETS or ":" not in period:  # another "Nd" (typed into the URL): no dates
        return (period if period in PRESETS else CUSTOM), None, None
    start, _, end = period.partition(":")
    return CUSTOM, start or None, end or None


#: Clientside sync of URL and period controls (one callback, so Dash allows the loop):
#: a URL change (load, back, forward) sets the controls; a preset button or Apply sets the URL.
#: A preset writes `?period=7d`; Apply writes `?period=<from>:<to>` (the server says what is
#: wrong with a bad or half-filled range). Choosing "Custom range" alone changes nothing.
PERIOD_SYNC_JS = """
(search, choice, _apply, start, end) => {
  const no = window.dash_clientside.no_update;
  const trigger = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
  const current = new URLSearchParams(search || "").get("period") || "30d";
  if (trigger.startsWith("period-choice")) {
    if (choice === "custom" || choice === current) return [no, no, no, no];
    return ["?period=" + choice, no, no, no];
  }
  if (trigger.startsWith("apply-custom")) {
    const wanted = (start || "") + ":" + (end || "");
    return [wanted === current ? no : "?period=" + wanted, no, no, no];
  }
  if (["7d", "30d", "90d"].includes(current)) return [no, current, no, no];
  if (!current.includes(":")) return [no, "custom", no, no];
  const [from, to] = current.split(":");
  return [no, "custom", from || no, to || no];
}
"""
