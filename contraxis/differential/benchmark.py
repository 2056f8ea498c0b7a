"""The differential benchmark: Contraxis beside hpo3's set similarity, on the same cases.

For each case with a known diagnosis (a phenopacket's disease), the rank of that diagnosis
is ``1 +`` the number of OMIM diseases scored strictly higher. Only OMIM diseases compete:
the diagnoses are OMIM ids, and the Orphanet entries that Contraxis also ranks are mostly
the same diseases under other ids (hpo3's similarity is computed against OMIM diseases
only). Top-1, top-3, top-10 and the mean reciprocal rank (MRR) are taken over the cases
whose diagnosis the method knows; how many it does not know is reported beside.

hpo3 is scored as a user would call it: ``HPOSet(present terms).similarity_scores(every
OMIM disease's HPOSet, kind="omim", method="resnik", combine="funSimAvg")``. It takes about
0.3 s per case, so on a large set it runs on an evenly spaced sample while Contraxis ranks
every case, and Contraxis is also reported on that sample, like for like.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from contraxis.case import Case

from .index import DifferentialIndex
from .ranking import score_case

__all__ = ["BenchmarkReport", "LabelledCase", "MethodResult", "evenly_spaced", "hpo3_ranker", "run_benchmark"]


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
class BenchmarkReport:
    """Everything one benchmark run measured.

    Attributes
    ----------
    set_name : str
        The file benchmarked.
    contraxis : MethodResult
        Contraxis on every case.
    sample : tuple of int
        Positions of the cases hpo3 ranked.
    hpo3 : MethodResult or None
        hpo3 on the sample (None when it was not run).
    startup_seconds : float
        Time to load the Contraxis index.
    releases : dict
        The data releases used.
    """

    set_name: str
    contraxis: MethodResult
    sample: tuple[int, ...] = ()
    hpo3: MethodResult | None = None
    startup_seconds: float = 0.0
    releases: dict[str, str] = field(default_factory=dict)

    @property
    def contraxis_on_sample(self) -> MethodResult:
        """Contraxis on the cases hpo3 ranked."""
        return self.contraxis.subset(self.sample)

    def both_known(self) -> tuple[MethodResult, MethodResult] | None:
        """Both methods on the sample cases whose diagnosis both know."""
        if self.hpo3 is None:
            return None
        mine = self.contraxis_on_sample
        keep = [
            i
            for i, (a, b) in enumerate(zip(mine.ranks, self.hpo3.ranks, strict=True))
            if a is not None and b is not None
        ]
        return mine.subset(keep), self.hpo3.subset(keep)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        data: dict[str, Any] = {
            "set": self.set_name,
            "releases": self.releases,
            "startup_seconds": round(self.startup_seconds, 3),
            "contraxis": self.contraxis.to_json(),
        }
        if self.hpo3 is not None:
            data["sample_size"] = len(self.sample)
            data["contraxis_on_sample"] = self.contraxis_on_sample.to_json()
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


def _contraxis(
    cases: Sequence[LabelledCase], index: DifferentialIndex, progress: Callable[[int], None] | None
) -> MethodResult:
    omim = np.array([d.startswith("OMIM:") for d in index.disease_ids])
    ranks: list[int | None] = []
    elapsed = 0.0
    for i, imported in enumerate(cases):
        start = time.perf_counter()
        _, _, scores = score_case(imported.case, index=index, onset_term=imported.onset_term)
        elapsed += time.perf_counter() - start
        best = None
        for diagnosis in imported.diagnoses:
            d = index.disease_position.get(diagnosis.id)
            if d is not None and omim[d]:
                r = 1 + int(np.count_nonzero(scores.total[omim] > scores.total[d]))
                best = r if best is None else min(best, r)
        ranks.append(best)
        if progress is not None:
            progress(i)
    return MethodResult("contraxis", tuple(ranks), elapsed)


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


def run_benchmark(
    cases: Sequence[LabelledCase],
    *,
    index: DifferentialIndex,
    set_name: str = "",
    hpo3_sample: int | None = None,
    run_hpo3: bool = True,
    startup_seconds: float = 0.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> BenchmarkReport:
    """Rank every case with Contraxis, and an evenly spaced sample with hpo3.

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
    startup_seconds : float
        The time the index took to load, for the report.
    progress : callable, optional
        Called as ``progress(method, done, total)``.
    """
    def step(method: str, total: int) -> Callable[[int], None] | None:
        return None if progress is None else (lambda i: progress(method, i + 1, total))

    mine = _contraxis(cases, index, step("contraxis", len(cases)))
    sample = evenly_spaced(len(cases), hpo3_sample) if run_hpo3 else ()
    theirs = _hpo3([cases[i] for i in sample], step("hpo3", len(sample))) if run_hpo3 else None
    return BenchmarkReport(
        set_name=set_name,
        contraxis=mine,
        sample=sample,
        hpo3=theirs,
        startup_seconds=startup_seconds,
        releases=index.releases,
    )
