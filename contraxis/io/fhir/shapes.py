"""Coerce the non-conformant FHIR R4 shapes whose meaning is unambiguous, and say so.

EHRs and CDS Hooks clients often send JSON that the R4 specification does not allow but that
can only mean one thing. Refusing it loses the data (and, for an order check, the safety
warning), so these shapes are rewritten before validation, each rewrite reported as a
:class:`~contraxis.reading.NotRead` whose reason starts with ``coerced:``:

* a field that R4 types as a list given as one object or value (``category``,
  ``dosageInstruction``, ``doseAndRate``, ``coding``, ...), read as a list of one;
* a field that R4 types as a single element given as a list of exactly one, read as that
  element;
* ``doseQuantity``, ``doseRange``, ``rateQuantity``, ``rateRange`` or ``rateRatio`` directly
  under a ``Dosage`` (the STU3 shape, used by the CDS Hooks specification's own order-sign
  example), moved into ``doseAndRate[0]``;
* a code of a required value set in the wrong case (``Active``), read as the code;
* a number given where R4 has a string, code or id (an RxNorm code as ``310672``), read as
  its digits;
* an allergy reaction with a ``description`` but no ``manifestation`` (required), the
  description read as the manifestation's text;
* a Reference given as its reference string (``"subject": "Patient/p1"``), read as
  ``{"reference": "Patient/p1"}``; a CodeableConcept given as a string, read as its ``text``.

The walk is generic: it follows the ``fhir.resources`` R4B model of each element, so every
resource type and every nested element is covered, not a list of known fields. Anything else
that does not conform is left for validation to report.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...reading import NotRead

__all__ = ["conform", "model_class"]

_DOSE_AND_RATE = ("doseQuantity", "doseRange", "rateQuantity", "rateRange", "rateRatio")


@dataclass(frozen=True, slots=True)
class _Field:
    is_list: bool
    model: Any  # the element's model class, for a complex type
    resource: bool  # an abstract Resource (contained, Bundle.entry.resource): typed by resourceType
    codes: tuple[str, ...] | None  # the codes of a required value set, when closed
    text: bool = False  # a primitive held as a string (string, code, id, uri, ...)


@functools.cache
def model_class(resource_type: str) -> Any:
    """The R4B model class of a resource type, or None when it is not one."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        return None


def _unwrap(annotation: Any) -> tuple[bool, Any]:
    """(is_list, element type) of a field's annotation."""
    is_list = False
    kind = annotation
    while True:
        origin = typing.get_origin(kind)
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if origin is list:
            is_list = True
            kind = args[0] if args else Any
            continue
        if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
            lists = [a for a in args if typing.get_origin(a) is list]
            kind = lists[0] if lists else (args[0] if args else Any)
            continue
        return is_list, kind


@functools.cache
def _fields(model: Any) -> dict[str, _Field]:
    fields: dict[str, _Field] = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if alias.startswith("_") or name == "fhir_comments":
            continue
        is_list, kind = _unwrap(info.annotation)
        element = None
        resource = False
        getter = getattr(kind, "get_model_klass", None)
        if getter is not None:
            if getattr(kind, "__name__", "") == "ResourceType":
                resource = True
            else:
                element = getter()
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        codes = extra.get("enum_values")
        closed = tuple(codes) if isinstance(codes, list) and "+" not in codes else None
        base = typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Annotated else kind
        fields[alias] = _Field(is_list=is_list, model=element, resource=resource, codes=closed, text=base is str)
    return fields


def conform(data: Mapping[str, Any], *, path: str) -> tuple[dict[str, Any], list[NotRead]]:
    """Rewrite a resource's non-conformant but unambiguous shapes.

    Parameters
    ----------
    data : mapping
        The parsed JSON of one resource (``resourceType`` set).
    path : str
        Where it sits in the input, for the notes (``bundle.entry[2].resource``).

    Returns
    -------
    (dict, list of NotRead)
        A rewritten copy (the input is not changed) and one note per rewrite, with the path
        of the element and a reason starting ``coerced:``. A resource of an unknown type is
        returned as it came, for validation to name.
    """
    notes: list[NotRead] = []
    model = model_class(str(data.get("resourceType", "")))
    if model is None:
        return dict(data), notes
    return _object(data, model, path, notes), notes


