"""The likelihood-ratio model: every disease scored at once.

For each disease *d* the model multiplies the likelihood ratios (LR) of the evidence, in the
manner of LIRICAL (Robinson et al., Am J Hum Genet 2020;107:403-417), working in ``log10``:

**A finding the patient has** (term *t*)::

    LR(t | d) = P(t | d) / background(t)

where ``P(t | d)`` is the best of

- ``F(t | d)``: the disease is annotated to *t* or to a term below it (an observed term
  more general than the annotation is implied by it: full frequency, but over the larger
  background of the general term, so the credit falls with its specificity);
- the disease is annotated to an ancestor *a* of *t* (the patient's term is more specific
  than the annotation): the share of *a* that *t* makes up in the background,
  ``f(a | d) * background(t) / background(a)``, so ``LR = f(a | d) / background(a)``:
  full credit for the annotated term, none for the extra precision;
- the disease has another feature under a common ancestor *c*: the same, times
  ``related_credit``;
- the floor ``unexplained(t)``: a finding the disease cannot explain lowers its odds by 1:10
  for the most common findings down to 1:500 for the rarest (never a veto).

A disease annotated ``NOT`` *t* (or ``NOT`` an ancestor of *t*) gets the floor.

**A finding looked for and not found** is two facts: it was sought, and it was absent::

    LR(not t | d) = sought(t | d) * (1 - min(F(t | d), 1 - false_negative)) / (1 - background(t))

Clinicians record pertinent negatives, the absent findings that would have supported a
diagnosis they were weighing, so a finding is ``ascertainment`` times likelier to be sought
when it is a feature of the patient's disease: ``sought(t | d)`` is ``ascertainment`` for a
disease with the feature and 1 otherwise, divided by its corpus average. An exclusion that a
test result makes (a normal calcium, a normal MRI) was not chosen, and has ``sought = 1``.

**A feature of the disease the record does not mention** (neither the term, nor a term above
or below it, is present or excluded), for each of the disease's topmost annotations::

    LR = (1 - r * F(a | d)) / (1 - r * background(a))

where ``r``, the probability that a feature the patient has reaches the record, grows with
the number of findings the record names (``reporting`` at as many findings as a patient of
the average disease shows features; see
:meth:`~contraxis.differential.parameters.ModelParameters.reporting_rate`): a sparse record
says little about what the patient lacks, a long one more.

**Age at onset**: ``P(onset band | d) / P(onset band)`` over the nine bands of
:mod:`.onset`; a disease without onset annotations gets 1.

**Case facts** (:mod:`.facts`): an acquired cause's defining exposure, its supporting local
findings, and gene tests.

Redundant findings are removed first (:func:`reduce_terms`). The pretest probability is
uniform over the Mendelian diseases; acquired causes carry a larger pretest weight
(``acquired_causes.yaml``).

**Post-test probability**: the findings of one record are not independent (a checklist, an
organ system examined in detail), so their likelihood ratios are tempered before they are
combined with the pretest odds::

    log10 odds(d) = log10 prior(d) + w(n) * (present + unmentioned + onset)
                    + w_x(m) * excluded + facts

with ``w(n) = temper / (1 + (n - 1) * dependence)`` for ``n`` present findings and ``w_x(m)``
the same for ``m`` exclusions (:meth:`~.parameters.ModelParameters.evidence_weight`); the
case facts (an exposure, a gene test) are separate observations and keep their weight. The
post-test probability is these odds normalised over every disease. Every constant is in
:class:`~contraxis.differential.parameters.ModelParameters`, with its reason.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .index import DifferentialIndex, unmentioned_log

__all__ = ["Evidence", "Scores", "mentioned", "normalise", "reduce_terms", "score"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the model scores, as term positions in the index.

    Parameters
    ----------
    present : tuple of int
        Findings the patient has (already reduced: see :func:`reduce_terms`).
    excluded : tuple of int
        Findings looked for and absent (already reduced).
    excluded_by_test : tuple of int
        Findings a normal test result excludes (scored without the pertinent-negative
        factor: a test result is not a clinician's choice of what to record).
    onset_bands : tuple of int
        The onset bands the patient's onset falls in (empty when unknown).
    facts_log : numpy.ndarray or None
        ``log10`` likelihood ratio per disease of the case facts (drugs, history...), or
        None when there are none.
    """

    present: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()
    excluded_by_test: tuple[int, ...] = ()
    onset_bands: tuple[int, ...] = ()
    facts_log: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class Scores:
    """The model's output for every disease (``log10`` likelihood ratios).

    Attributes
    ----------
    present : numpy.ndarray
        ``(len(evidence.present), D)``: each present finding's ``log10`` LR per disease.
    excluded : numpy.ndarray
        ``(len(evidence.excluded) + len(evidence.excluded_by_test), D)``: each excluded
        finding's ``log10`` LR per disease (the clinical ones first).
    onset : numpy.ndarray
        ``(D,)``: ``log10`` LR of the age at onset.
    unmentioned : numpy.ndarray
        ``(D,)``: ``log10`` LR of the disease's features the record does not mention.
    facts : numpy.ndarray
        ``(D,)``: ``log10`` LR of the case facts.
    total : numpy.ndarray
        ``(D,)``: the sum, the disease's ``log10`` likelihood ratio.
    posterior : numpy.ndarray
        ``(D,)``: post-test probability.
    log_odds : numpy.ndarray
        ``(D,)``: ``log10`` post-test odds before normalisation (the tempered evidence
        plus the pretest weight): the order of the list.
    weights : tuple of float
        The weights ``(w(n), w_x(m))`` given to the findings and to the exclusions.
    mentioned : numpy.ndarray or None
        ``(T,)``: per term, whether the record mentions it (:func:`mentioned`; read-only).
    """

    present: np.ndarray
    excluded: np.ndarray
    onset: np.ndarray
    unmentioned: np.ndarray
    facts: np.ndarray
    total: np.ndarray
    posterior: np.ndarray
    log_odds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: tuple[float, float] = (1.0, 1.0)
    mentioned: np.ndarray | None = None


