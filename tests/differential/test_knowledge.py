"""The differential's reviewed data files: schema, sources, codes and the ontology release."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from contraxis.differential import TermGraph, load_knowledge
from contraxis.differential.annotations import HPOA_FILE, bundled_files, read_hpoa
from contraxis.differential.knowledge import ACQUIRED_FILE, DYSTONIAS_FILE, LABS_FILE
from contraxis.errors import KnowledgeBaseError
from contraxis.knowledge import DATA_DIR

KNOWLEDGE = load_knowledge()


@pytest.fixture(scope="module")
def hpo_graph() -> TermGraph:
    from contraxis.codes import HpoOntology

    return TermGraph.from_hpo3(HpoOntology.load().ontology)


@pytest.fixture(scope="module")
def annotated() -> dict[str, str]:
    """Disease ids and names of the bundled phenotype.hpoa."""
    hpoa = next(f for f in bundled_files() if f.name == HPOA_FILE)
    _, diseases = read_hpoa(hpoa.lines())
    return {d.id: d.name for d in diseases}


def test_every_hpo_id_is_a_current_term_of_hpo3(hpo_graph):
    """Check that each HPO id of the three files exists, not obsolete, in hpo3's release."""
    assert KNOWLEDGE.hpo_ids()
    KNOWLEDGE.check_terms(hpo_graph.ids, release=hpo_graph.release)


def test_check_terms_names_a_missing_term(hpo_graph):
    """Check that a term the release lacks is reported with where it is used."""
    with pytest.raises(KnowledgeBaseError, match=r"lab_to_hpo.yaml: tests \(17861-6\).*not a current term"):
        KNOWLEDGE.check_terms([t for t in hpo_graph.ids if t != "HP:0002901"], release=hpo_graph.release)


@pytest.mark.parametrize(
    "entry",
    sorted({e.gene: e for e in KNOWLEDGE.dystonias.values()}.values(), key=lambda e: e.gene),
    ids=lambda e: e.gene,
)
def test_genetic_dystonia_entry(entry, annotated):
    """Check that each genetic dystonia's OMIM ids are diseases of the annotation file and its
    source resolves."""
    for omim in entry.omim:
        assert omim in annotated, f"{entry.gene}: {omim} is not in phenotype.hpoa"
    assert entry.source in KNOWLEDGE.sources
    if entry.treatment is None:
        assert not entry.levodopa_responsive, f"{entry.gene}: levodopa-responsive but no treatment named"


def test_mds_names_agree_with_the_knowledge_base_genes():
    """Check that a gene named in both genes.yaml and genetic_dystonias.yaml has one MDS name."""
    rows = yaml.safe_load((DATA_DIR / "genes.yaml").read_text(encoding="utf-8"))
    theirs = {row["gene"]: row.get("mds_name") for row in rows}
    for entry in {e.gene: e for e in KNOWLEDGE.dystonias.values()}.values():
        if entry.gene in theirs and entry.mds_name and theirs[entry.gene]:
            assert entry.mds_name == theirs[entry.gene], entry.gene


@pytest.mark.parametrize("cause", KNOWLEDGE.acquired, ids=lambda c: c.id)
def test_acquired_cause(cause):
    """Check that each acquired cause has a defining fact, a treatment and a source that resolves."""
    assert cause.requires and cause.treatment
    assert cause.source in KNOWLEDGE.sources
    for requirement in cause.requires:
        if requirement.drug_class:
            assert KNOWLEDGE.drug_classes[requirement.drug_class]


@pytest.mark.parametrize("test", list(KNOWLEDGE.labs.values()), ids=lambda t: f"{t.loinc}-{t.name}")
def test_lab_row(test):
    """Check that each laboratory row maps at least one side to a term and cites a source."""
    assert test.low is not None or test.high is not None
    assert test.source in KNOWLEDGE.sources
    if test.normal and test.low and test.low.below is not None:
        assert test.normal.from_ >= test.low.below
    if test.normal and test.high and test.high.above is not None:
        assert test.normal.to <= test.high.above


