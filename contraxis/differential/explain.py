"""Why a disease ranks where it does: every part of its score, in words.

:func:`explain` takes the model's :class:`~contraxis.differential.model.Scores` for a case
and one disease and returns an :class:`Explanation`:

- the patient's findings grouped by organ system (the children of Phenotypic abnormality),
  each with its ``log10`` likelihood ratio and how it matched: ``exact``, ``implied`` (the
  disease has a more specific term below it), ``more specific`` (the patient's term is
  below a term annotated to the disease), ``related`` (both under a common ancestor),
  ``unexplained``, or ``contradicted`` (the disease is annotated NOT to have it);
- the excluded findings that count for or against it;
- the frequent features of the disease the record does not mention;
- the onset fit, the case facts (drugs, history, gene tests), and the score's parts.

With many findings (:data:`COLLAPSE_AT` or more, as from an electronic record) the
unexplained findings of each organ system are collapsed into a count.

:func:`explain_all` explains the listed diseases of a case together (what :func:`rank
<contraxis.differential.ranking.rank>` does): each finding is matched against every
disease's annotations in a few array operations, and what depends only on the index is kept
per index: each disease's annotation data (:class:`DiseaseRow`), each finding's line for a
disease (by term, disease and likelihood ratio), and each disease's unmentioned features (by
reporting rate and which of them the record mentions). The explanations are the same whatever
was kept.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np

from .facts import Fact
from .index import DifferentialIndex, unmentioned_log
from .model import Scores, mentioned
from .onset import BANDS

__all__ = [
    "COLLAPSE_AT",
    "CaseExplanations",
    "CaseTerms",
    "DiseaseRow",
    "Explanation",
    "FindingLine",
    "OrganGroup",
    "disease_row",
    "explain",
    "explain_all",
    "related_order",
]

COLLAPSE_AT = 50
"""From this many present findings on, unexplained findings are collapsed into a count."""

MatchKind = Literal["exact", "implied", "more specific", "related", "unexplained", "contradicted"]


@dataclass(frozen=True, slots=True)
class FindingLine:
    """One finding and what it counts for a disease.

    Attributes
    ----------
    term, name : str
        The patient's HPO term.
    log10_lr : float
        Its ``log10`` likelihood ratio for the disease.
    match : str
        How it matched (see the module's docstring); for an excluded finding, ``against``
        or ``for``.
    via, via_name : str
        The disease's term it matched through (empty for exact and unexplained).
    frequency : float or None
        The disease's frequency for the matched term, when known.
    source : str
        The reviewed source of the disease's term it matched, when that term comes from the
        differential's reviewed phenotype file rather than the HPO annotation.
    """

    term: str
    name: str
    log10_lr: float
    match: str
    via: str = ""
    via_name: str = ""
    frequency: float | None = None
    source: str = ""
    _json: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (a new dict each call; the line keeps the first one made)."""
        data = self._json
        if data is None:
            data = {
                "term": self.term,
                "name": self.name,
                "match": self.match,
                "log10_lr": round(self.log10_lr, 2),
            }
            if self.via:
                data["via"] = self.via
                data["via_name"] = self.via_name
            if self.frequency is not None:
                data["frequency"] = round(self.frequency, 2)
            if self.source:
                data["annotation_source"] = self.source
            object.__setattr__(self, "_json", data)
        return dict(data)

    def text(self) -> str:
        """The line in words."""
        how = {
            "exact": "annotated",
            "implied": f"implied by {self.via_name}",
            "more specific": f"a kind of {self.via_name}",
            "related": f"related through {self.via_name}",
            "unexplained": "not explained",
            "contradicted": "the disease is annotated not to have it",
            "against": "absent, counts against",
            "for": "absent, counts for",
        }.get(self.match, self.match)
        if self.source:
            how += f"; from {self.source}, not the HPO annotation"
        return f"{self.name} ({how}) {self.log10_lr:+.2f}"


@dataclass(frozen=True, slots=True)
class OrganGroup:
    """The findings of one organ system.

    Attributes
    ----------
    system, system_name : str
        The organ system's HPO term (empty for findings outside any).
    log10_lr : float
        The sum of its findings' ``log10`` likelihood ratios.
    matched : tuple of FindingLine
        Findings the disease explains, best first.
    unexplained : tuple of FindingLine
        Findings it does not explain (empty when collapsed).
    unexplained_count : int
        How many findings it does not explain.
    unexplained_log10_lr : float
        Their summed ``log10`` likelihood ratio.
    """

    system: str
    system_name: str
    log10_lr: float
    matched: tuple[FindingLine, ...]
    unexplained: tuple[FindingLine, ...]
    unexplained_count: int
    unexplained_log10_lr: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        data: dict[str, Any] = {
            "system": self.system,
            "system_name": self.system_name,
            "log10_lr": round(self.log10_lr, 2),
            "matched": [line.to_json() for line in self.matched],
            "unexplained_count": self.unexplained_count,
            "unexplained_log10_lr": round(self.unexplained_log10_lr, 2),
        }
        if self.unexplained:
            data["unexplained"] = [line.to_json() for line in self.unexplained]
        return data


@dataclass(frozen=True, slots=True)
class Missing:
    """A frequent feature of the disease that the record does not mention."""

    term: str
    name: str
    frequency: float
    log10_lr: float
    _json: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (a new dict each call; the feature keeps the first one made)."""
        data = self._json
        if data is None:
            data = {
                "term": self.term,
                "name": self.name,
                "frequency": round(self.frequency, 2),
                "log10_lr": round(self.log10_lr, 2),
            }
            object.__setattr__(self, "_json", data)
        return dict(data)


@dataclass(frozen=True)
class Explanation:
    """Everything behind one disease's score (see :func:`explain`)."""

    groups: tuple[OrganGroup, ...]
    excluded: tuple[FindingLine, ...]
    missing: tuple[Missing, ...]
    missing_count: int
    onset: dict[str, Any]
    facts: tuple[Fact, ...]
    parts: dict[str, float]
    collapsed: bool = False
    matched_count: int = 0
    unexplained_count: int = 0

    @property
    def matched(self) -> list[FindingLine]:
        """Every matched finding, best first."""
        return sorted((line for g in self.groups for line in g.matched), key=lambda line: -line.log10_lr)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "parts": {k: round(v, 2) for k, v in self.parts.items()},
            "matched_count": self.matched_count,
            "unexplained_count": self.unexplained_count,
            "collapsed": self.collapsed,
            "organ_systems": [g.to_json() for g in self.groups],
            "excluded": [line.to_json() for line in self.excluded],
            "missing": [m.to_json() for m in self.missing],
            "missing_count": self.missing_count,
            "onset": self.onset,
            "facts": [f.to_json() for f in self.facts],
        }

    def lines(self) -> list[str]:
        """The explanation as short lines of text."""
        out = []
        for group in self.groups:
            head = f"{group.system_name or 'other'}: {group.log10_lr:+.2f}"
            items = [line.text() for line in group.matched]
            items += [line.text() for line in group.unexplained]
            if group.unexplained_count and not group.unexplained:
                items.append(f"{group.unexplained_count} not explained {group.unexplained_log10_lr:+.2f}")
            out.append(f"{head} | " + "; ".join(items))
        if self.excluded:
            out.append("absent: " + "; ".join(line.text() for line in self.excluded))
        if self.missing:
            more = (
                f" (+{self.missing_count - len(self.missing)} more)" if self.missing_count > len(self.missing) else ""
            )
            out.append(
                "expected, not mentioned: " + ", ".join(f"{m.name} ({m.frequency:.0%})" for m in self.missing) + more
            )
        if self.onset.get("log10_lr"):
            out.append(f"onset: {self.onset['fit']} {self.onset['log10_lr']:+.2f}")
        out += [f"{f.text} {f.log10_lr:+.2f}" for f in self.facts]
        return out


