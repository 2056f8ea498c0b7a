"""Rank every disease for a case: :func:`rank` and its result, :class:`Differential`.

The candidates are ordered by post-test probability, except that a *treatable* candidate
(an acquired cause other than a diagnosis of exclusion, or a genetic disease with a
disease-specific treatment) that fits comes first: one whose likelihood ratio favours it
(``log10 LR > 0``), whose defining facts are in the record (an acquired cause's drug,
history or finding), and whose probability is at least one in ten and within a factor of
ten of the leading candidate's (:func:`display_order`; the benchmark ranks the list in the
same order). Each candidate keeps its rank by probability (``rank``).

No list is given when the record has nothing to rank on (no present finding) or nothing
specific (:func:`specificity_note`): the answer then carries a ``note`` saying what to
record. Probabilities are shown between :data:`SHOWN_MIN` and :data:`SHOWN_MAX`, never as
0 or 1.
"""

from __future__ import annotations

import dataclasses
import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contraxis.case import Case
from contraxis.reading import NotRead, Reading, relocate

from .evidence import CaseEvidence, case_evidence, evidence_not_read
from .explain import CaseExplanations, CaseTerms, Explanation
from .facts import Fact, case_facts
from .genes import GeneSuggestion, suggest_genes
from .index import KIND_ACQUIRED, DifferentialIndex
from .knowledge import DifferentialKnowledge
from .model import Scores, score

__all__ = [
    "SHOWN_MAX",
    "SHOWN_MIN",
    "Candidate",
    "Differential",
    "Treatment",
    "answer_not_read",
    "differential_answer",
    "display_order",
    "hpo_release",
    "nothing_to_rank",
    "rank",
    "score_case",
    "shown_probability",
    "specificity_note",
    "treatable_fits",
    "user_rank",
]

TREATABLE_WINDOW = 10.0
"""A treatable candidate moves to the front when its probability is within this factor of
the leader's and its likelihood ratio favours it."""

TREATABLE_MIN_PROBABILITY = 0.1
"""...and when its post-test probability is at least this (one in ten): the probabilities
are calibrated, and a treatable disease with a one-in-ten chance is worth testing for
first, while a long tail of treatable diseases each a few per cent likely would push the
likeliest diagnosis down the list for every record of a neurological disease."""

GENE_CANDIDATES = 20
"""Gene suggestions are drawn from this many leading candidates."""

SHOWN_MIN = 1e-6
SHOWN_MAX = 0.999
"""A post-test probability is shown within these bounds (three significant digits): the
model never knows a disease to be certain or impossible."""

WHAT_TO_RECORD = (
    "record what is specific to the patient: the movement itself (dystonia, myoclonus, tremor, chorea, "
    "tics, spasms or cramps) and where it is, the age at onset and the course, other neurological and "
    "examination findings (eyes, skin, face, skeleton, organs), brain MRI and laboratory results, drugs "
    "taken, and any gene test"
)
"""What a note asks for when the record gives nothing to rank on."""


def shown_probability(p: float) -> float:
    """A probability as shown: three significant digits, within :data:`SHOWN_MIN` and
    :data:`SHOWN_MAX`."""
    return float(f"{min(max(p, SHOWN_MIN), SHOWN_MAX):.3g}")


@dataclass(frozen=True, slots=True)
class Treatment:
    """A disease-specific treatment and its source."""

    name: str
    source: str
    citation: str = ""

    def to_json(self) -> dict[str, str]:
        """JSON-ready data."""
        return {"name": self.name, "source": self.source, "citation": self.citation}


