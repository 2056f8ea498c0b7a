"""The likelihood-ratio model on the mini ontology, where the right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contraxis.differential import DifferentialIndex, ModelParameters, build_index
from contraxis.differential.index import unmentioned_log
from contraxis.differential.model import Evidence, reduce_terms, score
from contraxis.differential.onset import band_of_age, bands_of_term
from contraxis.errors import KnowledgeBaseError

from .conftest import MINI_DISEASES, mini_index


def t(index: DifferentialIndex, term: str) -> int:
    return index.term_position[term]


def d(index: DifferentialIndex, disease: str) -> int:
    return index.disease_position[disease]


def scored(index: DifferentialIndex, present=(), excluded=(), onset=()):
    ev = Evidence(
        present=tuple(t(index, x) for x in present), excluded=tuple(t(index, x) for x in excluded), onset_bands=onset
    )
    return score(ev, index=index)


def best(index: DifferentialIndex, scores) -> str:
    return index.disease_ids[int(np.argmax(scores.posterior))]


def test_exact_match_ranks_first(mini):
    """Check that the disease annotated with the patient's findings ranks first."""
    assert best(mini, scored(mini, ["HP:0000473", "HP:0001337"])) == "OMIM:100001"
    assert best(mini, scored(mini, ["HP:0200032"])) == "OMIM:100003"
    assert best(mini, scored(mini, ["HP:0002901"])) == "OMIM:100005"


def test_likelihood_ratio_is_frequency_over_background(mini):
    """Check that an exact match scores log10(frequency / background)."""
    s = scored(mini, ["HP:0000473"])
    expected = math.log10(0.9 / mini.background[t(mini, "HP:0000473")])
    assert s.present[0, d(mini, "OMIM:100001")] == pytest.approx(expected, abs=1e-5)


def test_more_specific_finding_gets_the_annotated_terms_full_credit(mini):
    """Check that a finding below an annotated term (Arm dystonia under Limb dystonia) scores
    as the annotated term itself: f(annotated) / background(annotated)."""
    arm = scored(mini, ["HP:0031960"]).present[0, d(mini, "OMIM:100001")]
    limb = scored(mini, ["HP:0002451"]).present[0, d(mini, "OMIM:100001")]
    assert arm == pytest.approx(limb, abs=1e-5)


def test_more_general_finding_gets_partial_credit(mini):
    """Check that a finding above an annotated term (Dystonia above Torticollis) counts, but less
    than the specific term, in proportion to its larger background."""
    general = scored(mini, ["HP:0001332"]).present[0, d(mini, "OMIM:100001")]
    specific = scored(mini, ["HP:0000473"]).present[0, d(mini, "OMIM:100001")]
    assert 0 < general < specific
    assert general == pytest.approx(math.log10(0.9 / mini.background[t(mini, "HP:0001332")]), abs=1e-5)


def test_unexplained_finding_is_penalised_but_never_a_veto(mini):
    """Check that a finding the disease cannot explain lowers it by a bounded amount, more for a
    rarer finding, and that it can still rank first on its other findings."""
    s = scored(mini, ["HP:0000473", "HP:0002451", "HP:0001337", "HP:0002901"])
    row = d(mini, "OMIM:100001")
    unexplained = s.present[3, row]
    assert math.log10(mini.parameters.unexplained_rare) - 1e-6 <= unexplained < 0
    assert best(mini, s) == "OMIM:100001"
    assert np.isfinite(s.total).all()


def test_rarer_unexplained_findings_cost_more(mini_graph):
    """Check that the penalty for an unexplained finding grows with its information content."""
    index = mini_index(mini_graph, common_background=0.5)  # five diseases: "common" is one in two
    floor = index.unexplained
    common, rare = t(index, "HP:0001332"), t(index, "HP:0200032")
    assert index.background[common] > index.background[rare]
    assert floor[common] > floor[rare]


def test_negated_annotation_contradicts_the_finding(mini):
    """Check that a disease annotated NOT to have a finding gets only the floor for it."""
    s = scored(mini, ["HP:0000473"])
    epilepsy = d(mini, "OMIM:100004")
    assert s.present[0, epilepsy] == pytest.approx(float(mini.unexplained[t(mini, "HP:0000473")]))


