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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .facts import Fact
from .index import DifferentialIndex, unmentioned_log
from .model import Scores
from .onset import BANDS

__all__ = ["COLLAPSE_AT", "CaseTerms", "Explanation", "FindingLine", "OrganGroup", "explain"]

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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        data: dict[str, Any] = {
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
        return data

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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "term": self.term,
            "name": self.name,
            "frequency": round(self.frequency, 2),
            "log10_lr": round(self.log10_lr, 2),
        }


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


@dataclass(frozen=True, eq=False)
class CaseTerms:
    """What every explanation of one case shares, worked out once (:meth:`of`).

    Attributes
    ----------
    accounted : numpy.ndarray
        Per term, whether the record mentions it: a present finding, a term above or below
        one, or a term below an excluded finding (a disease's feature there is not "missing").
    above, below : Mapping[int, numpy.ndarray]
        Per present finding, whether each term is one of its ancestors (itself included), or
        one of its descendants.
    diseases : numpy.ndarray
        The diseases to be explained (sorted): :meth:`frequency` looks a term up for all of
        them at once, the first time it is asked.
    related : Mapping[int, tuple[int, ...]]
        Per present finding, its ancestors within an organ system, the rarest first: the
        first that a disease shows is the one a related match goes through.
    """

    accounted: np.ndarray
    above: Mapping[int, np.ndarray] = field(default_factory=dict)
    below: Mapping[int, np.ndarray] = field(default_factory=dict)
    diseases: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    related: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    _frequencies: dict[int, dict[int, float]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, present: Sequence[int], excluded: Sequence[int], index: DifferentialIndex, diseases: Sequence[int] = ()
    ) -> CaseTerms:
        """The shared part for a case's present and excluded term positions, for explaining
        ``diseases``."""
        accounted = np.zeros(index.n_terms, dtype=bool)
        above: dict[int, np.ndarray] = {}
        below: dict[int, np.ndarray] = {}
        for t in present:
            above[t] = np.zeros(index.n_terms, dtype=bool)
            above[t][index.ancestors(t)] = True
            below[t] = np.zeros(index.n_terms, dtype=bool)
            below[t][index.descendants(t)] = True
            accounted |= above[t] | below[t]
        for t in excluded:
            accounted[index.descendants(t)] = True
        related = {
            t: tuple(sorted(
                (x for x in index.ancestors(t).tolist() if x != t and index.category[x] >= 0),
                key=lambda x: (float(index.background[x]), x),
            ))
            for t in present
        }
        return cls(accounted, above, below, np.asarray(sorted(set(diseases)), dtype=np.int64), related)

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
                at = np.minimum(np.searchsorted(rows, wanted), len(rows) - 1)
                hit = rows[at] == wanted
                table = dict(zip(wanted[hit].tolist(), freq[at[hit]].tolist(), strict=True))
            else:
                table = {}
            self._frequencies[term] = table
        return table.get(disease, 0.0)


