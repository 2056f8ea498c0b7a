"""The OpenAPI components the routes refer to: the case, the assessment, errors, FHIR input.

The routes read their bodies themselves (to answer every bad input with a named problem), so
their request schemas are declared here and merged into the generated document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..assessment import Assessment
from ..case import Case
from .errors import ERROR_SCHEMA

__all__ = [
    "BUNDLE_TYPES", "FHIR_INSTANT", "body_of", "complete_answers", "html_or_json_answer", "install_openapi",
    "json_answer", "ref",
]

_TEMPLATE = "#/components/schemas/{model}"


BUNDLE_TYPES = ("document", "message", "transaction", "transaction-response", "batch", "batch-response",
                 "history", "searchset", "collection")
"""The codes of FHIR R4 ``Bundle.type`` (https://hl7.org/fhir/R4/valueset-bundle-type.html)."""
FHIR_INSTANT = (
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)
"""The regular expression of a FHIR R4 ``instant`` (https://hl7.org/fhir/R4/datatypes.html#instant)."""


def ref(name: str) -> dict[str, str]:
    return {"$ref": _TEMPLATE.format(model=name)}


def _components() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for model in (Case, Assessment):
        schema = model.model_json_schema(ref_template=_TEMPLATE)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["Vignette"] = {
        "type": "object",
        "description": "A clinical vignette (id, title, narrative, case, expected); only its `case` block is read.",
        "required": ["case"],
        "properties": {"case": ref("Case")},
    }
    components["CaseInput"] = {"anyOf": [ref("Case"), ref("Vignette")]}
    components["Error"] = ERROR_SCHEMA
    components["FhirBundle"] = {
        "type": "object",
        "description": "A FHIR R4 Bundle (collection, searchset, ...) about one patient.",
        "required": ["resourceType"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "type": {"enum": list(BUNDLE_TYPES)},
            "timestamp": {"type": ["string", "null"], "pattern": FHIR_INSTANT,
                          "description": "A FHIR instant: YYYY-MM-DDThh:mm:ss with a time zone (null is read as "
                                         "absent)"},
            "entry": {"type": "array", "items": {"type": "object", "properties": {"resource": {"type": "object"}}}},
        },
    }
    return components


def body_of(schema: str | dict[str, Any], *, yaml_allowed: bool = False, description: str = "") -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body follows a schema (a component's name, or a schema).

    With ``yaml_allowed`` the same document may come as YAML (``application/yaml``), declared with
    the same schema: a YAML body is read into the same data as its JSON.
    """
    body = ref(schema) if isinstance(schema, str) else schema
    content: dict[str, Any] = {"application/json": {"schema": body}}
    if yaml_allowed:
        content["application/yaml"] = {"schema": body}
    return {"requestBody": {"required": True, "description": description, "content": content}}


def json_answer(schema: str | dict[str, Any], description: str) -> dict[int | str, Any]:
    """``responses`` for a route answering JSON, with the error answers it may give."""
    body = ref(schema) if isinstance(schema, str) else schema
    error = {"content": {"application/json": {"schema": ref("Error")}}}
    return {
        200: {"description": description, "content": {"application/json": {"schema": body}}},
        400: {"description": "The body is not valid JSON", **error},
        413: {"description": "The body is larger than the limit", **error},
        415: {"description": "The content type is not accepted", **error},
        422: {"description": "The input is not a valid case, or contradicts itself", **error},
    }


def html_or_json_answer(schema: dict[str, Any], description: str) -> dict[int | str, Any]:
    """``responses`` for a route answering JSON, or its page (``text/html``) when asked for it."""
    return {200: {"description": description, "content": {
        "application/json": {"schema": schema},
        "text/html": {"schema": {"type": "string"}},
    }}}


_ERROR = {"application/json": {"schema": ref("Error")}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_ANY_REQUEST = {
    "408": "The request's headers or body did not arrive in time (a slow client); the connection is closed",
    "429": "Too many requests from this client: try again after `Retry-After` seconds",
    "431": "The request line and headers are larger than the limit; the connection is closed",
    "503": "Too many requests at once, or this one took longer than the time limit: try again after "
           "`Retry-After` seconds",
}
_WITH_BODY = {
    "400": "The body cannot be read: empty, not UTF-8, malformed JSON or YAML, nested too deep, too many "
           "YAML aliases, a duplicate key, or bad gzip data",
    "413": "The body (or its gzip content) is larger than this route's limit",
    "415": "The Content-Type is missing or not accepted, or the Content-Encoding is not identity or gzip",
    "422": "The input is not valid here: each problem names the field, an excerpt of the value and what is allowed",
}
_WITH_PARAMETERS = {
    "422": "A parameter is not valid: each problem names the parameter and what is allowed",
}
_WITH_PATH = {"404": "No such resource: the problem names the path parameter that matches nothing"}


def complete_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Add to every operation of ``document`` the error answers the service may give it.

    Every request may meet the limits (408, 429, 431, 503, see :mod:`contraxis.service.limits`);
    one with a body its reading (400, 413, 415, 422, see :mod:`contraxis.service.body`); one
    with parameters their checks (422); one with path parameters 404. Answers a route declares
    itself are kept. Each error answer is the ``Error`` JSON; 429 and 503 carry ``Retry-After``.
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers: dict[str, Any] = operation["responses"]
            parameters = operation.get("parameters", [])
            wanted = dict(_ANY_REQUEST)
            if parameters:
                wanted.update(_WITH_PARAMETERS)
            if any(p.get("in") == "path" for p in parameters if isinstance(p, dict)):
                wanted.update(_WITH_PATH)
            if "requestBody" in operation:
                wanted.update(_WITH_BODY)
            for status, description in wanted.items():
                answer = answers.setdefault(status, {"description": description})
                answer.setdefault("content", _ERROR)
                if status in ("429", "503"):
                    answer.setdefault("headers", _RETRY_AFTER)
            for status, answer in answers.items():
                if str(status)[:1] in ("4", "5") and isinstance(answer, dict):
                    answer.setdefault("content", _ERROR)
    return document


def install_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Make ``app.openapi()`` include the components above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                tags=app.openapi_tags,
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(_components())
            complete_answers(document)
            engine = getattr(app.state, "engine", None)
            if engine is not None:
                info = document["info"]
                info["description"] += f"\n\nKnowledge base **{engine.version}**, HPO release **{engine.hpo_release}**."
                info["x-knowledge-base-version"] = engine.version
                info["x-hpo-release"] = engine.hpo_release
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return openapi
