"""Putting the case together: findings settled, every fact with its evidence, validated.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import CaseError
from ...reading import Reading
from .document import Compiled, Doc, Mention, section_at
from .facts import in_clause
from .index import NoteIndex
from .model import EMPTY_MESSAGE, Evidence, Fact, NoteReading, Unused


class Builder:
    """Collects the case's fields with their evidence, and what was not used."""

    def __init__(self, d: Doc, comp: Compiled, sections: list[tuple[str, int, int]]) -> None:
        self.d = d
        self.comp = comp
        self.sections = sections
        self.unused: list[Unused] = []
        self.fields: dict[str, Any] = {}
        self.evidence: dict[str, list[Evidence]] = {}
        self.present: dict[str, list[Evidence]] = {}
        self.absent: dict[str, list[Evidence]] = {}
        self.present_rules: dict[str, set[str]] = {}
        self.imaging_findings: dict[str, list[Evidence]] = {}

    # evidence helpers
    def ev(self, m: Mention, how: str | None = None, cue: str | None = None) -> Evidence:
        a, b = self.d.chars(m.start, m.end)
        return Evidence(a, b, self.d.text[a:b], how or m.how, cue, section_at(self.sections, a))

    def ev_chars(self, a: int, b: int, how: str, cue: str | None = None) -> Evidence:
        return Evidence(a, b, self.d.text[a:b], how, cue, section_at(self.sections, a))

    def skip(self, m: Mention, what: str, reason: str) -> None:
        a, b = self.d.chars(m.start, m.end)
        self.unused.append(Unused(a, b, self.d.text[a:b], what, reason))

    def set(self, name: str, value: Any, evidence: Evidence) -> None:
        if name not in self.fields:
            self.fields[name] = value
            self.evidence[name] = [evidence]

    def why_not(self, m: Mention) -> str | None:
        if m.extra.get("indication"):
            return (f"the reason a drug or procedure was given ('{m.extra['indication']}'), "
                    "not a finding of the movement")
        if m.extra.get("historical"):
            return f"past, not current ('{m.extra['historical']}')"
        if m.family:
            return f"about a relative ('{m.family}')"
        if m.uncertain:
            return f"uncertain ('{m.uncertain}')"
        section = section_at(self.sections, self.d.idx[m.start])
        if section == "plan":
            return "in the plan: to be done, not done"
        if section == "history" and m.kind == "finding" and not str(m.value).startswith("CX:hx-"):
            return "in the past medical history: another illness, not a finding of the movement"
        return None


def _label(index: NoteIndex, code: str) -> str:
    return index.label(code)


def assert_findings(b: Builder, mentions: list[Mention], clauses: Sequence[tuple[int, int, Mention]],
              regions: set[str], drugs: set[str]) -> None:
    index = b.d.index
    waiting: list[Mention] = []
    for m in mentions:
        rule = m.rule.rule if m.rule else None
        if rule is not None and (rule.requires or rule.unless_codes):
            waiting.append(m)
            continue
        _finding(b, m, clauses)
    codes = set(b.present)
    for m in waiting:
        rule = m.rule.rule
        need = rule.requires
        if need is not None:
            ok = True
            if need.regions is not None and len(regions) < need.regions:
                ok = False
            if need.regions_any and not set(need.regions_any) & regions:
                ok = False
            if need.codes and not set(need.codes) & codes:
                ok = False
            if need.drugs and not set(need.drugs) & drugs:
                ok = False
            if not ok:
                b.skip(m, f"{m.value} {_label(index, m.value)}",
                       f"rule {rule.id} needs {need.model_dump(exclude_defaults=True)}")
                continue
        if rule.unless_codes and set(rule.unless_codes) & codes:
            b.skip(m, f"{m.value} {_label(index, m.value)}",
                   f"a more specific term is read ({', '.join(sorted(set(rule.unless_codes) & codes))})")
            continue
        _finding(b, m, clauses)


