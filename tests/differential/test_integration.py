"""The real index (HPO 2025-11-24 ontology, 2025-01-16 annotations) on real cases.

The figures pinned here change with the data releases; each names how it was produced
(``contraxis differential FILE --jsonl`` gives the same ranks).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contraxis.case import load_case
from contraxis.differential import rank
from contraxis.io.phenopacket import iter_phenopackets

SHARED = Path(__file__).resolve().parents[3] / "shared"
DEV = SHARED / "benchmarks" / "phenopackets-dev.jsonl"
VIGNETTES = SHARED / "vignettes"


def test_releases_and_reconciliation_are_recorded(real_index):
    """Check the releases and the reconciliation counts (python -c "from contraxis.differential
    import load_index; print(load_index().meta['reconciliation'])")."""
    assert real_index.releases["ontology"] == "2025-11-24"
    assert real_index.releases["annotation"] == "2025-01-16"
    counts = real_index.meta["reconciliation"]
    assert counts["replaced_terms"] == 31 and counts["replaced_rows"] == 284
    assert counts["dropped_terms"] == 1 and counts["dropped_rows"] == 3
    assert counts["diseases_only_in_ontology_release"] == 233
    assert counts["diseases_only_in_annotation_release"] == 72
    assert counts["rows_from_ontology_release"] == 975
    # 12,898 annotated entries, 2,153 of them joined into another's row (MONDO), + 19 acquired causes
    assert counts["joined_entries"] == 2153 and real_index.n_diseases == 10764
    # disease_phenotypes.yaml: DYT-TOR1A limb dystonia, DYT-SGCE arm dystonia, DYT/PARK-GCH1 leg
    # dystonia and gait disturbance
    assert counts["reviewed_rows"] == 4


def test_an_id_mondo_matches_to_a_row_finds_it_without_annotations_of_its_own(real_index):
    """Check that OMIM:611291, which MONDO matches to Orphanet's Cernunnos-XLF deficiency and
    which the 2025-01-16 annotation does not describe, names that row (11 broad development
    phenopackets name it), while an OMIM entry of the annotation keeps its own row."""
    row = real_index.disease_position["OMIM:611291"]
    assert real_index.disease_position["ORPHA:169079"] == row
    assert real_index.ids_of(row) == ("ORPHA:169079", "OMIM:611291")
    assert real_index.ids_of(real_index.disease_position["OMIM:612164"]) == ("OMIM:612164", "ORPHA:599373")


@pytest.fixture(scope="module")
def sgce_cases():
    if not DEV.exists():
        pytest.skip(f"the dev benchmark is not here: {DEV}")
    return {c.case.id: c for c in iter_phenopackets(DEV) if c.diagnoses and c.diagnoses[0].id == "OMIM:159900"}


@pytest.mark.parametrize("case_id", ["PMID_28949039_Case_3", "PMID_28949039_Case_4"])
def test_myoclonus_dystonia_patients_rank_dyt_sgce_in_the_top_ten(real_index, sgce_cases, case_id):
    """Check that published SGCE patients rank Dystonia 11 (DYT-SGCE) in the top ten."""
    imported = sgce_cases[case_id]
    result = rank(imported.case, index=real_index, top=10, onset_term=imported.onset_term)
    found = [c for c in result.candidates if c.disease_id == "OMIM:159900"]
    assert found, [c.disease_id for c in result.candidates]
    assert found[0].mds_name == "DYT-SGCE" and found[0].genes == ("SGCE",)
    assert result.hpo_release == "2025-11-24 (annotations 2025-01-16)"


@pytest.mark.parametrize(
    "vignette, first",
    [
        ("P01-cervical-dystonia-sensory-trick", "CX:cause-idiopathic-focal-dystonia"),
        ("P02-blepharospasm-untreated-disabling", "CX:cause-idiopathic-focal-dystonia"),
        ("P03-adductor-spasmodic-dysphonia", "CX:cause-idiopathic-focal-dystonia"),
        ("P10-adult-onset-truncal-dystonia", "CX:cause-idiopathic-focal-dystonia"),  # no drug: not tardive
        ("P12-dopa-responsive-childhood-foot-dystonia-diurnal", "OMIM:128230"),  # treatable, so first (levodopa)
        ("P13-myoclonus-dystonia-alcohol-responsive", "OMIM:159900"),  # idiopathic second, not moved ahead
        ("P16-tor1a-proven-focal-writers-cramp-since-childhood", "OMIM:128100"),  # a proven cause
        ("P21-metoclopramide-acute-dystonic-reaction", "CX:cause-acute-dystonic-reaction"),
        ("P47-risperidone-dystonia-four-weeks-child", "CX:cause-acute-dystonic-reaction"),  # not idiopathic
        ("P44-esomeprazole-hypomagnesaemia-tetany-normal-calcium", "CX:cause-hypomagnesemia"),
        ("P45-hydrochlorothiazide-severe-hypokalaemia-cramps", "CX:cause-hypokalemia"),  # the low potassium
        ("P46-night-cramps-low-albumin-corrected-calcium-normal", "CX:cause-nocturnal-leg-cramps"),  # corrected
        ("P24-post-stroke-hemidystonia", "CX:cause-post-stroke-dystonia"),
        ("P26-wilson-disease-confirmed", "OMIM:277900"),
        ("P27-pkan-eye-of-the-tiger", "OMIM:234200"),
        ("P33-post-thyroidectomy-hypocalcemic-tetany", "CX:cause-hypocalcemia"),
        ("P34-nocturnal-calf-toe-cramps-older-woman", "CX:cause-nocturnal-leg-cramps"),
    ],
)
def test_vignettes_lead_with_their_cause(real_index, vignette, first):
    """Check that acquired, treatable and Mendelian causes each lead their vignette's list."""
    path = VIGNETTES / f"{vignette}.yaml"
    if not path.exists():
        path = VIGNETTES / "next" / f"{vignette}.yaml"
    assert path.exists(), f"the vignette is not here: {path}"
    result = rank(load_case(path), index=real_index, top=10)
    assert result.candidates[0].disease_id == first
    data = json.loads(json.dumps(result.to_json()))
    assert data["candidates"][0]["disease_id"] == first


def test_wilson_disease_is_flagged_treatable_with_its_source(real_index):
    """Check that Wilson disease carries its treatment and the lab-derived terms explain it."""
    result = rank(load_case(VIGNETTES / "P26-wilson-disease-confirmed.yaml"), index=real_index, top=5)
    wilson = result.candidates[0]
    assert wilson.treatable and "chelation" in wilson.treatment.name and wilson.treatment.source == "aasld-2023-wilson"
    matched = {line.term for line in wilson.explanation.matched}
    assert {"HP:0010837", "HP:0010839", "HP:0200032"} <= matched  # ceruloplasmin, urine copper, KF rings


def test_the_readme_figures_for_the_reviewed_phenotypes(real_index, sgce_cases):
    """Check the figures the README gives for the knowledge base's own disease phenotypes: a
    typical childhood case with limb and generalized dystonia ranks DYT-TOR1A fifth, first
    at 0.83 with a TOR1A variant found; the dev set's myoclonus-dystonia patient
    PMID_28949039_Case_1 ranks DYT-SGCE eighth."""
    from contraxis.case import read_case

    def place(result, disease):
        return next(i for i, c in enumerate(result.candidates, start=1) if c.disease_id == disease)

    typical = {"age": 12, "onset_age": 9, "findings": ["HP:0002451", "HP:0007325"]}
    assert place(rank(read_case(typical), index=real_index, top=20), "OMIM:128100") == 5
    proven = rank(read_case({**typical, "genetics": {"tested": ["TOR1A"], "positive": ["TOR1A"]}}),
                  index=real_index, top=5)
    assert proven.candidates[0].disease_id == "OMIM:128100"
    assert proven.candidates[0].post_test_probability == pytest.approx(0.83, abs=0.01)
    imported = sgce_cases["PMID_28949039_Case_1"]
    result = rank(imported.case, index=real_index, top=20, onset_term=imported.onset_term)
    assert place(result, "OMIM:159900") == 8
