"""The differential benchmark: Contraxis beside hpo3's set similarity, on the same cases.

For each case with a known diagnosis (a phenopacket's disease), Contraxis is measured two
ways in one run:

- **as listed**: the place of the diagnosis in the list as the user sees it, every row
  counted (Orphanet and DECIPHER entries, acquired causes), in the order shown (treatable
  candidates that fit first, :func:`~.ranking.display_order`); a row counts for the
  diagnosis whichever of its ids the phenopacket names (entries MONDO maps to the same
  disease are one row). A case given no list (nothing specific to rank on) misses at
  every rank;
- **among OMIM entries**: ``1 +`` the number of rows with an OMIM id scored strictly
  higher, as hpo3 is measured.

hpo3 is scored as a user would call it: ``HPOSet(present terms).similarity_scores(every
OMIM disease's HPOSet, kind="omim", method="resnik", combine="funSimAvg")``. It takes about
0.3 s per case, so on a large set it runs on an evenly spaced sample while Contraxis ranks
every case, and Contraxis is also reported on that sample, like for like.

**Leave publication out** (``publications`` given): each case is also scored with the
annotations of its own publication left out (:mod:`.leaveout`), both ways.

**Calibration**: the probability of the first row shown against whether it is the diagnosis,
over every case given a list (a case whose diagnosis the index does not know counts as
wrong): a reliability table and the expected calibration error (:class:`Calibration`).

**Where the misses are** (``publications`` given): the figures as listed split by whether
the annotation of the case's diagnosis cites the case's own publication
(:meth:`BenchmarkReport.by_citation`), and the publications whose cases miss most often
(:meth:`BenchmarkReport.publications_missed`): a benchmark reviewer sees how much of the
result is the annotation remembering its sources, and which cohorts the rest depends on.

Top-1, top-3, top-10 and the mean reciprocal rank (MRR) are taken over the cases whose
diagnosis the method knows; how many it does not know is reported beside.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from contraxis.case import Case

from .index import DifferentialIndex
from .leaveout import PublicationMask, masked_scores
from .model import Scores
from .ranking import score_case, specificity_note, treatable_fits, user_rank

__all__ = [
    "BenchmarkReport",
    "PublicationFigures",
    "Calibration",
    "NO_LIST",
    "LabelledCase",
    "MethodResult",
    "evenly_spaced",
    "hpo3_ranker",
    "publication_mask",
    "publications_for",
    "read_publications",
    "run_benchmark",
]


NO_LIST = 10**9
"""The rank given, as listed, to a diagnosis of a case given no list: beyond every rank."""


class _Diagnosis(Protocol):
    id: str


class LabelledCase(Protocol):
    """A case with its known diagnoses (what :mod:`contraxis.io.phenopacket` reads)."""

    case: Case
    diagnoses: Sequence[_Diagnosis]
    onset_term: str | None


@dataclass(frozen=True)
class MethodResult:
    """One method's ranks on a set of cases.

    Attributes
    ----------
    method : str
        Its name.
    ranks : tuple of int or None
        Per case, the rank of the diagnosis (None: the method does not know it).
    seconds : float
        Time spent ranking, in total.
    """

    method: str
    ranks: tuple[int | None, ...]
    seconds: float

    @property
    def known(self) -> list[int]:
        """The ranks of the cases whose diagnosis the method knows."""
        return [r for r in self.ranks if r is not None]

    @property
    def unknown(self) -> int:
        """How many diagnoses the method does not know."""
        return sum(1 for r in self.ranks if r is None)

    @property
    def ms_per_case(self) -> float:
        """Milliseconds per case ranked."""
        return 1000.0 * self.seconds / max(1, len(self.ranks))

    def top(self, k: int) -> float:
        """Share of known cases with the diagnosis in the first ``k``."""
        known = self.known
        return sum(1 for r in known if r <= k) / len(known) if known else 0.0

    def misses(self, k: int) -> int:
        """How many known cases do not have the diagnosis in the first ``k``."""
        return sum(1 for r in self.known if r > k)

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank over the known cases."""
        known = self.known
        return float(np.mean([1.0 / r for r in known])) if known else 0.0

    def subset(self, positions: Sequence[int]) -> MethodResult:
        """The same method restricted to some cases (time scaled to them)."""
        share = len(positions) / max(1, len(self.ranks))
        return MethodResult(self.method, tuple(self.ranks[i] for i in positions), self.seconds * share)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "method": self.method,
            "cases": len(self.ranks),
            "known": len(self.known),
            "unknown": self.unknown,
            "top1": round(self.top(1), 4),
            "top3": round(self.top(3), 4),
            "top10": round(self.top(10), 4),
            "mrr": round(self.mrr, 4),
            "ms_per_case": round(self.ms_per_case, 3),
        }


