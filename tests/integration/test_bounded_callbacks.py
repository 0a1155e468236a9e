"""Issue 10.5: forged periods sent to the served dashboard's callbacks are refused with a
message (or ignored), never computed for minutes and never an HTTP 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served_dashboard import ServedDashboard, served_dashboard


@pytest.fixture
def served(data_dir: Path) -> Iterator[ServedDashboard]:
    with served_dashboard(data_dir) as dashboard:
        yield dashboard


@pytest.mark.parametrize(
    "search",
    ["?period=100000d", "?period=3654d", ["?period=30d"], {"a": 1}, "?period=" + "1" * 5000 + "d"],
)
def test_cards_refuse_a_forged_period_with_a_message(
    served: ServedDashboard, search: object
) -> None:
    answer = served.callback("page-url.search", {"page-url.search": search})
    assert answer.status_code == 200
    assert answer.json()["response"]["metrics-error"]["is_open"] is True


def test_a_custom_range_over_ten_years_is_refused(served: ServedDashboard) -> None:
    answer = served.callback(
        "page-url.search", {"page-url.search": "?period=1990-01-01:2024-01-01"}
    )
    assert answer.status_code == 200
    assert "10 years" in json.dumps(answer.json()["response"]["metrics-error"])


@pytest.mark.parametrize(
    "shown",
    [{"period": "100000d", "now": "2024-01-01T00:00:00+00:00"}, {"period": "30d", "now": "x"},
     {"period": 5}, ["x"], "text"],
)  # fmt: skip
def test_trends_and_exports_ignore_a_forged_store(served: ServedDashboard, shown: object) -> None:
    for trigger in ("shown-inputs.data", "export-csv.n_clicks"):
        values = {"shown-inputs.data": shown}
        assert served.callback(trigger, values).status_code in (200, 204), trigger