def _finding(b: Builder, m: Mention, clauses: Sequence[tuple[int, int, Mention]]) -> None:
    index = b.d.index
    code = m.value
    rule = m.rule.rule if m.rule else None
    what = f"{code} {_label(index, code)}"
    clause = in_clause(m, clauses)
    if rule is not None and rule.scope == "imaging":
        if clause is None:
            return
        if not m.negated and not m.uncertain and not m.family:
            b.imaging_findings.setdefault(code, []).append(b.ev(m))
        return
    if clause is not None and code not in ("HP:0001945",):
        b.skip(m, what, "read in a sentence about brain imaging")
        return
    reason = b.why_not(m)
    if reason:
        b.skip(m, what, reason)
        return
    polarity = rule.polarity if rule else "present"
    only = rule.only if rule else "any"
    if only == "negated" and not m.negated:
        b.skip(m, what, f"read only when negated (rule {rule.id})" if rule else "read only when negated")
        return
    if polarity == "absent":
        if m.negated:
            b.skip(m, what, f"a negated absence ('{m.negated}'): not read")
            return
        b.absent.setdefault(code, []).append(b.ev(m))
        return
    if m.negated:
        if code.startswith("CX:hx-"):
            b.skip(m, what, f"negated ('{m.negated}'): the history is not had")
            return
        b.absent.setdefault(code, []).append(b.ev(m, cue=m.negated))
        return
    b.present.setdefault(code, []).append(b.ev(m))


def settle_findings(b: Builder) -> tuple[list[str], list[str]]:
    """Present beats absent; an ancestor read from the same words as a more specific term is
    dropped; an absent term above a present one is dropped."""
    index = b.d.index
    present = dict(b.present)
    for code in []:  # noqa: B007 - ancestors read from the same words are kept (both are findings)
        anc = index.ancestors(code)
        for other in list(present):
            if other in anc:
                mine = {(e.start, e.end) for e in present[code]}
                theirs = present[other]
                if all(any(e.start < y and x < e.end for x, y in mine) for e in theirs):
                    for e in theirs:
                        b.unused.append(Unused(e.start, e.end, e.text, f"{other} {_label(index, other)}",
                                               f"the more specific {code} {_label(index, code)} is read "
                                               "from these words"))
                    del present[other]
    absent = {}
    for code, evidence in b.absent.items():
        if code in present:
            for e in evidence:
                b.unused.append(Unused(e.start, e.end, e.text, f"{code} {_label(index, code)}",
                                       "also read as present elsewhere in the note: kept as present"))
            continue
        below = [c for c in present if code in index.ancestors(c)]
        if below:
            for e in evidence:
                b.unused.append(Unused(e.start, e.end, e.text, f"{code} {_label(index, code)}",
                                       f"read as absent, but {below[0]} {_label(index, below[0])} below it is present"))
            continue
        absent[code] = evidence
    b.present = present
    b.absent = absent
    return list(present), list(absent)


