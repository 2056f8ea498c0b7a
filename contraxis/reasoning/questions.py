"""Step 8: what the case does not say that would change the answer, with the question to
ask next."""

from __future__ import annotations

from ..assessment import Question
from ..knowledge import KnowledgeBase
from .facts import View
from .tables import matches

__all__ = ["questions"]


def questions(view: View, kb: KnowledgeBase) -> list[Question]:
    """Every question whose rule holds, once per question."""
    seen: set[str] = set()
    out: list[Question] = []
    for row, _ in matches(kb.questions, view):
        r = row.row
        text = view.fill(r.question)
        if text in seen:
            continue
        seen.add(text)
        out.append(Question(field=r.field, question=text, why=r.why))
    return out
