"""Which door a request knocks at, who is let in, and the audit line it leaves (ASGI middleware).

Every route is behind one of four doors, decided from the method and path alone, before the
app reads anything; a route not listed here is behind the clinician's door (closed by default):

========== ======================================================= =============================
door       routes                                                  credential
========== ======================================================= =============================
open       ``GET /``, ``/static/*``, ``/docs``, ``/openapi.json``,   none (no patient data)
           ``/health``, ``/version``, ``/knowledge*``,
           ``/terminology/*``, ``/intake/form``, ``/report.css``,
           ``GET /cds-services`` (discovery), any ``OPTIONS``
cds        ``POST /cds-services/{id}`` and ``.../feedback``          the CDS client's signed JWT
clinician  every other route: ``POST /assess``, ``/differential``,   OpenID Connect token or API
           ``/fhir/*``, ``/report*``                                  key with the clinician role
admin      ``GET /audit``, ``GET /settings``,                         ... with the admin role
           ``GET /cds-services/{id}/feedback``
registry   ``/registry/*``                                          ... with the clinician or the
                                                                    researcher role (the route
                                                                    checks which it needs)
========== ======================================================= =============================

With no authentication configured (the quick start, on loopback only) every door is open.
Each request past a closed door, let in or refused, is written to the audit log
(:mod:`contraxis.service.audit`) once answered, with the patient id as a keyed hash: the id
is taken from the request body the route read (``scope["state"]["document"]``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import Enum
from typing import Any

from .audit import AuditLog, audit_line, patient_id_of
from .auth import Authenticator, AuthError, Principal

__all__ = ["AccessMiddleware", "Door", "door_of", "install_security_schemes"]

_log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Door(Enum):
    """What a request needs to be let in."""

    OPEN = "open"
    CDS = "cds"
    CLINICIAN = "clinician"
    ADMIN = "admin"
    REGISTRY = "registry"


OPEN_PATHS = frozenset({
    "/", "/health", "/version", "/docs", "/openapi.json", "/report.css", "/intake/form", "/cds-services",
    "/favicon.ico",
})
OPEN_PREFIXES = ("/static/", "/knowledge/", "/terminology/")
ADMIN_PATHS = frozenset({"/audit", "/settings"})
_CDS_SERVICE = re.compile(r"^/cds-services/([A-Za-z0-9._~-]{1,128})(/feedback)?/?$")


def door_of(method: str, path: str) -> Door:
    """The door of a request.

    Examples
    --------
    >>> door_of("GET", "/health"), door_of("POST", "/assess"), door_of("POST", "/cds-services/x")
    (<Door.OPEN: 'open'>, <Door.CLINICIAN: 'clinician'>, <Door.CDS: 'cds'>)
    """
    if method == "OPTIONS":
        return Door.OPEN
    if path == "/registry" or path.startswith("/registry/"):
        return Door.REGISTRY
    if method in ("GET", "HEAD"):
        if path in OPEN_PATHS or path == "/knowledge" or path.startswith(OPEN_PREFIXES):
            return Door.OPEN
        if path in ADMIN_PATHS:
            return Door.ADMIN
        match = _CDS_SERVICE.match(path)
        if match and match.group(2):
            return Door.ADMIN
        return Door.CLINICIAN
    if method == "POST" and _CDS_SERVICE.match(path):
        return Door.CDS
    return Door.CLINICIAN


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def route_templates(paths: Iterable[str]) -> list[tuple[re.Pattern[str], str]]:
    """Patterns of the app's path templates (``/cds-services/{service_id}``), longest first."""
    patterns = []
    for template in sorted(paths, key=len, reverse=True):
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    return patterns


def _route(scope: Scope, templates: Sequence[tuple[re.Pattern[str], str]]) -> str:
    """The method and route template of a request (a refused request was never routed: its
    template is looked up); a path that is no route is not written, as it may hold anything."""
    template = getattr(scope.get("route"), "path", None)
    if template is None:
        path = scope.get("path", "")
        template = next((t for pattern, t in templates if pattern.match(path)), None)
    return f"{scope.get('method', '')} {template or '(no such route)'}"


