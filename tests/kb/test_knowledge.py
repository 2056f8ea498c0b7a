"""Common checks over every knowledge-base row: the schema validates, every source resolves,
every code exists in its official table, and a malformed file is refused with a clear error."""

from __future__ import annotations

import re
import shutil

import pytest

from contraxis import KnowledgeBaseError, load_knowledge_base
from contraxis.codes import load_code_tables, loinc_check_digit_ok
from contraxis.knowledge import DATA_DIR


@pytest.fixture(scope="module")
def tables():
    return load_code_tables()


def test_bundled_releases_are_pinned(kb):
    """Check that the knowledge base and HPO releases are the ones the expected answers were made with."""
    assert kb.hpo_release == "2025-11-24"
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d+", kb.version)


def test_condition_codes_are_in_the_official_tables(kb, tables):
    """Check that every ICD-10-CM and ICD-11 code of conditions.yaml exists, with its official title."""
    for condition in kb.conditions.values():
        icd10 = tables.icd10cm(condition.icd10cm.code)
        assert icd10 is not None, f"{condition.id}: unknown ICD-10-CM code {condition.icd10cm.code}"
        assert icd10.billable, f"{condition.id}: {condition.icd10cm.code} is a category, not a billable code"
        assert icd10.display == condition.icd10cm.title
        icd11 = tables.icd11(condition.icd11.code)
        assert icd11 is not None, f"{condition.id}: unknown ICD-11 code {condition.icd11.code}"
        assert icd11.display == condition.icd11.title


def test_every_hpo_id_in_the_data_files_is_current():
    """Check that every HPO id written anywhere in the knowledge base is a current term of the bundled release."""
    from contraxis.codes import HpoOntology

    hpo = HpoOntology.load()
    seen = set()
    for path in DATA_DIR.rglob("*.yaml"):
        for code in re.findall(r"HP:\d{7}", path.read_text(encoding="utf-8")):
            seen.add(code)
            assert hpo.is_current(code), f"{path.name}: {code} is not a current HPO term"
    assert len(seen) > 80


def test_laboratory_codes_are_valid_loinc(kb):
    """Check that every LOINC code of labs.yaml passes the LOINC check digit."""
    for lab in kb.labs.values():
        assert loinc_check_digit_ok(lab.loinc), lab.loinc
    assert {lab.loinc for lab in kb.labs.values()} >= {
        "17861-6",
        "1994-3",
        "2951-2",
        "19123-9",
        "2064-4",
        "2157-6",
        "2731-8",
        "13967-5",
    }


def test_every_row_cites_a_source(kb):
    """Check that every rule cites a source of sources.yaml and carries a review date."""
    for rule in kb.rules():
        assert rule["source"] in kb.sources, rule["id"]
        if rule["stage"] != "definitions":
            assert rule["reviewed"], rule["id"]
    for source in kb.sources.values():
        assert source.citation and source.url


def test_drug_names_are_generic_lower_case(kb):
    """Check that drug classes list generic names in lower case, as cases give them."""
    for cls in kb.drug_classes.values():
        for member in cls.members:
            assert re.fullmatch(r"[a-z][a-z0-9 \-/]*", member), member
    assert "metoclopramide" in kb.drug_classes["dopamine-blocking"].members


def test_gene_symbols_name_conditions(kb):
    """Check that every gene of genes.yaml leads to a known condition and class."""
    for gene in kb.genes.values():
        assert gene.condition in kb.conditions
        assert gene.class_ in {"primary", "degenerative"}


def _copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        (
            "rules/alerts.yaml",
            "{lt: {onset_age: 50}}",
            "{within: {onset_age: 50}}",
            "rules/alerts.yaml: alert.wilson-screen.when.all[1]: "
            "unknown operator 'within' (allowed: absent, alert, all, any",
        ),
        (
            "rules/alerts.yaml",
            "source: allen-2014",
            "source: nobody-2020",
            "rules/alerts.yaml: alert.status-dystonicus: source 'nobody-2020' is not in sources.yaml",
        ),
        (
            "findings.yaml",
            "codes: [HP:0010828]",
            "codes: [HP:9999999]",
            "findings.yaml: hemifacial-spasm: HP:9999999 is not a current term",
        ),
        (
            "rules/cause.yaml",
            "{finding: hemifacial-spasm}",
            "{finding: hemifacial-spazm}",
            "rules/cause.yaml: cause.nerve-irritation.when.finding: "
            "'hemifacial-spazm' is neither a concept of findings.yaml",
        ),
        (
            "rules/alerts.yaml",
            'urgency: emergency\n    message: "Severe, continuous',
            'urgency: whenever\n    message: "Severe, continuous',
            "rules/alerts.yaml: alert.status-dystonicus (rules[",
        ),
    ],
)
def test_malformed_knowledge_is_refused_with_a_clear_error(tmp_path, file, old, new, message):
    """Check that a wrong knowledge-base file is refused at load, naming the file, the row and the problem."""
    data = _copy(tmp_path)
    path = data / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(data)
    assert message in str(info.value)


def test_unmodified_copy_loads(tmp_path):
    """Check that a copy of the bundled data loads, so the refusals above come from the edits alone."""
    kb = load_knowledge_base(_copy(tmp_path))
    assert kb.rules()
