"""The FHIR reader's data files: valid, sourced, and holding real codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contraxis import codes as code_tables
from contraxis.errors import KnowledgeBaseError
from contraxis.io.fhir.tables import load_tables

DATA = Path(__file__).resolve().parents[3] / "contraxis" / "io" / "fhir" / "data"


@pytest.fixture(scope="module")
def tables():
    return load_tables()


def test_every_snomed_id_passes_its_check_digit(tables):
    """Check that each SNOMED CT id of the tables (body sites, severity, presence) passes the Verhoeff check."""
    ids = [*tables.regions.snomed, *tables.elements.severity_snomed.codes,
           *tables.elements.presence.snomed_negative, *tables.elements.presence.snomed_positive]
    assert ids and all(code_tables.snomed_check_digit_ok(code) for code in ids), ids


def test_every_hpo_id_is_a_current_term(tables):
    """Check that each HPO id (course, severity, dystonic-reaction roots) is a current term of the bundled HPO."""
    ids = [*tables.elements.course.codes, *tables.elements.severity_hpo.codes, *tables.reactions.hpo_roots]
    for term in ids:
        found = code_tables.load_code_tables().hpo(term)
        assert found is not None and not found.obsolete, term


def test_every_loinc_code_passes_its_check_digit(tables):
    """Check the gene-test LOINC codes against the LOINC mod-10 check digit."""
    for code in [*tables.elements.gene_test.variant_loinc, tables.elements.gene_test.gene_studied_loinc]:
        assert code_tables.loinc_check_digit_ok(code), code


def test_a_mistake_stops_the_load_naming_file_row_and_field(tmp_path):
    """Check that a bad value and an unknown source are named with their file and field."""
    for name in DATA.glob("*.yaml"):
        shutil.copy(name, tmp_path / name.name)
    regions = (tmp_path / "regions.yaml").read_text(encoding="utf-8")
    (tmp_path / "regions.yaml").write_text(regions.replace('"45048000": neck', '"45048000": nape'), encoding="utf-8")
    statuses = (tmp_path / "statuses.yaml").read_text(encoding="utf-8")
    (tmp_path / "statuses.yaml").write_text(
        statuses.replace("source: hl7-fhir-r4", "source: folklore"), encoding="utf-8"
    )
    with pytest.raises(KnowledgeBaseError) as caught:
        load_tables(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    assert "statuses.yaml: source: 'folklore' is not in the knowledge base's sources.yaml" in messages
    assert any(m.startswith("regions.yaml: snomed: ") and "'nape' is not a region of the case format" in m
               for m in messages), messages