class AccessMiddleware:
    """Let a request in by its door (401/403 otherwise) and write its audit line.

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    authenticator : Authenticator
        Checks the credentials.
    audit : AuditLog
        Where the lines go.
    base_url : str
        The public base URL: a CDS client's token must have ``aud`` = base URL + path.
    versions : callable
        Returns ``(knowledge-base version, HPO release)``.
    paths : callable
        Returns the app's path templates (its OpenAPI document's), to name the route of a
        request refused before it was routed.
    """

    def __init__(self, app: Any, *, authenticator: Authenticator, audit: AuditLog, base_url: str,
                 versions: Callable[[], tuple[str, str]], paths: Callable[[], Iterable[str]] = tuple) -> None:
        self.app = app
        self._paths = paths
        self._templates: list[tuple[re.Pattern[str], str]] | None = None
        self.auth = authenticator
        self.audit = audit
        self.base_url = base_url.rstrip("/")
        self._versions = versions
        self._kb: str | None = None

    def _route_templates(self) -> list[tuple[re.Pattern[str], str]]:
        if self._templates is None:
            self._templates = route_templates(self._paths())
        return self._templates

    def _knowledge_base(self) -> str | None:
        if self._kb is None:
            try:
                self._kb = self._versions()[0]
            except Exception:  # noqa: BLE001 - not loaded yet: the line says nothing of it
                return None
        return self._kb

    async def _principal(self, door: Door, scope: Scope) -> Principal:
        authorization = _header(scope, b"authorization")
        if door is Door.CDS:
            path = scope["path"].rstrip("/")
            service = path.removesuffix("/feedback")
            audience = [f"{self.base_url}{service}", f"{self.base_url}{path}"]
            return await self.auth.cds_client(authorization, audience=audience)
        principal = await self.auth.user(authorization)
        if door is Door.REGISTRY:
            if principal.roles & {"clinician", "researcher", "admin"}:
                return principal
            raise AuthError(f"this route needs the clinician or researcher role; {principal.name[:60]!r} has "
                            f"{', '.join(sorted(principal.roles)) or 'none'}", status=403)
        role = "admin" if door is Door.ADMIN else "clinician"
        if role not in principal.roles:
            raise AuthError(f"this route needs the {role} role; {principal.name[:60]!r} has "
                            f"{', '.join(sorted(principal.roles)) or 'none'}", status=403)
        return principal

    async def _refuse(self, scope: Scope, send: Send, error: AuthError) -> None:
        body = json.dumps({
            "error": "AuthenticationError" if error.status == 401 else "PermissionError",
            "status": error.status, "source": None,
            "problems": [{"field": "authorization", "message": error.message}],
        }).encode()
        await send({"type": "http.response.start", "status": error.status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", error.www_authenticate.encode("latin-1", "replace")),
            *([(b"access-control-allow-origin", b"*")] if scope["path"].startswith("/cds-services") else []),
        ]})
        await send({"type": "http.response.body", "body": body})

    def _write(self, scope: Scope, *, status: int, principal: Principal | None, reason: str | None) -> None:
        state = scope.get("state") or {}
        patient = state.get("audit_patient_id") or patient_id_of(state.get("document"))
        client = scope.get("client")
        match = _CDS_SERVICE.match(scope.get("path", ""))
        self.audit.write(audit_line(
            route=_route(scope, self._route_templates()), status=status, principal=principal,
            address=client[0] if client else None,
            patient=self.audit.patient(patient), knowledge_base=self._knowledge_base(), reason=reason,
            service=match.group(1) if match else None, feedback=state.get("audit_feedback"),
        ))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        door = door_of(scope["method"], scope["path"])
        if door is Door.OPEN:
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(door, scope)
        except AuthError as error:
            await self._refuse(scope, send, error)
            self._write(scope, status=error.status, principal=None, reason=error.message)
            return
        scope.setdefault("state", {})["principal"] = principal
        status = 500

        async def noted_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted_send)
        finally:
            self._write(scope, status=status, principal=principal, reason=None)


REFUSED: dict[str, Any] = {
    "description": "No valid credential (401) or not the role this route needs (403)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def install_security_schemes(app: Any) -> None:
    """Declare in the OpenAPI document who may call each operation (with authentication on).

    Operations behind the CDS door take the client's signed JWT (``cdsClientJwt``); those behind
    the clinician and admin doors an OpenID Connect token or an API key (``bearer``); each
    gains its 401 and 403 answers.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None and app.openapi_schema.get("x-contraxis-security"):
            cached: dict[str, Any] = app.openapi_schema
            return cached
        document: dict[str, Any] = build()
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).setdefault("Error", {"type": "object"})
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "An OpenID Connect access token, or an API key (cxk_...)"},
            "cdsClientJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                             "description": "The CDS client's signed JWT (CDS Hooks 2.0)"},
        }
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict):
                    continue
                door = door_of(method.upper(), re.sub(r"\{[^}]+\}", "x", path))
                if door is Door.OPEN:
                    continue
                operation["security"] = [{"cdsClientJwt": []}] if door is Door.CDS else [{"bearer": []}]
                answers = operation.setdefault("responses", {})
                answers.setdefault("401", REFUSED)
                answers.setdefault("403", REFUSED)
        document["x-contraxis-security"] = True
        app.openapi_schema = document
        return document

    app.openapi = openapi