def _implied_frequency(index: DifferentialIndex, term: int, disease: int) -> float:
    rows, freq = index.implied(term)
    at = int(np.searchsorted(rows, disease))
    return float(freq[at]) if at < len(rows) and rows[at] == disease else 0.0


CACHED_ROWS = 4096
"""How many diseases' :class:`DiseaseRow` each index keeps, most recently used first: a
disease's row depends only on the disease and the index, and the same diseases lead the
lists of many records."""

CACHED_TERMS = 2048
"""How many terms' related-match orders (:func:`related_order`) each index keeps."""

CACHED_LINES = 16384
"""How many present findings' lines, excluded findings' lines and diseases' unmentioned
features each index keeps (each table emptied when full): a finding's line for a disease
depends only on the term, the disease and its likelihood ratio, and the same findings and
diseases come back from one record to the next. An entry takes about 400 bytes, so the three
tables hold at most about 20 MB per process."""


@dataclass(frozen=True, eq=False)
class DiseaseRow:
    """What every explanation of one disease reads from the index, worked out once per
    disease (:func:`disease_row`).

    Attributes
    ----------
    annotated : tuple of int
        The term positions of its annotations (not the ``NOT`` ones), in index order.
    frequency : tuple of float
        Their frequencies (the index's values).
    negated : tuple of int
        The term positions it is annotated ``NOT`` to have.
    reviewed : bool
        Whether any of its annotations comes from the reviewed phenotype file.
    missing : tuple of int
        Its topmost annotations shown by half its patients or more, the most frequent first
        (then by term): the candidates for the "expected, not mentioned" features.
    missing_frequency : tuple of float
        Their frequencies.
    missing_implied, missing_background : numpy.ndarray
        Their ``F(t | d)`` and background frequencies (the index's arrays' types).
    annotated_array, frequency_array, missing_array : numpy.ndarray
        ``annotated``, ``frequency`` and ``missing`` as arrays.
    typical_onset : tuple of str or None
        The onset bands holding at least a fifth of its onset distribution; None when it has
        no onset annotated.
    """

    annotated: tuple[int, ...]
    frequency: tuple[float, ...]
    negated: tuple[int, ...]
    reviewed: bool
    missing: tuple[int, ...]
    missing_frequency: tuple[float, ...]
    missing_implied: np.ndarray
    missing_background: np.ndarray
    typical_onset: tuple[str, ...] | None
    annotated_array: np.ndarray = field(repr=False)
    missing_array: np.ndarray = field(repr=False)
    frequency_array: np.ndarray = field(repr=False)


