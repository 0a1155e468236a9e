"""The one bounded in-memory cache: most recent kept, oldest forgotten."""

from __future__ import annotations

import pytest

from data.lru import LRU


def test_the_least_recently_used_entry_is_forgotten_first():
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_putting_a_known_key_replaces_its_value_and_refreshes_it():
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.get("a") == 10 and "b" not in cache


def test_pop_and_clear_forget_and_a_miss_is_none():
    cache: LRU[str, int] = LRU(3)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.pop("a") == 1 and cache.pop("a") is None
    assert cache.get("zzz") is None
    cache.clear()
    assert len(cache) == 0


def test_an_lru_holds_at_least_one_entry():
    with pytest.raises(ValueError, match="at least one"):
        LRU(0)
