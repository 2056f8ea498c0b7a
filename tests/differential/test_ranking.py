"""rank(): acquired causes beside the diseases, case facts, treatable first, JSON, genes."""

from __future__ import annotations

import json
import math

import pytest

from contraxis.case import read_case
from contraxis.differential import rank
from contraxis.differential.genes import suggest_genes

CAUSE = "CX:cause-drug-dystonia"


def position(result, disease):
    return next(i for i, c in enumerate(result.candidates) if c.disease_id == disease)


def candidate(result, disease):
    return result.candidates[position(result, disease)]


def test_acquired_cause_needs_its_exposure(mini_kb):
    """Check that the drug-induced cause leads with the drug and is 1:100 without it, naming the need."""
    findings = {"findings": ["HP:0000473", "CX:painful"], "onset_age": 30}
    with_drug = rank(
        read_case({**findings, "medications": [{"name": "haloperidol", "days_since_start": 2}]}), index=mini_kb, top=10
    )
    without = rank(read_case(findings), index=mini_kb, top=10)
    assert with_drug.candidates[0].disease_id == CAUSE
    facts = candidate(with_drug, CAUSE).explanation.facts
    assert facts[0].kind == "requirement" and "haloperidol" in facts[0].text
    assert facts[0].log10_lr == pytest.approx(-math.log10(mini_kb.parameters.exposure_background))
    needs = [f for f in candidate(without, CAUSE).explanation.facts if f.kind == "needs"]
    assert needs and needs[0].log10_lr == pytest.approx(math.log10(mini_kb.parameters.acquired_unmet))
    assert "dopamine-blocking drug started within 7 days" in needs[0].text


@pytest.mark.parametrize("days, met", [(0, True), (7, True), (8, False), (None, True)])
def test_drug_timing_counts(mini_kb, days, met):
    """Check that the drug must have been started within the cause's window (no date: counts)."""
    case = read_case(
        {"findings": ["HP:0000473"], "medications": [{"name": "metoclopramide", "days_since_start": days}]}
    )
    kinds = [f.kind for f in candidate(rank(case, index=mini_kb, top=10), CAUSE).explanation.facts]
    assert ("requirement" in kinds) is met and ("needs" in kinds) is not met


@pytest.mark.parametrize(
    "medication, ages, met",
    [
        ({"name": "Reglan 10 mg tablet", "days_since_start": 1}, {}, True),  # a brand and strength: metoclopramide
        ({"name": "HALDOL", "days_since_start": 2}, {}, True),
        ({"name": "haloperidol", "days_since_start": 30, "days_since_dose_increase": 3}, {}, True),  # dose raised
        ({"name": "haloperidol", "days_since_start": 30, "days_since_dose_increase": 20}, {}, False),
        ({"name": "haloperidol", "days_since_start": 5}, {"age": 40, "onset_age": 35}, False),  # after the onset
    ],
)
def test_a_drug_is_read_as_the_assessment_reads_it(mini_kb, medication, ages, met):
    """Check that the differential reads a drug's ingredients (brand names, strengths), counts a
    recent dose increase like a start and a drug started after the movement began as no
    exposure, as the assessment does, and names what it read."""
    case = read_case({"findings": ["HP:0000473"], "medications": [medication], **ages})
    facts = candidate(rank(case, index=mini_kb, top=10), CAUSE).explanation.facts
    requirement = [f for f in facts if f.kind == "requirement"]
    assert bool(requirement) is met and any(f.kind == "needs" for f in facts) is not met
    if met:
        assert "dopamine-blocking" in requirement[0].text
        assert ("dose raised 3 days ago" in requirement[0].text) == ("days_since_dose_increase" in medication)


def test_local_codes_support_the_cause(mini_kb):
    """Check that a supporting CX code counts for the cause when present and against when absent."""
    drug = {"medications": [{"name": "haloperidol", "days_since_start": 1}], "findings": ["HP:0000473"]}
    present = rank(read_case({**drug, "findings": ["HP:0000473", "CX:painful"]}), index=mini_kb, top=10)
    absent = rank(read_case({**drug, "absent": ["CX:painful"]}), index=mini_kb, top=10)
    up = [f for f in candidate(present, CAUSE).explanation.facts if f.kind == "supports"][0]
    down = [f for f in candidate(absent, CAUSE).explanation.facts if f.kind == "supports"][0]
    assert up.log10_lr > 0 > down.log10_lr


