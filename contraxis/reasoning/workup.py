"""Step 5: the work-up, each test with its reason and priority; nothing already done with a
clear result, nothing that does not fit."""

from __future__ import annotations

from ..assessment import WorkupItem
from ..knowledge import KnowledgeBase
from ..vocabulary import urgency_rank
from .facts import View
from .tables import explain, matches

__all__ = ["workup"]


def workup(view: View, kb: KnowledgeBase) -> tuple[list[WorkupItem], list[str]]:
    """The tests to advise (most urgent first), and notes on tests skipped as already done
    (a test whose ``done_when`` in ``tests.yaml`` holds)."""
    advised: dict[str, WorkupItem] = {}
    skipped: list[str] = []
    for row, used in matches(kb.workup, view):
        code = row.row.test
        if code in advised:
            continue
        done = kb.tests_done.get(code)
        if done is not None:
            result = done(view)
            if result is not None:
                note = f"{kb.tests[code].label}: not advised again, already done ({'; '.join(result)})."
                if note not in skipped:
                    skipped.append(note)
                continue
        test = kb.tests[code]
        loinc = tuple(kb.labs[lab].loinc for lab in test.labs)
        advised[code] = WorkupItem(code=code, priority=row.row.priority, label=test.label, reason=row.row.reason,
                                   loinc=loinc, why=explain(kb, row, used, rationale=row.row.reason))
    return sorted(advised.values(), key=lambda w: urgency_rank(w.priority)), skipped
