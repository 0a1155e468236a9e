"""`timed`: one performance record per timed block or call, with its fields and outcome."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from configuration.logging_config import PERFORMANCE_LOGGER, setup_logging, shutdown_logging
from configuration.settings import default_settings
from data import performance_utils
from data.performance_utils import timed


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    setup_logging(default_settings(), folder)
    yield folder
    shutdown_logging()


def records(folder: Path, name: str) -> list[dict]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in (folder / name).read_text().splitlines()]


def test_block_writes_one_record_with_operation_duration_and_fields_added_inside(logs: Path):
    with timed("metric", metric="flow_time", period="30d") as timer:
        timer.fields["n"] = 42

    [record] = records(logs, "performance.log")
    assert record["operation"] == "metric"
    assert record["status"] == "ok"
    assert record["metric"] == "flow_time"
    assert record["period"] == "30d"
    assert record["n"] == 42
    assert record["duration_ms"] == timer.duration_ms >= 0
    assert record["logger"] == PERFORMANCE_LOGGER


def test_decorated_function_logs_each_call_with_fresh_fields_and_returns_its_value(logs: Path):
    @timed("normalize", source="sample")
    def double(value: int) -> int:
        return value * 2

    assert double(2) == 4
    assert double(5) == 10

    found = records(logs, "performance.log")
    assert [r["operation"] for r in found] == ["normalize", "normalize"]
    assert all(r["source"] == "sample" and r["status"] == "ok" for r in found)


def test_exception_propagates_and_record_says_failed_with_error_class(logs: Path):
    with pytest.raises(ZeroDivisionError), timed("divide"):
        _ = 1 / 0

    [record] = records(logs, "performance.log")
    assert record["status"] == "failed"
    assert record["error"] == "ZeroDivisionError"


def test_expected_stop_like_prevent_update_is_not_a_failure(logs: Path):
    class PreventUpdate(Exception):
        """Same name as Dash's; data/ cannot import dash, so the name is what counts."""

    with pytest.raises(PreventUpdate), timed("callback", callback="refresh"):
        raise PreventUpdate

    [record] = records(logs, "performance.log")
    assert record["status"] == "stopped"
    assert "error" not in record
    assert not (logs / "errors.log").read_text()


def test_field_named_like_a_log_record_attribute_is_kept_under_a_suffix(logs: Path):
    with timed("metric", name="flow_time", message="x"):
        pass

    [record] = records(logs, "performance.log")
    assert record["name_field"] == "flow_time"
    assert record["message_field"] == "x"


def test_timing_records_stay_out_of_the_console(logs: Path, capsys: pytest.CaptureFixture):
    with timed("quiet_operation"):
        pass
    logging.getLogger("tests").info("loud line")

    err = capsys.readouterr().err
    assert "loud line" in err
    assert "quiet_operation" not in err


def test_logger_name_matches_the_one_logging_config_routes():
    assert performance_utils.PERFORMANCE_LOGGER == PERFORMANCE_LOGGER


def test_timing_without_logging_set_up_still_measures():
    with timed("bare") as timer:
        pass
    assert timer.duration_ms is not None and timer.duration_ms >= 0
