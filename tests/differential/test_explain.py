"""Explanations: how each finding matched, grouped by organ system, collapsed when long."""

from __future__ import annotations

import pytest

from contraxis.differential import Annotation, Disease, TermGraph, build_index
from contraxis.differential.explain import COLLAPSE_AT, explain
from contraxis.differential.model import Evidence, score

from .conftest import MINI_DISEASES, MINI_TERMS


def run(index, disease, present=(), excluded=()):
    p = tuple(index.term_position[x] for x in present)
    e = tuple(index.term_position[x] for x in excluded)
    scores = score(Evidence(present=p, excluded=e), index=index)
    return explain(index.disease_position[disease], scores=scores, present=p, excluded=e, index=index)


def test_each_finding_says_how_it_matched(mini):
    """Check the match kinds: exact, implied, more specific, related, unexplained, contradicted."""
    e = run(mini, "OMIM:100001", ["HP:0000473", "HP:0031960", "HP:0001250", "HP:0200032"])
    by_term = {line.term: line for g in e.groups for line in (*g.matched, *g.unexplained)}
    assert by_term["HP:0000473"].match == "exact" and by_term["HP:0000473"].frequency == pytest.approx(0.9)
    assert by_term["HP:0031960"].match == "more specific" and by_term["HP:0031960"].via == "HP:0002451"
    assert by_term["HP:0200032"].match == "unexplained"
    assert by_term["HP:0001250"].match in ("related", "unexplained")
    implied = run(mini, "OMIM:100001", ["HP:0001332"])
    assert implied.groups[0].matched[0].match == "implied" and implied.groups[0].matched[0].via == "HP:0000473"
    contradicted = run(mini, "OMIM:100004", ["HP:0000473"])
    assert contradicted.groups[0].unexplained[0].match == "contradicted"


def test_findings_are_grouped_by_organ_system(mini):
    """Check that findings fall under their organ system and the groups' sums add up."""
    e = run(mini, "OMIM:100003", ["HP:0200032", "HP:0001337", "HP:0002901"])
    names = {g.system_name for g in e.groups}
    assert names == {
        "Abnormality of the eye",
        "Abnormality of the nervous system",
        "Abnormality of metabolism/homeostasis",
    }
    assert sum(g.log10_lr for g in e.groups) == pytest.approx(e.parts["present"], abs=1e-4)
    assert e.matched_count == 2 and e.unexplained_count == 1


def test_excluded_missing_onset_and_parts(mini):
    """Check that exclusions that count, unmentioned frequent features, the onset and the score's
    parts are reported."""
    e = run(mini, "OMIM:100001", ["HP:0001337"], ["HP:0002451"])
    assert [line.term for line in e.excluded] == ["HP:0002451"]
    assert [m.term for m in e.missing] == ["HP:0000473"]
    assert e.onset["fit"] == "neutral"
    assert e.parts["total"] == pytest.approx(sum(v for k, v in e.parts.items() if k != "total"), abs=1e-4)
    lines = e.lines()
    assert any(line.startswith("expected, not mentioned: Torticollis") for line in lines)


def big_index():
    """The mini ontology plus 5 eye findings and 70 metabolic ones, and a disease annotated to
    the five eye findings only."""
    terms = dict(MINI_TERMS)
    eye = [f"HP:91000{i:02d}" for i in range(5)]
    metabolic = [f"HP:90000{i:02d}" for i in range(70)]
    for i, term in enumerate(eye):
        terms[term] = (f"Eye finding {i}", ["HP:0000478"])
    for i, term in enumerate(metabolic):
        terms[term] = (f"Metabolic finding {i}", ["HP:0001939"])
    graph = TermGraph.from_mapping(terms, release="big")
    eyes = Disease("OMIM:200000", "Eye disease", tuple(Annotation(t, 0.8) for t in eye))
    return build_index(graph, [*MINI_DISEASES, eyes]), eye, metabolic


def test_long_records_collapse_unexplained_findings():
    """Check that with 50 findings or more the unexplained ones of each organ system become a
    count with their summed score, while matched findings stay listed."""
    index, eye, metabolic = big_index()
    short = run(index, "OMIM:200000", eye + metabolic[:5])
    group = next(g for g in short.groups if g.system == "HP:0001939")
    assert not short.collapsed and len(group.unexplained) == 5
    long = run(index, "OMIM:200000", eye + metabolic[:COLLAPSE_AT])
    assert long.collapsed
    seen = next(g for g in long.groups if g.system == "HP:0000478")
    assert len(seen.matched) == 5
    group = next(g for g in long.groups if g.system == "HP:0001939")
    assert group.matched == () and group.unexplained == () and group.unexplained_count == COLLAPSE_AT
    assert group.unexplained_log10_lr < 0
    assert any(f"{COLLAPSE_AT} not explained" in line for line in long.lines())
    data = long.to_json()
    assert data["collapsed"] and all("unexplained" not in g for g in data["organ_systems"])
