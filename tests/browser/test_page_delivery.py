"""What the browser downloads for the first view: compressed files, Plotly's basic bundle only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Response, expect

from callbacks.http_delivery import MIN_COMPRESSED_BYTES
from tests.browser.conftest import Served

pytestmark = pytest.mark.browser


def test_first_view_draws_charts_with_the_basic_bundle_compressed(
    page: Page, dashboard: Served, console_errors
):
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(dashboard.url)
    chart = page.locator("#trend-deployment_frequency .js-plotly-plot .scatterlayer .trace")
    expect(chart).to_have_count(1, timeout=60_000)

    urls = [response.url for response in responses]
    assert not any("plotly.min.js" in url for url in urls)  # the full 4.8 MB bundle
    assert sum("plotly-basic-4.1.1.min.js" in url for url in urls) == 1
    scripts = [r for r in responses if r.url.split("?")[0].endswith(".js")]
    large = [r for r in scripts if len(r.body()) >= MIN_COMPRESSED_BYTES]
    assert large and all(r.headers.get("content-encoding") == "br" for r in large)
    assert console_errors.errors == []