def reduce_terms(
    present: Sequence[int], excluded: Sequence[int], *, index: DifferentialIndex
) -> tuple[tuple[int, ...], tuple[int, ...], dict[int, int]]:
    """Drop redundant findings.

    A present finding that is an ancestor of another present finding is implied by it; an
    excluded finding below another excluded finding is implied by that exclusion; an
    excluded finding that is an ancestor of a present one contradicts it and is dropped
    (the present, more specific finding wins).

    Returns
    -------
    tuple
        The kept present findings, the kept excluded findings, and ``{dropped: reason
        term}`` for each finding dropped (the term that implies or contradicts it).
    """
    present_set = list(dict.fromkeys(present))
    covered: dict[int, int] = {}
    for t in present_set:
        for a in index.ancestors(t).tolist():
            if a != t:
                covered.setdefault(a, t)
    dropped: dict[int, int] = {}
    kept_present = []
    for t in present_set:
        if t in covered:
            dropped[t] = covered[t]
        else:
            kept_present.append(t)
    excluded_set = [t for t in dict.fromkeys(excluded) if t not in present_set]
    excluded_lookup = {t for t in excluded_set if t not in covered}
    kept_excluded = []
    for t in excluded_set:
        if t in covered:
            dropped[t] = covered[t]
            continue
        above = next((a for a in index.ancestors(t).tolist() if a != t and a in excluded_lookup), None)
        if above is not None:
            dropped[t] = above
        else:
            kept_excluded.append(t)
    return tuple(kept_present), tuple(kept_excluded), dropped


ROW_CACHE = 512
"""How many terms' rows (one finding's ``log10`` LR for every disease) each index keeps,
most recently used first: a finding's row depends only on the term and the index, and
common findings come back from one record to the next."""


def _row_cache(index: DifferentialIndex) -> Callable[[int, int], np.ndarray]:
    cached = _ROWS.get(index)
    if cached is None:

        @functools.lru_cache(maxsize=ROW_CACHE)
        def row(term: int, kind: int) -> np.ndarray:
            values = _present_row(term, index) if kind == _PRESENT else _excluded_row(term, kind == _SOUGHT, index)
            values.setflags(write=False)
            return values

        _ROWS[index] = cached = row
    return cached