def _keep(table: dict[Any, Any], key: Any, value: Any) -> None:
    """Keep a worked-out part in a bounded table: emptied when it holds more than
    :data:`CACHED_LINES` entries."""
    if len(table) > CACHED_LINES:
        table.clear()
    table[key] = value


def _disease_row(index: DifferentialIndex, disease: int) -> DiseaseRow:
    terms, freqs, negated = index.annotations_of(disease)
    start, end = int(index.ann_ptr[disease]), int(index.ann_ptr[disease + 1])
    positive = ~negated
    annotated, annotated_freq = terms[positive], freqs[positive]
    wanted = index.ann_topmost[start:end][positive] & (annotated_freq >= 0.5)
    chosen, chosen_freq = annotated[wanted], annotated_freq[wanted]
    order = np.lexsort((chosen, -chosen_freq))  # most frequent first, then by term
    shown = chosen[order]
    onset = None
    if bool(index.onset_known[disease]):
        onset = tuple(BANDS[b] for b, mass in enumerate(index.onset[disease].tolist()) if mass >= 0.2)
    return DiseaseRow(
        annotated=tuple(annotated.tolist()),
        frequency=tuple(annotated_freq.tolist()),
        negated=tuple(terms[negated].tolist()),
        reviewed=bool(np.count_nonzero(index.ann_source[start:end] >= 0)),
        missing=tuple(shown.tolist()),
        missing_frequency=tuple(chosen_freq[order].tolist()),
        missing_implied=index.ann_implied[start:end][positive][wanted][order],
        missing_background=index.background[shown],
        typical_onset=onset,
        annotated_array=annotated,
        missing_array=shown,
        frequency_array=annotated_freq.astype(np.float64),
    )


def _related_order(index: DifferentialIndex, term: int) -> tuple[int, ...]:
    return tuple(sorted(
        (x for x in index.ancestors(term).tolist() if x != term and index.category[x] >= 0),
        key=lambda x: (float(index.background[x]), x),
    ))


