"""Measuring the note reader on vignettes: the narrative alone, against the case block.

:func:`bench_notes` reads each vignette's ``narrative`` (never its ``case`` block) into a
case, assesses it, and compares:

* the case read with the vignette's ``case`` block: precision and recall of findings,
  absent findings, regions (with their side), history codes, MRI findings, drugs, laboratory
  tests, gene tests and treatments tried, and for each scalar field (age, sex, onset age
  within a year, course, family history, severity, disabling, brain MRI) how often it is
  given and right; and how many findings the vignette gives as absent were read as present;
* the assessment with the vignette's ``expected`` block, field by field, beside the same
  check of the assessment of the ``case`` block;
* notes read per second on one core (and notes read and assessed per second), per second of
  the process's CPU time (the reader runs on one thread) and of wall time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...bench import measure_rate, pin_one_core
from ...errors import CaseError, Problem

__all__ = ["NoteBench", "bench_notes", "render_bench"]

SCALARS = ("age", "sex", "onset_age", "course", "family_history", "severity", "disabling", "mri_brain")
SETS = ("findings", "absent", "regions", "history", "mri_findings", "medications", "labs", "genes_tested",
        "genes_positive", "treatments")


@dataclass
class _Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    def add(self, ours: Iterable[Any], theirs: Iterable[Any]) -> tuple[set[Any], set[Any]]:
        a, b = set(ours), set(theirs)
        self.true_positive += len(a & b)
        self.false_positive += len(a - b)
        self.false_negative += len(b - a)
        return a - b, b - a

    @property
    def precision(self) -> float | None:
        n = self.true_positive + self.false_positive
        return self.true_positive / n if n else None

    @property
    def recall(self) -> float | None:
        n = self.true_positive + self.false_negative
        return self.true_positive / n if n else None

    def to_json(self) -> dict[str, Any]:
        return {"true_positive": self.true_positive, "false_positive": self.false_positive,
                "false_negative": self.false_negative, "precision": self.precision, "recall": self.recall}


@dataclass
class _Scalar:
    stated: int = 0  # the vignette gives it
    right: int = 0
    wrong: int = 0  # given by both, different
    missing: int = 0  # the vignette gives it, the note reading does not
    extra: int = 0  # the note reading gives it, the vignette does not

    @property
    def precision(self) -> float | None:
        n = self.right + self.wrong
        return self.right / n if n else None

    @property
    def recall(self) -> float | None:
        return self.right / self.stated if self.stated else None

    def to_json(self) -> dict[str, Any]:
        return {"stated": self.stated, "right": self.right, "wrong": self.wrong, "missing": self.missing,
                "extra": self.extra, "precision": self.precision, "recall": self.recall}


@dataclass
class NoteBench:
    """The figures of one run (see the module docstring)."""

    folders: list[str]
    vignettes: int = 0
    sets: dict[str, _Counts] = field(default_factory=lambda: {s: _Counts() for s in SETS})
    scalars: dict[str, _Scalar] = field(default_factory=lambda: {s: _Scalar() for s in SCALARS})
    negated_as_present: list[tuple[str, str]] = field(default_factory=list)
    expected_note: list[int] = field(default_factory=lambda: [0, 0])
    expected_case: list[int] = field(default_factory=lambda: [0, 0])
    expected_fields: dict[str, list[int]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)
    notes_per_second: float = 0.0
    assessed_per_second: float = 0.0
    notes_per_wall_second: float = 0.0
    assessed_per_wall_second: float = 0.0
    pinned: str = ""
    knowledge_base_version: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "folders": self.folders,
            "vignettes": self.vignettes,
            "knowledge_base_version": self.knowledge_base_version,
            "sets": {k: v.to_json() for k, v in self.sets.items()},
            "scalars": {k: v.to_json() for k, v in self.scalars.items()},
            "negated_as_present": [{"vignette": v, "code": c} for v, c in self.negated_as_present],
            "expected": {
                "from_note": {"right": self.expected_note[0], "checked": self.expected_note[1]},
                "from_case_block": {"right": self.expected_case[0], "checked": self.expected_case[1]},
                "fields": {k: {"from_note": v[0], "from_case_block": v[1], "checked": v[2]}
                           for k, v in self.expected_fields.items()},
            },
            "failures": self.failures,
            "differences": self.differences,
            "notes_per_second": self.notes_per_second,
            "read_and_assessed_per_second": self.assessed_per_second,
            "notes_per_wall_second": self.notes_per_wall_second,
            "read_and_assessed_per_wall_second": self.assessed_per_wall_second,
            "cpu": self.pinned,
        }


def _sets(case: Any) -> dict[str, set[Any]]:
    genetics = case.genetics
    return {
        "findings": set(case.findings),
        "absent": set(case.absent),
        "regions": set(case.regions),
        "history": set(case.history),
        "mri_findings": set(case.imaging.findings) if case.imaging else set(),
        "medications": {i for m in case.medications for i in (m.ingredients or (m.name or "",))},
        "labs": {lab.reading.analyte if lab.reading is not None else lab.loinc for lab in case.labs},
        "genes_tested": set(genetics.tested) if genetics else set(),
        "genes_positive": set(genetics.positive) if genetics else set(),
        "treatments": {(t.treatment, t.response) for t in case.treatment_history},
    }


def _scalar(case: Any, name: str) -> Any:
    if name == "mri_brain":
        return case.imaging.mri_brain if case.imaging else None
    value = getattr(case, name)
    return None if name == "sex" and value == "unknown" else value


def _same(name: str, ours: Any, theirs: Any) -> bool:
    if name == "onset_age" and ours is not None and theirs is not None:
        return abs(float(ours) - float(theirs)) <= 1.0
    if name == "age" and ours is not None and theirs is not None:
        return abs(float(ours) - float(theirs)) < 0.5
    return ours == theirs


def _vignette_paths(folders: Sequence[Path]) -> list[Path]:
    paths: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise CaseError([Problem("", "not a folder of vignettes")], source=str(folder))
        paths.extend(sorted(folder.glob("*.y*ml")))
    if not paths:
        raise CaseError([Problem("", "no .yaml vignettes in these folders")], source=", ".join(map(str, folders)))
    return paths


def bench_notes(folders: Sequence[str | Path], *, seconds: float = 3.0, details: bool = False) -> NoteBench:
    """Read every vignette's narrative, compare, assess and time (see the module docstring).

    Parameters
    ----------
    folders : sequence of str or Path
        Folders of vignette YAML files (``../shared/vignettes``...).
    seconds : float
        How long to time the reader (half for reading alone, half for reading and assessing).
    details : bool
        Also list every difference, vignette by vignette (``differences``).

    Returns
    -------
    NoteBench

    Raises
    ------
    CaseError
        When a folder holds no vignette, or a vignette cannot be read.
    """
    from ...case import parse_document
    from ...engine import assess
    from ...io.vignette import check as check_expected
    from ...io.vignette import load_vignette
    from ...knowledge import load_knowledge_base
    from .index import default_note_index
    from .reader import read_note

    paths = _vignette_paths([Path(f) for f in folders])
    kb = load_knowledge_base()
    index = default_note_index()
    report = NoteBench(folders=[str(f) for f in folders], knowledge_base_version=kb.version)
    narratives: list[str] = []
    for path in paths:
        data = parse_document(path.read_text(encoding="utf-8"), source=str(path))
        narrative = data.get("narrative") if isinstance(data, dict) else None
        if not isinstance(narrative, str) or not narrative.strip():
            raise CaseError([Problem("narrative", "is missing: a vignette needs a narrative to read")],
                            source=str(path))
        narratives.append(narrative)
        vignette = load_vignette(path)  # the case block and the expected answer, for comparison only
        reading = read_note(narrative, index=index, source=str(path))
        ours, theirs = _sets(reading.case), _sets(vignette.case)
        report.vignettes += 1
        diff: dict[str, Any] = {"vignette": vignette.id}
        for name in SETS:
            extra, missing = report.sets[name].add(ours[name], theirs[name])
            if extra or missing:
                diff[name] = {"extra": sorted(map(str, extra)), "missing": sorted(map(str, missing))}
        for code in sorted(ours["findings"] & theirs["absent"]):
            report.negated_as_present.append((vignette.id, code))
        for name in SCALARS:
            a, b = _scalar(reading.case, name), _scalar(vignette.case, name)
            s = report.scalars[name]
            if b is not None:
                s.stated += 1
                if a is None:
                    s.missing += 1
                elif _same(name, a, b):
                    s.right += 1
                else:
                    s.wrong += 1
            elif a is not None:
                s.extra += 1
            if (a is not None or b is not None) and not _same(name, a, b):
                diff[name] = {"note": a, "case": b}
        note_checks = check_expected(vignette, assess(reading.case, kb=kb, xrefs=False))
        case_checks = check_expected(vignette, assess(vignette.case, kb=kb, xrefs=False))
        for mine, block in zip(note_checks, case_checks, strict=True):
            row = report.expected_fields.setdefault(mine.field, [0, 0, 0])
            row[0] += int(mine.passed)
            row[1] += int(block.passed)
            row[2] += 1
            report.expected_note[0] += int(mine.passed)
            report.expected_case[0] += int(block.passed)
            report.expected_note[1] += 1
            report.expected_case[1] += 1
            if not mine.passed:
                report.failures.append({"vignette": vignette.id, "field": mine.field, "expected": mine.expected,
                                        "got": mine.got, "detail": mine.detail})
        if details and len(diff) > 1:
            report.differences.append(diff)
    report.pinned = "one core" if pin_one_core() else "not pinned (no sched_setaffinity)"
    notes = measure_rate(lambda t: read_note(t, index=index), narratives, seconds / 2)
    report.notes_per_second, report.notes_per_wall_second = notes.per_cpu_second, notes.per_second
    assessed = measure_rate(lambda t: assess(read_note(t, index=index).case, kb=kb, xrefs=False), narratives,
                            seconds / 2)
    report.assessed_per_second, report.assessed_per_wall_second = assessed.per_cpu_second, assessed.per_second
    return report


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.1%}"


def render_bench(report: NoteBench) -> str:
    """The report as text: one line per figure."""
    lines = [
        f"contraxis bench notes: {report.vignettes} vignettes from {', '.join(report.folders)} "
        f"(narrative alone; knowledge base {report.knowledge_base_version})",
        "",
        "case read from the narrative vs the vignette's case block",
        f"  {'set':<16}{'precision':>10}{'recall':>9}{'right':>8}{'extra':>7}{'missed':>8}",
    ]
    for name, c in report.sets.items():
        lines.append(f"  {name:<16}{_pct(c.precision):>10}{_pct(c.recall):>9}{c.true_positive:>8}"
                     f"{c.false_positive:>7}{c.false_negative:>8}")
    lines.append(f"  {'field':<16}{'precision':>10}{'recall':>9}{'right':>8}{'wrong':>7}{'missed':>8}{'extra':>7}")
    for name, s in report.scalars.items():
        lines.append(f"  {name:<16}{_pct(s.precision):>10}{_pct(s.recall):>9}{s.right:>8}{s.wrong:>7}{s.missing:>8}"
                     f"{s.extra:>7}")
    negated = ", ".join(f"{v} {c}" for v, c in report.negated_as_present) or "none"
    lines.append(f"  findings the vignette gives as absent, read as present: {negated}")
    lines.append("")
    lines.append("expected fields right: assessment of the note's case | of the case block")
    for name, (note, block, checked) in report.expected_fields.items():
        lines.append(f"  {name:<24}{note:>4}/{checked:<4}{note / checked:7.1%}   | "
                     f"{block:>4}/{checked:<4}{block / checked:7.1%}")
    n, c = report.expected_note
    m, _ = report.expected_case
    lines.append(f"  {'all fields':<24}{n:>4}/{c:<4}{(n / c if c else 0):7.1%}   | "
                 f"{m:>4}/{c:<4}{(m / c if c else 0):7.1%}")
    lines.append("")
    lines.append(f"speed ({report.pinned}, per second of its CPU time): {report.notes_per_second:.0f} notes read; "
                 f"{report.assessed_per_second:.0f} notes read and assessed")
    lines.append(f"  per second of wall time (lower when the machine is busy): "
                 f"{report.notes_per_wall_second:.0f} read; {report.assessed_per_wall_second:.0f} read and assessed")
    return "\n".join(lines)