@dataclass(frozen=True, eq=False)
class Candidate:
    """One disease of the differential.

    Attributes
    ----------
    rank : int
        Rank by post-test probability (1 is the most probable).
    disease_id, name : str
        The disease (``OMIM:``, ``ORPHA:``, ``DECIPHER:`` or ``CX:cause-...``).
    ids : tuple of str
        Every id of the disease: ``disease_id``, then the entries MONDO maps to the same
        disease, joined into this row.
    kind : str
        ``mendelian`` or ``acquired``.
    genes : tuple of str
        Its genes.
    score : float
        ``log10`` of its likelihood ratio for the case.
    post_test_probability : float
        Its probability given the case, over every disease ranked.
    release : str
        The annotation release its phenotype comes from.
    mds_name : str or None
        Its MDS name (Marras et al. 2016), for a genetic dystonia.
    levodopa_responsive : bool or None
        For a genetic dystonia entry: whether it responds to levodopa.
    treatment : Treatment or None
        Its disease-specific (or cause-specific) treatment.
    """

    rank: int
    disease_id: str
    name: str
    kind: str
    genes: tuple[str, ...]
    score: float
    post_test_probability: float
    release: str
    mds_name: str | None = None
    levodopa_responsive: bool | None = None
    treatment: Treatment | None = None
    _explain: Callable[[], Explanation] | None = field(default=None, repr=False)
    ids: tuple[str, ...] = ()

    @property
    def treatable(self) -> bool:
        """Whether it has a disease-specific treatment."""
        return self.treatment is not None

    @functools.cached_property
    def explanation(self) -> Explanation:
        """Why it ranks here (computed on first use)."""
        if self._explain is None:
            raise ValueError(f"{self.disease_id}: no explanation available")
        return self._explain()

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        """JSON-ready data: the summary of its explanation, or all of it with ``detail``."""
        data: dict[str, Any] = {
            "rank": self.rank,
            "disease_id": self.disease_id,
            "ids": list(self.ids or (self.disease_id,)),
            "name": self.name,
            "kind": self.kind,
            "genes": list(self.genes),
            "mds_name": self.mds_name,
            "score": round(self.score, 3),
            "post_test_probability": shown_probability(self.post_test_probability),
            "treatable": self.treatable,
            "treatment": self.treatment.to_json() if self.treatment else None,
            "release": self.release,
        }
        if self.levodopa_responsive is not None:
            data["levodopa_responsive"] = self.levodopa_responsive
        if self._explain is not None:
            e = self.explanation
            if detail:
                data["explanation"] = e.to_json()
            else:
                data["matched"] = [line.to_json() for line in e.matched[:5]]
                data["matched_count"] = e.matched_count
                data["unexplained_count"] = e.unexplained_count
                data["missing"] = [m.to_json() for m in e.missing[:3]]
                data["excluded"] = [line.to_json() for line in [x for x in e.excluded if x.match == "against"][:3]]
                data["onset"] = e.onset
                if e.facts:
                    data["facts"] = [f.to_json() for f in e.facts]
                data["parts"] = {k: round(v, 2) for k, v in e.parts.items()}
        return data


@dataclass(frozen=True, eq=False)
class Differential:
    """The ranked differential for one case.

    Attributes
    ----------
    case_id : str or None
        The case's id.
    hpo_release : str
        The HPO releases the ranking used, in words.
    releases : dict
        The same, by role (``ontology``, ``annotation``, ``hpo3``, knowledge files).
    candidates : tuple of Candidate
        The leading candidates, treatable ones that fit first, then by probability.
    genes : tuple of GeneSuggestion
        Gene tests that would settle the top of the list, best first.
    evidence : CaseEvidence
        How the case was read.
    n_diseases : int
        How many diseases were ranked.
    note : str or None
        Why no candidate is listed, and what to record (None when there is a list).
    """

    case_id: str | None
    hpo_release: str
    releases: dict[str, str]
    candidates: tuple[Candidate, ...]
    genes: tuple[GeneSuggestion, ...]
    evidence: CaseEvidence
    n_diseases: int
    evidence_summary: dict[str, Any] = field(default_factory=dict, repr=False)
    note: str | None = None

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        """JSON-ready data (``detail`` adds each candidate's full explanation); ``note`` when
        no candidate is listed."""
        data = {
            "id": self.case_id,
            "hpo_release": self.hpo_release,
            "releases": self.releases,
            "model": MODEL_DESCRIPTION,
            "diseases_ranked": self.n_diseases,
            "evidence": self.evidence_summary,
            "candidates": [c.to_json(detail=detail) for c in self.candidates],
            "genes": [g.to_json() for g in self.genes],
        }
        if self.note is not None:
            data["note"] = self.note
        return data


MODEL_DESCRIPTION = (
    "likelihood ratio per finding (LIRICAL-style), tempered for findings that are not independent; "
    "uniform pretest over Mendelian diseases"
)


def hpo_release(index: DifferentialIndex) -> str:
    """The HPO releases of an index in words, e.g. ``2025-11-24 (annotations 2025-01-16)``."""
    r = index.releases
    return f"{r.get('ontology', '?')} (annotations {r.get('annotation', '?')})"


