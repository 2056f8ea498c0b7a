"""The app factory: one FastAPI app serving REST, CDS Hooks, the intake page and its docs."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .access import AccessMiddleware, install_security_schemes
from .admin import build_admin_router
from .audit import AuditLog
from .auth import Authenticator
from .cds_hooks import build_cds_router
from .engine import Engine
from .errors import install_error_handlers
from .headers import SecurityHeadersMiddleware
from .limits import THREAD_SWITCH_SECONDS
from .middleware import GuardMiddleware, ServiceMiddleware
from .note import build_note_router
from .pages import build_page_router
from .registry import build_registry_router
from .rest import build_router
from .schemas import install_openapi
from .screening import build_screening_router
from .settings import ServiceSettings
from .terminology import build_terminology_router

__all__ = ["create_app"]

_log = logging.getLogger(__name__)

DESCRIPTION = """Clinical decision support for involuntary muscle contractions (dystonia, spasms, cramps).

Decision support for clinicians, not a diagnosis: every conclusion names its rule, the facts
it used and its source. Every answer carries the knowledge-base version and the HPO release
(also in the `X-Contraxis-KB-Version` and `X-Contraxis-HPO-Release` headers).
"""

TAGS = [
    {"name": "assessment", "description": "Assess a native case (JSON or YAML)"},
    {"name": "fhir", "description": "Read FHIR R4 Bundles"},
    {"name": "cds-hooks", "description": "CDS Hooks 2.0 services for an EHR"},
    {"name": "knowledge", "description": "Browse the knowledge base"},
    {"name": "page", "description": "The intake page, its form and the printable reports"},
    {"name": "service", "description": "Health and versions"},
    {"name": "admin", "description": "The audit log and the settings (admin role)"},
]


def create_app(settings: ServiceSettings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the ASGI app.

    Parameters
    ----------
    settings : ServiceSettings, optional
        The settings; the embedded defaults if omitted.
    engine : Engine, optional
        The knowledge base, code tables and assess function to use; loaded from the bundled
        data if omitted.

    Returns
    -------
    fastapi.FastAPI
        The app, wrapped (outermost first) in the security headers, the trusted-host check,
        authentication and audit, and the body-limit and version middleware.

    Raises
    ------
    OSError
        When the audit log or its key cannot be opened or made.
    """
    settings = settings or ServiceSettings()
    engine = engine or Engine(differential=settings.differential)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Hand the interpreter to the event loop every millisecond (not 5) while a worker thread
        # computes (a differential, a large record), so that other requests keep being answered.
        sys.setswitchinterval(THREAD_SWITCH_SECONDS)
        if settings.preload:
            await run_in_threadpool(engine.preload)
            # What is loaded now lives as long as the process: keep it out of the garbage
            # collector's way, so that collections stay short and latency tails low.
            gc.collect()
            gc.freeze()
        yield

    from importlib.metadata import PackageNotFoundError, version

    try:
        package_version = version("contraxis")
    except PackageNotFoundError:
        package_version = "0"
    app = FastAPI(
        title="Contraxis", version=package_version, description=DESCRIPTION, openapi_tags=TAGS,
        docs_url=None, redoc_url=None, lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.audit = AuditLog.from_settings(settings)
    app.state.base_url = settings.base_url
    install_error_handlers(app)
    app.include_router(build_router())
    app.include_router(build_cds_router())
    app.include_router(build_page_router(docs=settings.docs, docs_try_it_out=settings.docs_try_it_out))
    app.include_router(build_terminology_router())
    app.include_router(build_admin_router())
    app.include_router(build_note_router())
    app.include_router(build_screening_router())
    app.include_router(build_registry_router(settings))
    app.mount("/static", StaticFiles(directory=str(files("contraxis.service") / "static")), name="static")
    install_openapi(app)
    app.add_middleware(
        ServiceMiddleware, max_body_bytes=settings.max_body_bytes,
        versions=lambda: (engine.version, engine.hpo_release), cds_body_bytes=settings.limits.cds_body_bytes,
    )
    _guard(app, settings, versions=lambda: (engine.version, engine.hpo_release))
    return app


def _guard(app: FastAPI, settings: ServiceSettings, *, versions: Callable[[], tuple[str, str]]) -> None:
    """Authentication and audit, trusted hosts, then the security headers around everything."""
    if settings.authentication:
        install_security_schemes(app)
    app.add_middleware(
        AccessMiddleware, authenticator=Authenticator(settings), audit=app.state.audit,
        base_url=settings.base_url, versions=versions, paths=lambda: app.openapi().get("paths", {}),
    )
    if "*" not in settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.trusted_hosts), www_redirect=False)
    app.add_middleware(GuardMiddleware, limits=settings.limits)  # rate, requests at once, time: before anything
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)


def default_app() -> FastAPI:
    """The app with the embedded defaults, for ``uvicorn contraxis.service.app:default_app --factory``."""
    return create_app()
