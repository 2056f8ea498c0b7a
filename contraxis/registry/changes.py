"""What changed between two assessments of the same visit: a stored one and one made again with
the knowledge base in use now.

Compared: the knowledge-base version and HPO release, each summary field (phenomenology,
focal type, distribution, onset band, associated, etiology, cause, ICD-10-CM), the diagnosis,
and the alerts, work-up and treatments added or dropped, each with the rule behind it in the
assessment that has it. Nothing else of the answer (wording, order of the reasons) counts as
a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SUMMARY_FIELDS", "AssessmentChange", "compare_assessments"]

SUMMARY_FIELDS = ("phenomenology", "focal_type", "distribution", "onset_band", "associated", "etiology", "cause",
                  "icd10cm")
"""The summary fields compared one by one."""

_LISTS = (("alerts", "code"), ("workup", "code"), ("treatments", "code"))


@dataclass(frozen=True, slots=True)
class AssessmentChange:
    """The difference between an old and a new assessment of one case.

    Attributes
    ----------
    knowledge_base : tuple of str
        (old version, new version).
    hpo_release : tuple of str
        (old release, new release).
    fields : tuple of (str, Any, Any)
        Each summary field or ``diagnosis`` that differs: (name, old value, new value).
    added, removed : dict of str to list of dict
        Per list (``alerts``, ``workup``, ``treatments``): the items only in the new (added)
        or only in the old (removed) assessment, each ``{code, rule}``.
    """

    knowledge_base: tuple[str, str]
    hpo_release: tuple[str, str]
    fields: tuple[tuple[str, Any, Any], ...] = ()
    added: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    removed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether any conclusion differs (a new version alone is not a change)."""
        return bool(self.fields or any(self.added.values()) or any(self.removed.values()))

    def lines(self) -> list[str]:
        """The change in words, one line each (``distribution: focal → segmental``)."""
        out = []
        if self.knowledge_base[0] != self.knowledge_base[1]:
            out.append(f"knowledge base {self.knowledge_base[0]} → {self.knowledge_base[1]}")
        if self.hpo_release[0] != self.hpo_release[1]:
            out.append(f"HPO release {self.hpo_release[0]} → {self.hpo_release[1]}")
        out += [f"{name}: {old if old is not None else '-'} → {new if new is not None else '-'}"
                for name, old, new in self.fields]
        for kind, items in self.added.items():
            out += [f"{kind} added: {i['code']} ({i['rule']})" for i in items]
        for kind, items in self.removed.items():
            out += [f"{kind} dropped: {i['code']} ({i['rule']})" for i in items]
        if not self.changed:
            out.append("no conclusion changed")
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "knowledge_base": {"old": self.knowledge_base[0], "new": self.knowledge_base[1]},
            "hpo_release": {"old": self.hpo_release[0], "new": self.hpo_release[1]},
            "changed": self.changed,
            "fields": [{"field": n, "old": o, "new": v} for n, o, v in self.fields],
            "added": self.added, "removed": self.removed, "lines": self.lines(),
        }


def _items(assessment: Mapping[str, Any], kind: str, key: str) -> dict[str, dict[str, Any]]:
    rows = {}
    for item in assessment.get(kind) or ():
        why = item.get("why") or {}
        rows[str(item.get(key))] = {"code": item.get(key), "rule": why.get("rule")}
    return rows


def compare_assessments(old: Mapping[str, Any], new: Mapping[str, Any]) -> AssessmentChange:
    """Compare two assessments of the same case (each as :meth:`Assessment.to_json` data).

    Returns
    -------
    AssessmentChange
        The versions compared and every conclusion that differs.
    """
    old_summary, new_summary = old.get("summary") or {}, new.get("summary") or {}
    fields = [(name, old_summary.get(name), new_summary.get(name)) for name in SUMMARY_FIELDS
              if old_summary.get(name) != new_summary.get(name)]
    if old.get("diagnosis") != new.get("diagnosis"):
        fields.append(("diagnosis", old.get("diagnosis"), new.get("diagnosis")))
    added: dict[str, list[dict[str, Any]]] = {}
    removed: dict[str, list[dict[str, Any]]] = {}
    for kind, key in _LISTS:
        before, after = _items(old, kind, key), _items(new, kind, key)
        added[kind] = [after[c] for c in after if c not in before]
        removed[kind] = [before[c] for c in before if c not in after]
    return AssessmentChange(
        knowledge_base=(str(old.get("knowledge_base_version")), str(new.get("knowledge_base_version"))),
        hpo_release=(str(old.get("hpo_release")), str(new.get("hpo_release"))),
        fields=tuple(fields), added={k: v for k, v in added.items() if v},
        removed={k: v for k, v in removed.items() if v},
    )
