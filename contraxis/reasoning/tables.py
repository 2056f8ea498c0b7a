"""Reading decision tables and rule lists against the facts of a case."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..assessment import Explanation
from ..knowledge import Compiled, KnowledgeBase
from .facts import Facts

__all__ = ["explain", "first_match", "matches"]


def first_match(rows: Iterable[Compiled], facts: Facts) -> tuple[Compiled, tuple[str, ...]] | None:
    """The first row whose condition holds, with the facts it used."""
    return next(matches(rows, facts), None)


def matches(rows: Iterable[Compiled], facts: Facts) -> Iterator[tuple[Compiled, tuple[str, ...]]]:
    """Every row whose condition holds, in order, with the facts each used."""
    phenomenology = facts.vars["phenomenology"]
    for row in rows:
        if row.guard is not None and phenomenology not in row.guard:
            continue
        used = row.test(facts)
        if used is not None:
            yield row, used


def explain(kb: KnowledgeBase, row: Compiled, used: tuple[str, ...], *, rationale: str | None = None) -> Explanation:
    """The explanation of a conclusion drawn by ``row`` from the facts ``used``."""
    source = row.row.source
    text = rationale if rationale is not None else getattr(row.row, "rationale", "") or getattr(row.row, "reason", "")
    return Explanation(
        rule=row.id,
        facts=tuple(dict.fromkeys(used)),
        source=source,
        citation=kb.citation(source),
        rationale=text,
    )
