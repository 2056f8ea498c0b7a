"""Step 3: the cause. For a dystonia, the etiology class (primary, secondary, degenerative)
and Axis II; for a spasm, cramp, tetany or mimic, its cause."""

from __future__ import annotations

from typing import Any

from ..assessment import Conclusion
from ..knowledge import KnowledgeBase
from .facts import Facts
from .tables import explain, first_match

__all__ = ["etiology"]


def etiology(facts: Facts, kb: KnowledgeBase) -> tuple[list[Conclusion], dict[str, Any]]:
    """Decide the etiology (dystonia) or the cause (anything else); records it in the facts."""
    conclusions: list[Conclusion] = []
    axis2: dict[str, Any] = {}
    if facts.var("phenomenology") == "dystonia":
        hit = first_match(kb.etiology, facts)
        if hit is not None:
            row, used = hit
            facts.set("etiology", row.row.value)
            conclusions.append(
                Conclusion(
                    field="etiology",
                    value=row.row.value,
                    label=row.row.value or "undetermined",
                    why=explain(kb, row, used),
                )
            )
        for name, rows in (("pathology", kb.pathology), ("inheritance", kb.inheritance)):
            hit = first_match(rows, facts)
            if hit is not None:
                row, used = hit
                axis2[name] = {"value": row.row.value, "rule": row.id, "facts": list(used)}
        positive = sorted(facts.gene_positive)
        if positive:
            axis2["genes"] = [
                {"gene": g, "mds_name": kb.genes[g].mds_name if g in kb.genes else None} for g in positive
            ]
    elif facts.var("phenomenology") is not None:
        hit = first_match(kb.cause, facts)
        if hit is not None:
            row, used = hit
            facts.set("cause", row.row.value)
            conclusions.append(
                Conclusion(field="cause", value=row.row.value, label=row.row.value, why=explain(kb, row, used))
            )
    return conclusions, axis2
