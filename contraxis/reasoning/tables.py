"""Reading decision tables and rule lists against a view of the facts of a case."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from ..assessment import Explanation
from ..knowledge import Compiled, KnowledgeBase
from ..knowledge.schema import Rule
from ..knowledge.view import Used
from .facts import View

__all__ = ["explain", "first_match", "matches"]

R = TypeVar("R", bound=Rule)


def first_match(rows: Iterable[Compiled[R]], view: View) -> tuple[Compiled[R], Used] | None:
    """The first row whose condition holds, with the facts it used."""
    return next(matches(rows, view), None)


def matches(rows: Iterable[Compiled[R]], view: View) -> Iterator[tuple[Compiled[R], Used]]:
    """Every row whose condition holds, in order, with the facts each used.

    A row guarded by other phenomenologies than the one concluded is skipped unread.
    """
    phenomenology = view.concluded.phenomenology
    for row in rows:
        if row.guard is not None and phenomenology not in row.guard:
            continue
        used = row.test(view)
        if used is not None:
            yield row, used


def explain(kb: KnowledgeBase, row: Compiled[Rule], used: Used, *, rationale: str | None = None) -> Explanation:
    """The explanation of a conclusion drawn by ``row`` from the facts ``used``; its rationale
    is ``rationale`` when given (a filled message, a reason), else the rule's own."""
    source = row.row.source

    def make() -> Explanation:
        return Explanation(
            rule=row.id,
            facts=tuple(dict.fromkeys(used)),
            source=source,
            citation=kb.citation(source),
            rationale=rationale if rationale is not None else row.row.rationale,
        )

    return kb.intern(("explanation", row.id, used, rationale), make)