_ROWS: weakref.WeakKeyDictionary[DifferentialIndex, Callable[[int, int], np.ndarray]] = weakref.WeakKeyDictionary()
_PRESENT, _SOUGHT, _TESTED = 0, 1, 2


def _present_row(t: int, index: DifferentialIndex) -> np.ndarray:
    """One present finding's ``log10`` LR for every disease (see the module's docstring)."""
    a = index.arrays
    out = np.full(index.n_diseases, a["unexplained"][t], dtype=np.float32)
    rows, freq = index.implied(t)
    out[rows] = np.maximum(out[rows], np.log10(freq / a["background"][t]).astype(np.float32))
    credit_ptr, credit_rows, credit_log = a["credit_ptr"], a["credit_rows"], a["credit_log"]
    negated_ptr, negated_rows = a["negated_ptr"], a["negated_rows"]
    negated: list[np.ndarray] = []
    for c in index.ancestors(t).tolist():
        if c != t:
            start, end = credit_ptr[c], credit_ptr[c + 1]
            if end > start:  # each column holds a disease once: a plain indexed maximum is exact
                chosen = credit_rows[start:end]
                out[chosen] = np.maximum(out[chosen], credit_log[start:end])
        start, end = negated_ptr[c], negated_ptr[c + 1]
        if end > start:
            negated.append(negated_rows[start:end])
    if negated:
        out[np.concatenate(negated)] = a["unexplained"][t]
    return out


def _present(terms: Sequence[int], index: DifferentialIndex) -> np.ndarray:
    n = index.n_diseases
    if not terms:
        return np.zeros((0, n), dtype=np.float32)
    row = _row_cache(index)
    out = np.empty((len(terms), n), dtype=np.float32)
    for i, t in enumerate(terms):
        out[i] = row(int(t), _PRESENT)
    return out


def _excluded_row(t: int, sought: bool, index: DifferentialIndex) -> np.ndarray:
    """One excluded finding's ``log10`` LR for every disease (see the module's docstring)."""
    parameters = index.parameters
    cap = 1.0 - parameters.false_negative
    background = min(float(index.background[t]), cap)
    # Sought: x kappa for a disease with the feature, normalised over the corpus (1 for tests).
    kappa = parameters.ascertainment if sought else 1.0
    norm = np.log10(1.0 + (kappa - 1.0) * float(index.share[t]))
    out = np.full(index.n_diseases, -np.log10(1.0 - background) - norm, dtype=np.float32)
    rows, freq = index.implied(t)
    out[rows] = np.log10(kappa * (1.0 - np.minimum(freq, cap)) / (1.0 - background)) - norm
    return out


def _excluded(terms: Sequence[int], sought: Sequence[bool], index: DifferentialIndex) -> np.ndarray:
    n = index.n_diseases
    if not terms:
        return np.zeros((0, n), dtype=np.float32)
    row = _row_cache(index)
    out = np.empty((len(terms), n), dtype=np.float32)
    for i, (t, s) in enumerate(zip(terms, sought, strict=True)):
        out[i] = row(int(t), _SOUGHT if s else _TESTED)
    return out


