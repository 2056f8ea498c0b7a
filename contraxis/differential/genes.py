"""Which gene tests would settle the top of the differential.

Each disease's post-test probability is shared equally among its genes (a disease of three
genes gives each a third), summed per gene over the leading candidates, and the genes are
listed best first. A gene already tested is left out (it is in ``already_tested``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GeneSuggestion", "suggest_genes"]


@dataclass(frozen=True, slots=True)
class GeneSuggestion:
    """A gene to test, with the probability mass of the diseases it would settle.

    Attributes
    ----------
    gene : str
        HGNC symbol.
    probability : float
        The summed share of post-test probability of its diseases.
    diseases : tuple of str
        The candidate disease ids it covers, most probable first.
    """

    gene: str
    probability: float
    diseases: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        probability = float(f"{min(max(self.probability, 1e-6), 0.999):.3g}")  # never shown as 0 or 1
        return {"gene": self.gene, "probability": probability, "diseases": list(self.diseases)}


def suggest_genes(
    candidates: Iterable[tuple[str, float, Sequence[str]]],
    *,
    already_tested: Iterable[str] = (),
    limit: int = 10,
) -> list[GeneSuggestion]:
    """Rank genes by the post-test probability of the candidates they would settle.

    Parameters
    ----------
    candidates : Iterable of (disease id, post-test probability, genes)
        The leading candidates, most probable first.
    already_tested : Iterable[str]
        Genes the patient has had tested; they are not suggested again.
    limit : int
        How many genes to return.
    """
    tested = set(already_tested)
    mass: dict[str, float] = {}
    covers: dict[str, list[str]] = {}
    for disease, probability, genes in candidates:
        if not genes:
            continue
        share = probability / len(genes)
        for gene in genes:
            if gene in tested:
                continue
            mass[gene] = mass.get(gene, 0.0) + share
            covers.setdefault(gene, []).append(disease)
    ranked = sorted(mass, key=lambda g: (-mass[g], g))[:limit]
    return [GeneSuggestion(g, mass[g], tuple(covers[g])) for g in ranked]