def assemble(b: Builder, present: list[str], absent: list[str], history: list[str],
              region_evidence: Mapping[str, list[Evidence]], source: str | None) -> NoteReading:
    from ...case import read_case_reading
    from ...vocabulary import REGIONS

    index = b.d.index
    present = list(b.present)
    absent = [c for c in b.absent if c not in b.present]
    history = [c for c in present if c.startswith("CX:hx-")]
    findings = [c for c in present if not c.startswith("CX:hx-")]
    regions = [r for r in REGIONS if r in region_evidence]
    data: dict[str, Any] = {}
    facts: list[Fact] = []

    def add(path: str, value: Any, label: str, evidence: Sequence[Evidence]) -> None:
        facts.append(Fact(path, value, label, tuple(evidence)))

    for name in ("age", "sex", "onset_age", "course"):
        if name in b.fields:
            data[name] = b.fields[name]
            add(name, b.fields[name], _shown(name, b.fields[name]), b.evidence[name])
    if regions:
        data["regions"] = regions
        for i, r in enumerate(regions):
            add(f"regions[{i}]", r, r.replace("-", " "), region_evidence[r])
    if findings:
        data["findings"] = findings
        for i, c in enumerate(findings):
            add(f"findings[{i}]", c, _label(index, c), b.present[c])
    if absent:
        data["absent"] = absent
        for i, c in enumerate(absent):
            add(f"absent[{i}]", c, _label(index, c), b.absent[c])
    if "labs" in b.fields:
        data["labs"] = b.fields["labs"]
        for i, (row, e) in enumerate(zip(b.fields["labs"], b.evidence["labs"], strict=True)):
            add(f"labs[{i}]", row, row.get("name", row["loinc"]), [e])
    if "medications" in b.fields:
        data["medications"] = b.fields["medications"]
        per = getattr(b, "med_evidence", None)
        if not data["medications"]:
            add("medications", [], "no drug taken", b.evidence["medications"])
        for i, row in enumerate(data["medications"]):
            add(f"medications[{i}]", row, row["name"], per[i] if per else b.evidence["medications"])
    if history:
        data["history"] = history
        for i, c in enumerate(history):
            add(f"history[{i}]", c, _label(index, c), b.present[c])
    if "imaging" in b.fields:
        data["imaging"] = b.fields["imaging"]
        add("imaging", b.fields["imaging"], "brain MRI", b.evidence["imaging"])
    if "genetics" in b.fields:
        data["genetics"] = b.fields["genetics"]
        add("genetics", b.fields["genetics"], "gene tests", b.evidence["genetics"])
    for name in ("family_history", "severity", "disabling"):
        if name in b.fields:
            data[name] = b.fields[name]
            add(name, b.fields[name], _shown(name, b.fields[name]), b.evidence[name])
    if "treatment_history" in b.fields:
        data["treatment_history"] = b.fields["treatment_history"]
        for i, (row, e) in enumerate(zip(b.fields["treatment_history"], b.evidence["treatment_history"], strict=True)):
            add(f"treatment_history[{i}]", row, f"{row['treatment']} ({row['response']})", [e])
    try:
        reading = read_case_reading(data, source=source)
    except CaseError as error:
        # a value the case refuses (a laboratory value impossible in its unit): leave it out, say why
        reading, dropped = _without_refused(data, error, source)
        for path, message in dropped:
            b.unused.append(Unused(0, 0, "", path, message))
        facts = [f for f in facts if not any(f.path == p or f.path.startswith(p + "[") for p, _m in dropped)]
    message = "" if facts else EMPTY_MESSAGE
    unused = sorted(b.unused, key=lambda u: (u.start, u.end))
    said_none = tuple(name for name, value in data.items() if value == [])
    return NoteReading(text=b.d.text, case=reading.case, not_read=reading.not_read, facts=tuple(facts),
                       unused=tuple(unused), message=message, sections=tuple(b.sections), said_none=said_none)


def _shown(name: str, value: Any) -> str:
    """A fact's value in words: ``58 years``, ``no relative affected``, ``disabling``."""
    if name in ("age", "onset_age"):
        return f"{value:g} years"
    if name == "family_history":
        return "a relative affected" if value else "no relative affected"
    if name == "disabling":
        return "disabling" if value else "not disabling"
    return str(value)


def _without_refused(
    data: dict[str, Any], error: CaseError, source: str | None
) -> tuple[Reading, list[tuple[str, str]]]:
    from ...case import read_case_reading

    dropped = []
    data = dict(data)
    for problem in error.problems:
        path = problem.where.removeprefix("case.")
        top = re.match(r"^(\w+)(?:\[(\d+)\])?", path)
        if not top:
            continue
        name, i = top.group(1), top.group(2)
        if name in data:
            if i is not None and isinstance(data[name], list) and int(i) < len(data[name]):
                data[name] = [x for j, x in enumerate(data[name]) if j != int(i)]
                dropped.append((f"{name}[{i}]", problem.message))
            else:
                data.pop(name)
                dropped.append((name, problem.message))
    return read_case_reading(data, source=source), dropped