def _slices(ptr: np.ndarray, data: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """The CSR slices of ``rows``, concatenated."""
    if not rows:
        return data[:0]
    return np.concatenate([data[ptr[r] : ptr[r + 1]] for r in rows])


def mentioned(present: Sequence[int], excluded: Sequence[int], index: DifferentialIndex) -> np.ndarray:
    """Per term, whether the record mentions it: a present finding, a term above or below one,
    or a term below an excluded finding (boolean, ``(T,)``)."""
    mask = np.zeros(index.n_terms, dtype=bool)
    for t in present:
        mask[index.ancestors(t)] = True
        mask[index.descendants(t)] = True
    for t in excluded:
        mask[index.descendants(t)] = True
    return mask


def _unmentioned(
    present: Sequence[int], excluded: Sequence[int], index: DifferentialIndex, mask: np.ndarray | None = None
) -> np.ndarray:
    """log10 LR of the disease annotations the record neither mentions nor excludes (``mask``:
    :func:`mentioned`, worked out here when not given)."""
    if mask is None:
        mask = mentioned(present, excluded, index)
    accounted = np.flatnonzero(mask)
    total = index.unmentioned_totals(len(present)).copy()
    ptr = index.unmentioned_ptr
    starts, ends = ptr[accounted], ptr[accounted + 1]
    lengths = ends - starts
    count = int(lengths.sum())
    if count:
        take = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(count)
        values = _unmentioned_values(index, len(present))[take]
        total -= np.bincount(index.unmentioned_rows[take], weights=values, minlength=index.n_diseases)
    return total


def _unmentioned_values(index: DifferentialIndex, findings: int) -> np.ndarray:
    """Per topmost annotation (in ``unmentioned_*`` order), its ``log10`` LR when a record
    naming ``findings`` findings leaves it unmentioned; worked out once per rate."""
    step = min(findings, len(index.unmentioned_table) - 1)
    cached = _VALUES.setdefault(index, {})
    values = cached.get(step)
    if values is None:
        terms = np.repeat(np.arange(index.n_terms), np.diff(index.unmentioned_ptr))
        values = unmentioned_log(index.unmentioned_freq, index.background[terms], index.reporting_rate(step))
        values.setflags(write=False)
        cached[step] = values
    return values


_VALUES: weakref.WeakKeyDictionary[DifferentialIndex, dict[int, np.ndarray]] = weakref.WeakKeyDictionary()


def _onset(bands: tuple[int, ...], index: DifferentialIndex) -> np.ndarray:
    """``log10`` LR of an onset in ``bands`` for every disease, worked out once per index and
    bands (read-only)."""
    cached = _ONSETS.setdefault(index, {})
    values = cached.get(bands)
    if values is None:
        chosen = list(bands)
        values = np.log10(index.onset[:, chosen].sum(axis=1) / index.onset_background[chosen].sum())
        values.setflags(write=False)
        cached[bands] = values
    return values


_ONSETS: weakref.WeakKeyDictionary[DifferentialIndex, dict[tuple[int, ...], np.ndarray]] = weakref.WeakKeyDictionary()


def score(evidence: Evidence, *, index: DifferentialIndex) -> Scores:
    """Score every disease of the index against the evidence.

    Parameters
    ----------
    evidence : Evidence
        The case's findings, exclusions, onset and facts, as index positions.
    index : DifferentialIndex
        The precomputed index.

    Returns
    -------
    Scores
        Per-finding and total ``log10`` likelihood ratios and post-test probabilities.
    """
    present = _present(evidence.present, index)
    excluded_terms = (*evidence.excluded, *evidence.excluded_by_test)
    sought = [True] * len(evidence.excluded) + [False] * len(evidence.excluded_by_test)
    excluded = _excluded(excluded_terms, sought, index)
    onset = _onset(tuple(evidence.onset_bands), index) if evidence.onset_bands else np.zeros(index.n_diseases)
    mask = mentioned(evidence.present, excluded_terms, index)
    mask.setflags(write=False)
    unmentioned = _unmentioned(evidence.present, excluded_terms, index, mask)
    facts = evidence.facts_log if evidence.facts_log is not None else np.zeros(index.n_diseases)
    findings = present.sum(axis=0, dtype=np.float64) + onset + unmentioned
    absent = excluded.sum(axis=0, dtype=np.float64)
    total = findings + absent + facts
    parameters = index.parameters
    weights = (
        parameters.evidence_weight(len(evidence.present)),
        parameters.evidence_weight(len(excluded_terms), excluded=True),
    )
    log_odds = index.log_prior + weights[0] * findings + weights[1] * absent + facts
    return Scores(
        present=present,
        excluded=excluded,
        onset=onset,
        unmentioned=unmentioned,
        facts=facts,
        total=total,
        posterior=normalise(log_odds),
        log_odds=log_odds,
        weights=weights,
        mentioned=mask,
    )


def normalise(log_odds: np.ndarray) -> np.ndarray:
    """Post-test probabilities from ``log10`` odds: ``10 ** log_odds`` normalised to sum to one."""
    shifted = np.power(10.0, log_odds - log_odds.max())
    return shifted / shifted.sum()
