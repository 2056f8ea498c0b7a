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

__all__ = ["body_of", "install_openapi", "json_answer", "ref"]

_TEMPLATE = "#/components/schemas/{model}"


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
        "required": ["resourceType", "type"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "type": {"type": "string"},
            "timestamp": {"type": "string"},
            "entry": {"type": "array", "items": {"type": "object", "properties": {"resource": {"type": "object"}}}},
        },
    }
    return components


def body_of(schema: str, *, yaml_allowed: bool = False, description: str = "") -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body follows a component schema."""
    content: dict[str, Any] = {"application/json": {"schema": ref(schema)}}
    if yaml_allowed:
        content["application/yaml"] = {"schema": {"type": "string", "description": "The same document in YAML"}}
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


def install_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Make ``app.openapi()`` include the components above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                tags=app.openapi_tags,
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(_components())
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
