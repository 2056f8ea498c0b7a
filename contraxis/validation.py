"""Running the acceptance vignettes: accuracy per expected field, and every failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import assess
from .io.vignette import FIELDS, Check, load_vignettes
from .knowledge import KnowledgeBase, load_knowledge_base

__all__ = ["VignetteResults", "render_results", "run_vignettes"]


@dataclass
class VignetteResults:
    knowledge_base_version: str
    cases: int = 0
    per_field: dict[str, list[int]] = field(default_factory=lambda: {f: [0, 0] for f in FIELDS})
    failures: list[tuple[str, Check]] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return not self.failures and self.cases > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "knowledge_base_version": self.knowledge_base_version,
            "cases": self.cases,
            "fields": {f: {"passed": p, "checked": n} for f, (p, n) in self.per_field.items() if n},
            "failures": [
                {"vignette": vid, "field": c.field, "expected": c.expected, "got": c.got, "detail": c.detail}
                for vid, c in self.failures
            ],
            "all_passed": self.all_passed,
        }


def run_vignettes(directory: str | Path, *, kb: KnowledgeBase | None = None) -> VignetteResults:
    """Assess every vignette in ``directory`` and check each expected field."""
    kb = kb or load_knowledge_base()
    results = VignetteResults(knowledge_base_version=kb.version)
    from .io.vignette import check

    for vignette in load_vignettes(directory):
        results.cases += 1
        assessment = assess(vignette.case, kb=kb, xrefs=False)
        for c in check(vignette, assessment):
            counts = results.per_field[c.field]
            counts[1] += 1
            counts[0] += int(c.passed)
            if not c.passed:
                results.failures.append((vignette.id, c))
    return results


def render_results(results: VignetteResults, *, console: Any) -> None:
    """Print the accuracy table and the failures (Rich console)."""
    from rich.table import Table

    table = Table(title=f"{results.cases} vignettes, knowledge base {results.knowledge_base_version}")
    table.add_column("field")
    table.add_column("passed", justify="right")
    table.add_column("accuracy", justify="right")
    total = [0, 0]
    for name, (passed, checked) in results.per_field.items():
        if checked:
            table.add_row(name, f"{passed}/{checked}", f"{passed / checked:.0%}")
            total[0] += passed
            total[1] += checked
    if total[1]:
        table.add_row("all fields", f"{total[0]}/{total[1]}", f"{total[0] / total[1]:.0%}", style="bold")
    console.print(table)
    for vid, c in results.failures:
        console.print(
            f"[red]FAIL[/] {vid} {c.field}: expected {c.expected!r}, got {c.got!r} {c.detail}", highlight=False
        )
    console.print("[green]all vignettes pass[/]" if results.all_passed else f"[red]{len(results.failures)} failures[/]")
