"""Compressed responses and cache headers of the real dashboard server (Flask test client)."""

from __future__ import annotations

import re
from pathlib import Path

import brotli
import pytest

from callbacks.dashboard_app import create_app
from callbacks.http_delivery import REVALIDATE_CACHE, VERSIONED_CACHE, StaticCompressedCache
from tests.browser.conftest import sample_now

BROTLI = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def client(data_dir: Path):
    return create_app(data_dir, now=sample_now()).server.test_client()


def _script_urls(client) -> list[str]:
    page = client.get("/", headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    return re.findall(r'<script src="([^"]+)"', page)


def test_scripts_are_served_brotli_compressed_and_decode_to_the_same_file(client):
    url = next(u for u in _script_urls(client) if "dash_renderer" in u)
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers=BROTLI)
    assert packed.headers["Content-Encoding"] == "br"
    assert len(packed.data) < len(plain.data) / 3
    assert brotli.decompress(packed.data) == plain.data


def test_versioned_files_are_cacheable_for_a_year(client):
    urls = _script_urls(client)
    suite = next(u for u in urls if "dash_renderer" in u)
    asset = next(u for u in urls if u.startswith("/assets/"))
    for url in (suite, asset):
        assert client.get(url, headers=BROTLI).headers["Cache-Control"] == VERSIONED_CACHE


def test_unversioned_package_file_is_revalidated_and_answers_304(client):
    url = "/_dash-component-suites/dash/dcc/async-graph.js"
    first = client.get(url, headers=BROTLI)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == REVALIDATE_CACHE
    again = client.get(url, headers={**BROTLI, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_the_page_loads_plotly_basic_bundle_on_demand_not_the_full_one(client):
    urls = _script_urls(client)
    assert not any("plotly" in u and "loader" not in u for u in urls)  # nothing blocking
    assert any("plotly-basic-loader.js" in u for u in urls)
    bundle = client.get("/assets/plotly-basic-4.1.1.min.js?v=4.1.1", headers=BROTLI)
    assert bundle.status_code == 200
    assert bundle.headers["Cache-Control"] == VERSIONED_CACHE
    assert len(bundle.data) < 500_000  # 1.2 MB of JavaScript, a few hundred kB on the wire


def test_callback_answers_are_compressed_and_not_marked_cacheable(client):
    layout = client.get("/_dash-layout", headers=BROTLI)
    assert layout.headers["Content-Encoding"] == "br"
    assert "Cache-Control" not in layout.headers


def test_only_static_files_are_kept_compressed_in_memory():
    cache = StaticCompressedCache()
    cache.set("br;POST:/_dash-update-component?", b"answer for one period")
    cache.set("br;/_dash-layout?", b"layout")
    cache.set("br;/assets/dashboard.css?m=1", b"css")
    assert cache.get("br;POST:/_dash-update-component?") is None
    assert cache.get("br;/_dash-layout?") is None
    assert cache.get("br;/assets/dashboard.css?m=1") == b"css"