def test_excluded_finding_lowers_a_disease_that_nearly_always_has_it(mini_graph):
    """Check that without the pertinent-negative factor an excluded finding lowers each disease
    that has it by (1 - f) / (1 - background)."""
    index = mini_index(mini_graph, ascertainment=1.0)
    s = scored(index, excluded=["HP:0000473"])
    tort = t(index, "HP:0000473")
    expected = math.log10((1 - 0.9) / (1 - index.background[tort]))
    assert s.excluded[0, d(index, "OMIM:100001")] == pytest.approx(expected, abs=1e-5)
    assert s.excluded[0, d(index, "OMIM:100005")] == pytest.approx(-math.log10(1 - index.background[tort]), abs=1e-5)


def test_excluded_finding_caps_the_frequency(mini_graph):
    """Check that an obligate feature recorded absent never vetoes the disease."""
    index = mini_index(mini_graph, ascertainment=1.0)
    s = scored(index, ["HP:0001250"], excluded=["HP:0002901"])
    assert np.isfinite(s.excluded).all()
    assert s.excluded[0, d(index, "OMIM:100005")] >= math.log10(index.parameters.false_negative) - 0.1


def test_pertinent_negative_raises_a_disease_with_an_occasional_feature(mini):
    """Check that with the pertinent-negative factor an excluded finding lowers a disease that
    nearly always has it and raises one that has it only occasionally."""
    s = scored(mini, excluded=["HP:0001337"])
    dystonia_a, others = d(mini, "OMIM:100001"), d(mini, "OMIM:100005")
    assert s.excluded[0, dystonia_a] > s.excluded[0, others]  # tremor 0.3: sought, usually absent
    s = scored(mini, excluded=["HP:0002901"])
    assert s.excluded[0, d(mini, "OMIM:100005")] < s.excluded[0, dystonia_a]  # obligate: absent counts against


def test_onset_favours_the_disease_with_that_onset(mini):
    """Check that the age at onset moves diseases in the direction of their onset annotations."""
    infant = scored(mini, ["HP:0001332"], onset=band_of_age(0.5))
    adult = scored(mini, ["HP:0001332"], onset=band_of_age(45))
    a, b = d(mini, "OMIM:100001"), d(mini, "OMIM:100002")
    assert infant.onset[b] > 0 > infant.onset[a]
    assert adult.onset[a] > 0 > adult.onset[b]
    assert infant.onset[d(mini, "OMIM:100003")] == pytest.approx(0.0, abs=1e-6)  # no onset annotated


@pytest.mark.parametrize(
    "age, bands",
    [(0, (1, 2)), (0.01, (2,)), (0.5, (3,)), (3, (4,)), (12, (5,)), (16, (6,)), (45, (7,)), (70, (8,))],
)
def test_age_falls_in_its_onset_band(age, bands):
    """Check that an onset age falls in the HPO band its definition gives."""
    assert band_of_age(age) == bands


def test_onset_terms_map_to_bands():
    """Check that onset terms stand for their age bands, and others for none."""
    assert bands_of_term("HP:0003581") == (6, 7, 8)
    assert bands_of_term("HP:0003593") == (3,)
    assert bands_of_term("HP:0003587") == ()  # Insidious onset says nothing about age


def test_unmentioned_frequent_features_lower_a_disease(mini_graph):
    """Check that a disease's frequent features the record leaves unmentioned lower its odds."""
    index = mini_index(mini_graph)
    s = scored(index, ["HP:0001332"])
    assert s.unmentioned[d(index, "OMIM:100001")] < 0
    mentioned = scored(index, ["HP:0000473", "HP:0002451", "HP:0001337"])
    assert mentioned.unmentioned[d(index, "OMIM:100001")] == pytest.approx(0.0, abs=1e-6)


def test_reporting_rate_grows_with_the_record_up_to_a_ceiling():
    """Check that the chance a feature reaches the record is proportional to the findings the
    record names, ``reporting`` at the typical patient's number of features, at most 0.9."""
    p = ModelParameters()
    assert p.reporting_rate(0, 9.0) == 0.0
    assert p.reporting_rate(9, 9.0) == pytest.approx(0.2)
    assert p.reporting_rate(18, 9.0) == pytest.approx(0.4)
    assert p.reporting_steps(9.0) == 41
    assert p.reporting_rate(40, 9.0) < 0.9 and p.reporting_rate(41, 9.0) == 0.9 == p.reporting_rate(500, 9.0)


