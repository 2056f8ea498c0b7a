"""Case facts beyond the phenotype: drugs, history, local findings and gene tests.

- An acquired cause is defined by facts (``requires`` in ``acquired_causes.yaml``): a drug
  of a class, an event in the history, a finding or laboratory result. A drug or history
  fact in the record gains ``1 / exposure_background``; a finding counts through the
  phenotype already. When the case has none of them the cause gets ``acquired_unmet``
  (1:100), and the explanation names what it would need.
- Its ``supports`` (local ``CX:`` findings that HPO does not name) count as
  ``f / local_code_background`` when present and ``(1 - f) / (1 - local_code_background)``
  when recorded absent.
- A gene test counts for every disease of the gene: a disease-causing variant found
  multiplies the odds by ``sensitivity / false_positive``; a gene tested without one by
  ``(1 - sensitivity) / (1 - false_positive)``.
- A diagnosis of exclusion (``of_exclusion``: idiopathic dystonia) is one without a proven
  cause (Albanese et al. 2013, Axis II): a disease-causing variant found in a gene of
  ``genetic_dystonias.yaml`` is such a cause, and multiplies its odds by ``false_positive``
  (it stands only if the result is wrong). The other diseases ranked may coexist with the
  variant's disease; an idiopathic dystonia cannot. Likewise an exposure that defines another
  cause (a drug of its class, whenever it was started; an event of its history) is a cause
  not yet excluded, and multiplies the odds by ``exposure_background``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from contraxis.case import Case, Medication, started_before_onset

from .evidence import CaseEvidence
from .index import DifferentialIndex
from .knowledge import FREQUENCY_WORDS, AcquiredCause, DifferentialKnowledge, Requirement

__all__ = ["Fact", "case_facts"]


@dataclass(frozen=True, slots=True)
class Fact:
    """One case fact as it counts for one disease.

    Attributes
    ----------
    text : str
        The fact in words.
    log10_lr : float
        Its ``log10`` likelihood ratio for the disease.
    kind : str
        ``requirement``, ``needs``, ``supports``, ``gene test`` or ``not excluded`` (another
        cause's exposure, against a diagnosis of exclusion).
    """

    text: str
    log10_lr: float
    kind: str

    def to_json(self) -> dict[str, object]:
        """JSON-ready data."""
        return {"fact": self.text, "kind": self.kind, "log10_lr": round(self.log10_lr, 2)}


def _met(
    requirement: Requirement, case: Case, evidence: CaseEvidence, index: DifferentialIndex, above: dict[int, int]
) -> str | None:
    """Describe how the case meets a requirement, or return None.

    ``above`` maps every ancestor of a present finding to that finding.
    """
    knowledge: DifferentialKnowledge = index.knowledge
    if requirement.drug_class is not None:
        cls = requirement.drug_class
        for drug in _drugs_in(case, knowledge.drug_classes.get(cls, frozenset())):
            days, raised = drug.days_since_start, drug.days_since_dose_increase
            if not started_before_onset(days, case.years_since_onset):
                continue
            if days is None:
                return f"{drug.display} ({cls}; start date not given)"
            if requirement.min_days is not None and days < requirement.min_days:
                continue
            # A dose increase counts like a start for a reaction within days, as the
            # assessment reads it (knowledge.conditions: drug within_days).
            if requirement.max_days is not None and days > requirement.max_days:
                if raised is None or raised > requirement.max_days:
                    continue
                return f"{drug.display} ({cls}) started {days} days ago, dose raised {raised} days ago"
            return f"{drug.display} ({cls}) started {days} days ago"
        return None
    if requirement.history is not None:
        return f"history {requirement.history}" if requirement.history in case.history else None
    code = requirement.finding or ""
    if code.startswith("CX:"):
        return f"finding {code}" if code in evidence.local_present else None
    wanted = index.term_position.get(code)
    if wanted is None or wanted not in above:
        return None
    t = above[wanted]
    return f"finding {index.term_names[t]} ({index.term_ids[t]})"


def _drugs_in(case: Case, members: frozenset[str]) -> list[Medication]:
    """The case's drugs with an ingredient in a class (read as the assessment reads them:
    brand names, salts and EHR descriptions resolved to their ingredients; a drug that
    cannot be resolved by its name as given)."""
    found = []
    for drug in case.medications:
        names = drug.ingredients or ((drug.name or "").strip().casefold(),)
        if any(name in members for name in names):
            found.append(drug)
    return found


def _cause_facts(
    cause: AcquiredCause,
    case: Case,
    evidence: CaseEvidence,
    index: DifferentialIndex,
    above: dict[int, int],
    unmet: Fact | None = None,
) -> list[Fact]:
    parameters = index.parameters
    facts: list[Fact] = []
    if cause.requires:
        met = [(r, m) for r in cause.requires for m in [_met(r, case, evidence, index, above)] if m]
        exposures = [m for r, m in met if r.finding is None]
        if exposures:
            facts.append(Fact(f"has {exposures[0]}", -math.log10(parameters.exposure_background), "requirement"))
        elif met:
            facts.append(Fact(f"has {met[0][1]}", 0.0, "requirement"))
        else:
            facts.append(unmet if unmet is not None else _unmet(cause, index))
    background = parameters.local_code_background
    cap = 1.0 - parameters.false_negative
    for support in cause.supports:
        f = FREQUENCY_WORDS[support.frequency]
        if support.code in evidence.local_present:
            facts.append(
                Fact(f"{support.code} ({support.frequency} in this cause)", math.log10(f / background), "supports")
            )
        elif support.code in evidence.local_absent:
            facts.append(
                Fact(
                    f"no {support.code} ({support.frequency} in this cause)",
                    math.log10((1 - min(f, cap)) / (1 - background)),
                    "supports",
                )
            )
    return facts


def _other_exposure(case: Case, knowledge: DifferentialKnowledge, tables: _Tables) -> str | None:
    """The first exposure in the record that defines a cause other than a diagnosis of
    exclusion (a drug of its class, whenever started; an event of its history), in words."""
    for cause, _, _ in tables.causes:
        if cause.of_exclusion:
            continue
        for requirement in cause.requires:
            if requirement.drug_class is not None:
                drugs = _drugs_in(case, knowledge.drug_classes.get(requirement.drug_class, frozenset()))
                if drugs:
                    return f"{drugs[0].display} ({requirement.drug_class})"
            elif requirement.history is not None and requirement.history in case.history:
                return f"history {requirement.history}"
    return None


def _unmet(cause: AcquiredCause, index: DifferentialIndex) -> Fact:
    """The fact of an acquired cause whose defining facts are not in the record."""
    needs = " or ".join(r.describe() for r in cause.requires)
    return Fact(f"needs {needs}: not in the record", math.log10(index.parameters.acquired_unmet), "needs")


@dataclass(frozen=True, eq=False)
class _Tables:
    """What scoring the case facts reads from one index, worked out once: each acquired
    cause with its position and its fact when unmet, each gene's position, the diagnoses of
    exclusion and the genes of the genetic dystonias."""

    causes: tuple[tuple[AcquiredCause, int, Fact | None], ...]
    gene_position: Mapping[str, int]
    owners: np.ndarray
    of_exclusion: tuple[int, ...] = ()
    dystonia_genes: frozenset[str] = frozenset()
    diseases_of_gene: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def diseases(self, index: DifferentialIndex, gene: int) -> tuple[int, ...]:
        """The positions of the diseases of a gene (by its position), sorted."""
        found = self.diseases_of_gene.get(gene)
        if found is None:
            found = tuple(np.unique(self.owners[index.gene_idx == gene]).tolist())
            self.diseases_of_gene[gene] = found
        return found


def _tables(index: DifferentialIndex) -> _Tables:
    tables = _TABLES.get(index)
    if tables is None:
        knowledge: DifferentialKnowledge | None = index.knowledge
        causes = []
        for cause in knowledge.acquired if knowledge is not None else ():
            d = index.disease_position.get(cause.id)
            if d is not None:
                causes.append((cause, d, _unmet(cause, index) if cause.requires else None))
        tables = _Tables(
            causes=tuple(causes),
            gene_position={g: i for i, g in enumerate(index.genes)},
            owners=np.repeat(np.arange(index.n_diseases), np.diff(index.gene_ptr)),
            of_exclusion=tuple(d for cause, d, _ in causes if cause.of_exclusion),
            dystonia_genes=frozenset(e.gene for e in (knowledge.dystonias.values() if knowledge is not None else ())),
        )
        _TABLES[index] = tables
    return tables


_TABLES: weakref.WeakKeyDictionary[DifferentialIndex, _Tables] = weakref.WeakKeyDictionary()


def case_facts(
    case: Case, *, evidence: CaseEvidence, index: DifferentialIndex
) -> tuple[np.ndarray, dict[int, list[Fact]]]:
    """Score the case facts for every disease.

    Returns
    -------
    tuple
        ``log10`` likelihood ratio per disease, and the facts behind it for each disease
        they touch (by position in the index).
    """
    total = np.zeros(index.n_diseases)
    details: dict[int, list[Fact]] = {}
    tables = _tables(index)
    if index.knowledge is not None:
        above = {a: t for t in evidence.present for a in index.ancestors(t).tolist()}
        for cause, d, unmet in tables.causes:
            facts = _cause_facts(cause, case, evidence, index, above, unmet)
            if facts:
                details[d] = facts
                total[d] += sum(f.log10_lr for f in facts)
        if tables.of_exclusion:
            exposure = _other_exposure(case, index.knowledge, tables)
            if exposure is not None:
                value = math.log10(index.parameters.exposure_background)
                fact = Fact(f"{exposure}: a possible cause, not yet excluded", value, "not excluded")
                for d in tables.of_exclusion:
                    total[d] += value
                    details.setdefault(d, []).append(fact)
    if case.genetics is not None and (case.genetics.tested or case.genetics.positive):
        parameters = index.parameters
        sensitivity, false_positive = parameters.gene_test_sensitivity, parameters.gene_false_positive
        positive = set(case.genetics.positive)
        negative = set(case.genetics.tested) - positive
        for genes, value, word in (
            (positive, math.log10(sensitivity / false_positive), "disease-causing variant found"),
            (negative, math.log10((1 - sensitivity) / (1 - false_positive)), "tested, no disease-causing variant"),
        ):
            for gene in sorted(genes):
                g = tables.gene_position.get(gene)
                if g is None:
                    continue
                for d in tables.diseases(index, g):
                    total[d] += value
                    details.setdefault(d, []).append(Fact(f"{gene}: {word}", value, "gene test"))
        found = sorted(positive & tables.dystonia_genes)
        if found:
            value = math.log10(false_positive)
            fact = Fact(f"{found[0]}: disease-causing variant found, a proven cause", value, "gene test")
            for d in tables.of_exclusion:
                total[d] += value
                details.setdefault(d, []).append(fact)
    return total, details
