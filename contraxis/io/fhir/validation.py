"""Validate FHIR R4 resources against the R4B models of ``fhir.resources``, after the
unambiguous non-conformant shapes have been coerced (:mod:`.shapes`).

Two modes. *Strict* (a Bundle posted to ``/fhir/*``, :func:`read_bundle`): a resource that is
still not valid after coercion is an input error naming the element, the value and what is
allowed. *Lenient* (CDS Hooks, where a refused request loses the safety warning): the
elements that are not valid are left out, each reported as not read, and the rest of the
resource is read; a resource that cannot be read even so is left out and reported.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...documents import kind_of
from ...errors import Problem
from ...reading import NotRead, excerpt
from .elements import Located
from .shapes import _fields, conform, model_class

__all__ = ["Checked", "check_resource", "validate_resource"]

_FORMATS = {
    "Date": "a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD",
    "DateTime": "a FHIR dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone",
    "Instant": "a FHIR instant: YYYY-MM-DDThh:mm:ss with a time zone",
    "Time": "a FHIR time: hh:mm:ss",
    "Decimal": "a number such as 6.4",
    "Integer": "a whole number",
    "PositiveInt": "a whole number above 0",
    "UnsignedInt": "a whole number, 0 or more",
    "Id": "1 to 64 letters, digits, '-' and '.'",
    "Uri": "a URI",
    "Code": "a code (no leading, trailing or repeated spaces)",
}


@dataclass(frozen=True)
class Checked:
    """One resource after coercion and validation.

    Parameters
    ----------
    located : Located or None
        The validated resource and its path; None when it could not be read at all.
    notes : tuple of NotRead
        The coercions made and, in lenient mode, the elements left out.
    problems : tuple of Problem
        What is not valid (strict mode: the resource is refused; lenient mode: empty).
    """

    located: Located | None
    notes: tuple[NotRead, ...] = ()
    problems: tuple[Problem, ...] = field(default=())


def _path(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model_at(model: Any, loc: tuple[Any, ...]) -> Any:
    """The model of the element that holds the last part of ``loc``."""
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        spec = _fields(model).get(str(part))
        if spec is None:
            return None
        model = spec.model
    return model


def _message(error: Mapping[str, Any], model: Any) -> str:
    kind = str(error.get("type", ""))
    loc = tuple(error.get("loc") or ())
    value = error.get("input")
    shown = excerpt(value, 60)
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        holder = _model_at(model, loc) if loc else model
        name = str(loc[-1]) if loc else "?"
        if holder is None:
            return "is not a field of FHIR R4 here"
        allowed = sorted(_fields(holder))
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"is not a field of FHIR R4 {holder.__name__} ({hint}fields: {', '.join(allowed)[:300]})"
    if "missing" in kind:
        return "is required"
    match = re.match(r"(\w+) value string does not match spec regex", message)
    if match:
        return f"{shown!r} is not {_FORMATS.get(match.group(1), 'a valid FHIR ' + match.group(1))}"
    match = re.match(r"Expect any of field value from this list \[(.*)\]", message)
    if match:
        return f"one of {match.group(1).replace(chr(39), '')} is required"
    match = re.match(r"Any of one field value is expected from this list \[(.*)\], but got multiple", message)
    if match:
        return f"give only one of {match.group(1).replace(chr(39), '')}"
    if kind == "string_pattern_mismatch":
        return f"{shown!r} is not a FHIR code or id (no leading, trailing or repeated spaces; not empty)"
    if kind in ("json_invalid", "model_type", "dict_type"):
        holder = _model_at(model, loc + ("",)) if loc else None
        what = f"a FHIR {holder.__name__} (a JSON object)" if holder is not None else "a JSON object"
        return f"{shown!r}: expected {what}"
    message = message[:1].lower() + message[1:]
    if value is None or isinstance(value, (Mapping, list)):
        return message
    return f"{shown!r}: {message}"


def _errors(data: Mapping[str, Any], model: Any) -> list[tuple[tuple[Any, ...], str]]:
    from pydantic import ValidationError

    try:
        model.model_validate(dict(data))
    except ValidationError as error:
        return [(tuple(e["loc"]), _message(e, model)) for e in error.errors()]
    except (TypeError, ValueError, RecursionError) as error:
        return [((), f"is not a valid {model.__name__}: {excerpt(str(error), 120)}")]
    return []


def check_resource(data: Any, *, path: str, strict: bool = True) -> Checked:
    """Coerce and validate one resource.

    Parameters
    ----------
    data : Any
        The parsed JSON of the resource.
    path : str
        Where it sits in the input (``bundle.entry[2].resource``).
    strict : bool
        Strict: anything still not valid is a problem. Lenient: elements that are not valid
        are left out and noted, and the rest is read.

    Returns
    -------
    Checked
        The validated resource (or None), the notes and the problems.
    """
    if not isinstance(data, Mapping):
        problem = Problem(path, f"expected a FHIR resource (a JSON object), got {kind_of(data)}")
        return _refuse(problem, data, path, strict)
    kind = data.get("resourceType")
    if not isinstance(kind, str) or not kind:
        return _refuse(
            Problem(f"{path}.resourceType", "is required (e.g. Patient, Condition, Observation)"), data, path, strict
        )
    model = model_class(kind)
    if model is None:
        return _refuse(Problem(f"{path}.resourceType", f"{excerpt(kind, 60)!r} is not a FHIR R4 resource type"),
                       data, path, strict)
    fixed, notes = conform(data, path=path)
    errors = _errors(fixed, model)
    rounds = 0
    while errors and not strict and rounds < 4:
        fixed, dropped = _drop_invalid(fixed, errors, path)
        if not dropped:
            break
        notes += dropped
        errors = _errors(fixed, model)
        rounds += 1
    if errors:
        problems = tuple(Problem(f"{path}.{_path(loc)}" if loc else path, message) for loc, message in errors)
        if strict:
            return Checked(None, tuple(notes), problems)
        reasons = "; ".join(f"{p.where.removeprefix(path).lstrip('.') or kind}: {p.message}" for p in problems[:3])
        notes.append(NotRead.of(path, _label(data), f"not valid FHIR R4 ({reasons}): the resource is left out"))
        return Checked(None, tuple(notes))
    return Checked(Located(model.model_validate(fixed), path), tuple(notes))


def _label(data: Mapping[str, Any]) -> str:
    kind = data.get("resourceType", "resource")
    return f"{kind}/{data['id']}" if data.get("id") else str(kind)


def _remove(data: Any, loc: tuple[Any, ...]) -> tuple[bool, Any]:
    """Remove the element at ``loc`` (or, when it is absent, the element holding it)."""
    holder = data
    for i, part in enumerate(loc[:-1]):
        try:
            child = holder[part]
        except (KeyError, IndexError, TypeError):
            return _remove(data, loc[:i]) if i else (False, None)
        if not isinstance(child, (dict, list)):
            return _remove(data, loc[: i + 1])
        holder = child
    last = loc[-1] if loc else None
    try:
        value = holder[last]
    except (KeyError, IndexError, TypeError):
        return _remove(data, loc[:-1]) if len(loc) > 1 else (False, None)
    del holder[last]
    return True, value


def _drop_invalid(
    data: dict[str, Any], errors: list[tuple[tuple[Any, ...], str]], path: str
) -> tuple[dict[str, Any], list[NotRead]]:
    """Leave out the elements that are not valid, the smallest first (lenient mode)."""
    import copy

    out = copy.deepcopy(dict(data))
    notes: list[NotRead] = []
    for loc, message in sorted(errors, key=lambda e: [str(p).zfill(8) for p in e[0]], reverse=True):
        if not loc or loc[0] == "resourceType":
            continue
        removed, value = _remove(out, loc)
        if removed:
            notes.append(NotRead.of(f"{path}.{_path(loc)}", value, f"not valid FHIR R4: {message}; left out"))
    return out, notes


def _refuse(problem: Problem, data: Any, path: str, strict: bool) -> Checked:
    if strict:
        return Checked(None, (), (problem,))
    return Checked(None, (NotRead.of(path, data, f"{problem.message}: left out"),))


def validate_resource(resource: Any, *, where: str) -> list[Problem]:
    """Check one resource against the FHIR R4B model of its type (after coercing the
    unambiguous non-conformant shapes).

    Parameters
    ----------
    resource : Any
        The parsed JSON of the resource.
    where : str
        Where it sits, for the messages (``bundle.entry[2].resource``).

    Returns
    -------
    list of Problem
        Empty when the resource is valid.
    """
    return list(check_resource(resource, path=where, strict=True).problems)