@dataclass(frozen=True)
class Calibration:
    """The first row's probability against whether it is the diagnosis, case by case.

    Attributes
    ----------
    confidence : tuple of float
        The post-test probability of the first row shown, per case given a list.
    correct : tuple of bool
        Whether that row is the diagnosis.
    bins : int
        How many equal-width bins the reliability table has.
    """

    confidence: tuple[float, ...]
    correct: tuple[bool, ...]
    bins: int = 10

    def table(self) -> list[dict[str, float]]:
        """The reliability table: per bin of probability, its cases, mean probability and
        the share of them whose first row is the diagnosis (empty bins left out)."""
        p = np.asarray(self.confidence, dtype=float)
        y = np.asarray(self.correct, dtype=float)
        which = np.minimum((p * self.bins).astype(int), self.bins - 1)
        rows = []
        for b in range(self.bins):
            chosen = which == b
            if chosen.any():
                rows.append({
                    "low": b / self.bins,
                    "high": (b + 1) / self.bins,
                    "cases": int(chosen.sum()),
                    "probability": float(p[chosen].mean()),
                    "correct": float(y[chosen].mean()),
                })
        return rows

    @property
    def ece(self) -> float:
        """Expected calibration error: the bins' ``|probability - share correct|``, weighted
        by their share of the cases."""
        n = len(self.confidence)
        if n == 0:
            return 0.0
        return sum(row["cases"] / n * abs(row["probability"] - row["correct"]) for row in self.table())

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "cases": len(self.confidence),
            "ece": round(self.ece, 4),
            "mean_probability": round(float(np.mean(self.confidence)), 4) if self.confidence else 0.0,
            "share_correct": round(float(np.mean(self.correct)), 4) if self.correct else 0.0,
            "table": [{k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()} for row in self.table()],
        }


@dataclass(frozen=True)
class PublicationFigures:
    """One publication's cases, as listed (see :meth:`BenchmarkReport.publications_missed`).

    Attributes
    ----------
    publication : str
        The publication's ids (``PMID:...``, several joined by ``;``; empty when the cases
        name none).
    diagnoses : tuple of str
        The diagnoses its cases name, the most frequent first.
    result : MethodResult
        Contraxis as listed on its cases.
    cited : int
        How many of its known cases have a diagnosis whose annotation cites the publication.
    """

    publication: str
    diagnoses: tuple[str, ...]
    result: MethodResult
    cited: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        result = self.result.to_json()
        return {
            "publication": self.publication,
            "diagnoses": list(self.diagnoses),
            "known": result["known"],
            "top1": result["top1"],
            "top10": result["top10"],
            "misses_top10": self.result.misses(10),
            "cited": self.cited,
        }


