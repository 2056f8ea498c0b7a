"""The on-disk cache of the index: round trip, keys, staleness, atomic writes."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from contraxis.differential import ModelParameters, cache
from contraxis.differential.cache import cache_path, index_key, read_index, write_index
from contraxis.differential.knowledge import DifferentialKnowledge, load_knowledge
from contraxis.knowledge import DATA_DIR

from .conftest import mini_knowledge


def test_round_trip_keeps_everything(mini_kb, tmp_path):
    """Check that an index read back from its file equals the one written."""
    path = tmp_path / "index.npz"
    write_index(mini_kb, path, key="k1")
    back = read_index(path, key="k1", knowledge=mini_kb.knowledge)
    assert back is not None
    assert back.term_ids == mini_kb.term_ids and back.disease_names == mini_kb.disease_names
    assert back.genes == mini_kb.genes and dict(back.replaced_by) == dict(mini_kb.replaced_by)
    assert back.meta == mini_kb.meta
    for name, array in mini_kb.arrays.items():
        assert np.array_equal(back.arrays[name], array), name
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_wrong_key_missing_or_damaged_file_reads_as_none(mini_kb, tmp_path):
    """Check that a stale, absent or damaged cache file is not used."""
    path = tmp_path / "index.npz"
    assert read_index(path, key="k1") is None
    write_index(mini_kb, path, key="k1")
    assert read_index(path, key="k2") is None
    path.write_bytes(path.read_bytes()[:1000])
    assert read_index(path, key="k1") is None


def test_key_follows_the_data_the_parameters_and_the_code():
    """Check that the key changes with the acquired-causes file and the model constants."""
    knowledge = DifferentialKnowledge(hashes={"acquired_causes.yaml": "a"})
    base = index_key(knowledge=knowledge)
    assert base == index_key(knowledge=knowledge)
    assert base != index_key(knowledge=DifferentialKnowledge(hashes={"acquired_causes.yaml": "b"}))
    assert base != index_key(knowledge=knowledge, parameters=ModelParameters(reporting=0.3))
    assert cache_path(base, cache_dir=cache.Path("/x")).name == f"index-{base[:24]}.npz"


@pytest.fixture()
def counted_build(mini_kb, monkeypatch):
    """Replace the real build (hpo3 and the annotation files) by the mini index, counting calls."""
    calls = []
    knowledge = mini_knowledge()
    monkeypatch.setattr(cache, "load_cached_knowledge", lambda **kw: knowledge)
    monkeypatch.setattr(cache, "_build", lambda k, p: calls.append(1) or dataclasses.replace(mini_kb, knowledge=k))
    monkeypatch.setattr(cache, "index_key", lambda **kw: os.environ.get("TEST_INDEX_KEY", "key-1"))
    return calls


def test_load_builds_once_then_reads_the_cache(counted_build, tmp_path, monkeypatch):
    """Check that the first load builds and writes, the next reads, and a stale key rebuilds."""
    first = cache.load_index(cache_dir=tmp_path)
    again = cache.load_index(cache_dir=tmp_path)
    assert len(counted_build) == 1
    assert again.disease_ids == first.disease_ids and again.knowledge is not None
    monkeypatch.setenv("TEST_INDEX_KEY", "key-2")
    cache.load_index(cache_dir=tmp_path)
    assert len(counted_build) == 2
    cache.load_index(cache_dir=tmp_path, rebuild=True)
    assert len(counted_build) == 3
    assert sorted(p.name for p in (tmp_path / "differential").iterdir()) == ["index-key-1.npz", "index-key-2.npz"]


def test_unwritable_cache_still_gives_an_index(counted_build, tmp_path, caplog):
    """Check that a cache folder that cannot be written only costs a warning."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    index = cache.load_index(cache_dir=blocker)
    assert index.n_diseases > 0
    assert "cannot write the differential index cache" in caplog.text


# --- the differential's knowledge ------------------------------------------------------------


def test_knowledge_round_trips_through_json():
    """Check that the knowledge read back from its JSON equals the knowledge written."""
    knowledge = mini_knowledge()
    back = DifferentialKnowledge.from_json(json.loads(json.dumps(knowledge.to_json())))
    assert back == knowledge


def test_knowledge_is_taken_from_the_knowledge_base(kb):
    """Check that sources, drug classes and unit conversions come from the loaded knowledge base."""
    knowledge = load_knowledge(kb)
    assert knowledge.sources == {source_id: row.citation for source_id, row in kb.sources.items()}
    assert knowledge.drug_classes == {name: frozenset(row.members) for name, row in kb.drug_classes.items()}
    for loinc, units in knowledge.conversions.items():
        assert dict(kb.labs_by_loinc[loinc].conversions) == units


def test_cached_knowledge_is_read_without_loading_the_knowledge_base(tmp_path, monkeypatch, kb):
    """Check that the second start reads the knowledge from its cache file, loading nothing."""
    loads = []
    monkeypatch.setattr(cache, "load_knowledge", lambda: loads.append(1) or load_knowledge(kb))
    first = cache.load_cached_knowledge(cache_dir=tmp_path)
    again = cache.load_cached_knowledge(cache_dir=tmp_path)
    assert loads == [1] and again == first
    (written,) = (tmp_path / "differential").glob("knowledge-*.json")
    written.write_text("{", encoding="utf-8")
    assert cache.load_cached_knowledge(cache_dir=tmp_path) == first and loads == [1, 1]


def test_knowledge_key_follows_every_file_it_is_made_from(tmp_path):
    """Check that changing any knowledge file the differential uses changes the key."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    base = cache.knowledge_key(data)
    assert base == cache.knowledge_key(DATA_DIR)
    for name in cache.KNOWLEDGE_FILES:
        path = data / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        assert cache.knowledge_key(data) != base, name
        path.write_bytes(original)
    (data / "drugs.yaml").unlink()
    assert cache.knowledge_key(data) is None


def test_aliases_survive_the_round_trip(mini_graph, tmp_path):
    """Check that a joined row's aliases are written and read back, and find the row."""
    from contraxis.differential import Annotation, Disease, build_index

    from .conftest import MINI_DISEASES

    twin = Disease("ORPHA:501", "Dystonia A (Orphanet)", (Annotation("HP:0031960"),))
    joined = [dataclasses.replace(MINI_DISEASES[0], aliases=("ORPHA:501",)), *MINI_DISEASES[1:]]
    index = build_index(mini_graph, joined)
    path = tmp_path / "index.npz"
    write_index(index, path, key="k1")
    back = read_index(path, key="k1")
    assert back is not None and back.disease_aliases == index.disease_aliases
    assert back.disease_position["ORPHA:501"] == back.disease_position["OMIM:100001"] == 0
    assert back.ids_of(0) == ("OMIM:100001", "ORPHA:501") and back.ids_of(1) == ("OMIM:100002",)
    with pytest.raises(Exception, match="disease ids repeated: ORPHA:501"):
        build_index(mini_graph, [*joined, twin])


def test_knowledge_key_follows_the_reviewed_phenotypes(tmp_path, monkeypatch):
    """Check that changing disease_phenotypes.yaml changes the knowledge key."""
    from contraxis.differential import knowledge

    data = tmp_path / "own"
    shutil.copytree(knowledge.PHENOTYPES_DIR, data)
    monkeypatch.setattr(cache, "PHENOTYPES_DIR", data)
    base = cache.knowledge_key(DATA_DIR)
    (data / knowledge.PHENOTYPES_FILE).write_text("# changed\n", encoding="utf-8")
    assert cache.knowledge_key(DATA_DIR) != base