class _IndexCaches:
    """Per index: the disease rows, the terms' related-match orders, the present and excluded
    findings' lines (by term, disease and ``log10`` LR; None for an excluded finding the
    disease does not show), and each disease's unmentioned features (by reporting rate, limit
    and which of them the record mentions), bounded."""

    def __init__(self, index: DifferentialIndex) -> None:
        ref = weakref.ref(index)

        @functools.lru_cache(maxsize=CACHED_ROWS)
        def row(disease: int) -> DiseaseRow:
            live = ref()
            assert live is not None
            return _disease_row(live, disease)

        @functools.lru_cache(maxsize=CACHED_TERMS)
        def related(term: int) -> tuple[int, ...]:
            live = ref()
            assert live is not None
            return _related_order(live, term)

        self.row = row
        self.related = related
        self.lines: dict[tuple[int, int, float], FindingLine] = {}
        self.absent: dict[tuple[int, int, float], FindingLine | None] = {}
        self.missing: dict[tuple[int, float, int, tuple[bool, ...]], tuple[tuple[Missing, ...], int]] = {}


_CACHES: weakref.WeakKeyDictionary[DifferentialIndex, _IndexCaches] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _caches(index: DifferentialIndex) -> _IndexCaches:
    cached = _CACHES.get(index)
    if cached is None:
        with _CACHES_LOCK:
            cached = _CACHES.get(index)
            if cached is None:
                _CACHES[index] = cached = _IndexCaches(index)
    return cached


def disease_row(index: DifferentialIndex, disease: int) -> DiseaseRow:
    """A disease's :class:`DiseaseRow` (kept per index: :data:`CACHED_ROWS`)."""
    return _caches(index).row(int(disease))


def related_order(index: DifferentialIndex, term: int) -> tuple[int, ...]:
    """A term's ancestors within an organ system (itself left out), the rarest first (by
    background, then position): the first a disease shows is the one a related match goes
    through. Kept per index (:data:`CACHED_TERMS`)."""
    return _caches(index).related(int(term))


@dataclass(frozen=True, eq=False)
class CaseTerms:
    """What every explanation of one case shares, worked out once (:meth:`of`).

    Attributes
    ----------
    accounted : numpy.ndarray
        Per term, whether the record mentions it: a present finding, a term above or below
        one, or a term below an excluded finding (a disease's feature there is not "missing").
    diseases : numpy.ndarray
        The diseases to be explained (sorted): :meth:`frequency` looks a term up for all of
        them at once, the first time it is asked.
    present : tuple of int
        The present findings, in the order of the rows of :meth:`matrices`.
    """

    accounted: np.ndarray
    diseases: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _frequencies: dict[int, dict[int, float]] = field(default_factory=dict, repr=False)
    present: tuple[int, ...] = ()
    _matrices: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        present: Sequence[int],
        excluded: Sequence[int],
        index: DifferentialIndex,
        diseases: Sequence[int] = (),
        *,
        accounted: np.ndarray | None = None,
    ) -> CaseTerms:
        """The shared part for a case's present and excluded term positions, for explaining
        ``diseases`` (``accounted``: :func:`~.model.mentioned` for the same terms, when the
        scores already hold it)."""
        present = tuple(int(t) for t in present)
        if accounted is None:
            accounted = mentioned(present, excluded, index)
        return cls(accounted, np.asarray(sorted({int(d) for d in diseases}), dtype=np.int64), present=present)

    def matrices(self, index: DifferentialIndex) -> tuple[np.ndarray, np.ndarray]:
        """Per present finding (a row), whether each term is one of its ancestors (itself
        included), and whether it is one of its descendants: two ``(len(present), T + 1)``
        boolean matrices, with a last column that is always False (a place-holder that matches
        nothing); made on first use."""
        if not self._matrices:
            n = index.n_terms
            above_rows = np.zeros((len(self.present), n + 1), dtype=bool)
            below_rows = np.zeros((len(self.present), n + 1), dtype=bool)
            for k, t in enumerate(self.present):
                above_rows[k, index.ancestors(t)] = True
                below_rows[k, index.descendants(t)] = True
            self._matrices.update(above=above_rows, below=below_rows)
        return self._matrices["above"], self._matrices["below"]

    def frequency(self, index: DifferentialIndex, term: int, disease: int) -> float:
        """``F(term | disease)``: for the diseases to be explained, looked up for all of them in
        one search the first time the term is asked."""
        table = self._frequencies.get(term)
        if table is None:
            wanted = self.diseases
            at = int(np.searchsorted(wanted, disease))
            if at >= len(wanted) or wanted[at] != disease:
                return _implied_frequency(index, term, disease)
            rows, freq = index.implied(term)
            if len(rows):
                where = np.minimum(np.searchsorted(rows, wanted), len(rows) - 1)
                hit = rows[where] == wanted
                table = dict(zip(wanted[hit].tolist(), freq[where[hit]].tolist(), strict=True))
            else:
                table = {}
            self._frequencies[term] = table
        return table.get(disease, 0.0)


