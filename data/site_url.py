"""JIRA site URLs: the one normalized form, and a form safe to show.

`site_url` is what the settings save, the client requests, the issue cache key hashes and the
rate limiter keys its bucket by (scheme, host and port), so
`https://Acme.atlassian.net/` and `https://acme.atlassian.net` are one site everywhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def safe_url(url: str) -> str:
    """`url` without user info (credentials) and without a fragment; a bad port is dropped."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "") + (f":{port}" if port else "")
    return urlunsplit((parts.scheme.lower(), host, parts.path, parts.query, ""))


def site_url(url: str) -> str:
    """A site's base URL normalized: scheme and host lower case, no credentials, no fragment,
    no trailing slash. Not validated: callers say what is wrong in their own words."""
    parts = urlsplit(safe_url(url or ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))
