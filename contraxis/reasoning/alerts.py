"""Step 4: alerts, each with its urgency, reason and source."""

from __future__ import annotations

from ..assessment import AlertItem
from ..knowledge import KnowledgeBase
from ..vocabulary import urgency_rank
from .facts import Facts
from .tables import explain, matches

__all__ = ["alerts"]


def alerts(facts: Facts, kb: KnowledgeBase) -> list[AlertItem]:
    """Raise every alert whose rule holds, most urgent first; records them in the facts."""
    raised: dict[str, AlertItem] = {}
    for row, used in matches(kb.alerts, facts):
        code = row.row.alert
        if code in raised:
            continue
        raised[code] = AlertItem(code=code, urgency=row.row.urgency, message=facts.fill(row.row.message),
                                 why=explain(kb, row, used, rationale=facts.fill(row.row.message)))
        facts.raise_alert(code)
    return sorted(raised.values(), key=lambda a: urgency_rank(a.urgency))