def explain(
    disease: int,
    *,
    scores: Scores,
    present: Sequence[int],
    excluded: Sequence[int],
    index: DifferentialIndex,
    facts: Sequence[Fact] = (),
    limit: int = 8,
    shared: CaseTerms | None = None,
) -> Explanation:
    """Explain one disease's score.

    Parameters
    ----------
    disease : int
        The disease's position in the index.
    scores : Scores
        The model's output for the case.
    present, excluded : Sequence[int]
        The term positions scored (rows of ``scores.present`` and ``scores.excluded``).
    index : DifferentialIndex
        The index.
    facts : Sequence[Fact]
        The case facts that count for this disease.
    limit : int
        At most this many excluded findings and missing features are listed.
    shared : CaseTerms, optional
        What the case's explanations share (worked out here when not given).
    """
    disease = int(disease)
    return explain_all(
        [disease], scores=scores, present=present, excluded=excluded, index=index,
        facts={disease: tuple(facts)}, limit=limit, shared=shared,
    )[disease]


def explain_all(
    diseases: Sequence[int],
    *,
    scores: Scores,
    present: Sequence[int],
    excluded: Sequence[int],
    index: DifferentialIndex,
    facts: Mapping[int, Sequence[Fact]] | None = None,
    limit: int = 8,
    shared: CaseTerms | None = None,
) -> dict[int, Explanation]:
    """Explain several diseases' scores for one case at once: the same as :func:`explain`
    for each, with the findings matched against all their annotations in a few array
    operations.

    Parameters
    ----------
    diseases : Sequence[int]
        The diseases' positions in the index.
    facts : Mapping[int, Sequence[Fact]], optional
        The case facts that count, per disease.
    scores, present, excluded, index, limit, shared
        As for :func:`explain`.

    Returns
    -------
    dict
        ``{disease: Explanation}``.
    """
    chosen = list(dict.fromkeys(int(d) for d in diseases))
    if not chosen:
        return {}
    present = [int(t) for t in present]
    excluded = [int(t) for t in excluded]
    if shared is None or shared.present != tuple(present):
        shared = CaseTerms.of(present, excluded, index, chosen)
    facts = facts or {}
    names, ids = index.term_names, index.term_ids
    rows = [disease_row(index, d) for d in chosen]
    n_present = len(present)
    systems = index.category[present].tolist() if present else []

    # A present finding's line for a disease, kept per index; those not kept are worked out
    # for every finding against every disease's annotations at once (_match).
    values = scores.present[:, chosen]
    present_values = values.tolist()
    kept = _caches(index).lines
    table = [
        [kept.get((t, d, value)) for d, value in zip(chosen, present_values[k], strict=True)]
        for k, t in enumerate(present)
    ]
    made = any(line is None for lines in table for line in lines)
    if made:
        _match(table, present, chosen, rows, present_values, shared, index)
    filled = cast(list[list[FindingLine]], table)
    if made:
        if len(kept) > CACHED_LINES:
            kept.clear()
        for k, t in enumerate(present):
            for d, value, line in zip(chosen, present_values[k], filled[k], strict=True):
                kept[(t, d, value)] = line
    present_sums = np.ascontiguousarray(values.T).sum(axis=1).tolist() if n_present else []
    excluded_block = scores.excluded[:, chosen]
    absent = _caches(index).absent
    excluded_values = excluded_block.tolist()
    excluded_sums = np.ascontiguousarray(excluded_block.T).sum(axis=1).tolist() if excluded else []

    # The frequent features each disease has that the record does not mention, kept per
    # disease, reporting rate and which of its features the record mentions.
    rate = index.reporting_rate(n_present)
    every = np.concatenate([r.missing_array for r in rows])
    unmentioned = (~shared.accounted[every]).tolist()
    kept_missing = _caches(index).missing
    missing_of: list[tuple[tuple[Missing, ...], int]] = []
    position = 0
    for disease, r in zip(chosen, rows, strict=True):
        flags = tuple(unmentioned[position : position + len(r.missing)])
        position += len(r.missing)
        found = kept_missing.get((disease, rate, limit, flags))
        if found is None:
            found = _missing(r, flags, rate, limit, index)
            _keep(kept_missing, (disease, rate, limit, flags), found)
        missing_of.append(found)

    unmentioned_values = scores.unmentioned[chosen].tolist()
    onset_values = scores.onset[chosen].tolist()
    fact_values = scores.facts[chosen].tolist()
    totals = scores.total[chosen].tolist()
    collapsed = n_present >= COLLAPSE_AT
    # The organ systems in the order their first finding comes, with their findings.
    by_system: dict[int, list[int]] = {}
    for k, system in enumerate(systems):
        by_system.setdefault(system, []).append(k)
    heads = [(ids[system] if system >= 0 else "", names[system] if system >= 0 else "", members)
             for system, members in by_system.items()]
    out: dict[int, Explanation] = {}
    for j, (disease, r) in enumerate(zip(chosen, rows, strict=True)):
        groups = []
        matched_count = 0
        for system_id, system_name, members in heads:
            lines = [filled[k][j] for k in members]
            matched = [line for line in lines if line.match not in _MISSED]
            missed = [line for line in lines if line.match in _MISSED]
            if len(matched) > 1:
                matched.sort(key=_weight)
            matched_count += len(matched)
            groups.append(OrganGroup(
                system_id,
                system_name,
                sum([line.log10_lr for line in lines]),
                tuple(matched),
                () if collapsed else tuple(missed),
                len(missed),
                sum([line.log10_lr for line in missed]),
            ))
        if len(groups) > 1:
            groups.sort(key=_weight)

        against = []
        for k, t in enumerate(excluded):
            value = excluded_values[k][j]
            excluded_line: FindingLine | None = absent.get((t, disease, value), _UNKNOWN)
            if excluded_line is _UNKNOWN:
                f = shared.frequency(index, t, disease)
                excluded_line = None
                if f > 0:
                    excluded_line = FindingLine(
                        ids[t], names[t], value, "against" if value < 0 else "for", frequency=f
                    )
                _keep(absent, (t, disease, value), excluded_line)
            if excluded_line is not None:
                against.append(excluded_line)
        if len(against) > 1:
            against.sort(key=_log10_lr)

        onset_value = onset_values[j]
        if r.typical_onset is None:
            onset = {"fit": "no onset annotated", "log10_lr": round(onset_value, 2)}
        else:
            fit = "fits" if onset_value > 0.05 else "atypical" if onset_value < -0.05 else "neutral"
            onset = {"fit": fit, "typical": list(r.typical_onset), "log10_lr": round(onset_value, 2)}

        parts = {
            "present": present_sums[j] if n_present else 0.0,
            "excluded": excluded_sums[j] if excluded else 0.0,
            "unmentioned": unmentioned_values[j],
            "onset": onset_value,
            "facts": fact_values[j],
            "total": totals[j],
        }
        out[disease] = Explanation(
            groups=tuple(groups),
            excluded=tuple(against[:limit]),
            missing=missing_of[j][0],
            missing_count=missing_of[j][1],
            onset=onset,
            facts=tuple(facts.get(disease, ())),
            parts=parts,
            collapsed=collapsed,
            matched_count=matched_count,
            unexplained_count=n_present - matched_count,
        )
    return out


