"""Issue 10.5: no period makes the server compute for minutes; `--input` is size-checked."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from data.engine.periods import MAX_PERIOD_DAYS, parse_period
from data.errors import UserError
from data.jira.jira_parser import MAX_INPUT_BYTES

NOW = datetime(2024, 6, 1, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
PROJECT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    "text",
    ["100000d", f"{MAX_PERIOD_DAYS + 1}d", "2000-01-01:2024-01-01", "0001-01-01:0001-01-02",
     "9999-12-30:9999-12-31", "99999999999999999999d", "1d" * 100],
)  # fmt: skip
def test_too_long_or_out_of_range_periods_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_period(text, NOW, UTC_ZONE)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [["30d"], {"x": 1}, 30, 3.5])
def test_a_period_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(UserError, match="must be text"):
        parse_period(value, NOW, UTC_ZONE)  # type: ignore[arg-type]


def test_ten_years_is_still_computed() -> None:
    period = parse_period(f"{MAX_PERIOD_DAYS}d", NOW, UTC_ZONE)
    assert period.days == MAX_PERIOD_DAYS
    assert parse_period("2014-06-02:2024-06-01", NOW, UTC_ZONE).days == 3653


def test_an_input_file_past_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # sparse: takes no disk, and would take 1 GiB to read
        handle.truncate(MAX_INPUT_BYTES + 1)
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "metrics", "--input", str(huge)],
        capture_output=True, text=True, timeout=60, cwd=PROJECT, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "limit of 1,024 MB" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