def test_gene_tests_count_for_the_genes_diseases(mini_kb):
    """Check that a positive gene raises its disease and a negative test lowers it."""
    base = {"findings": ["HP:0001332"]}
    plain = rank(read_case(base), index=mini_kb, top=10)
    positive = rank(
        read_case({**base, "genetics": {"tested": ["GENEC"], "positive": ["GENEC"]}}), index=mini_kb, top=10
    )
    negative = rank(read_case({**base, "genetics": {"tested": ["GENEC"]}}), index=mini_kb, top=10)
    score = lambda r: candidate(r, "OMIM:100003").score  # noqa: E731
    assert score(positive) > score(plain) > score(negative)
    assert "GENEC" not in [g.gene for g in negative.genes]  # already tested


def test_treatable_candidate_that_fits_comes_first(mini_kb):
    """Check that a treatable disease within tenfold of the leader moves to the front, keeping
    its probability rank, and carries its MDS name and treatment with the source."""
    result = rank(read_case({"findings": ["HP:0001332", "HP:0001337"]}), index=mini_kb, top=10)
    first = result.candidates[0]
    assert first.disease_id == "OMIM:100003"
    assert first.treatable and first.treatment.name == "chelation" and first.treatment.citation == "Another source."
    assert first.mds_name == "DYT-GENEC"
    ranks = [c.rank for c in result.candidates]
    assert sorted(ranks) == list(range(1, len(ranks) + 1))


def test_unmet_acquired_cause_is_not_moved_forward(mini_kb):
    """Check that an acquired cause without its defining exposure keeps its probability rank."""
    result = rank(read_case({"findings": ["HP:0000473"]}), index=mini_kb, top=10)
    cause = candidate(result, CAUSE)
    assert position(result, CAUSE) >= cause.rank - 1  # others may move ahead of it, it never moves up


def test_to_json_is_compact_json_ready_data(mini_kb):
    """Check that the differential serialises with the fields the engine and the CLI read."""
    case = read_case(
        {"id": "c1", "findings": ["HP:0000473"], "labs": [{"loinc": "17861-6", "value": 9.5, "unit": "mg/dL"}]}
    )
    data = rank(case, index=mini_kb, top=3).to_json()
    text = json.dumps(data)
    assert json.loads(text) == data
    assert data["id"] == "c1" and data["hpo_release"] == "mini-1 (annotations mini-1)"
    assert len(data["candidates"]) == 3
    first = data["candidates"][0]
    for key in ("disease_id", "name", "genes", "mds_name", "score", "post_test_probability", "treatable", "treatment",
                "matched", "missing", "excluded", "onset", "parts"):
        assert key in first
    assert data["evidence"]["labs"][0]["excluded"] == ["HP:0002901"]
    assert data["evidence"]["excluded"] == [{"term": "HP:0002901", "name": "Hypocalcemia"}]
    assert data["evidence"]["reporting_rate"] == round(mini_kb.reporting_rate(1), 3) > 0  # one finding
    detailed = rank(case, index=mini_kb, top=1).to_json(detail=True)
    assert "organ_systems" in detailed["candidates"][0]["explanation"]


def test_top_limits_the_candidates_but_every_disease_is_scored(mini_kb):
    """Check that top trims the list and the count of diseases ranked is the whole index."""
    result = rank(read_case({"findings": ["HP:0001250"]}), index=mini_kb, top=2)
    assert len(result.candidates) == 2 and result.n_diseases == mini_kb.n_diseases


def test_gene_suggestions_share_probability_across_genes():
    """Check that each disease's probability is split among its genes and summed per gene."""
    genes = suggest_genes([("D1", 0.6, ("A",)), ("D2", 0.3, ("A", "B")), ("D3", 0.1, ())], already_tested=["C"])
    assert [(g.gene, round(g.probability, 3), g.diseases) for g in genes] == [
        ("A", 0.75, ("D1", "D2")),
        ("B", 0.15, ("D2",)),
    ]


