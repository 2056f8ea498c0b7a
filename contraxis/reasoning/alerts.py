"""Step 4: alerts, each with its urgency, reason and source."""

from __future__ import annotations

from ..assessment import AlertItem
from ..knowledge import KnowledgeBase
from .facts import Facts
from .tables import explain, matches

__all__ = ["alerts"]

_ORDER = {"emergency": 0, "urgent": 1, "soon": 2, "routine": 3}


def _message(template: str, facts: Facts) -> str:
    values = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in facts.vars.items()}
    try:
        return template.format_map(values)
    except (KeyError, ValueError):
        return template


def alerts(facts: Facts, kb: KnowledgeBase) -> list[AlertItem]:
    """Raise every alert whose rule holds, most urgent first; records them in the facts."""
    raised: dict[str, AlertItem] = {}
    for row, used in matches(kb.alerts, facts):
        code = row.row.alert
        if code in raised:
            continue
        raised[code] = AlertItem(code=code, urgency=row.row.urgency, message=_message(row.row.message, facts),
                                 why=explain(kb, row, used, rationale=_message(row.row.message, facts)))
        facts.raise_alert(code)
    return sorted(raised.values(), key=lambda a: _ORDER[a.urgency])