def _treatment(index: DifferentialIndex, d: int) -> tuple[str | None, bool | None, Treatment | None]:
    knowledge: DifferentialKnowledge | None = index.knowledge
    if knowledge is None:
        return None, None, None
    disease_id = index.disease_ids[d]
    if index.kind[d] == KIND_ACQUIRED:
        cause = next((c for c in knowledge.acquired if c.id == disease_id), None)
        if cause is not None:
            return None, None, Treatment(cause.treatment, cause.source, knowledge.sources.get(cause.source, ""))
        return None, None, None
    entry = knowledge.dystonias.get(disease_id)
    if entry is None:
        return None, None, None
    treatment = (
        Treatment(entry.treatment, entry.source, knowledge.sources.get(entry.source, "")) if entry.treatment else None
    )
    return entry.mds_name, entry.levodopa_responsive, treatment


def score_case(
    case: Case, *, index: DifferentialIndex, onset_term: str | None = None
) -> tuple[CaseEvidence, dict[int, list[Fact]], Scores]:
    """Read a case and score every disease (what :func:`rank` does before choosing the top).

    Returns
    -------
    tuple
        How the case was read, the case facts per disease, and the model's scores.
    """
    read = case_evidence(case, index=index, onset_term=onset_term)
    facts_log, facts = case_facts(case, evidence=read, index=index)
    return read, facts, score(dataclasses.replace(read.evidence, facts_log=facts_log), index=index)


def treatable_mask(index: DifferentialIndex) -> np.ndarray:
    """Per disease, whether it is a treatable candidate to look for first (an acquired cause
    that is not a diagnosis of exclusion, or a genetic disease with a disease-specific
    treatment in ``genetic_dystonias.yaml``); computed once per index."""
    cached = _TREATABLE.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    knowledge = index.knowledge
    excluded = {c.id for c in knowledge.acquired if c.of_exclusion} if knowledge is not None else set()
    mask = np.array(
        [_treatment(index, d)[2] is not None and index.disease_ids[d] not in excluded for d in range(index.n_diseases)],
        dtype=bool,
    )
    if len(_TREATABLE) >= 8:
        _TREATABLE.clear()
    _TREATABLE[id(index)] = (index, mask)
    return mask


_TREATABLE: dict[int, tuple[DifferentialIndex, np.ndarray]] = {}


def treatable_fits(scores: Scores, facts: dict[int, list[Fact]], index: DifferentialIndex) -> np.ndarray:
    """Per disease, whether it is a treatable candidate that fits and so comes first: treatable
    (:func:`treatable_mask`), its likelihood ratio in favour (``log10 LR > 0``), its defining
    facts in the record, and its probability at least :data:`TREATABLE_MIN_PROBABILITY` and
    within :data:`TREATABLE_WINDOW` of the leader's."""
    fits = treatable_mask(index) & (scores.total > 0) & (scores.posterior >= TREATABLE_MIN_PROBABILITY)
    fits &= scores.log_odds >= scores.log_odds.max() - np.log10(TREATABLE_WINDOW)
    for d, found in facts.items():
        if any(f.kind == "needs" for f in found):
            fits[d] = False
    return fits


def display_order(scores: Scores, fits: np.ndarray, top: int) -> list[int]:
    """The ``top`` diseases in the order the list shows them: the treatable candidates that
    fit first, then the others, each group by post-test probability (ties by position)."""
    n = len(scores.log_odds)
    top = max(0, min(top, n))
    if top == 0:
        return []
    key = scores.log_odds + np.where(fits, _FIRST, 0.0)
    part = np.argpartition(-key, top - 1)[:top] if top < n else np.arange(n)
    return sorted(part.tolist(), key=lambda d: (-key[d], d))


_FIRST = 1e6
"""Added to the ``log10`` odds of a fitting treatable candidate to sort it first."""


def user_rank(disease: int, scores: Scores, fits: np.ndarray) -> int:
    """The place of ``disease`` in the list as :func:`display_order` shows it (1 is first)."""
    key = scores.log_odds + np.where(fits, _FIRST, 0.0)
    return 1 + int(np.count_nonzero(key > key[disease]))