def test_lab_rows_read_results_as_the_assessment_does():
    """Check that a laboratory row's normal range is the reference range labs.yaml gives the
    same test (the differential and the assessment call the same results normal), and that a
    test labs.yaml reads corrected (calcium by albumin) carries that correction."""
    from contraxis.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    compared = 0
    for loinc, test in KNOWLEDGE.labs.items():
        row = kb.labs_by_loinc.get(loinc)
        if row is None or row.unit != test.unit or test.normal is None:
            continue
        compared += 1
        assert (test.normal.from_, test.normal.to) == (row.low, row.high), loinc
        if row.correction is not None:
            by, correction = KNOWLEDGE.corrections[loinc]
            assert correction == row.correction and by == kb.labs[row.correction.by].loinc
    assert compared >= 4  # calcium, sodium, potassium, magnesium at least
    assert KNOWLEDGE.corrections["17861-6"][0] == "1751-7"  # calcium by albumin


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_malformed_file_names_every_problem(tmp_path):
    """Check that schema problems are all reported, each with its file and field."""
    data = copy_data(tmp_path)
    text = (data / ACQUIRED_FILE).read_text(encoding="utf-8")
    text = text.replace("frequency: obligate}          # Dystonia", "frequency: often}          # Dystonia", 1)
    text = text.replace("pretest: uncommon", "pretest: rare", 1)
    (data / ACQUIRED_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge(directory=data)
    message = str(caught.value)
    assert "acquired_causes.yaml: causes[0].pretest: 'rare'" in message
    assert "acquired_causes.yaml: causes[0].phenotype[0].frequency: 'often'" in message


def test_unresolved_references_are_named(tmp_path):
    """Check that an unknown source, drug class, history code, a repeated id and a test that
    overrules one the file does not hold are reported."""
    data = copy_data(tmp_path)
    acquired = yaml.safe_load((data / ACQUIRED_FILE).read_text(encoding="utf-8"))
    acquired["causes"][0]["source"] = "nobody-2099"
    acquired["causes"][0]["requires"] = [{"drug_class": "love-potions"}, {"history": "CX:hx-time-travel"}]
    acquired["causes"][1]["id"] = acquired["causes"][0]["id"]
    (data / ACQUIRED_FILE).write_text(yaml.safe_dump(acquired), encoding="utf-8")
    dystonias = yaml.safe_load((data / DYSTONIAS_FILE).read_text(encoding="utf-8"))
    dystonias["entries"][0]["omim"] = ["OMIM:12"]
    (data / DYSTONIAS_FILE).write_text(yaml.safe_dump(dystonias), encoding="utf-8")
    labs = yaml.safe_load((data / LABS_FILE).read_text(encoding="utf-8"))
    ionized = next(test for test in labs["tests"] if test["loinc"] == "1994-3")
    ionized["decides_over"] = ["1234-5"]
    (data / LABS_FILE).write_text(yaml.safe_dump(labs), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge(directory=data)
    message = str(caught.value)
    assert "lab_to_hpo.yaml: 1994-3.decides_over: 1234-5 is not another test of the file" in message
    assert "source 'nobody-2099' is not in sources.yaml" in message
    assert "drug class 'love-potions' is not in drugs.yaml (allowed:" in message
    assert "CX:hx-time-travel is not a code of history.yaml" in message
    assert "is given twice" in message
    assert "'OMIM:12' is not an OMIM id" in message


def test_sources_live_in_one_registry(tmp_path):
    """Check that every source of sources.yaml has a url and that a file's own sources block is refused."""
    rows = yaml.safe_load((DATA_DIR / "sources.yaml").read_text(encoding="utf-8"))
    assert all(row.get("url", "").startswith("https://") for row in rows)
    for name in (ACQUIRED_FILE, LABS_FILE, DYSTONIAS_FILE):
        assert "sources" not in yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    data = copy_data(tmp_path)
    dystonias = yaml.safe_load((data / DYSTONIAS_FILE).read_text(encoding="utf-8"))
    dystonias["sources"] = [{"id": "own-2024", "citation": "A file's own source."}]
    (data / DYSTONIAS_FILE).write_text(yaml.safe_dump(dystonias), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge(directory=data)
    assert "genetic_dystonias.yaml: sources" in str(caught.value)


def test_unreadable_yaml_is_reported(tmp_path):
    """Check that a file that is not YAML is named."""
    data = copy_data(tmp_path)
    (data / LABS_FILE).write_text("tests: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="lab_to_hpo.yaml: not valid YAML"):
        load_knowledge(directory=data)


def test_lab_codes_are_valid_loinc_codes_of_the_knowledge_base():
    """Check that each LOINC code passes its check digit and is a test of labs.yaml, in its unit."""
    from contraxis.codes import loinc_check_digit_ok

    rows = {row["loinc"]: row for row in yaml.safe_load((DATA_DIR / "labs.yaml").read_text(encoding="utf-8"))}
    for loinc, test in KNOWLEDGE.labs.items():
        assert loinc_check_digit_ok(loinc), loinc
        assert loinc in rows and rows[loinc]["unit"] == test.unit, loinc


def test_reviewed_phenotypes_describe_dystonias_of_the_knowledge_base():
    """Check that the reviewed phenotype file describes DYT-TOR1A and DYT-SGCE (and others), each
    a disease of genetic_dystonias.yaml, with a gene-specific reviewed source that resolves, its
    terms current HPO terms (checked with the other files' terms above)."""
    entries = {entry.disease: entry for entry in KNOWLEDGE.phenotypes}
    assert {"OMIM:128100", "OMIM:159900"} <= set(entries)
    for disease, entry in entries.items():
        assert disease in KNOWLEDGE.dystonias and entry.name == KNOWLEDGE.dystonias[disease].mds_name
        # a gene-specific review: a GeneReviews chapter, or the source the entry of
        # genetic_dystonias.yaml already cites for the disease
        assert entry.source in KNOWLEDGE.sources
        assert entry.source.startswith("genereviews-") or entry.source == KNOWLEDGE.dystonias[disease].source
    assert ("HP:0002451", "very frequent") in {(r.hpo, r.frequency) for r in entries["OMIM:128100"].phenotype}
    assert all(a.origin == "reviewed" and a.references == (entries["OMIM:159900"].source,)
               for a in entries["OMIM:159900"].annotations())


def test_malformed_reviewed_phenotypes_are_named(tmp_path):
    """Check that an unknown source, a disease genetic_dystonias.yaml lacks, a bad frequency and a
    repeated term are each reported with the file and the entry."""
    from contraxis.differential.knowledge import PHENOTYPES_DIR, PHENOTYPES_FILE

    data = yaml.safe_load((PHENOTYPES_DIR / PHENOTYPES_FILE).read_text(encoding="utf-8"))
    data["diseases"][0]["source"] = "nobody-2099"
    data["diseases"][1]["disease"] = "OMIM:100001"
    data["diseases"][1]["phenotype"].append(dict(data["diseases"][1]["phenotype"][0]))
    (tmp_path / PHENOTYPES_FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge(phenotypes_dir=tmp_path)
    message = str(caught.value)
    assert "disease_phenotypes.yaml: diseases[0] (OMIM:128100): source 'nobody-2099' is not in sources.yaml" in message
    assert "OMIM:100001 is not an entry of genetic_dystonias.yaml" in message
    assert "diseases[1] (OMIM:100001).phenotype: a term is given twice" in message
    data["diseases"][0]["phenotype"][0]["frequency"] = "usually"
    (tmp_path / PHENOTYPES_FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"diseases\[0\].phenotype\[0\].frequency: 'usually'"):
        load_knowledge(phenotypes_dir=tmp_path)


def test_every_region_with_a_dystonia_has_its_term():
    """Check that the regions a dystonia can take (all but the abdomen) carry an HPO term,
    checked with the others against the ontology (test_every_hpo_id_is_a_current_term_of_hpo3)."""
    assert set(KNOWLEDGE.region_terms) == {
        "upper-face", "lower-face", "jaw", "tongue", "larynx", "neck", "trunk", "back",
        "left-arm", "right-arm", "left-leg", "right-leg", "left-foot", "right-foot",
    }
    assert KNOWLEDGE.region_terms["neck"] == "HP:0000473"  # HPO names cervical dystonia Torticollis
    assert any(where.startswith("regions.yaml") for _, where in KNOWLEDGE.hpo_ids())
