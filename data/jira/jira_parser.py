"""Reading JIRA input: issue lists from files and payloads, memoized date parsing, and the lean
form of an issue that the cache stores.

Every instant is an integer of milliseconds since the epoch (UTC), so sums are exact and the
fast engine and the reference agree to the last bit. A JIRA date-only value used as an event
time is the last millisecond of that day in the configured zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from data.engine.field_mapper import is_flag_item
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


#: The usual JIRA form `2024-01-15T10:30:00.000+0000`: where its separators are.
_SEPARATORS = np.array([4, 7, 10, 13, 16, 19])
_SEPARATOR_CODES = np.frombuffer(b"--T::.", dtype=np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _usual_form_ms(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ms of rows of 28 bytes in the usual JIRA form, and which rows are valid (the
    checks `datetime.fromisoformat` makes: ranges, days of the month, offset < 24 h).

    Works column by column on small integers (int32), int64 only for the final sum."""
    d = chars - np.uint8(ord("0"))  # uint8: non-digits wrap around above 9
    ok = chars[:, 23] == ord("+")
    plus = ok.copy()
    ok |= chars[:, 23] == ord("-")
    for position, code in zip(_SEPARATORS.tolist(), _SEPARATOR_CODES.tolist(), strict=True):
        ok &= chars[:, position] == code

    def number(*positions: int) -> np.ndarray:
        nonlocal ok
        value = np.zeros(len(d), dtype=np.int32)
        for position in positions:
            digit = d[:, position]
            ok &= digit <= 9
            value = value * 10 + digit
        return value

    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour, minute, second, milli = number(11, 12), number(14, 15), number(17, 18), number(20, 21, 22)
    off_h, off_m = number(24, 25), number(26, 27)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    ok &= (hour < 24) & (minute < 60) & (second < 60) & (off_h < 24) & (off_m < 60)
    # days since the epoch of a proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    offset = np.where(plus, off_h * 60 + off_m, -(off_h * 60 + off_m))
    in_day = ((hour * 60 + minute - offset) * 60 + second) * 1000 + milli  # fits int32
    return days.astype(np.int64) * 86_400_000 + in_day, ok


#: The Zulu form `2024-01-15T10:30:00.000Z` read as the usual form with a zero offset.
_ZULU_OFFSET = np.frombuffer(b"+0000", dtype=np.uint8)


