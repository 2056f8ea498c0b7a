"""Reading a case into evidence: HPO ids, laboratory results, MRI, onset, local codes."""

from __future__ import annotations

import pytest

from contraxis.case import Lab, read_case
from contraxis.differential.evidence import case_evidence, read_labs

from .conftest import mini_knowledge


def ids(index, positions):
    return sorted(index.term_ids[p] for p in positions)


@pytest.mark.parametrize(
    "value, unit, present, excluded, note",
    [
        (6.9, "mg/dL", ("HP:0002901",), (), ""),
        (9.4, "mg/dL", (), ("HP:0002901",), ""),
        (1.7, "mmol/L", ("HP:0002901",), (), ""),  # 6.8 mg/dL after conversion
        (2.4, "mmol/L", (), ("HP:0002901",), ""),  # 9.6 mg/dL
        (11.0, "mg/dL", (), (), "between the reference range"),
        (0.07, "g/L", ("HP:0002901",), (), ""),  # 7 mg/dL, read through the UCUM units
    ],
)
def test_calcium_becomes_hpo_terms(value, unit, present, excluded, note):
    """Check that a calcium result becomes Hypocalcemia, excludes it when normal, converts
    units, and says why it is not used when it cannot be."""
    [reading] = read_labs([Lab(loinc="17861-6", name="calcium", value=value, unit=unit)], knowledge=mini_knowledge())
    assert reading.present == present
    assert reading.excluded == excluded
    assert note in reading.note
    if present or excluded:
        assert reading.source == "src-1"


def test_unknown_test_is_reported_not_used():
    """Check that a test without an HPO mapping is listed with the reason."""
    [reading] = read_labs(
        [Lab(loinc="1668-3", name="17-OH progesterone", value=800, unit="ng/dL")], knowledge=mini_knowledge()
    )
    assert reading.present == () and reading.excluded == ()
    assert reading.note == "no HPO mapping for this test"


def test_case_is_read_into_terms(mini_kb):
    """Check that findings, MRI findings, exclusions, labs and a normal MRI become terms; obsolete
    ids are replaced; unknown and non-phenotype ids are set aside; CX codes are kept apart."""
    case = read_case({
        "findings": ["HP:0000473", "HP:0000000", "HP:1234567", "HP:0003593", "CX:painful"],
        "absent": ["HP:0001250", "CX:sensory-trick"],
        "labs": [{"loinc": "17861-6", "value": 6.5, "unit": "mg/dL"}],
        "imaging": {"mri_brain": "normal"},
        "onset_age": 0.5,
    })
    read = case_evidence(case, index=mini_kb)
    assert ids(mini_kb, read.present) == [
        "HP:0000473",
        "HP:0002901",
    ]  # Dystonia (for HP:0000000) is implied by Torticollis
    assert read.replaced == {"HP:0000000": "HP:0001332"}
    assert set(read.set_aside) == {"HP:1234567", "HP:0003593"}
    assert ids(mini_kb, read.excluded) == ["HP:0001250"]
    assert ids(mini_kb, read.excluded_by_test) == ["HP:0000478"]
    assert read.local_present == {"CX:painful"} and read.local_absent == {"CX:sensory-trick"}
    assert read.evidence.onset_bands == (3,)
    assert read.onset == "0.5 years: infantile"


def test_onset_term_replaces_the_onset_age(mini_kb):
    """Check that an importer's onset term wins over the age."""
    read = case_evidence(read_case({"onset_age": 40}), index=mini_kb, onset_term="HP:0003593")
    assert read.evidence.onset_bands == (3,)
    assert "Infantile onset" in read.onset


@pytest.mark.parametrize(
    "findings, regions, expected",
    [
        (["HP:0001332"], ["neck"], {"neck": "HP:0000473"}),             # a dystonia of the neck is Torticollis
        (["HP:0002451"], ["neck"], {"neck": "HP:0000473"}),             # any dystonia term says the movement
        (["HP:0001250"], ["neck"], {}),                                 # no dystonia named: regions say nothing
        (["HP:0001332"], ["abdomen"], {}),                              # a region without a dystonia term
    ],
)
def test_the_regions_of_a_dystonia_are_read_as_terms(mini_kb, findings, regions, expected):
    """Check that, when the findings name a dystonia, each body region becomes the HPO term of
    a dystonia there (regions.yaml's dystonia_hpo) and the evidence says which, and that
    otherwise the regions add nothing."""
    import dataclasses

    knowledge = dataclasses.replace(mini_knowledge(), region_terms={"neck": "HP:0000473"})
    index = dataclasses.replace(mini_kb, knowledge=knowledge)
    read = case_evidence(read_case({"findings": findings, "regions": regions}), index=index)
    assert read.from_regions == expected
    assert ("HP:0000473" in ids(index, read.present)) == bool(expected)
