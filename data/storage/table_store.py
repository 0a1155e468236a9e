"""The normalized issue table kept on disk beside the issue cache: a restart does not
normalize again.

One file per issue cache (`cache/tables/<cache key>.npz`), rewritten whenever the issues, the
mappings, the zone or the status categories change. Its header names the project version and
the table context it was built for, and a table is used for exactly those only. The format is
NumPy's `.npz` without pickles (object columns are stored as JSON), written atomically
(`persistence.atomic_write_bytes`, without fsync: a table lost in a crash is rebuilt). An
unreadable, torn or foreign file is ignored and rewritten: it costs one normalization, never
a wrong number.

Bump TABLE_FORMAT whenever normalization changes what a row holds, or old tables are read.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from data.engine.issue_table import Flags, IssueTable, Links, Segments, Spans, Unknown, Versions
from data.storage.persistence import atomic_write_bytes

log = logging.getLogger(__name__)

TABLE_FORMAT = 5
_HEADER = "header"


def _columns(part: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """The arrays of a table (children as `child.column`), object columns as JSON bytes."""
    out: dict[str, np.ndarray] = {}
    for spec in fields(part):
        value = getattr(part, spec.name)
        if is_dataclass(value):
            out.update(_columns(value, f"{prefix}{spec.name}."))
        elif f"{prefix}{spec.name}" in _CODED_COLUMNS:
            values = value.tolist()
            distinct = dict.fromkeys(values)
            code_of = {name: code for code, name in enumerate(distinct)}
            codes = np.fromiter(map(code_of.__getitem__, values), np.int32, len(values))
            out[f"{prefix}{spec.name}"] = np.frombuffer(orjson.dumps(list(distinct)), np.uint8)
            out[f"{prefix}{spec.name}{_CODES}"] = codes
        elif value.dtype == object:
            out[f"{prefix}{spec.name}"] = np.frombuffer(orjson.dumps(value.tolist()), np.uint8)
        else:
            out[f"{prefix}{spec.name}"] = value
    return out


def _objects(data: np.ndarray) -> np.ndarray:
    values = orjson.loads(data.tobytes())
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


#: The child parts of a table and their classes.
_CHILDREN: dict[str, type] = {
    "spans": Spans,
    "versions": Versions,
    "links": Links,
    "unknown": Unknown,
    "segments": Segments,
    "flags": Flags,
}
#: Object columns with few distinct values (status names of 10 or so statuses over every
#: segment): stored as the distinct values in JSON plus one int32 code per entry.
_CODED_COLUMNS = frozenset({"segments.status"})
_CODES = ".codes"
#: Columns holding Python objects (strings, None), stored as JSON.
_OBJECT_COLUMNS = frozenset(
    {
        "key",
        "updated",
        "flow_type",
        "versions.name",
        "links.key",
        "unknown.name",
    }
)


def _rebuilt(kind: type, arrays: dict[str, np.ndarray], prefix: str = "") -> Any:
    """An instance of the dataclass `kind` (a table or a child part) from `_columns` output."""
    values: dict[str, Any] = {}
    for spec in fields(kind):
        name = f"{prefix}{spec.name}"
        if not prefix and spec.name in _CHILDREN:
            values[spec.name] = _rebuilt(_CHILDREN[spec.name], arrays, f"{name}.")
        elif name in _CODED_COLUMNS:
            values[spec.name] = _objects(arrays[name])[arrays[f"{name}{_CODES}"]]
        else:
            values[spec.name] = _objects(arrays[name]) if name in _OBJECT_COLUMNS else arrays[name]
    return kind(**values)


def save_table(path: Path, table: IssueTable, header: dict[str, Any]) -> None:
    """Keep `table` at `path` with its header; a failure is logged and costs nothing else."""
    buffer = io.BytesIO()
    arrays = _columns(table)
    arrays[_HEADER] = np.frombuffer(orjson.dumps({**header, "format": TABLE_FORMAT}), np.uint8)
    np.savez(buffer, allow_pickle=False, **arrays)
    try:
        atomic_write_bytes(path, buffer.getbuffer(), durable=False)  # a lost table is rebuilt
    except OSError as exc:
        log.warning(
            "issue table not kept on disk: %s",
            exc.__class__.__name__,
            extra={"operation": "table_save", "reason": str(exc.strerror or exc)},
        )


def load_table(path: Path, header: dict[str, Any]) -> tuple[IssueTable, dict[str, Any]] | None:
    """The table kept at `path` and its header, when it was built for `header` (the project
    version, table context and row count); None otherwise, or when the file is unusable."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = orjson.loads(archive[_HEADER].tobytes())
            if stored.get("format") != TABLE_FORMAT or any(
                stored.get(name) != value for name, value in header.items()
            ):
                return None
            arrays = {name: archive[name] for name in archive.files if name != _HEADER}
        table = _rebuilt(IssueTable, arrays)
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        log.warning(
            "issue table on disk unusable: normalizing again",
            extra={"operation": "table_load", "reason": exc.__class__.__name__},
        )
        return None
    if len(table) != header.get("rows") or not _consistent(table):
        log.warning(
            "issue table on disk inconsistent: normalizing again",
            extra={"operation": "table_load", "reason": "shape"},
        )
        return None
    return table, stored


def _consistent(table: IssueTable) -> bool:
    """Every row column has one entry per issue; child rows are sorted and in range."""
    rows = len(table)
    for spec in fields(table):
        value = getattr(table, spec.name)
        if isinstance(value, np.ndarray):  # a row column; the others are child tables
            if len(value) != rows:
                return False
            continue
        child = [getattr(value, part.name) for part in fields(value)]
        if any(len(column) != len(value.row) for column in child):
            return False
        row = value.row
        if len(row) and (row[0] < 0 or row[-1] >= rows or (np.diff(row) < 0).any()):
            return False
    return True