def _usual_rows(texts: list[str], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows (indices) of `texts` in the usual form or its Zulu variant, and their
    characters as one (rows, 28) byte matrix ("?" for any character beyond Latin-1)."""
    usual, zulu = lengths == 28, lengths == 24
    rows = np.concatenate((np.flatnonzero(usual), np.flatnonzero(zulu)))
    chars = np.empty((len(rows), 28), dtype=np.uint8)
    count = int(usual.sum())
    for mask, width, at in ((usual, 28, slice(0, count)), (zulu, 24, slice(count, None))):
        if not mask.any():
            continue
        joined = "".join(compress(texts, mask.tolist())).encode("latin-1", "replace")
        block = np.frombuffer(joined, dtype=np.uint8).reshape(-1, width)
        if width == 28:
            chars[at] = block
        else:  # the offset read must be zero, and only where the text ends in "Z"
            chars[at, :23] = block[:, :23]
            chars[at, 23:] = _ZULU_OFFSET
            chars[at, 23][block[:, 23] != ord("Z")] = ord("?")
    return rows, chars


def parse_array(values: list[Any], tz: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """`instant_ms` of many values as (int64 epoch ms, bool valid) arrays.

    JIRA's usual `2024-01-15T10:30:00.000+0000` form (and its `...000Z` variant) is read digit
    by digit in NumPy for all values at once (no Python work per value); any other form goes
    through `instant_ms`, once per distinct text."""
    count = len(values)
    out = np.zeros(count, dtype=np.int64)
    valid = np.zeros(count, dtype=bool)
    if not count:
        return out, valid
    texts = [v if type(v) is str else "" for v in values]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
    rows, chars = _usual_rows(texts, lengths)
    done = np.zeros(count, dtype=bool)
    if len(rows):
        usual_ms, ok = _usual_form_ms(chars)
        out[rows] = usual_ms
        valid[rows] = ok
        done[rows] = ok
    memo: dict[Any, int | None] = {}
    for index in np.flatnonzero(~done).tolist():
        value = values[index]
        if type(value) is not str:
            ms = instant_ms(value, tz)
        elif value in memo:
            ms = memo[value]
        else:
            ms = memo[value] = instant_ms(value, tz)
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
    issues: list[dict[str, Any]]  # each item checked to be a dict below
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


#: The largest `--input` file read (1 GiB: about 190,000 issues with their changelogs).
MAX_INPUT_BYTES = 1 << 30


def read_input_file(path: Path) -> dict[str, Any]:
    """Read a JSON input file: `{"issues": [...], "statuses": [...]}` (statuses optional).

    Missing file, invalid JSON and a file larger than MAX_INPUT_BYTES (checked before reading,
    so that a huge file cannot exhaust memory) become one-line UserErrors.
    """
    try:
        size = path.stat().st_size
        if path.is_file() and size > MAX_INPUT_BYTES:
            raise UserError(
                f"Input file {path} is {size / 2**20:,.0f} MB, more than the limit of "
                f"{MAX_INPUT_BYTES // 2**20:,} MB; fetch into the cache instead, or split the file."
            )
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


# ------------------------------------------------------------------------------- lean issues


def _pick(value: Any, names: tuple[str, ...]) -> Any:
    """The named keys of a dict (those present); anything else unchanged."""
    if type(value) is not dict:
        return value
    return {name: value[name] for name in names if name in value}


def _lean_status(value: Any) -> Any:
    if type(value) is not dict:
        return value
    lean = _pick(value, ("id", "name"))
    category = value.get("statusCategory")
    if category is not None:
        lean["statusCategory"] = _pick(category, ("key",))
    return lean


def _lean_list(value: Any, lean_one: Any) -> Any:
    return [lean_one(entry) for entry in value] if type(value) is list else value


def _lean_link(value: Any) -> Any:
    if type(value) is not dict:
        return value
    lean = {}
    for name in ("type", "inwardIssue", "outwardIssue"):
        if name in value:
            lean[name] = _pick(value[name], ("name",) if name == "type" else ("key",))
    return lean


_VERSION_KEYS = ("name", "released", "releaseDate")
#: How each system field the metrics read is slimmed; other fetched fields are kept whole.
_FIELD_LEANERS: dict[str, Any] = {
    "issuetype": lambda value: _pick(value, ("name", "id")),
    "status": _lean_status,
    "resolution": lambda value: _pick(value, ("name",)),
    "fixVersions": lambda value: _lean_list(value, lambda v: _pick(v, _VERSION_KEYS)),
    "issuelinks": lambda value: _lean_list(value, _lean_link),
}
_ITEM_KEYS = ("field", "from", "fromString", "to", "toString")
#: A flag item keeps its field id too: a mapped flag field is matched by it (Cloud).
_FLAG_ITEM_KEYS = ("field", "fieldId", "from", "fromString", "to", "toString")


def _kept_item(item: Any, custom_fields: frozenset[str]) -> bool:
    """A changelog item the metrics read: a status change, a change of JIRA's "Flagged"
    field, or of a fetched custom field (a mapped flag field among them)."""
    if type(item) is not dict:
        return False
    field = item.get("field")
    return (
        field == "status"
        or is_flag_item(item, None)
        or item.get("fieldId") in custom_fields
        or field in custom_fields
    )


def _lean_changelog(changelog: Any, custom_fields: frozenset[str] = frozenset()) -> Any:
    """Only the histories holding a status or flag change (`_kept_item`), each with only
    those items.

    `total` is kept only when JIRA held back histories (the metrics flag such an issue as
    truncated); otherwise it would no longer match the kept histories and is dropped."""
    if type(changelog) is not dict:
        return changelog
    histories = changelog.get("histories")
    if type(histories) is not list:
        return {}
    kept = []
    for history in histories:
        items = history.get("items") if type(history) is dict else None
        if not items or type(items) is not list:
            continue
        status = [
            _pick(item, _ITEM_KEYS if item.get("field") == "status" else _FLAG_ITEM_KEYS)
            for item in items
            if _kept_item(item, custom_fields)
        ]
        if status:
            lean = _pick(history, ("id", "created"))
            lean["items"] = status
            kept.append(lean)
    total = changelog.get("total")
    if type(total) is int and total > len(histories):
        return {"total": total, "histories": kept}
    return {"histories": kept}


def lean_issue(issue: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The part of a JIRA issue that the metrics and the app read (METRICS.md "Inputs").

    `fields` are the fetched field ids (`cache_manager.fields_for_mappings`): the system fields
    among them are cut to the keys read (status id, name and category key; type name and id;
    resolution name; versions' name, released, release date; links' type name and issue
    keys); the rest (the mapped custom fields) are kept as they are, other fields dropped.
    The changelog keeps only status changes and flag changes (JIRA's "Flagged" field, or a
    fetched custom field: the mapped flag field). No history author (personal data) survives.
    This makes the cache file, its parse and normalization several times cheaper.
    """
    lean: dict[str, Any] = {name: issue[name] for name in ("key", "id") if name in issue}
    raw_fields = issue.get("fields")
    if type(raw_fields) is dict:
        kept = {}
        for name in fields:
            if name in raw_fields:
                leaner = _FIELD_LEANERS.get(name)
                value = raw_fields[name]
                kept[name] = value if leaner is None else leaner(value)
        lean["fields"] = kept
    elif "fields" in issue:
        lean["fields"] = raw_fields
    if "changelog" in issue:
        custom = frozenset(name for name in fields if str(name).startswith("customfield_"))
        lean["changelog"] = _lean_changelog(issue["changelog"], custom)
    return lean