def specificity_note(read: CaseEvidence, facts: dict[int, list[Fact]], index: DifferentialIndex) -> str | None:
    """Why the record cannot rank diseases, and what to record; None when it can.

    A record ranks diseases on something present (an HPO or local finding, or an abnormal
    result) that is specific: a present finding shown by fewer than one Mendelian disease
    in ten (``specific_share``), or a case fact that singles out diseases (an acquired
    cause's defining drug or history, a local finding one of them lists, a gene test with a
    disease-causing variant). A record with no present finding, or only findings that one
    disease in ten or more shows (seizures, intellectual disability, hypotonia...) and no
    such fact, gets no list.
    """
    present = read.present
    if not present and not read.local_present:
        return f"no ranked list: the record gives no present finding to rank diseases on; {WHAT_TO_RECORD}"
    if any(index.share[t] < index.parameters.specific_share for t in present):
        return None
    if any(f.log10_lr > 0 and f.kind != "needs" for found in facts.values() for f in found):
        return None
    names = ", ".join(index.term_names[t] for t in present[:6]) + (", ..." if len(present) > 6 else "")
    what = f"every finding recorded ({names}) is shown by one disease in ten or more" if present else (
        "the local findings recorded single out no disease")
    return f"no ranked list: {what}, so no disease stands out; {WHAT_TO_RECORD}"


def rank(case: Case, *, index: DifferentialIndex, top: int = 50, onset_term: str | None = None) -> Differential:
    """Rank every disease of the index for a case.

    Parameters
    ----------
    case : Case
        The patient (see :mod:`.evidence` for which fields count).
    index : DifferentialIndex
        The index (:func:`~contraxis.differential.load_index`).
    top : int
        How many candidates to return (all diseases are scored).
    onset_term : str, optional
        An HPO onset term to use instead of ``case.onset_age``.

    Returns
    -------
    Differential
        The leading candidates with their explanations, and gene suggestions; no candidate
        and a ``note`` when the record has nothing specific to rank on
        (:func:`specificity_note`).
    """
    read, facts, scores = score_case(case, index=index, onset_term=onset_term)
    summary = {
        "present": [{"term": index.term_ids[t], "name": index.term_names[t]} for t in read.present],
        "excluded": [
            {"term": index.term_ids[t], "name": index.term_names[t]} for t in read.excluded + read.excluded_by_test
        ],
        "onset": read.onset,
        "regions": [
            {"region": region, "term": term, "name": index.term_names[index.term_position[term]]}
            for region, term in read.from_regions.items()
            if term in index.term_position
        ],
        "labs": [r.to_json() for r in read.labs],
        "replaced": read.replaced,
        "set_aside": read.set_aside,
        "local_codes": sorted(read.local_present),
        # the chance that a feature the patient has reaches this record (model.py)
        "reporting_rate": round(index.reporting_rate(len(read.evidence.present)), 3),
        # the weights of the findings' and the exclusions' evidence (model.py)
        "evidence_weights": {"findings": round(scores.weights[0], 3), "excluded": round(scores.weights[1], 3)},
    }
    note = specificity_note(read, facts, index)
    candidates = [] if note is not None else _candidates(read, facts, scores, index, top)
    tested = case.genetics.tested if case.genetics else ()
    genes = suggest_genes(
        (
            (c.disease_id, c.post_test_probability, c.genes)
            for c in sorted(candidates, key=lambda c: c.rank)[:GENE_CANDIDATES]
        ),
        already_tested=tested,
    )
    return Differential(
        case_id=case.id,
        hpo_release=hpo_release(index),
        releases=index.releases,
        candidates=tuple(candidates),
        genes=tuple(genes),
        evidence=read,
        n_diseases=index.n_diseases,
        evidence_summary=summary,
        note=note,
    )


def _candidates(
    read: CaseEvidence, facts: dict[int, list[Fact]], scores: Scores, index: DifferentialIndex, top: int
) -> list[Candidate]:
    """The leading candidates in the order shown, each with its explanation (made on use)."""
    fits = treatable_fits(scores, facts, index)
    shown = display_order(scores, fits, top)
    by_probability = sorted(shown, key=lambda d: (-scores.log_odds[d], d))
    rank_of = {d: i for i, d in enumerate(by_probability, start=1)}
    excluded_rows = read.excluded + read.excluded_by_test
    shared = CaseTerms.of(read.present, excluded_rows, index, shown, accounted=scores.mentioned)
    explanations = CaseExplanations(
        shown,
        scores=scores,
        present=read.present,
        excluded=excluded_rows,
        index=index,
        facts={d: tuple(facts.get(d, ())) for d in shown},
        shared=shared,
    )
    candidates = []
    totals, posteriors = scores.total[shown].tolist(), scores.posterior[shown].tolist()
    for d, total, posterior in zip(shown, totals, posteriors, strict=True):
        about = _about(index, d)
        candidates.append(
            Candidate(
                rank=rank_of[d],
                disease_id=about.disease_id,
                name=about.name,
                kind=about.kind,
                genes=about.genes,
                score=total,
                post_test_probability=posterior,
                release=about.release,
                mds_name=about.mds_name,
                levodopa_responsive=about.levodopa_responsive,
                treatment=about.treatment,
                _explain=functools.partial(explanations, d),
                ids=about.ids,
            )
        )
    return candidates


