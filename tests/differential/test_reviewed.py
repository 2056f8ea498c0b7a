"""The knowledge base's own disease phenotypes take part: added where the HPO annotation lacks
them, found through a joined row's aliases, and reported in the explanation with their source."""

from __future__ import annotations

from contraxis.differential import Annotation, Disease, ModelParameters, TermGraph, build_index
from contraxis.differential.explain import explain
from contraxis.differential.knowledge import ReviewedPhenotype, add_reviewed_phenotypes
from contraxis.differential.model import Evidence, score

from .conftest import MINI_DISEASES, MINI_PARAMETERS

REVIEWED = ReviewedPhenotype.model_validate({
    "disease": "OMIM:100002",
    "name": "DYT-B",
    "source": "src-2",
    "phenotype": [
        {"hpo": "HP:0031960", "frequency": "very frequent", "says": "an arm dystonia in most patients"},
        {"hpo": "HP:0001250", "frequency": "occasional", "says": "seizures in some, says the source"},
    ],
    "onset": ["HP:0003593", "HP:0011463"],
})


def test_rows_the_annotation_lacks_are_added_with_their_source():
    """Check that a term the disease already annotates keeps the HPO row, a new term is added
    with the source, onsets are joined, and other diseases are untouched."""
    diseases, added = add_reviewed_phenotypes(MINI_DISEASES, [REVIEWED])
    b = diseases[1]
    assert added == [("OMIM:100002", "HP:0031960", "src-2")]
    assert b.annotations[:2] == MINI_DISEASES[1].annotations
    assert b.annotations[2] == Annotation("HP:0031960", 0.895, references=("src-2",), origin="reviewed")
    assert b.onsets == ("HP:0003593", "HP:0011463")
    assert diseases[0] is MINI_DISEASES[0] and diseases[2:] == MINI_DISEASES[2:]


def test_a_joined_row_is_found_by_its_alias():
    """Check that a reviewed entry naming an alias reaches the joined row."""
    row = Disease("ORPHA:9", "Dystonia B (Orphanet)", (Annotation("HP:0001332", 0.8),), aliases=("OMIM:100002",))
    [joined], added = add_reviewed_phenotypes([row], [REVIEWED])
    assert added == [("ORPHA:9", "HP:0031960", "src-2"), ("ORPHA:9", "HP:0001250", "src-2")]
    assert joined.annotations[-1].origin == "reviewed"


def test_the_explanation_names_the_source_of_an_added_row(mini_graph: TermGraph):
    """Check that a finding matched through an added row says so, in the JSON and in words,
    and that one matched through an HPO row does not."""
    diseases, _ = add_reviewed_phenotypes(MINI_DISEASES, [REVIEWED])
    index = build_index(mini_graph, diseases, parameters=ModelParameters(**MINI_PARAMETERS))
    present = tuple(index.term_position[t] for t in ("HP:0031960", "HP:0001250"))
    scores = score(Evidence(present=present), index=index)
    b = index.disease_position["OMIM:100002"]
    assert index.annotation_source(b, index.term_position["HP:0031960"]) == "src-2"
    lines = {line.term: line for line in explain(b, scores=scores, present=present, excluded=(), index=index).matched}
    assert lines["HP:0031960"].match == "exact" and lines["HP:0031960"].source == "src-2"
    assert lines["HP:0031960"].to_json()["annotation_source"] == "src-2"
    assert "from src-2, not the HPO annotation" in lines["HP:0031960"].text()
    assert lines["HP:0001250"].source == "" and "annotation_source" not in lines["HP:0001250"].to_json()