def _missing(
    row: DiseaseRow, unmentioned: Sequence[bool], rate: float, limit: int, index: DifferentialIndex
) -> tuple[tuple[Missing, ...], int]:
    """A disease's frequent features the record does not mention (flagged in ``unmentioned``),
    at most ``limit`` of them, and how many there are."""
    mine = [i for i, flag in enumerate(unmentioned) if flag]
    shown = mine[:limit]
    costs = np.asarray(
        unmentioned_log(row.missing_implied[shown], row.missing_background[shown], rate), float
    ).tolist()
    names, ids = index.term_names, index.term_ids
    return tuple(
        Missing(ids[row.missing[i]], names[row.missing[i]], row.missing_frequency[i], cost)
        for i, cost in zip(shown, costs, strict=True)
    ), len(mine)


def _match(
    table: list[list[FindingLine | None]],
    present: Sequence[int],
    chosen: Sequence[int],
    rows: Sequence[DiseaseRow],
    present_values: list[list[float]],
    shared: CaseTerms,
    index: DifferentialIndex,
) -> None:
    """Fill the empty places of ``table`` (per present finding, per disease) with the finding's
    line: every finding against every disease's annotations at once, one disease per row of a
    matrix padded with a place-holder term (the last column of the CaseTerms rows, always
    False): the first exact match, and the most frequent (then first) annotation below
    (implied) and above (the finding is more specific) each finding."""
    above_rows, below_rows = shared.matrices(index)
    names, ids = index.term_names, index.term_ids
    n_present, n_terms = len(present), index.n_terms
    floors = index.unexplained[list(present)].tolist()
    lengths = [len(r.annotated) for r in rows]
    width = max(lengths) + 1
    terms = np.full((len(rows), width), n_terms, dtype=np.int64)
    freq = np.full((len(rows), width), -1.0)
    filled = np.arange(width) < np.array(lengths)[:, None]
    terms[filled] = np.concatenate([r.annotated_array for r in rows])
    freq[filled] = np.concatenate([r.frequency_array for r in rows])
    above = above_rows[:, terms]
    below = below_rows[:, terms]
    exact = (above & below).argmax(axis=2).tolist()
    flat = np.arange(n_present * len(rows))
    key = np.where(below, freq, -1.0).reshape(len(flat), width)
    at = key.argmax(axis=1)
    implied, implied_ok = at.reshape(n_present, -1).tolist(), (key[flat, at] >= 0).reshape(n_present, -1).tolist()
    key = np.where(above, freq, -1.0).reshape(len(flat), width)
    at = key.argmax(axis=1)
    general, general_ok = at.reshape(n_present, -1).tolist(), (key[flat, at] >= 0).reshape(n_present, -1).tolist()
    for j, (disease, r) in enumerate(zip(chosen, rows, strict=True)):
        annotated, frequency = r.annotated, r.frequency
        hit = above_rows[:, list(r.negated)] if r.negated else None
        for k, t in enumerate(present):
            if table[k][j] is not None:
                continue
            value = present_values[k][j]
            line: FindingLine
            if hit is not None and np.count_nonzero(hit[k]):
                line = FindingLine(ids[t], names[t], value, "contradicted")
            elif (g := exact[k][j]) < len(annotated) and annotated[g] == t:
                source = index.annotation_source(disease, t) if r.reviewed else ""
                line = FindingLine(ids[t], names[t], value, "exact", frequency=frequency[g], source=source)
            elif implied_ok[k][j] or general_ok[k][j]:
                g = implied[k][j] if implied_ok[k][j] else general[k][j]
                a = annotated[g]
                source = index.annotation_source(disease, a) if r.reviewed else ""
                line = FindingLine(ids[t], names[t], value, "implied" if implied_ok[k][j] else "more specific",
                                   ids[a], names[a], frequency[g], source)
            else:
                through = None
                if value > floors[k] + 1e-6:
                    order = related_order(index, t)
                    through = next(((x, f) for x in order if (f := shared.frequency(index, x, disease)) > 0), None)
                if through is not None:
                    c, f = through
                    line = FindingLine(ids[t], names[t], value, "related", ids[c], names[c], f)
                else:
                    line = FindingLine(ids[t], names[t], value, "unexplained")
            table[k][j] = line


_UNKNOWN: Any = object()
"""A line not kept yet."""

_MISSED = frozenset({"unexplained", "contradicted"})
"""How a finding the disease does not explain matches."""


def _weight(item: FindingLine | OrganGroup) -> float:
    return -item.log10_lr


def _log10_lr(line: FindingLine) -> float:
    return line.log10_lr


class CaseExplanations:
    """The explanations of a case's listed diseases, all made together the first time one is
    asked for (:func:`explain_all`); ``explanations(disease)`` gives one.

    Parameters are those of :func:`explain_all`.
    """

    def __init__(self, diseases: Sequence[int], **arguments: Any) -> None:
        self._diseases = tuple(int(d) for d in diseases)
        self._arguments = arguments
        self._made: dict[int, Explanation] | None = None
        self._lock = threading.Lock()

    def __call__(self, disease: int) -> Explanation:
        """The explanation of one of the diseases (KeyError for another)."""
        if self._made is None:
            with self._lock:
                if self._made is None:
                    self._made = explain_all(self._diseases, **self._arguments)
        return self._made[int(disease)]
