"""The benchmark's modes on the mini ontology: the rank as listed and among OMIM entries, a
disease counted once whichever id names it, leaving a publication out, and calibration."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from contraxis.case import read_case
from contraxis.differential import Annotation, Disease, ModelParameters, TermGraph, build_index
from contraxis.differential.annotations import join_diseases
from contraxis.differential.benchmark import NO_LIST, Calibration, MethodResult, publications_for, run_benchmark
from contraxis.differential.leaveout import PublicationMask, masked_scores
from contraxis.differential.ranking import score_case

from .conftest import MINI_DISEASES, MINI_PARAMETERS

PUB = "PMID:111"
"""The publication of the mini cases: Dystonia A's annotation of torticollis and limb
dystonia cites it, and so does its Orphanet twin's newer-release link."""

ENTRIES = [
    Disease(
        "OMIM:100001",
        "Dystonia A",
        (
            Annotation("HP:0000473", 0.9, references=(PUB,)),
            Annotation("HP:0002451", 0.5, references=(PUB,)),
            Annotation("HP:0001337", 0.3, references=("OMIM:100001",)),
        ),
        onsets=("HP:0003581",),
        genes=("GENEA",),
        release="mini-1",
    ),
    Disease("ORPHA:501", "Dystonia A (Orphanet)", (Annotation("HP:0031960", origin="newer release"),),
            release="mini-1"),
    Disease("ORPHA:777", "Neck disorders", (Annotation("HP:0000473", 1.0, references=("ORPHA:777",)),),
            release="mini-1"),
    *MINI_DISEASES[1:],
]
GROUPS = [("MONDO:0000001", ("OMIM:100001", "ORPHA:501"))]


@pytest.fixture(scope="module")
def joined_index(mini_graph: TermGraph):
    diseases, _ = join_diseases(ENTRIES, GROUPS)
    return build_index(mini_graph, diseases, parameters=ModelParameters(**MINI_PARAMETERS),
                       meta={"releases": {"ontology": "mini-1", "annotation": "mini-1"}})


def labelled(findings, diagnosis, source="set.jsonl:1", **case):
    return SimpleNamespace(case=read_case({"findings": findings, **case}), diagnoses=[SimpleNamespace(id=diagnosis)],
                           onset_term=None, source=source)


def test_a_disease_is_counted_once_whichever_id_names_it(joined_index):
    """Check that the joined row answers to its OMIM id and its Orphanet alias alike."""
    cases = [labelled(["HP:0002451"], "OMIM:100001"), labelled(["HP:0002451"], "ORPHA:501")]
    report = run_benchmark(cases, index=joined_index, run_hpo3=False)
    assert report.listed.ranks == (1, 1)
    assert report.omim.ranks == (1, 1)  # the joined row has an OMIM id, so it competes among them


def test_listed_counts_every_row_omim_only_the_omim_entries(joined_index):
    """Check that an Orphanet-only row ranked above the diagnosis counts as listed, not among OMIM
    entries; a diagnosis the index does not know is unknown either way."""
    neck = labelled(["HP:0000473"], "OMIM:100001")
    unknown = labelled(["HP:0000473"], "OMIM:999999")
    report = run_benchmark([neck, unknown], index=joined_index, run_hpo3=False)
    _, _, scores = score_case(neck.case, index=joined_index)
    orpha = joined_index.disease_position["ORPHA:777"]
    assert scores.log_odds[orpha] > scores.log_odds[joined_index.disease_position["OMIM:100001"]]
    assert report.listed.ranks[0] == report.omim.ranks[0] + 1
    assert report.listed.ranks[1] is None and report.omim.ranks[1] is None
    assert report.listed.unknown == 1


def test_a_case_given_no_list_misses_at_every_rank(mini_graph: TermGraph):
    """Check that when nothing specific is recorded the diagnosis counts as a miss, not as
    unknown, and the case has no probability to calibrate."""
    strict = build_index(mini_graph, MINI_DISEASES, parameters=ModelParameters(specific_share=0.3))
    report = run_benchmark([labelled(["HP:0001332"], "OMIM:100002")], index=strict, run_hpo3=False)
    assert report.listed.ranks == (NO_LIST,) and report.listed.top(10) == 0.0
    assert report.omim.ranks[0] is not None and report.calibration.confidence == ()


def test_leaving_the_publication_out_drops_its_rows_and_the_untraceable_links(mini_graph, joined_index):
    """Check that a case from PMID:111 is scored without the rows citing it and without the
    newer release's links of the entries it describes, against the full corpus' backgrounds;
    a publication that describes nothing changes nothing."""
    mask = PublicationMask(joined_index, graph=mini_graph, entries=ENTRIES, groups=GROUPS)
    assert mask.described([PUB]) == {"OMIM:100001"}
    assert mask.patch(["PMID:999"]) is None
    patch = mask.patch([PUB])
    assert patch is not None and patch.dropped == 2
    row = joined_index.disease_position["OMIM:100001"]
    assert patch.rows.tolist() == [row]
    terms, _, _ = patch.index.annotations_of(0)
    assert {patch.index.term_ids[t] for t in terms} == {"HP:0001337", "HP:0031960"}  # the twin's link stays
    named = PublicationMask(joined_index, graph=mini_graph, entries=ENTRIES, groups=GROUPS,
                            named={PUB: ["ORPHA:501"]})
    assert named.described([PUB]) == {"OMIM:100001", "ORPHA:501"}
    terms, _, _ = named.patch([PUB]).index.annotations_of(0)
    assert [named.patch([PUB]).index.term_ids[t] for t in terms] == ["HP:0001337"]

    case = labelled(["HP:0000473", "HP:0002451"], "OMIM:100001")
    read, _, scores = score_case(case.case, index=joined_index)
    import dataclasses

    evidence = dataclasses.replace(read.evidence, facts_log=scores.facts)
    left = masked_scores(scores, evidence, patch, joined_index)
    assert left.total[row] < scores.total[row]
    others = np.arange(joined_index.n_diseases) != row
    assert np.array_equal(left.total[others], scores.total[others])
    assert left.posterior.sum() == pytest.approx(1.0)


