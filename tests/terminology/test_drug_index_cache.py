"""The drug resolver's index is kept in the disk cache, keyed by content."""

from __future__ import annotations

import pytest

from contraxis.terminology import drugs


def test_index_is_read_back_from_the_cache_without_the_library(tmp_path, monkeypatch):
    """Check that a second process-level load reads the cached index instead of rebuilding it,
    and that a damaged cache is rebuilt."""
    monkeypatch.setenv("CONTRAXIS_CACHE", str(tmp_path))
    drugs._index.cache_clear()
    built = drugs._index()
    [cached] = list((tmp_path / "terminology").glob("drug-index-*.pickle"))

    drugs._index.cache_clear()

    def no_build():
        raise AssertionError("rebuilt although the cache was valid")

    monkeypatch.setattr(drugs, "_build_index", no_build)
    again = drugs._index()
    assert again.kb == built.kb and dict(again.codes).keys() == dict(built.codes).keys()

    cached.write_bytes(b"not a pickle")
    drugs._index.cache_clear()
    monkeypatch.undo()
    monkeypatch.setenv("CONTRAXIS_CACHE", str(tmp_path))
    rebuilt = drugs._index()
    assert rebuilt.kb == built.kb
    drugs._index.cache_clear()


@pytest.mark.parametrize("name", ["Reglan", "amlodipine"])
def test_key_changes_with_the_data(tmp_path, monkeypatch, name):
    """Check that the cache key covers the table's bytes."""
    key = drugs._index_key()
    copy = tmp_path / "drugs.yaml"
    copy.write_bytes(drugs.DATA_FILE.read_bytes() + f"\n# {name}\n".encode())
    monkeypatch.setattr(drugs, "DATA_FILE", copy)
    assert drugs._index_key() != key
