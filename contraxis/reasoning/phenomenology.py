"""Step 1: what the movement is (dystonia, spasm, cramp, tetany, or a named mimic)."""

from __future__ import annotations

from ..assessment import Conclusion
from ..knowledge import KnowledgeBase
from .facts import Facts
from .tables import explain, first_match

__all__ = ["phenomenology"]


def phenomenology(facts: Facts, kb: KnowledgeBase) -> tuple[Conclusion | None, str | None]:
    """Name the movement; return its conclusion and, for a mimic, the note saying why it is
    not a spasm. Records ``phenomenology`` in the facts."""
    hit = first_match(kb.phenomenology, facts)
    if hit is None:
        return None, None
    row, used = hit
    value = row.row.value
    facts.set("phenomenology", value)
    note = None
    if row.row.mimic:
        note = f"Often called a spasm, this is {'an' if value[0] in 'aeiou' else 'a'} {value}: {row.row.rationale}"
    return Conclusion(field="phenomenology", value=value, label=value, why=explain(kb, row, used)), note