def _with_idiopathic(mini_graph, *, of_exclusion: bool):
    """The mini index with an idiopathic dystonia beside the mini knowledge's drug-induced one."""
    import dataclasses

    from contraxis.differential import ModelParameters, build_index
    from contraxis.differential.knowledge import AcquiredCause

    from .conftest import MINI_DISEASES, MINI_PARAMETERS, mini_knowledge

    idiopathic = AcquiredCause.model_validate({
        "id": IDIOPATHIC, "name": "Idiopathic dystonia", "pretest": "uncommon",
        "requires": [{"finding": "HP:0001332"}],
        "phenotype": [{"hpo": "HP:0001332", "frequency": "obligate"}, {"hpo": "HP:0000473", "frequency": "frequent"}],
        "treatment": "botulinum toxin", "source": "src-1", "of_exclusion": of_exclusion,
    })
    knowledge = mini_knowledge()
    knowledge = dataclasses.replace(knowledge, acquired=(*knowledge.acquired, idiopathic))
    return build_index(
        mini_graph, [*MINI_DISEASES, *knowledge.acquired_diseases()], parameters=ModelParameters(**MINI_PARAMETERS),
        priors=knowledge.priors(), meta={"releases": {"ontology": "mini-1", "annotation": "mini-1"}},
        knowledge=knowledge,
    )


IDIOPATHIC = "CX:cause-idiopathic-dystonia"


def test_a_diagnosis_of_exclusion_keeps_its_probability_rank(mini_graph):
    """Check that an idiopathic cause that would come first as a treatable candidate that
    fits (second to a genetic disease whose gene test is positive, within tenfold) is listed
    by its probability instead, its treatment still shown."""
    from contraxis.differential.ranking import score_case, treatable_fits

    genetics = {"tested": ["GENEA"], "positive": ["GENEA"]}
    case = read_case({"findings": ["HP:0000473", "HP:0002451"], "genetics": genetics})
    moved = _with_idiopathic(mini_graph, of_exclusion=False)
    kept = _with_idiopathic(mini_graph, of_exclusion=True)
    for index, expected in ((moved, True), (kept, False)):
        _, facts, scores = score_case(case, index=index)
        assert treatable_fits(scores, facts, index)[index.disease_position[IDIOPATHIC]] == expected
    assert rank(case, index=moved, top=10).candidates[0].disease_id == IDIOPATHIC  # moved to the front
    result = rank(case, index=kept, top=10)
    assert [c.disease_id for c in result.candidates[:2]] == ["OMIM:100001", IDIOPATHIC]
    assert candidate(result, IDIOPATHIC).treatable


def test_a_proven_genetic_cause_counts_against_a_diagnosis_of_exclusion(mini_graph):
    """Check that a disease-causing variant in a gene of the genetic dystonias lowers the
    idiopathic cause by the false-positive rate, and one in another gene does not."""
    index = _with_idiopathic(mini_graph, of_exclusion=True)
    base = {"findings": ["HP:0001332", "HP:0000473"]}
    plain = candidate(rank(read_case(base), index=index, top=20), IDIOPATHIC)
    def with_variant(gene: str):
        return rank(read_case({**base, "genetics": {"tested": [gene], "positive": [gene]}}), index=index, top=20)

    dystonia_gene, other_gene = with_variant("GENEC"), with_variant("GENEA")
    lowered = candidate(dystonia_gene, IDIOPATHIC)
    assert lowered.score == pytest.approx(plain.score + math.log10(index.parameters.gene_false_positive), abs=1e-3)
    assert "GENEC: disease-causing variant found, a proven cause" in {f.text for f in lowered.explanation.facts}
    assert candidate(other_gene, IDIOPATHIC).score == pytest.approx(plain.score, abs=1e-3)


def test_an_exposure_that_defines_another_cause_counts_against_a_diagnosis_of_exclusion(mini_graph):
    """Check that a dopamine-blocking drug in the record, even one started outside the drug
    cause's window, lowers the idiopathic cause by the exposure background, and that the
    explanation names it."""
    index = _with_idiopathic(mini_graph, of_exclusion=True)
    base = {"findings": ["HP:0001332", "HP:0000473"]}
    plain = candidate(rank(read_case(base), index=index, top=20), IDIOPATHIC)
    on_drug = rank(read_case({**base, "medications": [{"name": "haloperidol", "days_since_start": 400}]}),
                   index=index, top=20)
    lowered = candidate(on_drug, IDIOPATHIC)
    assert lowered.score == pytest.approx(plain.score + math.log10(index.parameters.exposure_background), abs=1e-3)
    assert "haloperidol (dopamine-blocking): a possible cause, not yet excluded" in {
        f.text for f in lowered.explanation.facts
    }
