"""Tempered probabilities: no certainty from generic findings or long exclusion lists; no list
when nothing specific is recorded; probabilities shown between 0 and 1, never at either."""

from __future__ import annotations

import pytest

from contraxis.case import read_case
from contraxis.differential import ModelParameters, TermGraph, build_index, rank
from contraxis.differential.model import Evidence, score
from contraxis.differential.ranking import SHOWN_MAX, SHOWN_MIN, shown_probability

from .conftest import MINI_DISEASES, mini_index

FINDINGS = ["HP:0000473", "HP:0001337", "HP:0002451", "HP:0001250", "HP:0200032", "HP:0002901"]


def positions(index, terms):
    return tuple(index.term_position[t] for t in terms)


def test_the_weight_of_the_evidence_follows_the_design_effect():
    """Check w(n) = temper / (1 + (n - 1) * dependence), for findings and exclusions apart, so
    that n findings never weigh more than temper / dependence findings."""
    p = ModelParameters(temper=0.8, dependence=0.25, exclusion_dependence=0.1)
    assert p.evidence_weight(0) == p.evidence_weight(1) == 0.8
    assert p.evidence_weight(5) == pytest.approx(0.8 / 2.0)
    assert p.evidence_weight(11, excluded=True) == pytest.approx(0.8 / 2.0)
    assert 1000 * p.evidence_weight(1000) < 0.8 / 0.25


def test_long_records_cannot_give_certainty(mini_graph: TermGraph):
    """Check that a long list of exclusions saying the same thing (the checklist of one organ
    system) saturates: forty copies or four hundred move the odds no further than the
    ``temper / exclusion_dependence`` copies they are worth, where independence would give
    certainty."""
    dependent = mini_index(mini_graph)
    independent = mini_index(mini_graph, dependence=0.0, exclusion_dependence=0.0)
    present = positions(dependent, ["HP:0000473"])
    one = positions(dependent, ["HP:0001337"])  # tremor recorded absent

    def spread(index, copies):
        scores = score(Evidence(present=present, excluded=one * copies), index=index)
        ordered = sorted(scores.log_odds, reverse=True)
        return ordered[0] - ordered[1], float(scores.posterior.max()), scores.weights[1]

    gap_40, _, w_40 = spread(dependent, 40)
    gap_400, _, w_400 = spread(dependent, 400)
    parameters = dependent.parameters
    assert 40 * w_40 < 400 * w_400 < parameters.temper / parameters.exclusion_dependence
    assert gap_400 < 1.25 * gap_40  # ten times the list, a fifth more weight at most
    gap_independent, p_independent, _ = spread(independent, 400)
    assert gap_independent > 10 * gap_400 and p_independent > 0.999999


def test_a_handful_of_generic_findings_cannot_give_certainty(mini_graph: TermGraph):
    """Check that generic findings given many times over (dystonia and seizures, twelve times
    each) leave the leading disease short of certainty, where independence would not."""
    generic = ["HP:0001332", "HP:0001250"] * 12
    dependent, independent = mini_index(mini_graph), mini_index(mini_graph, dependence=0.0)
    leading = [float(score(Evidence(present=positions(i, generic)), index=i).posterior.max())
               for i in (dependent, independent)]
    assert leading[0] < 0.99 and leading[1] > 0.9999


def test_probabilities_are_never_shown_as_zero_or_one(mini):
    """Check the shown bounds, in the answer too."""
    assert shown_probability(1.0) == SHOWN_MAX and shown_probability(0.0) == SHOWN_MIN
    assert shown_probability(0.123456) == 0.123
    result = rank(read_case({"findings": FINDINGS * 1}), index=mini, top=5)
    shown = [c["post_test_probability"] for c in result.to_json()["candidates"]]
    assert all(SHOWN_MIN <= p <= SHOWN_MAX for p in shown)


def test_no_findings_or_nothing_specific_gives_a_note_not_a_list(mini_graph: TermGraph):
    """Check that a record with only common findings (shown by one disease in ten or more) or none
    gets no candidate and a note saying what to record, and that one specific finding ranks."""
    index = build_index(mini_graph, MINI_DISEASES, parameters=ModelParameters(specific_share=0.3))
    # Dystonia is shown by 4 of the 5 mini diseases: common; Kayser-Fleischer ring by one
    common = rank(read_case({"findings": ["HP:0001332"], "absent": ["HP:0001250"]}), index=index)
    assert common.candidates == () and common.genes == ()
    assert "every finding recorded (Dystonia) is shown by one disease in ten or more" in common.note
    assert "record what is specific" in common.note and "brain MRI" in common.note
    assert common.to_json()["note"] == common.note and common.to_json()["candidates"] == []
    empty = rank(read_case({}), index=index)
    assert empty.candidates == () and "gives no present finding" in empty.note
    specific = rank(read_case({"findings": ["HP:0001332", "HP:0200032"]}), index=index, top=3)
    assert specific.note is None and specific.candidates[0].disease_id == "OMIM:100003"
    assert "note" not in specific.to_json()


def test_a_fact_that_singles_out_a_cause_is_specific(mini_graph: TermGraph, mini_kb):
    """Check that a common finding with the drug that defines an acquired cause still ranks."""
    from contraxis.differential.knowledge import DifferentialKnowledge  # noqa: F401 - the fixture's type

    strict = build_index(
        mini_graph,
        [*MINI_DISEASES, *mini_kb.knowledge.acquired_diseases()],
        parameters=ModelParameters(specific_share=0.01),
        priors=mini_kb.knowledge.priors(),
        knowledge=mini_kb.knowledge,
    )
    case = {"findings": ["HP:0001332"], "medications": [{"name": "haloperidol", "days_since_start": 1}]}
    assert rank(read_case(case), index=strict).candidates[0].disease_id == "CX:cause-drug-dystonia"
    assert rank(read_case({"findings": ["HP:0001332"]}), index=strict).note is not None
