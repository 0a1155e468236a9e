"""The period in the page's URL: what the server reads back from `?period=...`."""

from __future__ import annotations

import pytest

from callbacks.metrics import HALF_RANGE, checked_period
from data.errors import UserError
from ui.period_url import controls_for, period_from_search, search_from_url


@pytest.mark.parametrize(
    ("search", "period"),
    [
        ("", "30d"),
        (None, "30d"),
        ("?period=7d", "7d"),
        ("?period=2024-05-01:2024-05-31", "2024-05-01:2024-05-31"),
        ("?x=1&period=90d", "90d"),
        ("?period=", "30d"),
    ],
)
def test_period_from_search_reads_the_period_or_the_default(search, period):
    assert period_from_search(search) == period


def test_controls_show_presets_ranges_and_other_lengths():
    assert controls_for("7d") == ("7d", None, None)
    assert controls_for("2024-05-01:2024-05-31") == ("custom", "2024-05-01", "2024-05-31")
    assert controls_for("45d") == ("custom", None, None)


def test_a_half_filled_range_says_to_pick_both_dates():
    with pytest.raises(UserError, match=HALF_RANGE):
        checked_period(":2024-05-31")
    assert checked_period("45d") == "45d"


def test_search_from_url_keeps_the_query_with_its_question_mark():
    assert search_from_url("http://127.0.0.1:8050/?period=7d") == "?period=7d"
    assert search_from_url("http://127.0.0.1:8050/") == ""
    assert search_from_url(None) == ""
