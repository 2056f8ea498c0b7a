"""Step 4: alerts, each with its urgency, reason and source."""

from __future__ import annotations

from dataclasses import dataclass

from ..assessment import AlertItem
from ..knowledge import KnowledgeBase
from ..vocabulary import urgency_rank
from .facts import Concluded, Facts
from .tables import explain

__all__ = ["AlertsResult", "alerts"]


@dataclass(frozen=True, slots=True)
class AlertsResult:
    """The alerts raised, most urgent first; ``concluded`` adds their codes to what the steps
    before concluded."""

    items: tuple[AlertItem, ...]
    concluded: Concluded


def alerts(facts: Facts, before: Concluded, kb: KnowledgeBase) -> AlertsResult:
    """Raise every alert whose rule holds, most urgent first.

    The rules of ``rules/alerts.yaml`` run in order, each reading the alerts raised by the
    rules above it; an alert raised twice keeps its first rule.
    """
    raised: dict[str, AlertItem] = {}
    seen = before
    view = facts.view(seen)
    phenomenology = seen.phenomenology
    for row in kb.alerts:
        if row.guard is not None and phenomenology not in row.guard:
            continue
        if view.concluded is not seen and "alerts" in row.depends:
            view = facts.view(seen)  # a rule that reads alerts sees those raised above it
        used = row.test(view)
        if used is None:
            continue
        code = row.row.alert
        if code in raised:
            continue
        message = view.fill(row.row.message)
        raised[code] = AlertItem(code=code, urgency=row.row.urgency, message=message,
                                 why=explain(kb, row, used, rationale=message))
        seen = seen._replace(alerts=seen.alerts | {code})
    items = tuple(sorted(raised.values(), key=lambda a: urgency_rank(a.urgency)))
    return AlertsResult(items=items, concluded=seen)