@dataclass(frozen=True)
class BenchmarkReport:
    """Everything one benchmark run measured.

    Attributes
    ----------
    set_name : str
        The file benchmarked.
    listed, omim : MethodResult
        Contraxis on every case: the rank as listed, and among OMIM entries.
    calibration : Calibration
        The first row's probability against the diagnosis.
    listed_lpo, omim_lpo, calibration_lpo : optional
        The same with each case's publication left out (None when not run).
    sample : tuple of int
        Positions of the cases hpo3 ranked.
    hpo3 : MethodResult or None
        hpo3 on the sample (None when it was not run).
    startup_seconds : float
        Time to load the Contraxis index.
    releases : dict
        The data releases used.
    left_out : dict
        What leaving the publications out did (cases touched, rows left out).
    publications : tuple of tuple of str
        Per case, its publications (empty when they were not given).
    diagnoses : tuple of tuple of str
        Per case, the diagnosis ids it names.
    cited : tuple of bool or None
        Per case, whether the annotation of its diagnosis cites its own publication (None
        when the case names no publication or publications were not given).
    """

    set_name: str
    listed: MethodResult
    omim: MethodResult
    calibration: Calibration
    listed_lpo: MethodResult | None = None
    omim_lpo: MethodResult | None = None
    calibration_lpo: Calibration | None = None
    sample: tuple[int, ...] = ()
    hpo3: MethodResult | None = None
    startup_seconds: float = 0.0
    releases: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    publications: tuple[tuple[str, ...], ...] = ()
    diagnoses: tuple[tuple[str, ...], ...] = ()
    cited: tuple[bool | None, ...] = ()

    @property
    def contraxis(self) -> MethodResult:
        """Contraxis as listed (the headline figures)."""
        return self.listed

    def on_sample(self, result: MethodResult) -> MethodResult:
        """A Contraxis result on the cases hpo3 ranked."""
        return result.subset(self.sample)

    def both_known(self) -> tuple[MethodResult, MethodResult] | None:
        """Contraxis (as listed) and hpo3 on the sample cases whose diagnosis both know."""
        if self.hpo3 is None:
            return None
        mine = self.on_sample(self.listed)
        keep = [
            i
            for i, (a, b) in enumerate(zip(mine.ranks, self.hpo3.ranks, strict=True))
            if a is not None and b is not None
        ]
        return mine.subset(keep), self.hpo3.subset(keep)

    def by_citation(self) -> list[tuple[str, MethodResult]]:
        """Contraxis as listed on the cases whose diagnosis's annotation cites their own
        publication, on those whose does not, and on those naming no publication (groups
        without a case left out; empty when publications were not given)."""
        if not self.cited:
            return []
        groups = (("annotation cites it", True), ("annotation does not", False), ("no publication", None))
        found = []
        for label, flag in groups:
            positions = [i for i, c in enumerate(self.cited) if c is flag]
            if positions:
                found.append((label, self.listed.subset(positions)))
        return found

    def publications_missed(self, k: int = 10, top: int = 5) -> list[PublicationFigures]:
        """The ``top`` publications whose known cases most often miss the first ``k`` as listed
        (most misses first, then the publication id; empty when publications were not given)."""
        if not self.publications:
            return []
        by_publication: dict[str, list[int]] = {}
        for i, publications in enumerate(self.publications):
            by_publication.setdefault(";".join(publications), []).append(i)
        found = []
        for publication, positions in by_publication.items():
            result = self.listed.subset(positions)
            if result.misses(k) == 0:
                continue
            counts: dict[str, int] = {}
            for i in positions:
                for d in self.diagnoses[i]:
                    counts[d] = counts.get(d, 0) + 1
            named = tuple(sorted(counts, key=lambda d: (-counts[d], d)))
            cited = sum(1 for i in positions if self.cited[i] and self.listed.ranks[i] is not None)
            found.append(PublicationFigures(publication, named, result, cited))
        found.sort(key=lambda f: (-f.result.misses(k), f.publication))
        return found[:top]

    def rows(self) -> list[tuple[str, MethodResult]]:
        """Every line of figures, labelled, in the order the command prints them."""
        lines = [("Contraxis, listed", self.listed), ("Contraxis, OMIM", self.omim)]
        if self.listed_lpo is not None and self.omim_lpo is not None:
            lines += [("LPO, listed", self.listed_lpo), ("LPO, OMIM", self.omim_lpo)]
        if self.hpo3 is not None:
            lines += [("Contraxis listed, sample", self.on_sample(self.listed)),
                      ("Contraxis OMIM, sample", self.on_sample(self.omim))]
            if self.listed_lpo is not None:
                lines.append(("LPO listed, sample", self.on_sample(self.listed_lpo)))
            lines.append(("hpo3, sample", self.hpo3))
            pair = self.both_known()
            if pair is not None:
                lines += [("Contraxis, both know", pair[0]), ("hpo3, both know", pair[1])]
        return lines

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        data: dict[str, Any] = {
            "set": self.set_name,
            "releases": self.releases,
            "startup_seconds": round(self.startup_seconds, 3),
            "as_listed": self.listed.to_json(),
            "among_omim": self.omim.to_json(),
            "calibration": self.calibration.to_json(),
        }
        if self.listed_lpo is not None and self.omim_lpo is not None and self.calibration_lpo is not None:
            data["publication_left_out"] = {
                "as_listed": self.listed_lpo.to_json(),
                "among_omim": self.omim_lpo.to_json(),
                "calibration": self.calibration_lpo.to_json(),
                **self.left_out,
            }
        if self.cited:
            data["by_citation"] = {label: result.to_json() for label, result in self.by_citation()}
            data["publications_most_missed"] = [f.to_json() for f in self.publications_missed()]
        if self.hpo3 is not None:
            data["sample_size"] = len(self.sample)
            data["as_listed_on_sample"] = self.on_sample(self.listed).to_json()
            data["among_omim_on_sample"] = self.on_sample(self.omim).to_json()
            if self.listed_lpo is not None:
                data["publication_left_out_on_sample"] = self.on_sample(self.listed_lpo).to_json()
            data["hpo3_on_sample"] = self.hpo3.to_json()
            pair = self.both_known()
            if pair is not None:
                data["both_known"] = {"contraxis": pair[0].to_json(), "hpo3": pair[1].to_json()}
        return data


