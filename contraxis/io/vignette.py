"""Clinical vignettes: reading them and checking an assessment against their ``expected``.

A vignette (``shared/spec/vignettes.md``) has an ``id``, a ``title``, a ``narrative``, a
``case`` block (a native case) and an ``expected`` block. :func:`check` compares an
assessment's summary with every expected field the vignette states.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..assessment import Assessment
from ..case import Case, parse_document, read_case
from ..errors import CaseError, Problem

__all__ = ["FIELDS", "Check", "Vignette", "check", "load_vignette", "load_vignettes"]

SCALAR_FIELDS = (
    "phenomenology",
    "focal_type",
    "distribution",
    "onset_band",
    "associated",
    "etiology",
    "cause",
    "icd10cm",
)
LIST_FIELDS = {
    "must_flag": ("alerts", True),
    "must_not_flag": ("alerts", False),
    "must_recommend": ("workup", True),
    "must_not_recommend": ("workup", False),
    "treatment_must_include": ("treatments", True),
    "treatment_must_exclude": ("treatments", False),
}
FIELDS = SCALAR_FIELDS + tuple(LIST_FIELDS)


@dataclass(frozen=True)
class Vignette:
    id: str
    title: str
    case: Case
    expected: dict[str, Any]
    path: Path


@dataclass(frozen=True)
class Check:
    """The result of checking one expected field."""

    field: str
    passed: bool
    expected: Any
    got: Any
    detail: str = ""


def load_vignette(path: str | Path) -> Vignette:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CaseError([Problem("", f"cannot read the file: {error.strerror}")], source=str(path)) from None
    data = parse_document(text, source=str(path))
    if not isinstance(data, dict) or "case" not in data:
        raise CaseError([Problem("", "a vignette needs a `case` block")], source=str(path))
    expected = data.get("expected") or {}
    unknown = sorted(set(expected) - set(FIELDS))
    if unknown:
        raise CaseError(
            [Problem("expected", f"unknown fields {unknown} (allowed: {', '.join(FIELDS)})")], source=str(path)
        )
    case = read_case(data["case"], source=str(path))
    vid = str(data.get("id") or path.stem)
    if case.id is None:
        case = case.model_copy(update={"id": vid})
    return Vignette(id=vid, title=str(data.get("title", "")), case=case, expected=expected, path=path)


def load_vignettes(directory: str | Path) -> Iterator[Vignette]:
    for path in sorted(Path(directory).glob("*.y*ml")):
        yield load_vignette(path)


def check(vignette: Vignette, assessment: Assessment) -> list[Check]:
    """Compare the assessment with every field the vignette expects."""
    summary = assessment.summary
    out: list[Check] = []
    for name in SCALAR_FIELDS:
        if name in vignette.expected:
            want = vignette.expected[name]
            got = getattr(summary, name)
            out.append(Check(name, got == want, want, got))
    for name, (attr, must) in LIST_FIELDS.items():
        if name in vignette.expected:
            want = list(vignette.expected[name] or [])
            have = set(getattr(summary, attr))
            wrong = [w for w in want if (w in have) != must]
            detail = ("missing: " if must else "present: ") + ", ".join(wrong) if wrong else ""
            out.append(Check(name, not wrong, want, sorted(have), detail))
    return out
