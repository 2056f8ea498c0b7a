"""The administrator's routes: the audit log and the settings in force (admin role only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from .audit import read_events
from .routing import DirectRoute

__all__ = ["build_admin_router"]

AUDIT_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "The newest audit events (FHIR AuditEvent), oldest first", "content": {"application/json": {
        "schema": {"type": "object", "properties": {
            "path": {"type": ["string", "null"]}, "events": {"type": "array", "items": {"type": "object"}},
        }},
    }}},
    422: {"description": "The limit or the route is not valid",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}


def build_admin_router() -> APIRouter:
    """``GET /audit`` and ``GET /settings``; their door (admin) is kept by :mod:`contraxis.service.access`."""
    router = APIRouter(tags=["admin"], route_class=DirectRoute)

    @router.get("/audit", summary="The newest lines of the audit log (admin)", responses=AUDIT_ANSWER)
    async def audit(
        request: Request,
        limit: int = Query(100, ge=1, le=5000, description="At most this many events"),
        route: str | None = Query(None, max_length=120, description="Only this route, e.g. 'POST /assess'"),
    ) -> JSONResponse:
        log = request.app.state.audit
        if log.path is None:
            return JSONResponse({"path": None, "events": []})
        events = await run_in_threadpool(read_events, log.path, limit=limit, route=route)
        return JSONResponse({"path": str(log.path), "events": events})

    @router.get("/settings", summary="The settings in force, without secrets (admin)")
    async def settings(request: Request) -> JSONResponse:
        return JSONResponse(request.app.state.settings.redacted())

    return router