def evenly_spaced(n: int, k: int | None) -> tuple[int, ...]:
    """``k`` positions spread evenly over ``range(n)`` (all of them when ``k`` is None or >= n)."""
    if k is None or k >= n:
        return tuple(range(n))
    return tuple(sorted({int(i * n / k) for i in range(k)}))


def read_publications(path: str | Path) -> dict[int, tuple[str, ...]]:
    """The publications each phenopacket of a JSON Lines file names, by line number.

    A phenopacket's publications are the ``PMID:`` ids of ``metaData.externalReferences``.
    Lines that are blank or not JSON objects are left out (reading the cases reports them).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    found: dict[int, tuple[str, ...]] = {}
    with opener(path, "rt", encoding="utf-8") as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            meta = data.get("metaData") if isinstance(data, dict) else None
            references = meta.get("externalReferences") if isinstance(meta, dict) else None
            ids = [r.get("id", "") for r in references or () if isinstance(r, dict)]
            found[number] = tuple(sorted({i for i in ids if isinstance(i, str) and i.startswith("PMID:")}))
    return found


@dataclass
class _Tally:
    ranks: list[int | None] = field(default_factory=list)
    omim: list[int | None] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)

    def add(self, scores: Scores, facts: dict, read: Any, targets: Sequence[int], index: DifferentialIndex,
            omim: np.ndarray, no_list: bool) -> None:
        fits = treatable_fits(scores, facts, index)
        listed = omim_rank = None
        for d in targets:
            r = NO_LIST if no_list else user_rank(d, scores, fits)
            listed = r if listed is None else min(listed, r)
            if omim[d]:
                o = 1 + int(np.count_nonzero(scores.log_odds[omim] > scores.log_odds[d]))
                omim_rank = o if omim_rank is None else min(omim_rank, o)
        self.ranks.append(listed)
        self.omim.append(omim_rank)
        if not no_list:
            key = scores.log_odds + np.where(fits, 1e6, 0.0)
            first = int(np.argmax(key))
            self.confidence.append(float(scores.posterior[first]))
            self.correct.append(first in targets)


def _contraxis(
    cases: Sequence[LabelledCase],
    index: DifferentialIndex,
    mask: PublicationMask | None,
    publications: Sequence[tuple[str, ...]] | None,
    progress: Callable[[int], None] | None,
) -> tuple[_Tally, _Tally | None, float, dict[str, int], list[bool | None]]:
    omim = np.array([any(i.startswith("OMIM:") for i in index.ids_of(d)) for d in range(index.n_diseases)])
    plain = _Tally()
    left = _Tally() if mask is not None else None
    cited: list[bool | None] = []
    touched = rows_left_out = 0
    elapsed = 0.0
    for i, imported in enumerate(cases):
        start = time.perf_counter()
        read, facts, scores = score_case(imported.case, index=index, onset_term=imported.onset_term)
        no_list = specificity_note(read, facts, index) is not None
        elapsed += time.perf_counter() - start
        targets = sorted({index.disease_position[d.id] for d in imported.diagnoses if d.id in index.disease_position})
        plain.add(scores, facts, read, targets, index, omim, no_list)
        own = publications[i] if publications else ()
        cited.append(mask.cites(own, (d.id for d in imported.diagnoses)) if mask is not None and own else None)
        if left is not None and mask is not None:
            patch = mask.patch(own)
            if patch is not None:
                touched += 1
                rows_left_out += patch.dropped
                evidence = dataclasses.replace(read.evidence, facts_log=scores.facts)
                scores = masked_scores(scores, evidence, patch, index)
            left.add(scores, facts, read, targets, index, omim, no_list)
        if progress is not None:
            progress(i)
    return plain, left, elapsed, {"cases_touched": touched, "rows_left_out": rows_left_out}, cited


def hpo3_ranker() -> Callable[[LabelledCase], tuple[list[float], list[str]]]:
    """hpo3's resnik/funSimAvg similarity of a case to every OMIM disease."""
    from pyhpo import HPOSet

    from contraxis.codes import HpoOntology

    ontology = HpoOntology.load().ontology
    diseases = sorted(ontology.omim_diseases, key=lambda d: d.id)
    sets = [d.hpo_set() for d in diseases]
    ids = [f"OMIM:{d.id}" for d in diseases]

    def similarity(imported: LabelledCase) -> tuple[list[float], list[str]]:
        terms = []
        for code in imported.case.findings:
            try:
                terms.append(ontology.get_hpo_object(code))
            except (KeyError, NameError, RuntimeError, ValueError):
                continue
        if not terms:
            return [0.0] * len(ids), ids
        query = HPOSet(terms).replace_obsolete().remove_modifier()
        return list(query.similarity_scores(sets, kind="omim", method="resnik", combine="funSimAvg")), ids

    return similarity