def test_a_longer_record_says_more_about_unmentioned_features(mini):
    """Check that the same unmentioned features cost a disease more in a record naming three
    unrelated findings than in one naming one, by the model's formula at each record's rate."""
    a = d(mini, "OMIM:100001")  # Torticollis 0.9, Limb dystonia 0.5, Tremor 0.3: none mentioned
    short = scored(mini, ["HP:0002901"])
    long = scored(mini, ["HP:0002901", "HP:0200032", "HP:0001250"])
    terms = [t(mini, x) for x in ("HP:0000473", "HP:0002451", "HP:0001337")]
    for scores, findings in ((short, 1), (long, 3)):
        rate = mini.reporting_rate(findings)
        expected = sum(
            unmentioned_log(f, mini.background[term], rate) for term, f in zip(terms, (0.9, 0.5, 0.3), strict=True)
        )
        assert scores.unmentioned[a] == pytest.approx(expected, abs=1e-5)
    assert long.unmentioned[a] < short.unmentioned[a] < 0
    assert scored(mini, []).unmentioned[a] == 0.0  # a record naming nothing says nothing


def test_posterior_is_a_distribution_and_priors_shift_it(mini_graph):
    """Check that post-test probabilities sum to one and that a pretest weight raises a disease."""
    plain = mini_index(mini_graph)
    weighted = build_index(mini_graph, MINI_DISEASES, priors={"OMIM:100002": 100.0})
    for index in (plain, weighted):
        s = scored(index, ["HP:0001332"])
        assert s.posterior.sum() == pytest.approx(1.0)
        assert (s.posterior >= 0).all()
    b = d(plain, "OMIM:100002")
    assert scored(weighted, ["HP:0001332"]).posterior[b] > scored(plain, ["HP:0001332"]).posterior[b]


def test_cohort_frequency_is_smoothed(mini):
    """Check that n of m patients is read through the Beta prior, not as n/m."""
    terms, freqs, _ = mini.annotations_of(d(mini, "OMIM:100003"))
    kf = float(freqs[list(terms).index(t(mini, "HP:0200032"))])
    mean, s = mini.meta["mean_frequency"], mini.parameters.cohort_prior_strength
    assert kf == pytest.approx((5 + s * mean) / (10 + s), abs=1e-6)
    terms, freqs, _ = mini.annotations_of(d(mini, "OMIM:100004"))
    assert float(freqs[list(terms).index(t(mini, "HP:0002197"))]) < 1.0  # 1 of 1 is not certainty


def test_reduce_terms_drops_redundant_findings(mini):
    """Check that implied and contradicted findings are dropped, and why."""
    present = [t(mini, x) for x in ("HP:0001332", "HP:0031960", "HP:0001250")]
    excluded = [t(mini, x) for x in ("HP:0000707", "HP:0200032", "HP:0000478", "HP:0002197")]
    kept_present, kept_excluded, dropped = reduce_terms(present, excluded, index=mini)
    ids = lambda xs: {mini.term_ids[x] for x in xs}  # noqa: E731
    assert ids(kept_present) == {"HP:0031960", "HP:0001250"}
    assert ids(kept_excluded) == {"HP:0000478", "HP:0002197"}
    assert mini.term_ids[dropped[t(mini, "HP:0001332")]] == "HP:0031960"
    assert mini.term_ids[dropped[t(mini, "HP:0200032")]] == "HP:0000478"
    assert t(mini, "HP:0000707") in dropped  # excluded, yet above a present finding


def test_build_index_refuses_an_ontology_without_phenotypic_abnormality():
    """Check that the builder names the missing root."""
    from contraxis.differential import TermGraph

    graph = TermGraph.from_mapping({"HP:0000001": ("All", [])}, release="x")
    with pytest.raises(KnowledgeBaseError, match="HP:0000118"):
        build_index(graph, MINI_DISEASES)


def test_build_index_refuses_repeated_disease_ids(mini_graph):
    """Check that a disease id given twice is an error naming it."""
    with pytest.raises(KnowledgeBaseError, match="OMIM:100001"):
        build_index(mini_graph, [MINI_DISEASES[0], MINI_DISEASES[0]])


def test_graph_refuses_unknown_parents_and_cycles():
    """Check that the mini-ontology builder names a bad parent and finds a cycle."""
    from contraxis.differential import TermGraph

    with pytest.raises(KnowledgeBaseError, match="HP:9999999"):
        TermGraph.from_mapping({"HP:0000001": ("All", ["HP:9999999"])}, release="x")
    with pytest.raises(KnowledgeBaseError, match="cycle"):
        TermGraph.from_mapping({"HP:0000001": ("A", ["HP:0000002"]), "HP:0000002": ("B", ["HP:0000001"])}, release="x")
