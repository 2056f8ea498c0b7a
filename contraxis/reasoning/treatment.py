"""Step 6: treatment options with their eligibility, causal and emergency treatment first."""

from __future__ import annotations

from collections.abc import Mapping

from ..assessment import Explanation, TreatmentItem
from ..knowledge import KnowledgeBase
from ..knowledge.schema import TreatmentOption
from .facts import View
from .tables import explain, matches

__all__ = ["treatments"]


def treatments(view: View, kb: KnowledgeBase) -> tuple[list[TreatmentItem], list[TreatmentItem]]:
    """Return the options offered now (in order) and those considered but not offered.

    An option is offered when an ``offer`` rule holds and no ``exclude`` rule does; an
    option with ``offered_with`` in ``treatments.yaml`` is offered too whenever an option of
    its group is (unless a rule excludes it). An excluded option is listed as not offered
    when a rule offered it too, or always if its ``list_exclusion`` says so.
    """
    offers: dict[str, TreatmentItem] = {}
    excluded: dict[str, TreatmentItem] = {}
    for row, used in matches(kb.treatment_rules, view):
        r = row.row
        target = offers if r.action == "offer" else excluded
        if r.treatment in target:
            continue  # the first rule that offers (or excludes) an option gives its reason
        option = kb.treatments[r.treatment]
        target[r.treatment] = TreatmentItem(code=r.treatment, label=option.label, line=r.line, kind=option.kind,
                                            reason=r.reason, why=explain(kb, row, used, rationale=r.reason))
    offered = {code: item for code, item in offers.items() if code not in excluded}
    grouping = kb.intern("options offered with a group", lambda: tuple(
        option for option in kb.treatments.values() if option.offered_with is not None))
    by_group = [
        grouped
        for option in grouping
        if option.id not in offered and option.id not in excluded
        and (grouped := _offered_with(option, offered, kb)) is not None
    ]
    offered.update((grouped.code, grouped) for grouped in by_group)
    not_offered = [
        item for code, item in excluded.items()
        if code in offers or kb.treatments[code].list_exclusion == "always"
    ]
    ranked = sorted(offered.values(), key=lambda t: (t.line, t.code))
    return ranked, not_offered


def _offered_with(
    option: TreatmentOption, offered: Mapping[str, TreatmentItem], kb: KnowledgeBase
) -> TreatmentItem | None:
    """The option offered because options of its ``offered_with`` group are; None if none is."""
    rule = option.offered_with
    if rule is None:
        return None
    members = sorted(code for code in offered if code in kb.treatment_groups.get(rule.group, ()))
    if not members:
        return None
    return TreatmentItem(
        code=option.id, label=option.label, line=rule.line, kind=option.kind,
        reason=rule.reason.format(options=", ".join(members)),
        why=Explanation(rule=rule.rule, facts=tuple(f"offered: {c}" for c in members), source=option.source,
                        citation=kb.citation(option.source), rationale=rule.rationale),
    )