@dataclass(frozen=True, slots=True)
class _About:
    """What a candidate row says of its disease whatever the case (:func:`_about`)."""

    disease_id: str
    name: str
    kind: str
    genes: tuple[str, ...]
    release: str
    mds_name: str | None
    levodopa_responsive: bool | None
    treatment: Treatment | None
    ids: tuple[str, ...]


def _about(index: DifferentialIndex, d: int) -> _About:
    """A disease's id, name, kind, genes, release, treatment and ids, kept per index (at most
    one entry per disease)."""
    kept = _ABOUT.get(index)
    if kept is None:
        kept = _ABOUT.setdefault(index, {})
    about = kept.get(d)
    if about is None:
        mds_name, levodopa, treatment = _treatment(index, d)
        about = _About(
            disease_id=index.disease_ids[d],
            name=index.disease_names[d],
            kind="acquired" if index.kind[d] == KIND_ACQUIRED else "mendelian",
            genes=index.genes_of(d),
            release=index.disease_release(d),
            mds_name=mds_name,
            levodopa_responsive=levodopa,
            treatment=treatment,
            ids=index.ids_of(d),
        )
        kept[d] = about
    return about


_ABOUT: weakref.WeakKeyDictionary[DifferentialIndex, dict[int, _About]] = weakref.WeakKeyDictionary()


# --- the answer for one input: the differential, what was not read, and why nothing ranks ---


def nothing_to_rank(reading: Reading, result: Differential) -> str | None:
    """Why no disease is listed, and what to record; None when there is a list.

    The differential's own note (:func:`specificity_note`), worded for a phenopacket when the
    input is one and gives no present phenotypic feature.
    """
    if result.note is None:
        return None
    evidence = result.evidence
    if reading.format == "phenopacket" and not evidence.present and not evidence.local_present:
        if reading.case.absent:
            return ("no ranked list: the phenopacket gives only excluded phenotypic features; "
                    f"give at least one present HPO feature to rank diseases on: {WHAT_TO_RECORD}")
        return ("no ranked list: the phenopacket gives no phenotypic features (no present HPO term in "
                f"phenotypicFeatures), so there is nothing to rank diseases on: {WHAT_TO_RECORD}")
    return result.note


def _same_place(a: str, b: str) -> bool:
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def answer_not_read(reading: Reading, result: Differential) -> list[NotRead]:
    """What the reader did not read, then what the differential set aside, each item once.

    The differential's rows (:func:`~.evidence.evidence_not_read`) are named by their place
    in the input through ``reading.extra["origins"]``; a row about an item the reader already
    named adds its reason to that row.
    """
    origins = reading.extra.get("origins") or {}
    items = list(reading.not_read)
    for extra in evidence_not_read(reading.case, result.evidence):
        path = relocate(extra.path, origins)
        same = next(
            (
                i
                for i, item in enumerate(items)
                if _same_place(item.path, path) and (item.value == extra.value or path != "case")
            ),
            None,
        )
        if same is None:
            items.append(NotRead(path, extra.value, extra.reason))
        elif extra.reason not in items[same].reason:
            items[same] = NotRead(items[same].path, items[same].value, f"{items[same].reason}; {extra.reason}")
    return items


def differential_answer(
    reading: Reading, result: Differential, *, detail: bool = False, line: bool = False
) -> dict[str, Any]:
    """The JSON answer for one input: the differential with its evidence block, the input's
    ``format``, ``not_read`` (``[{path, value, reason}]``) and, when no disease is listed, a
    ``note`` saying why.

    Parameters
    ----------
    reading : Reading
        The input as read (:func:`contraxis.io.detect.read_input`).
    result : Differential
        Its differential (:func:`rank`).
    detail : bool
        Give each candidate's full explanation.
    line : bool
        The shorter form of a JSON Lines line (without the model's description and the count
        of diseases ranked).
    """
    data = result.to_json(detail=detail)
    answer: dict[str, Any] = {"id": data["id"], "format": reading.format}
    answer.update({k: v for k, v in data.items() if k != "id" and not (line and k in ("model", "diseases_ranked"))})
    note = nothing_to_rank(reading, result)
    if note is not None:
        answer["candidates"] = []
        answer["genes"] = []
        answer["note"] = note
    answer["not_read"] = [item.to_json() for item in answer_not_read(reading, result)]
    return answer