def test_the_benchmark_reports_both_ways_with_the_publication_left_out(mini_graph, joined_index):
    """Check that run_benchmark gives the left-out figures beside the plain ones."""
    cases = [labelled(["HP:0000473", "HP:0002451"], "OMIM:100001"), labelled(["HP:0200032"], "OMIM:100003")]
    mask = PublicationMask(joined_index, graph=mini_graph, entries=ENTRIES, groups=GROUPS)
    report = run_benchmark(cases, index=joined_index, run_hpo3=False, publications=[(PUB,), ()], mask=mask)
    assert report.listed.ranks[0] == 1
    assert report.listed_lpo is not None and report.listed_lpo.ranks[0] > report.listed.ranks[0]
    assert report.listed_lpo.ranks[1] == report.listed.ranks[1]
    assert report.left_out == {"cases_touched": 1, "rows_left_out": 2}
    data = report.to_json()
    assert data["publication_left_out"]["as_listed"]["cases"] == 2 and "calibration" in data
    labels = [label for label, _ in report.rows()]
    assert labels == ["Contraxis, listed", "Contraxis, OMIM", "LPO, listed", "LPO, OMIM"]


def test_publications_are_found_by_line():
    """Check that each case takes the PMIDs of its own line."""
    cases = [SimpleNamespace(source="x.jsonl:2"), SimpleNamespace(source="x.jsonl:5"), SimpleNamespace(source="")]
    assert publications_for(cases, {2: ("PMID:1",), 5: ()}) == [("PMID:1",), (), ()]


def test_calibration_table_and_error():
    """Check the reliability table and the expected calibration error on hand-made numbers."""
    calibration = Calibration((0.05, 0.15, 0.95, 0.95, 0.85), (False, True, True, True, False))
    table = calibration.table()
    assert [row["cases"] for row in table] == [1, 1, 1, 2]
    assert table[-1]["probability"] == pytest.approx(0.95) and table[-1]["correct"] == 1.0
    expected = (0.05 + 0.85 + 0.85 + 2 * 0.05) / 5
    assert calibration.ece == pytest.approx(expected)
    assert calibration.to_json()["ece"] == pytest.approx(expected, abs=1e-4)


def test_misses_count_known_cases_beyond_k():
    """Check the count behind 'a third fewer misses than hpo3'."""
    result = MethodResult("m", (1, 2, 11, None, 40), 0.0)
    assert result.misses(1) == 3 and result.misses(10) == 2


def test_the_report_splits_the_cases_by_whether_the_annotation_cites_their_publication(mini_graph, joined_index):
    """Check that a case from a publication the diagnosis's annotation cites (directly, or
    through an entry joined with it) is told apart from one whose publication it does not cite
    and from one naming none, and that the publications are ordered by their misses."""
    mask = PublicationMask(joined_index, graph=mini_graph, entries=ENTRIES, groups=GROUPS)
    assert mask.cites([PUB], ["OMIM:100001"]) and mask.cites([PUB], ["ORPHA:501"])
    assert not mask.cites([PUB], ["OMIM:100003"]) and not mask.cites(["PMID:999"], ["OMIM:100001"])
    cases = [
        labelled(["HP:0000473", "HP:0002451"], "OMIM:100001"),
        labelled(["HP:0000473"], "OMIM:100001"),  # ORPHA:777 comes first: a miss at top-1 only
        labelled(["HP:0200032"], "OMIM:100003"),
        labelled(["HP:0000473"], "OMIM:999999"),
    ]
    publications = [(PUB,), ("PMID:222",), ("PMID:222",), ()]
    report = run_benchmark(cases, index=joined_index, run_hpo3=False, publications=publications, mask=mask)
    assert report.cited == (True, False, False, None)
    split = dict(report.by_citation())
    assert len(split["annotation cites it"].ranks) == 1 and len(split["annotation does not"].ranks) == 2
    assert split["no publication"].unknown == 1
    missed = report.publications_missed(k=1)
    assert [f.publication for f in missed] == ["PMID:222"]
    assert missed[0].diagnoses == ("OMIM:100001", "OMIM:100003") and missed[0].cited == 0
    assert missed[0].result.misses(1) == 1
    assert report.publications_missed(k=10) == []  # nothing misses the first ten
    data = report.to_json()
    assert set(data["by_citation"]) == {"annotation cites it", "annotation does not", "no publication"}
    assert data["publications_most_missed"] == []  # the default counts misses of the first ten