def _hpo3(cases: Sequence[LabelledCase], progress: Callable[[int], None] | None) -> MethodResult:
    similarity = hpo3_ranker()
    ranks: list[int | None] = []
    elapsed = 0.0
    position: dict[str, int] | None = None
    for i, imported in enumerate(cases):
        start = time.perf_counter()
        scores, ids = similarity(imported)
        elapsed += time.perf_counter() - start
        if position is None:
            position = {d: j for j, d in enumerate(ids)}
        values = np.asarray(scores)
        best = None
        for diagnosis in imported.diagnoses:
            j = position.get(diagnosis.id)
            if j is not None:
                r = 1 + int(np.count_nonzero(values > values[j]))
                best = r if best is None else min(best, r)
        ranks.append(best)
        if progress is not None:
            progress(i)
    return MethodResult("hpo3 resnik funSimAvg", tuple(ranks), elapsed)


def publication_mask(
    index: DifferentialIndex,
    cases: Sequence[LabelledCase],
    publications: Sequence[tuple[str, ...]],
) -> PublicationMask:
    """The :class:`~.leaveout.PublicationMask` for a set of cases: the bundled disease entries
    before they are joined (read again, with each row's references; this needs the ``hpo3``
    ontology), and for each publication the diagnoses its phenopackets name."""
    from contraxis.codes import HpoOntology

    from .annotations import bundled_join, read_bundled_diseases
    from .ontology import TermGraph

    hpo = HpoOntology.load().ontology
    graph = TermGraph.from_hpo3(hpo)
    entries, _ = read_bundled_diseases(hpo, graph=graph)
    named: dict[str, set[str]] = {}
    for imported, pubs in zip(cases, publications, strict=True):
        for p in pubs:
            named.setdefault(p, set()).update(d.id for d in imported.diagnoses)
    return PublicationMask(index, graph=graph, entries=entries, groups=bundled_join(), named=named)


