"""Error answers: every 4xx (and the 500 that should never happen) has one JSON shape,
the ``to_dict()`` of Contraxis' errors, with no traceback::

    {"error": "CaseError", "source": null, "status": 422,
     "problems": [{"field": "case.course", "message": "'chronic' is not one of acute, ..."}]}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..documents import shown
from ..errors import ContraxisError, KnowledgeBaseError, Problem
from ..reading import excerpt

__all__ = ["RequestError", "error_body", "install_error_handlers", "problem_response"]

_log = logging.getLogger(__name__)

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "status", "problems"],
    "properties": {
        "error": {"type": "string", "description": "Kind of error: CaseError, ContradictionError, RequestError, ..."},
        "status": {"type": "integer"},
        "source": {"type": ["string", "null"]},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


class RequestError(ContraxisError, ValueError):
    """The HTTP request itself is wrong: not JSON, too large, of a type not accepted."""

    def __init__(self, problems: Sequence[Problem] | str, *, status: int = 400, source: str | None = None) -> None:
        super().__init__(problems, source=source)
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if body["error"].startswith("_"):  # a private kind is named as what it is
            body["error"] = "RequestError"
        return body


def error_body(error: ContraxisError, *, status: int) -> dict[str, Any]:
    body = error.to_dict()
    body["status"] = status
    return body


def problem_response(error: ContraxisError, *, status: int | None = None) -> JSONResponse:
    """The JSON answer for a Contraxis error (422 for a case, its own status for a request)."""
    if status is None:
        status = getattr(error, "status", None) or (500 if isinstance(error, KnowledgeBaseError) else 422)
    return JSONResponse(error_body(error, status=status), status_code=status)


def _methods_at(request: Request) -> list[str]:
    """The methods the OpenAPI document lists for the request's path (a path may have several routes)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods.update(m.upper() for m in operations if m in _METHODS)
    return sorted(methods)


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error an answer in the shape above."""

    @app.exception_handler(ContraxisError)
    async def _contraxis(request: Request, error: ContraxisError) -> JSONResponse:
        if isinstance(error, KnowledgeBaseError):
            _log.error("knowledge base error: %s", error)
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors()[:20]:
            where = ".".join(excerpt(str(p), 40) for p in item.get("loc", ()))
            value = item.get("input")
            message = str(item.get("msg", "is not valid")).removeprefix("Value error, ")[:200]
            if isinstance(value, (str, int, float)):
                message = f"{shown(value)}: {message[:1].lower()}{message[1:]}"
            problems.append(Problem(where, message))
        return problem_response(RequestError(problems, status=422))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        path = excerpt(request.url.path, 120)
        if error.status_code == 404:
            message = f"no such page: {path} (see /docs for the routes)"
        elif error.status_code == 405:
            message = f"{excerpt(request.method, 20)} is not allowed on {path}"
        else:
            message = excerpt(str(error.detail), 200)
        response = problem_response(RequestError(message, status=error.status_code))
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        if error.status_code == 405:
            response.headers["Allow"] = ", ".join(_methods_at(request))
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        unexpected = RequestError("an unexpected error occurred; it has been logged", status=500)
        return problem_response(unexpected, status=500)
