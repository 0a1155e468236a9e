"""JIRA site URLs: the one normalized form, and a form safe to show.

`site_url` is what the settings save, the client requests, the issue cache key hashes, the
rate limiter keys its bucket by (scheme, host and port) and a saved token is bound to, so
`https://Acme.atlassian.net/` and `https://acme.atlassian.net:443` are one site everywhere.
It lives in `configuration/` because the token binding in `configuration.settings` needs it
and `data/` builds on `configuration/`, not the other way round.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

#: The port a scheme implies (dropped from a site's normalized URL).
DEFAULT_PORTS = {"http": 80, "https": 443}


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
    """A site's base URL normalized: scheme and host in lower case, no credentials, the default
    port dropped, no query, fragment or trailing slash.
    `HTTPS://me@Acme.net:443/jira/` -> `https://acme.net/jira`. Not validated: callers say
    what is wrong in their own words."""
    parts = urlsplit(str(url or "").strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    shown_port = f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else ""
    host = (parts.hostname or "") + shown_port
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))
