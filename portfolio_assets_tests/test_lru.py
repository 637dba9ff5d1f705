"""BytesLRU: served only for an unchanged key, bounded by bytes, least recently used out first."""

from portfolio_assets.lru import BytesLRU


def test_a_value_is_served_for_its_key_only_and_a_stale_one_is_dropped():
    cache = BytesLRU(100)
    cache.put("a", 1, "first", 10)
    assert cache.get("a", 1) == "first"
    assert cache.get("a", 2) is None  # its inputs changed
    assert len(cache) == 0 and cache.held == 0
    assert cache.get("a", 1) is None  # dropped, never served again


def test_the_least_recently_used_go_first_and_oversized_values_are_not_kept():
    cache = BytesLRU(30)
    for name in "abc":
        cache.put(name, 0, name, 10)
    assert cache.get("a", 0) == "a"  # now the most recent
    cache.put("d", 0, "d", 10)
    assert cache.get("b", 0) is None and [cache.get(n, 0) for n in "acd"] == ["a", "c", "d"]
    assert cache.held == sum(cache.sizes()) == 30
    cache.put("a", 1, "new a", 31)  # too large: not kept, and the old value under that name is gone
    assert cache.get("a", 0) is None and cache.get("a", 1) is None and cache.held == 20
    cache.clear()
    assert len(cache) == 0 and cache.held == 0