def _object(data: Mapping[str, Any], model: Any, path: str, notes: list[NotRead]) -> dict[str, Any]:
    out = dict(data)
    if model.__name__ == "Dosage":
        _move_dose(out, path, notes)
    if model.__name__ == "AllergyIntoleranceReaction" and "manifestation" not in out \
            and isinstance(out.get("description"), str) and out["description"].strip():
        out["manifestation"] = [{"text": out["description"].strip()}]
        notes.append(NotRead.of(f"{path}.manifestation", out["description"],
                                "coerced: a reaction with a description but no manifestation (required in FHIR "
                                "R4); the description read as its manifestation"))
    fields = _fields(model)
    for key, value in list(out.items()):
        spec = fields.get(key)
        if spec is None:
            continue
        where = f"{path}.{key}"
        if spec.is_list and value is not None and not isinstance(value, list):
            notes.append(
                NotRead.of(where, value, "coerced: one item given where FHIR R4 has a list; read as a list of one")
            )
            value = [value]
        elif not spec.is_list and isinstance(value, list) and len(value) == 1:
            notes.append(
                NotRead.of(
                    where,
                    value,
                    "coerced: a list of one given where FHIR R4 has a single element; read as that element",
                )
            )
            value = value[0]
        if spec.is_list and isinstance(value, list):
            value = [_element(item, spec, f"{where}[{i}]", notes) for i, item in enumerate(value)]
        else:
            value = _element(value, spec, where, notes)
        out[key] = value
    return out


def _element(value: Any, spec: _Field, where: str, notes: list[NotRead]) -> Any:
    """One element rewritten by its model (or a code put in its case)."""
    if isinstance(value, str) and spec.model is not None and value.strip():
        name = spec.model.__name__
        if name in ("Reference", "CodeableConcept"):
            key = "reference" if name == "Reference" else "text"
            notes.append(
                NotRead.of(where, value, f"coerced: a string given where FHIR R4 has a {name}; read as its {key}")
            )
            return {key: value.strip()}
    if isinstance(value, Mapping):
        if spec.resource:
            inner = model_class(str(value.get("resourceType", "")))
            return _object(value, inner, where, notes) if inner is not None else dict(value)
        if spec.model is not None:
            return _object(value, spec.model, where, notes)
        return value
    if spec.text and isinstance(value, int) and not isinstance(value, bool):
        notes.append(
            NotRead.of(where, value, f"coerced: a number given where FHIR R4 has a string; read as {str(value)!r}")
        )
        return str(value)
    if spec.codes and isinstance(value, str) and value not in spec.codes:
        match = [code for code in spec.codes if code.casefold() == value.strip().casefold()]
        if len(match) == 1:
            notes.append(NotRead.of(where, value, f"coerced: read as the code {match[0]!r}"))
            return match[0]
    return value


def _move_dose(dosage: dict[str, Any], path: str, notes: list[NotRead]) -> None:
    """Move dose and rate elements given directly under a Dosage into ``doseAndRate[0]``."""
    loose = [key for key in _DOSE_AND_RATE if key in dosage]
    if not loose:
        return
    existing = dosage.get("doseAndRate")
    if isinstance(existing, Mapping):
        existing = [existing]
    if existing is None:
        target: dict[str, Any] = {}
        rest: list[Any] = []
    elif isinstance(existing, list) and len(existing) <= 1 and all(isinstance(e, Mapping) for e in existing):
        target = dict(existing[0]) if existing else {}
        rest = []
    else:
        return  # several doseAndRate entries: which one the loose dose belongs to is not clear
    if any(key in target for key in loose):
        return  # given twice: left for validation to report
    for key in loose:
        target[key] = dosage.pop(key)
        notes.append(
            NotRead.of(
                f"{path}.{key}",
                target[key],
                "coerced: FHIR R4 puts it in Dosage.doseAndRate (the STU3 shape); moved into doseAndRate[0]",
            )
        )
    dosage["doseAndRate"] = [target, *rest]
