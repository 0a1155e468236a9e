"""Fast first view: compressed responses and cache headers for the page's static files.

`enable_fast_delivery(server)` wraps the Flask server Dash runs on:

- every text response (HTML, JS, CSS, JSON, callback answers) is compressed with the best
  encoding the browser accepts (Brotli, then gzip), through flask-compress;
- the compressed bytes of a static file (Dash's component suites, `/assets/`, Plotly's
  bundle) are kept in memory, so only the first request after a start pays for compressing;
- a file whose URL carries its version (Dash's fingerprinted suites, `/assets/...?m=<mtime>`,
  the Plotly bundle's `?v=<version>`) may be cached for a year; an unversioned one (Dash's
  on-demand graph chunk) must be revalidated, which its ETag answers with a body-less 304, so a
  package upgrade is never served stale.

It is a separate wrapper from any request-checking middleware: both apply independently.
"""

from __future__ import annotations

import threading

from flask import Flask, Request, Response, request
from flask_compress import Compress

#: URL prefixes of files whose bytes only change with a restart (package or asset files).
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
#: A year: the lifetime of a URL that changes whenever its file does.
VERSIONED_CACHE = "public, max-age=31536000, immutable"
#: Unversioned files: the browser keeps them but asks first (ETag -> 304, no body).
REVALIDATE_CACHE = "no-cache"
#: Preferred encodings, best first; the browser's Accept-Encoding picks among them.
ALGORITHMS = ["br", "gzip"]
#: Brotli quality: 5 compresses Plotly to about a fifth in well under a second, once.
BROTLI_QUALITY = 5
#: Smaller responses go as they are: compressing them saves nothing (flask-compress's default).
MIN_COMPRESSED_BYTES = 500


def is_static(path: str) -> bool:
    """True for a package or asset file (the same bytes until the server restarts)."""
    return path.startswith(STATIC_PREFIXES)


class StaticCompressedCache:
    """flask-compress's cache backend, holding compressed static files only.

    Callback answers and the page are compressed anew each time (their bytes differ per
    request); keys of other paths are neither stored nor found.
    """

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not is_static(key.partition(";")[2]):
            return
        with self._lock:
            self._data[key] = value


def _cache_key(req: Request) -> str:
    """The compressed-bytes key: method and full path (a static file's version is in it)."""
    return req.full_path if req.method == "GET" else f"{req.method}:{req.full_path}"


def cache_control(path: str, query: str, fingerprinted: bool) -> str | None:
    """The Cache-Control value for a static file, or None (not a static file: left alone)."""
    if not is_static(path):
        return None
    versioned = any(part.startswith(("m=", "v=")) for part in query.split("&"))
    if fingerprinted or (path.startswith("/assets/") and versioned):
        return VERSIONED_CACHE
    return REVALIDATE_CACHE


def _set_cache_headers(response: Response) -> Response:
    fingerprinted = "max-age=31536000" in (response.headers.get("Cache-Control") or "")
    value = cache_control(request.path, request.query_string.decode(), fingerprinted)
    if value is not None and response.status_code in (200, 304):
        response.headers["Cache-Control"] = value
    return response


def enable_fast_delivery(server: Flask) -> None:
    """Compress `server`'s responses and give its static files cache headers (see module)."""
    server.config.update(
        COMPRESS_ALGORITHM=ALGORITHMS,
        COMPRESS_BR_LEVEL=BROTLI_QUALITY,
        COMPRESS_MIN_SIZE=MIN_COMPRESSED_BYTES,
        COMPRESS_CACHE_BACKEND=StaticCompressedCache,
        COMPRESS_CACHE_KEY=_cache_key,
    )
    server.after_request(_set_cache_headers)
    Compress(server)
