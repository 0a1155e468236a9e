"""The item panel's server-side view: pages, sort, text filter and CSV of one item list."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from data.services.item_view import item_view, items_csv_for_view

#: The bundled sample is generated up to today 00:00 UTC: "now" is that instant.
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
SHOWN = {"period": "90d", "now": TODAY.isoformat()}
REQUEST = {"metric": "flow_time", "week": None, "excluded": None}


def test_pages_cover_every_item_once(data_dir: Path) -> None:
    first = item_view(data_dir, REQUEST, SHOWN, page_size=40)
    assert first["pages"] == -(-first["count"] // 40) > 1
    keys = []
    for page in range(first["pages"]):
        keys += [
            item["key"]
            for item in item_view(data_dir, REQUEST, SHOWN, page=page, page_size=40)["items"]
        ]
    whole = item_view(data_dir, REQUEST, SHOWN, page_size=100_000)
    assert keys == [item["key"] for item in whole["items"]] and len(keys) == first["count"]


def test_sort_orders_all_pages_and_filter_keeps_rows_with_the_text(data_dir: Path) -> None:
    desc = [{"column_id": "duration_days", "direction": "desc"}]
    view = item_view(data_dir, REQUEST, SHOWN, sort_by=desc, page_size=100_000)
    durations = [item["duration_days"] for item in view["items"]]
    assert durations == sorted(durations, reverse=True)
    word = view["items"][0]["summary"].split()[0].upper()
    kept = item_view(data_dir, REQUEST, SHOWN, text=word, page_size=100_000)
    assert 0 < kept["matching"] < kept["count"]
    assert all(
        any(word.lower() in str(value).lower() for value in item.values()) for item in kept["items"]
    )


def test_csv_download_holds_the_filtered_rows_in_order(data_dir: Path) -> None:
    asc = [{"column_id": "completion", "direction": "asc"}]
    download = items_csv_for_view(data_dir, REQUEST, SHOWN, sort_by=asc, text="story")
    rows = list(csv.DictReader(io.StringIO(download["content"])))
    view = item_view(data_dir, REQUEST, SHOWN, sort_by=asc, text="story", page_size=100_000)
    assert [row["key"] for row in rows] == [item["key"] for item in view["items"]]
    assert download["filename"] == "flowdash-items-flow_time.csv"