def _best(freqs: np.ndarray, among: np.ndarray) -> int | None:
    """The position of the most frequent of the annotations flagged in ``among``, or None."""
    if not among.any():
        return None
    return int(np.flatnonzero(among)[np.argmax(freqs[among])])


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
    names, ids = index.term_names, index.term_ids
    shared = shared or CaseTerms.of(present, excluded, index)
    terms, freqs, negated = index.annotations_of(disease)
    positive = ~negated
    annotated, annotated_freq = terms[positive], freqs[positive]
    not_annotated = terms[negated]
    unexplained_floor = index.unexplained

    start, end = int(index.ann_ptr[disease]), int(index.ann_ptr[disease + 1])
    reviewed = bool((index.ann_source[start:end] >= 0).any())

    def source(a: int) -> str:
        return index.annotation_source(disease, a) if reviewed else ""

    lines: list[FindingLine] = []
    for k, t in enumerate(present):
        value = float(scores.present[k, disease])
        above = shared.above.get(t)
        if above is None:
            above = np.zeros(index.n_terms, dtype=bool)
            above[index.ancestors(t)] = True
        below = shared.below.get(t)
        if below is None:
            below = np.zeros(index.n_terms, dtype=bool)
            below[index.descendants(t)] = True
        line: FindingLine
        at = int(np.searchsorted(annotated, t))
        if len(not_annotated) and above[not_annotated].any():
            line = FindingLine(ids[t], names[t], value, "contradicted")
        elif at < len(annotated) and annotated[at] == t:
            line = FindingLine(ids[t], names[t], value, "exact", frequency=float(annotated_freq[at]), source=source(t))
        elif (j := _best(annotated_freq, below[annotated])) is not None:
            a = int(annotated[j])
            line = FindingLine(
                ids[t], names[t], value, "implied", ids[a], names[a], float(annotated_freq[j]), source(a)
            )
        elif (j := _best(annotated_freq, above[annotated])) is not None:
            a = int(annotated[j])
            line = FindingLine(
                ids[t], names[t], value, "more specific", ids[a], names[a], float(annotated_freq[j]), source(a)
            )
        else:
            through = None
            if value > float(unexplained_floor[t]) + 1e-6:
                order = shared.related.get(t)
                if order is None:
                    order = tuple(sorted(
                        (x for x in index.ancestors(t).tolist() if x != t and index.category[x] >= 0),
                        key=lambda x: (float(index.background[x]), x),
                    ))
                through = next(
                    ((x, f) for x in order if (f := shared.frequency(index, x, disease)) > 0), None
                )
            if through is not None:
                c, f = through
                line = FindingLine(ids[t], names[t], value, "related", ids[c], names[c], f)
            else:
                line = FindingLine(ids[t], names[t], value, "unexplained")
        lines.append(line)

    collapsed = len(present) >= COLLAPSE_AT
    by_system: dict[int, list[FindingLine]] = {}
    for t, line in zip(present, lines, strict=True):
        by_system.setdefault(int(index.category[t]), []).append(line)
    groups = []
    for system, members in by_system.items():
        matched = sorted(
            (line for line in members if line.match not in ("unexplained", "contradicted")),
            key=lambda line: -line.log10_lr,
        )
        missed = [line for line in members if line.match in ("unexplained", "contradicted")]
        groups.append(OrganGroup(
            system=ids[system] if system >= 0 else "",
            system_name=names[system] if system >= 0 else "",
            log10_lr=sum(line.log10_lr for line in members),
            matched=tuple(matched),
            unexplained=() if collapsed else tuple(missed),
            unexplained_count=len(missed),
            unexplained_log10_lr=sum(line.log10_lr for line in missed),
        ))
    groups.sort(key=lambda g: -g.log10_lr)

    against = []
    for k, t in enumerate(excluded):
        value = float(scores.excluded[k, disease])
        f = shared.frequency(index, t, disease)
        if f > 0:
            against.append(FindingLine(ids[t], names[t], value, "against" if value < 0 else "for", frequency=f))
    against.sort(key=lambda line: line.log10_lr)

    accounted = shared.accounted
    topmost = index.ann_topmost[start:end][positive]
    wanted = topmost & (annotated_freq >= 0.5) & ~accounted[annotated]
    rate = index.reporting_rate(len(present))
    chosen = annotated[wanted]
    chosen_freq = annotated_freq[wanted]
    order = np.lexsort((chosen, -chosen_freq))[:limit]  # most frequent first, then by term
    shown = chosen[order]
    costs = unmentioned_log(index.ann_implied[start:end][positive][wanted][order], index.background[shown], rate)
    missing = [
        Missing(ids[a], names[a], f, c)
        for a, f, c in zip(shown.tolist(), chosen_freq[order].tolist(), np.asarray(costs, float).tolist(), strict=True)
    ]

    onset_value = float(scores.onset[disease])
    if not bool(index.onset_known[disease]):
        onset = {"fit": "no onset annotated", "log10_lr": round(onset_value, 2)}
    else:
        typical = [BANDS[b] for b, mass in enumerate(index.onset[disease].tolist()) if mass >= 0.2]
        fit = "fits" if onset_value > 0.05 else "atypical" if onset_value < -0.05 else "neutral"
        onset = {"fit": fit, "typical": typical, "log10_lr": round(onset_value, 2)}

    parts = {
        "present": float(scores.present[:, disease].sum()) if len(present) else 0.0,
        "excluded": float(scores.excluded[:, disease].sum()) if len(excluded) else 0.0,
        "unmentioned": float(scores.unmentioned[disease]),
        "onset": onset_value,
        "facts": float(scores.facts[disease]),
        "total": float(scores.total[disease]),
    }
    matched_count = sum(len(g.matched) for g in groups)
    return Explanation(
        groups=tuple(groups),
        excluded=tuple(against[:limit]),
        missing=tuple(missing),
        missing_count=len(chosen),
        onset=onset,
        facts=tuple(facts),
        parts=parts,
        collapsed=collapsed,
        matched_count=matched_count,
        unexplained_count=len(present) - matched_count,
    )
