"""A WSGI middleware that serves only this machine's own host names and origins.

A browser page from any other site can reach `http://127.0.0.1:8050`: through DNS rebinding
(`evil.example` resolving to 127.0.0.1, so the page's own origin reads our answers) or by
posting to `/_dash-update-component` (a cross-site callback). Both are refused here, before
Flask or Dash see the request:

- a `Host` header that is not one of the allowed `name:port` pairs gets 403 on every route;
- a state-changing request (POST, PUT, PATCH, DELETE) whose `Origin` (or, without one, its
  `Referer`) names another host gets 403. A request with neither (curl, scripts) passes: a
  browser always sends `Origin` with a cross-site POST.

The allowed names are 127.0.0.1, localhost, [::1], the bound address (unless it is a wildcard
such as 0.0.0.0) and the names given with `--allowed-host` (`server.allowed_hosts`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from data.errors import UserError

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: Addresses that listen on every interface: they name no host a browser could use.
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::", "[::]"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORBIDDEN_BODY = b"403 Forbidden: this dashboard answers only its own host names and origins.\n"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _bracketed(name: str) -> str:
    """A host name as it appears in a Host header: IPv6 literals in brackets, lower case."""
    name = name.strip().lower()
    if ":" in name and not name.startswith("["):
        return f"[{name}]"
    return name


def is_loopback(host: str) -> bool:
    """True for an address reachable only from this machine."""
    name = _bracketed(host)
    return name in LOOPBACK_NAMES or name.startswith("127.")


def check_bind(host: str, allowed: Iterable[str]) -> None:
    """Refuse to listen beyond this machine unless the host names to allow are given."""
    if not is_loopback(host) and not [name for name in allowed if name.strip()]:
        raise UserError(
            f"--host {host} listens beyond this machine: name the host name(s) browsers will "
            "use with --allowed-host NAME (repeatable), e.g. --allowed-host my-laptop.lan."
        )


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The `Host` header values served: every allowed name with the port (alone for port 80)."""
    names = set(LOOPBACK_NAMES)
    if _bracketed(host) not in WILDCARD_ADDRESSES:
        names.add(_bracketed(host))
    names.update(_bracketed(name) for name in extra if name.strip())
    values = {f"{name}:{port}" for name in names}
    if port == 80:
        values |= names
    return frozenset(values)


def _origin_host(value: str) -> str | None:
    """The `host:port` an Origin or Referer names (None for `null` or anything unreadable)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.rsplit("@", 1)[-1].lower()


class RequestGuard:
    """Wraps a WSGI app; answers 403 to foreign `Host` headers and cross-site writes."""

    def __init__(self, app: WsgiApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    def _foreign_origin(self, environ: dict[str, Any]) -> str | None:
        """The foreign origin of a state-changing request, None when it may pass."""
        if environ.get("REQUEST_METHOD", "GET").upper() not in STATE_CHANGING:
            return None
        source = environ.get("HTTP_ORIGIN") or environ.get("HTTP_REFERER")
        if source is None:
            return None
        return None if _origin_host(source) in self.hosts else source

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        host = str(environ.get("HTTP_HOST", "")).strip().lower()
        reason = ""
        if host not in self.hosts:
            reason = "host"
        elif self._foreign_origin(environ) is not None:
            reason = "origin"
        if not reason:
            return self.app(environ, start_response)
        log.warning(
            "request refused: foreign %s",
            reason,
            extra={
                "operation": "request_guard",
                "reason": reason,
                "host": host[:200],
                "origin": str(environ.get("HTTP_ORIGIN") or environ.get("HTTP_REFERER", ""))[:200],
                "path": str(environ.get("PATH_INFO", ""))[:200],
            },
        )
        start_response(
            "403 Forbidden",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(FORBIDDEN_BODY))),
            ],
        )
        return [FORBIDDEN_BODY]


def guard_server(server: Any, host: str, port: int, extra: Iterable[str] = ()) -> None:
    """Put a `RequestGuard` around a Flask server's WSGI app (the server object stays the same)."""
    server.wsgi_app = RequestGuard(server.wsgi_app, allowed_hosts(host, port, extra))
