"""Explanations made together and kept: the same lines as one finding and one disease at a time.

The listed diseases' explanations are made in one pass (:func:`explain_all`), each finding's
line for a disease is kept per index, and so are each disease's unmentioned features; these
tests hold the answers to what the match rules say, whatever was asked before.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from contraxis.case import Case
from contraxis.differential import explain as explain_module
from contraxis.differential import rank
from contraxis.differential.explain import CaseTerms, disease_row, explain, explain_all
from contraxis.differential.model import Evidence, mentioned, score

SETS = [
    (["HP:0000473", "HP:0031960", "HP:0001250", "HP:0200032"], ["HP:0002901"]),
    (["HP:0001332"], ["HP:0000473", "HP:0001337"]),
    (["HP:0002197", "HP:0002901"], []),
    (["HP:0001337", "HP:0200032", "HP:0002451"], ["HP:0001250"]),
    ([], ["HP:0001332"]),
]


def _positions(index, terms):
    return tuple(index.term_position[t] for t in terms)


def _reference(index, t: int, d: int) -> tuple[str, str]:
    """The match rules one finding and one disease at a time, in plain Python: contradicted
    (the disease is annotated NOT to have the finding or a term above it), exact, implied (the
    most frequent annotation below the finding, the first by position among equals), more
    specific (the same above it), else related or unexplained."""
    terms, freqs, negated = index.annotations_of(d)
    above = set(index.ancestors(t).tolist())
    below = set(index.descendants(t).tolist())
    annotated = [(int(a), float(f)) for a, f, n in zip(terms, freqs, negated, strict=True) if not n]
    if any(int(a) in above for a, n in zip(terms, negated, strict=True) if n):
        return "contradicted", ""
    if any(a == t for a, _ in annotated):
        return "exact", ""
    for group, kind in ((below, "implied"), (above, "more specific")):
        inside = [(a, f) for a, f in annotated if a in group]
        if inside:
            best = max(f for _, f in inside)
            return kind, index.term_ids[next(a for a, f in inside if f == best)]
    return "other", ""


def _kinds(explanation):
    return {
        line.term: (line.match, line.via)
        for group in explanation.groups
        for line in (*group.matched, *group.unexplained)
    }


@pytest.fixture(autouse=True)
def _fresh():
    """Each test starts with nothing kept."""
    explain_module._CACHES.clear()
    yield
    explain_module._CACHES.clear()


@pytest.mark.parametrize("present, excluded", SETS)
def test_batch_gives_each_disease_its_own_explanation(mini, present, excluded):
    """Check that explaining every disease at once gives, for each, what explaining it alone
    gives (the matrices are padded per disease: a padding slip would mix diseases up)."""
    p, e = _positions(mini, present), _positions(mini, excluded)
    scores = score(Evidence(present=p, excluded=e), index=mini)
    together = explain_all(range(mini.n_diseases), scores=scores, present=p, excluded=e, index=mini)
    for d in range(mini.n_diseases):
        explain_module._CACHES.clear()
        alone = explain(d, scores=scores, present=p, excluded=e, index=mini)
        assert together[d].to_json() == alone.to_json()


@pytest.mark.parametrize("present, excluded", SETS[:4])
def test_match_kinds_follow_the_rules(mini, present, excluded):
    """Check every finding's match kind and the annotation it goes through against the rules
    written out one finding and one disease at a time."""
    p, e = _positions(mini, present), _positions(mini, excluded)
    scores = score(Evidence(present=p, excluded=e), index=mini)
    made = explain_all(range(mini.n_diseases), scores=scores, present=p, excluded=e, index=mini)
    for d, t in itertools.product(range(mini.n_diseases), p):
        kind, via = _reference(mini, t, d)
        got = _kinds(made[d])[mini.term_ids[t]]
        if kind == "other":
            assert got[0] in ("related", "unexplained")
        else:
            assert got == (kind, via)


def test_match_kinds_on_the_real_index(real_index):
    """Check the match kinds on the real ontology and annotations, for common and rare findings
    against the diseases that lead their lists and some that do not show them."""
    index = real_index
    findings = ["HP:0000473", "HP:0001332", "HP:0002072", "HP:0001250", "HP:0001263", "HP:0000365", "HP:0001300"]
    p = _positions(index, findings)
    scores = score(Evidence(present=p), index=index)
    leading = np.argsort(-scores.log_odds, kind="stable")[:15].tolist()
    diseases = leading + [index.disease_position[d] for d in ("OMIM:128100", "OMIM:159900", "OMIM:277900")]
    made = explain_all(diseases, scores=scores, present=p, excluded=(), index=index)
    for d, t in itertools.product(diseases, p):
        kind, via = _reference(index, t, d)
        got = _kinds(made[d])[index.term_ids[t]]
        if kind == "other":
            assert got[0] in ("related", "unexplained")
        else:
            assert got == (kind, via), (index.disease_ids[d], index.term_ids[t])


def test_kept_lines_give_the_same_answer(mini_kb):
    """Check that answers made with lines and features kept from other records are the answers
    made with nothing kept, and that a line's JSON is a new dict each time (changing one changes
    no later answer)."""
    cases = [
        Case(findings=["HP:0000473", "HP:0001250"], absent=["HP:0001337"], onset_age=30),
        Case(findings=["HP:0000473"], absent=["HP:0001337", "HP:0001250"], onset_age=3),
        Case(findings=["HP:0001250", "HP:0200032"]),
        Case(findings=["HP:0000473", "HP:0031960"], medications=[{"name": "haloperidol", "days_since_start": 2}]),
        Case(findings=["HP:0002197"], absent=["HP:0000473"]),
    ]
    fresh = []
    for case in cases:
        explain_module._CACHES.clear()
        fresh.append(rank(case, index=mini_kb, top=10).to_json(detail=True))
    explain_module._CACHES.clear()
    for _ in range(2):
        for case, expected in zip(cases, fresh, strict=True):
            assert rank(case, index=mini_kb, top=10).to_json(detail=True) == expected
    answer = rank(cases[0], index=mini_kb, top=10)
    answer.candidates[0].explanation.groups[0].matched[0].to_json()["name"] = "changed"
    answer.candidates[0].explanation.missing[0].to_json()["term"] = "changed"
    assert rank(cases[0], index=mini_kb, top=10).to_json(detail=True) == fresh[0]


def test_kept_lines_are_bounded(mini_kb, monkeypatch):
    """Check that the kept lines are emptied when there are more than the bound, and that the
    answers stay the same."""
    monkeypatch.setattr(explain_module, "CACHED_LINES", 3)
    case = Case(findings=["HP:0000473", "HP:0001250", "HP:0200032"], absent=["HP:0001337", "HP:0002901"])
    fresh = rank(case, index=mini_kb, top=10).to_json(detail=True)
    kept = explain_module._caches(mini_kb)
    assert len(kept.lines) <= 3 + 3 * mini_kb.n_diseases
    for _ in range(3):
        assert rank(case, index=mini_kb, top=10).to_json(detail=True) == fresh
        assert len(kept.lines) <= 3 + 3 * mini_kb.n_diseases


def test_case_terms_read_the_scores_mask(mini):
    """Check that the mask of mentioned terms the scores carry is the one the explanations
    would work out, and that passing it changes nothing."""
    p, e = _positions(mini, ["HP:0000473", "HP:0001250"]), _positions(mini, ["HP:0200032"])
    scores = score(Evidence(present=p, excluded=e), index=mini)
    assert scores.mentioned is not None
    assert np.array_equal(scores.mentioned, mentioned(p, e, mini))
    given = CaseTerms.of(p, e, mini, accounted=scores.mentioned)
    worked = CaseTerms.of(p, e, mini)
    assert np.array_equal(given.accounted, worked.accounted)
    assert mini.term_position["HP:0001332"] in np.flatnonzero(worked.accounted)  # above a present finding
    assert not worked.accounted[mini.term_position["HP:0002901"]]


def test_disease_row_lists_frequent_features_most_frequent_first(mini):
    """Check a disease's candidates for "expected, not mentioned": its topmost annotations shown
    by half its patients or more, the most frequent first."""
    row = disease_row(mini, mini.disease_position["OMIM:100001"])
    assert [mini.term_ids[t] for t in row.missing] == ["HP:0000473", "HP:0002451"]
    assert list(row.missing_frequency) == pytest.approx([0.9, 0.5])
    assert row.typical_onset is not None and row.negated == ()
    epilepsy = disease_row(mini, mini.disease_position["OMIM:100004"])
    assert [mini.term_ids[t] for t in epilepsy.negated] == ["HP:0001332"]


def test_lines_follow_the_scores_given(mini):
    """Check that a kept line is used only for the same likelihood ratio: explaining the same
    findings with other scores (as the leave-publication-out benchmark's masked scores are)
    shows those scores."""
    import dataclasses

    p, e = _positions(mini, ["HP:0000473", "HP:0001250"]), _positions(mini, ["HP:0001337"])
    scores = score(Evidence(present=p, excluded=e), index=mini)
    d = mini.disease_position["OMIM:100001"]
    before = explain(d, scores=scores, present=p, excluded=e, index=mini)
    halved = dataclasses.replace(scores, present=scores.present / 2, excluded=scores.excluded / 2)
    after = explain(d, scores=halved, present=p, excluded=e, index=mini)
    lines = {line.term: line.log10_lr for g in after.groups for line in (*g.matched, *g.unexplained)}
    assert lines["HP:0000473"] == pytest.approx(float(scores.present[0, d]) / 2)
    assert [line.log10_lr for line in after.excluded] == pytest.approx([x.log10_lr / 2 for x in before.excluded])
    assert before.excluded
