"""Step 1: what the movement is (dystonia, spasm, cramp, tetany, or a named mimic)."""

from __future__ import annotations

from dataclasses import dataclass

from ..assessment import Conclusion
from ..knowledge import KnowledgeBase
from .facts import Concluded, Facts
from .tables import explain, first_match

__all__ = ["PhenomenologyResult", "phenomenology"]


@dataclass(frozen=True, slots=True)
class PhenomenologyResult:
    """What the movement is.

    ``conclusion`` is None when no rule names the movement; ``note``, for a mimic, says why
    it is not a spasm; ``concluded`` holds the phenomenology for the steps after this one.
    """

    conclusion: Conclusion | None
    note: str | None
    concluded: Concluded


def phenomenology(facts: Facts, kb: KnowledgeBase) -> PhenomenologyResult:
    """Name the movement: the first row of ``rules/phenomenology.yaml`` that holds."""
    hit = first_match(kb.phenomenology, facts.view())
    if hit is None:
        return PhenomenologyResult(conclusion=None, note=None, concluded=Concluded())
    row, used = hit
    value = row.row.value
    note = None
    if row.row.mimic:
        note = f"Often called a spasm, this is {'an' if value[0] in 'aeiou' else 'a'} {value}: {row.row.rationale}"
    conclusion = Conclusion(field="phenomenology", value=value, label=value, why=explain(kb, row, used))
    return PhenomenologyResult(conclusion=conclusion, note=note, concluded=Concluded(phenomenology=value))
