"""Step 3: the cause. For a dystonia, the etiology class (primary, secondary, degenerative)
and Axis II; for a spasm, cramp, tetany or mimic, its cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..assessment import Conclusion
from ..knowledge import Compiled, KnowledgeBase
from ..knowledge.schema import LabelRow
from ..knowledge.view import Used
from .facts import Concluded, Facts, View
from .tables import explain, first_match

__all__ = ["AxisTwoValue", "EtiologyResult", "GeneName", "etiology"]


@dataclass(frozen=True, slots=True)
class AxisTwoValue:
    """An Axis II value (pathology, inheritance) with the rule and the facts it used."""

    value: str
    rule: str
    facts: Used


@dataclass(frozen=True, slots=True)
class GeneName:
    """A gene with a disease-causing variant, and its MDS name (None when genes.yaml has none)."""

    gene: str
    mds_name: str | None


@dataclass(frozen=True, slots=True)
class EtiologyResult:
    """The etiology of a dystonia with Axis II, or the cause of another movement.

    ``conclusions`` holds the etiology (its value None when the rule leaves it open) or the
    cause; ``pathology``, ``inheritance`` and ``genes`` are Axis II (a dystonia only);
    ``concluded`` adds the etiology or the cause to what the steps before concluded.
    """

    conclusions: tuple[Conclusion, ...]
    concluded: Concluded
    pathology: AxisTwoValue | None = None
    inheritance: AxisTwoValue | None = None
    genes: tuple[GeneName, ...] = ()

    def axis_ii(self) -> dict[str, Any]:
        """Axis II as JSON-ready data: pathology, inheritance and genes, each when known."""
        out: dict[str, Any] = {}
        for name, hit in (("pathology", self.pathology), ("inheritance", self.inheritance)):
            if hit is not None:
                out[name] = {"value": hit.value, "rule": hit.rule, "facts": list(hit.facts)}
        if self.genes:
            out["genes"] = [{"gene": g.gene, "mds_name": g.mds_name} for g in self.genes]
        return out


def _axis_two(rows: tuple[Compiled[LabelRow], ...], view: View) -> AxisTwoValue | None:
    hit = first_match(rows, view)
    if hit is None:
        return None
    row, used = hit
    return AxisTwoValue(row.row.value, row.id, used)


def etiology(facts: Facts, before: Concluded, kb: KnowledgeBase) -> EtiologyResult:
    """Decide the etiology (dystonia) or the cause (any other named movement) of the
    movement named in ``before``; Axis II reads the etiology decided."""
    if before.phenomenology == "dystonia":
        seen = before
        conclusions: tuple[Conclusion, ...] = ()
        hit = first_match(kb.etiology, facts.view(before))
        if hit is not None:
            row, used = hit
            seen = before._replace(etiology=row.row.value)
            conclusions = (
                Conclusion(
                    field="etiology", value=row.row.value, label=row.row.value or "undetermined",
                    why=explain(kb, row, used),
                ),
            )
        view = facts.view(seen)
        genes = tuple(
            GeneName(g, kb.genes[g].mds_name if g in kb.genes else None) for g in sorted(facts.gene_positive)
        )
        return EtiologyResult(
            conclusions=conclusions,
            concluded=seen,
            pathology=_axis_two(kb.pathology, view),
            inheritance=_axis_two(kb.inheritance, view),
            genes=genes,
        )
    if before.phenomenology is not None:
        cause = first_match(kb.cause, facts.view(before))
        if cause is not None:
            crow, cused = cause
            conclusion = Conclusion(
                field="cause", value=crow.row.value, label=crow.row.value, why=explain(kb, crow, cused)
            )
            return EtiologyResult(conclusions=(conclusion,), concluded=before._replace(cause=crow.row.value))
    return EtiologyResult(conclusions=(), concluded=before)
