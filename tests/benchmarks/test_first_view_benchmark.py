"""First view in Chromium on the sample project: the first figures within 1 s of navigation.

One round = a new browser context (an empty browser cache, as a first visit) opening the
page; timed in the page from the start of the navigation (`performance.now()` is 0 there) to
the moment every card shows its number (the first figures on screen: the cards fill the
first screen) and to the moment every trend chart has drawn its traces (reported, not
judged). Bytes transferred are what the browser received over the network (compressed
sizes, headers included), read from the DevTools protocol.
What is judged is `cards_median_ms` (printed as "judged: figures ..."); the time in
pytest-benchmark's table is the whole round (new context, navigation, networkidle, context
close) and is not the figure of the target.
Run: BENCHMARKS=1 .venv/bin/python -m pytest tests/benchmarks/test_first_view_benchmark.py
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.benchmarks.conftest import judged
from tests.browser.conftest import ConsoleLog, Served, sample_now, serve

pytestmark = pytest.mark.skipif(
    not os.environ.get("BENCHMARKS"), reason="benchmarks run on demand: BENCHMARKS=1"
)

TARGET_MEDIAN_MS = 1000.0
ROUNDS = 10

#: Runs before the page's own scripts: notes when the cards and the charts first appear.
WATCH_JS = """
(() => {
  window.__firstView = {};
  const check = () => {
    const seen = window.__firstView;
    if (!seen.cards && document.querySelectorAll('[data-metric] [data-role=headline]').length >= 11)
      seen.cards = performance.now();
    const drawn = document.querySelectorAll('[data-trend] .js-plotly-plot .trace').length;
    if (!seen.charts && seen.cards && drawn >= 9) seen.charts = performance.now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true});
})();
"""


@pytest.fixture
def dashboard(data_dir: Path) -> Iterator[Served]:
    """The dashboard on the bundled sample project (as tests/browser serves it)."""
    yield from serve(data_dir, sample_now())


def test_first_view_shows_every_cards_number_within_1_s(
    browser: Browser, dashboard: Served, benchmark
):
    cards_ms: list[float] = []
    charts_ms: list[float] = []
    transferred: list[int] = []

    def first_view() -> None:
        context = browser.new_context()
        page = context.new_page()
        console = ConsoleLog()
        console.watch(page)
        received = {"bytes": 0}
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on(
            "Network.loadingFinished",
            lambda event: received.__setitem__(
                "bytes", received["bytes"] + int(event["encodedDataLength"])
            ),
        )
        page.add_init_script(WATCH_JS)
        page.goto(dashboard.url)
        page.wait_for_function("() => window.__firstView.charts", polling=50, timeout=60_000)
        page.wait_for_load_state("networkidle")
        seen = page.evaluate("() => window.__firstView")
        cards_ms.append(seen["cards"])
        charts_ms.append(seen["charts"])
        transferred.append(received["bytes"])
        assert console.errors == []
        context.close()

    first_view()  # the server's first computation of the sample project: not a user's visit
    cards_ms.clear(), charts_ms.clear(), transferred.clear()
    benchmark.pedantic(first_view, rounds=ROUNDS, iterations=1, warmup_rounds=0)

    benchmark.extra_info["cards_median_ms"] = round(statistics.median(cards_ms), 1)
    benchmark.extra_info["cards_ms"] = [round(ms) for ms in cards_ms]
    benchmark.extra_info["charts_median_ms"] = round(statistics.median(charts_ms), 1)
    benchmark.extra_info["charts_ms"] = [round(ms) for ms in charts_ms]
    benchmark.extra_info["bytes_median"] = int(statistics.median(transferred))
    print(
        f"\nfirst view, from the start of navigation (median of {ROUNDS} new contexts): "
        f"{'judged' if judged() else 'not judged (quick mode)'}: figures (every card's number) "
        f"{statistics.median(cards_ms):.0f} ms <= {TARGET_MEDIAN_MS:.0f} ms "
        f"(min {min(cards_ms):.0f}, max {max(cards_ms):.0f}); every trend chart drawn "
        f"{statistics.median(charts_ms):.0f} ms (min {min(charts_ms):.0f}, max "
        f"{max(charts_ms):.0f}); {statistics.median(transferred) / 1e6:.2f} MB transferred. "
        "The benchmark table's time is the whole round (context, networkidle, close), not "
        "this figure."
    )
    if judged():  # quick mode (CI) checks that it runs, not how fast
        assert statistics.median(cards_ms) <= TARGET_MEDIAN_MS