def run_benchmark(
    cases: Sequence[LabelledCase],
    *,
    index: DifferentialIndex,
    set_name: str = "",
    hpo3_sample: int | None = None,
    run_hpo3: bool = True,
    publications: Sequence[tuple[str, ...]] | None = None,
    mask: PublicationMask | None = None,
    startup_seconds: float = 0.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> BenchmarkReport:
    """Rank every case with Contraxis (as listed and among OMIM entries, and with each case's
    publication left out when ``publications`` are given), and an evenly spaced sample with
    hpo3.

    Parameters
    ----------
    cases : Sequence[LabelledCase]
        Phenopackets with their known diagnoses.
    index : DifferentialIndex
        The Contraxis index.
    set_name : str
        The set's name, for the report.
    hpo3_sample : int, optional
        How many cases hpo3 ranks (all when None).
    run_hpo3 : bool
        Whether to run hpo3 at all.
    publications : Sequence[tuple[str, ...]], optional
        Per case, the publications it comes from (:func:`read_publications`): the
        leave-publication-out figures are computed when given.
    mask : PublicationMask, optional
        The mask to use (built with :func:`publication_mask` when ``publications`` are given
        and it is not).
    startup_seconds : float
        The time the index took to load, for the report.
    progress : callable, optional
        Called as ``progress(method, done, total)``.
    """
    def step(method: str, total: int) -> Callable[[int], None] | None:
        return None if progress is None else (lambda i: progress(method, i + 1, total))

    if publications is not None and len(publications) != len(cases):
        raise ValueError(f"{len(publications)} publication lists for {len(cases)} cases")
    if publications is not None and mask is None:
        mask = publication_mask(index, cases, publications)
    plain, left, elapsed, left_out, cited = _contraxis(cases, index, mask, publications, step("contraxis", len(cases)))
    sample = evenly_spaced(len(cases), hpo3_sample) if run_hpo3 else ()
    theirs = _hpo3([cases[i] for i in sample], step("hpo3", len(sample))) if run_hpo3 else None
    report = BenchmarkReport(
        set_name=set_name,
        listed=MethodResult("contraxis, as listed", tuple(plain.ranks), elapsed),
        omim=MethodResult("contraxis, among OMIM entries", tuple(plain.omim), elapsed),
        calibration=Calibration(tuple(plain.confidence), tuple(plain.correct)),
        sample=sample,
        hpo3=theirs,
        startup_seconds=startup_seconds,
        releases=index.releases,
        diagnoses=tuple(tuple(d.id for d in imported.diagnoses) for imported in cases),
    )
    if publications is not None:
        report = dataclasses.replace(report, publications=tuple(publications), cited=tuple(cited))
    if left is not None:
        report = dataclasses.replace(
            report,
            listed_lpo=MethodResult("contraxis, publication left out, as listed", tuple(left.ranks), elapsed),
            omim_lpo=MethodResult("contraxis, publication left out, among OMIM", tuple(left.omim), elapsed),
            calibration_lpo=Calibration(tuple(left.confidence), tuple(left.correct)),
            left_out=left_out,
        )
    return report


def publications_for(cases: Iterable[Any], by_line: Mapping[int, tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Per case read by :func:`~contraxis.io.phenopacket.iter_phenopackets`, its publications:
    found by the line number its ``source`` (``file:line``) ends with."""
    found = []
    for imported in cases:
        _, _, number = str(getattr(imported, "source", "")).rpartition(":")
        found.append(by_line.get(int(number), ()) if number.isdigit() else ())
    return found
