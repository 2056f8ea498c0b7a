"""Import into the registry: visits one per JSON line, or patients exported as the registry's
own JSON (``contraxis registry export --format json``).

A visit line::

    {"patient": "P-0001", "date": "2024-03-01", "input": <any input the assessment accepts>,
     "scales": {"tsui": {"A.rotation": 2, ...}}, "injections": [{...}],
     "implants": [{"surgery_date": "2023-05-02", "device": "...", "target": "GPi", "side": "bilateral"}],
     "stimulation": [{"implant": 0, "side": "left", "contacts": "1-, C+", "amplitude": 3.0,
                      "amplitude_unit": "mA", "pulse_width_us": 90, "frequency_hz": 130}]}

(``implant`` in a stimulation row is the index of an implant given in the same line, or the
id of one already in the registry). An exported patient brings every visit's case (assessed
again on import, with the knowledge base in use now), its scales, injections and stimulation,
the implants, and the identity when the export held one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..documents import parse_document
from ..errors import CaseError, Problem
from ..reading import excerpt
from .errors import RegistryError
from .records import IdentityData
from .store import NewVisit, Registry

__all__ = ["ImportSummary", "import_documents", "iter_documents"]


@dataclass
class ImportSummary:
    """What an import added."""

    patients: set[str] = field(default_factory=set)
    visits: int = 0
    scales: int = 0
    injections: int = 0
    implants: int = 0
    stimulation: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"patients": len(self.patients), "visits": self.visits, "scales": self.scales,
                "injections": self.injections, "implants": self.implants, "stimulation": self.stimulation,
                "warnings": self.warnings}


def iter_documents(path: str | Path) -> Iterator[tuple[str, Any]]:
    """The documents of a file: one JSON document (an export) or JSON Lines (one visit a line),
    each with a name for error messages (``file:3`` for line 3)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryError([Problem("", f"cannot read the file: {getattr(error, 'strerror', None) or error}")],
                            source=source) from None
    stripped = text.strip()
    if not stripped:
        return
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield f"{source}:{n}", parse_document(line, source=f"{source}:{n}")
        return
    yield source, parse_document(text, source=source)


