"""Step 6: treatment options with their eligibility, causal and emergency treatment first."""

from __future__ import annotations

from ..assessment import Explanation, TreatmentItem
from ..knowledge import KnowledgeBase
from .facts import Facts
from .tables import explain, matches

__all__ = ["treatments"]


def treatments(facts: Facts, kb: KnowledgeBase) -> tuple[list[TreatmentItem], list[TreatmentItem]]:
    """Return the options offered now (in order) and those considered but not offered.

    An option is offered when an ``offer`` rule holds and no ``exclude`` rule does;
    ``oral-medication`` is offered too whenever an option of the ``oral`` group is.
    """
    offers: dict[str, TreatmentItem] = {}
    excluded: dict[str, TreatmentItem] = {}
    for row, used in matches(kb.treatment_rules, facts):
        r = row.row
        option = kb.treatments[r.treatment]
        item = TreatmentItem(code=r.treatment, label=option.label, line=r.line, kind=option.kind, reason=r.reason,
                             why=explain(kb, row, used, rationale=r.reason))
        target = offers if r.action == "offer" else excluded
        target.setdefault(r.treatment, item)
    offered = {code: item for code, item in offers.items() if code not in excluded}
    oral = sorted(code for code in offered if code in kb.treatment_groups.get("oral", ()))
    if oral and "oral-medication" not in offered and "oral-medication" not in excluded:
        option = kb.treatments["oral-medication"]
        source = option.source
        offered["oral-medication"] = TreatmentItem(
            code="oral-medication", label=option.label, line=3, kind=option.kind,
            reason="An oral drug for dystonia is offered: " + ", ".join(oral) + ".",
            why=Explanation(rule="treat.oral-group", facts=tuple(f"offered: {c}" for c in oral), source=source,
                            citation=kb.citation(source), rationale="Oral medication is offered whenever an oral drug for dystonia is."),
        )
    not_offered = [item for code, item in excluded.items() if code in offers or code == "deep-brain-stimulation"]
    ranked = sorted(offered.values(), key=lambda t: (t.line, t.code))
    return ranked, not_offered
