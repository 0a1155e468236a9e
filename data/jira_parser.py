"""Reading JIRA input: issue lists from files and payloads, and memoized date parsing.

Every instant is an integer of milliseconds since the epoch (UTC), so sums are exact and the
fast engine and the reference agree to the last bit. A JIRA date-only value used as an event
time is the last millisecond of that day in the configured zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from data.errors import UserError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
END_OF_DAY = time(23, 59, 59, 999000)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (the sub-millisecond part dropped)."""
    return (moment - EPOCH) // ONE_MS


@lru_cache(maxsize=65536)
def _parse(text: str) -> tuple[int, bool]:
    """(epoch ms reading a naive value as UTC, whether the text had no offset)."""
    moment = datetime.fromisoformat(text)
    naive = moment.tzinfo is None
    if naive:
        moment = moment.replace(tzinfo=UTC)
    if moment.microsecond % 1000:  # finer than a millisecond: floor exactly
        return to_ms(moment), naive
    # whole milliseconds: the float timestamp is exact after rounding, and 2x faster
    return round(moment.timestamp() * 1000), naive


def parse_jira_datetime(text: str) -> int:
    """Epoch ms of a JIRA date-time (`2024-01-15T10:30:00.000+0000`, `+05:30`, `Z`, no millis).

    Memoized: the same strings recur across issues and refreshes. A value without an offset
    is read as UTC here; `instant_ms` reads it in the configured zone instead.
    """
    return _parse(text)[0]


@lru_cache(maxsize=4096)
def date_only_end_ms(text: str, tz: ZoneInfo) -> int:
    """The last millisecond (23:59:59.999) of a `YYYY-MM-DD` day in `tz`, as epoch ms."""
    return to_ms(datetime.combine(date.fromisoformat(text), END_OF_DAY, tzinfo=tz))


def instant_ms(value: Any, tz: ZoneInfo) -> int | None:
    """Any JIRA time value as epoch ms: date-only -> end of day in `tz`; None if not a time."""
    if type(value) is str and len(value) > 10:  # the common case: a date-time with offset
        try:
            ms, naive = _parse(value)
        except ValueError:
            ms, naive = 0, True
        if not naive:
            return ms
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return date_only_end_ms(text, tz)
        ms, naive = _parse(text)
    except ValueError:
        return None
    if naive:
        return to_ms(datetime.fromisoformat(text).replace(tzinfo=tz))
    return ms


#: Code points of the usual JIRA form `2024-01-15T10:30:00.000+0000` (28 characters).
_PLUS, _MINUS, _ZERO, _T = ord("+"), ord("-"), ord("0"), ord("T")


def parse_array(values: list[Any], tz: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """`instant_ms` of many values as (int64 epoch ms, bool valid) arrays.

    JIRA's usual `2024-01-15T10:30:00.000+0000` form is recognised, parsed and shifted by its
    offset entirely in NumPy (no Python work per value); any other form goes through the
    memoized `instant_ms`, one by one."""
    count = len(values)
    out = np.zeros(count, dtype=np.int64)
    valid = np.zeros(count, dtype=bool)
    if not count:
        return out, valid
    texts = np.array([v if type(v) is str else "" for v in values])
    width = texts.dtype.itemsize // 4
    fast = np.zeros(count, dtype=bool)
    if width >= 28:
        chars = texts.view(np.uint32).reshape(count, width)
        digits = chars[:, 24:28] - _ZERO  # wraps around for non-digits: caught by <= 9
        fast = (
            (chars[:, 27] != 0)
            & (chars[:, 10] == _T)
            & ((chars[:, 23] == _PLUS) | (chars[:, 23] == _MINUS))
            & (digits <= 9).all(axis=1)
        )
        if width > 28:
            fast &= chars[:, 28] == 0
        where = np.flatnonzero(fast)
        if len(where):
            try:
                local = texts[where].astype("U23").astype("datetime64[ms]").astype(np.int64)
            except ValueError:  # a malformed value among them: all of them one by one
                fast[:] = False
            else:
                d = digits[where].astype(np.int64)
                minutes = (d[:, 0] * 10 + d[:, 1]) * 60 + d[:, 2] * 10 + d[:, 3]
                sign = np.where(chars[where, 23] == _PLUS, 1, -1)
                out[where] = local - sign * minutes * 60_000
                valid[where] = True
    for index in np.flatnonzero(~fast).tolist():
        ms = instant_ms(values[index], tz)
        if ms is not None:
            out[index] = ms
            valid[index] = True
    return out, valid


def parse_many(values: list[Any], tz: ZoneInfo) -> list[int | None]:
    """`instant_ms` of many values at once (see `parse_array`), None where not a time."""
    out, valid = parse_array(values, tz)
    return [ms if ok else None for ms, ok in zip(out.tolist(), valid.tolist(), strict=True)]


def issues_from_payload(obj: Any) -> list[dict[str, Any]]:
    """The issues of a search response (`{"issues": [...]}`) or of a plain list of issues."""
    if isinstance(obj, dict) and isinstance(obj.get("issues"), list):
        issues = obj["issues"]
    elif isinstance(obj, list):
        issues = obj
    else:
        raise UserError(
            "Input holds no issues: expected a JIRA search response "
            '({"issues": [...]}) or a list of issues.'
        )
    if not all(isinstance(issue, dict) for issue in issues):
        raise UserError("Input issues must be JSON objects (JIRA issues with `key` and `fields`).")
    return issues


def read_input_file(path: Path) -> dict[str, Any]:
    """Read a JSON input file: `{"issues": [...], "statuses": [...]}` (statuses optional).

    Missing file and invalid JSON become one-line UserErrors.
    """
    try:
        payload = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"Input file {path} does not exist.") from None
    except IsADirectoryError:
        raise UserError(f"Input {path} is a folder, not a JSON file.") from None
    except OSError as exc:
        raise UserError(f"Input file {path} cannot be read ({exc.strerror}).") from None
    except orjson.JSONDecodeError as exc:
        raise UserError(f"Input file {path} is not valid JSON ({exc.msg}).") from None
    issues = issues_from_payload(payload)
    statuses = payload.get("statuses") if isinstance(payload, dict) else None
    fields = payload.get("fields") if isinstance(payload, dict) else None
    return {
        "issues": issues,
        "statuses": statuses if isinstance(statuses, list) else [],
        "fields": fields if isinstance(fields, list) else [],
    }