def _date(value: Any, where: str, source: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RegistryError([Problem(where, f"{excerpt(value, 30)!r} is not a date (YYYY-MM-DD)")],
                            source=source) from None


def _mapping(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RegistryError([Problem(where, f"expected an object, got {excerpt(value, 40)}")], source=source)
    return value


def _extras(registry: Registry, patient: str, visit_id: int, line: Mapping[str, Any], implant_ids: list[int],
            summary: ImportSummary, source: str) -> None:
    scales = line.get("scales") or {}
    if isinstance(scales, list):  # an export: [{scale, items}]
        scales = {s["scale"]: s.get("items", {}) for s in scales}
    for scale, items in _mapping(scales, "scales", source).items():
        registry.add_scale(patient, visit_id, scale, _mapping(items, f"scales.{scale}", source))
        summary.scales += 1
    for n, injection in enumerate(line.get("injections") or ()):
        given = {k: v for k, v in _mapping(injection, f"injections[{n}]", source).items()
                 if k not in ("id", "warnings", "total_units")}
        record = registry.add_injection(patient, visit_id, given)
        summary.injections += 1
        summary.warnings += [f"{patient} visit {visit_id}: {w.get('message', w)}" for w in record.warnings]
    for n, setting in enumerate(line.get("stimulation") or ()):
        row = dict(_mapping(setting, f"stimulation[{n}]", source))
        ref = row.pop("implant", row.pop("implant_id", None))
        row.pop("id", None)
        if isinstance(ref, int) and 0 <= ref < len(implant_ids) and "implant_id" not in setting:
            implant = implant_ids[ref]
        elif isinstance(ref, int):
            implant = ref
        else:
            raise RegistryError([Problem(f"stimulation[{n}].implant", "names no implant")], source=source)
        registry.add_stimulation(patient, visit_id, implant_id=implant, **row)
        summary.stimulation += 1


def _import_export(registry: Registry, data: Mapping[str, Any], summary: ImportSummary, source: str) -> None:
    patient = str(data.get("patient"))
    identity = data.get("identity")
    if registry.has_patient(patient):
        raise RegistryError([Problem("patient", f"{patient!r} is already a patient of this registry")], source=source)
    registry.add_patient(patient)
    summary.patients.add(patient)
    if identity:
        birth = identity.get("birth_date")
        registry.set_identity(patient, IdentityData(identity.get("name"),
                                                    dt.date.fromisoformat(birth) if birth else None,
                                                    identity.get("identifier"), identity.get("identifier_system")))
    old_to_new: dict[int, int] = {}
    for n, implant in enumerate(data.get("implants") or ()):
        row = _mapping(implant, f"implants[{n}]", source)
        made = registry.add_implant(patient, surgery_date=row["surgery_date"], device=row["device"],
                                    target=row["target"], side=row["side"])
        old_to_new[int(row.get("id", n))] = made.id
        summary.implants += 1
    for n, visit in enumerate(data.get("visits") or ()):
        row = _mapping(visit, f"visits[{n}]", source)
        added = registry.add_visit(patient, _mapping(row.get("case"), f"visits[{n}].case", source),
                                   date=_date(row.get("date"), f"visits[{n}].date", source),
                                   source=f"{source}: visits[{n}]")
        summary.visits += 1
        stimulation = [{**s, "implant_id": old_to_new.get(int(s.get("implant_id", -1)), -1)}
                       for s in row.get("stimulation") or ()]
        _extras(registry, patient, added.id, {**row, "stimulation": stimulation}, [], summary, source)


def import_documents(registry: Registry, documents: Iterable[tuple[str, Any]], *, batch: int = 500) -> ImportSummary:
    """Import visit lines and exported patients (see the module's documentation).

    Visit lines with nothing but an input are added ``batch`` per transaction; a line with
    scales, injections, implants or stimulation, and an exported patient, are added one by one.

    Raises
    ------
    CaseError
        Naming the line (``file:3``) and the field of the first input that cannot be read;
        what came before it stays imported.
    """
    summary = ImportSummary()
    plain: list[NewVisit] = []

    def flush() -> None:
        summary.visits += registry.add_visits(plain, batch=batch)
        plain.clear()

    for source, data in documents:
        data = _mapping(data, "", source)
        if data.get("format") == "contraxis-registry":
            flush()
            _import_export(registry, data, summary, source)
            continue
        patient, date = data.get("patient"), _date(data.get("date"), "date", source)
        if not isinstance(patient, str):
            raise RegistryError([Problem("patient", "is required: the patient's pseudonymous id")], source=source)
        if "input" not in data:
            raise RegistryError([Problem("input", "is required: the visit's case (any input the assessment "
                                                  "accepts)")], source=source)
        summary.patients.add(patient)
        extras = any(data.get(k) for k in ("scales", "injections", "implants", "stimulation"))
        if not extras:
            plain.append(NewVisit(patient, date, data["input"], source))
            if len(plain) >= batch:
                flush()
            continue
        flush()
        try:
            visit = registry.add_visit(patient, data["input"], date=date, source=source)
        except CaseError as error:
            raise type(error)(error.problems, source=error.source or source) from None
        summary.visits += 1
        implant_ids = []
        for n, implant in enumerate(data.get("implants") or ()):
            row = _mapping(implant, f"implants[{n}]", source)
            implant_ids.append(registry.add_implant(patient, **{k: row[k] for k in ("surgery_date", "device", "target",
                                                                                   "side") if k in row}).id)
            summary.implants += 1
        _extras(registry, patient, visit.id, data, implant_ids, summary, source)
    flush()
    return summary


def dumps_lines(rows: Iterable[Mapping[str, Any]]) -> str:
    """JSON Lines text of ``rows`` (for writing visit lines)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
