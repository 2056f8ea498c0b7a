"""REST routes: assess a case, rank its differential, read FHIR, browse the knowledge base."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BeforeValidator

from ..documents import shown
from ..errors import CaseError, Problem
from ..io.fhir import read_bundle
from ..reading import excerpt
from .body import read_document, read_reading
from .compute import compute
from .engine import DifferentialUnavailable, Engine
from .errors import RequestError
from .routing import DirectRoute
from .schemas import BUNDLE_TYPES, FHIR_INSTANT, body_of, html_or_json_answer, json_answer

__all__ = ["build_router"]

_SECTION = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _written_as_date(value: Any) -> Any:
    """Refuse a date parameter not written YYYY-MM-DD (never a number of seconds, nor 20260302)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("is not a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_written_as_date)]
"""A date query parameter, documented and read as an RFC 3339 full-date only."""


DIFFERENTIAL_PARAMETER = {
    "name": "differential", "in": "query", "required": False,
    "description": "Include the top of the HPO differential (as `contraxis assess --json` does by default)",
    "schema": {"type": "boolean", "default": False},
}
TOP_PARAMETER = {
    "name": "top", "in": "query", "required": False, "description": "How many differential candidates",
    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10},
}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def query_flag(request: Request, name: str, *, default: bool) -> bool:
    """A boolean query parameter, read without FastAPI's dependency machinery (a hot path)."""
    if not request.scope.get("query_string"):
        return default
    value = request.query_params.get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise RequestError([Problem(f"query.{name}", f"{value[:40]!r} is not one of true, false")], status=422)


def query_int(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]."""
    if not request.scope.get("query_string"):
        return default
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise RequestError([Problem(f"query.{name}", f"{value[:40]!r} is not an integer")], status=422) from None
    if not low <= number <= high:
        raise RequestError([Problem(f"query.{name}", f"{number} is not between {low} and {high}")], status=422)
    return number


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _versions(engine: Engine) -> dict[str, str]:
    return {"knowledge_base_version": engine.version, "hpo_release": engine.hpo_release}


def _wants_html(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "html"
    accept = request.headers.get("accept", "")
    html = accept.find("text/html")
    json_at = accept.find("application/json")
    return html >= 0 and (json_at < 0 or html < json_at)


def build_router() -> APIRouter:
    """The REST routes (tag ``assessment``, ``fhir``, ``knowledge``, ``service``)."""
    router = APIRouter(route_class=DirectRoute)

    @router.get("/health", tags=["service"], summary="Liveness check")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/version", tags=["service"], summary="The knowledge-base version and HPO release in use")
    async def version(request: Request) -> dict[str, str]:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        try:
            service = package_version("contraxis")
        except PackageNotFoundError:
            service = "unknown"
        return {"contraxis": service, **_versions(_engine(request))}

    @router.post(
        "/assess", tags=["assessment"], summary="Assess a case",
        description=(
            "Take a native case (the `case` block of a vignette, or a whole vignette), a FHIR R4 "
            "Bundle or resource, or a GA4GH phenopacket v2, as JSON or YAML (recognised by its "
            "shape), and answer the assessment, the same JSON as `contraxis assess --json "
            "--no-differential`. With `differential=true` the answer adds the top of the HPO "
            "differential, the same JSON as `contraxis assess --json` (left out, with a note, when "
            "its index is not available). The differential is left out by default because it costs "
            "several times the assessment itself; `POST /differential` ranks it alone."
        ),
        openapi_extra={**body_of("CaseInput", yaml_allowed=True, description="A case, or a vignette"),
                       "parameters": [DIFFERENTIAL_PARAMETER, TOP_PARAMETER]},
        responses=json_answer("Assessment", "The assessment"),
    )
    async def assess(request: Request) -> Response:
        differential = query_flag(request, "differential", default=False)
        top = query_int(request, "top", default=10, low=1, high=200)
        reading = await read_reading(request)
        engine = _engine(request)
        if differential and engine.differential_ready:
            body = await compute(request, engine.assess_bytes, reading.case, differential=True, top=top,
                                           not_read=reading.not_read)
        else:
            body = engine.assess_bytes(reading.case, differential=differential, top=top, not_read=reading.not_read)
        return Response(body, media_type="application/json")

    @router.post(
        "/differential", tags=["assessment"], summary="Rank the HPO differential of a case",
        openapi_extra=body_of("CaseInput", yaml_allowed=True, description="A case, or a vignette"),
        responses={**json_answer({"type": "object"}, "The differential"),
                   503: {"description": "The differential index is not available"}},
    )
    async def differential(
        request: Request, top: int = Query(20, ge=1, le=200, description="How many diseases to list")
    ) -> JSONResponse:
        reading = await read_reading(request)
        engine = _engine(request)
        try:  # ranking and its explanation (tens of ms for many findings) off the event loop
            data = await compute(request, lambda: engine.rank(reading.case, top=top).to_json())
        except DifferentialUnavailable as error:
            raise RequestError([Problem("differential", str(error))], status=503) from None
        if isinstance(data, dict):
            data = {**data, **{k: v for k, v in _versions(engine).items() if k not in data},
                    "not_read": reading.not_read_json()}
        return JSONResponse(data)

    @router.post(
        "/fhir/case", tags=["fhir"], summary="Read a FHIR R4 Bundle into a native case",
        description="Answer the case read from the Bundle and every item that could not be mapped, with why.",
        openapi_extra=body_of("FhirBundle", description="A FHIR R4 Bundle about one patient"),
        responses=json_answer({"type": "object"}, "The case and the unmapped items"),
    )
    async def fhir_case(
        request: Request,
        reference_date: IsoDate | None = Query(
            None, description="Count ages and drug days to this date (default: the Bundle's timestamp, else today)"
        ),
    ) -> JSONResponse:
        engine = _engine(request)
        bundle = await read_document(request, yaml_allowed=False)
        reading = await compute(request, _read_fhir, engine, bundle, reference_date)
        return JSONResponse(
            {**reading.to_json(), **_versions(engine), "not_read": [n.to_json() for n in reading.not_read]}
        )

    @router.post(
        "/fhir/assess", tags=["fhir"], summary="Assess the patient of a FHIR R4 Bundle",
        description=(
            "Read the Bundle (Patient, Condition, Observation, MedicationStatement, "
            "MedicationRequest, Procedure...) into a case and assess it. The answer holds the "
            "`assessment`, the `case` read and the `unmapped` items with their reasons."
        ),
        openapi_extra=body_of("FhirBundle", description="A FHIR R4 Bundle about one patient"),
        responses=json_answer({"type": "object"}, "The assessment, the case and the unmapped items"),
    )
    async def fhir_assess(
        request: Request,
        reference_date: IsoDate | None = Query(None, description="Count ages and drug days to this date"),
        differential: bool = Query(False, description="Include the top of the HPO differential"),
    ) -> JSONResponse:
        engine = _engine(request)
        bundle = await read_document(request, yaml_allowed=False)
        reading = await compute(request, _read_fhir, engine, bundle, reference_date)
        not_read = tuple(reading.not_read)
        assessment = await compute(request,
            engine.assess_json, reading.case, differential=differential, not_read=not_read
        )
        return JSONResponse(
            {"assessment": assessment, **reading.to_json(), "not_read": [n.to_json() for n in not_read]}
        )

    @router.get("/knowledge", tags=["knowledge"], summary="The knowledge base: version and sections",
                responses=html_or_json_answer({"type": "object"}, "The sections (their page with format=html)"))
    async def knowledge(request: Request, format: str | None = Query(None, pattern="^(json|html)$")) -> Response:
        engine = _engine(request)
        sections = engine.sections()
        data = {
            **_versions(engine),
            "sections": {
                name: {"rows": len(rows) if isinstance(rows, list) else 1, "url": f"/knowledge/{name}"}
                for name, rows in sorted(sections.items())
            },
        }
        if _wants_html(request, format):
            from .pages import knowledge_index_html

            return HTMLResponse(knowledge_index_html(data))
        return JSONResponse(data)

    @router.get("/knowledge/version", tags=["knowledge"], summary="The knowledge base's version and HPO release")
    async def knowledge_version(request: Request) -> dict[str, Any]:
        engine = _engine(request)
        data: dict[str, Any] = dict(_versions(engine))
        info = engine.sections().get("version")
        if isinstance(info, dict):
            data.update({k: v for k, v in info.items() if k not in ("version", "hpo_release")})
        return data

    @router.get("/knowledge/{section}", tags=["knowledge"], summary="Every row of one section",
                responses=html_or_json_answer({"type": "object"}, "The rows (their page with format=html)"))
    async def knowledge_section(
        request: Request, section: str, format: str | None = Query(None, pattern="^(json|html)$")
    ) -> Response:
        engine = _engine(request)
        rows = _section(engine, section)
        data = {**_versions(engine), "section": section, "rows": rows}
        if _wants_html(request, format):
            from .pages import knowledge_section_html

            return HTMLResponse(knowledge_section_html(data))
        return JSONResponse(data)

    @router.get("/knowledge/{section}/{row_id:path}", tags=["knowledge"], summary="One row of a section, by id",
                responses=html_or_json_answer({"type": "object"}, "The row (its page with format=html)"))
    async def knowledge_row(
        request: Request, section: str, row_id: str, format: str | None = Query(None, pattern="^(json|html)$")
    ) -> Response:
        engine = _engine(request)
        rows = _section(engine, section)
        row = next((r for r in rows if isinstance(r, dict) and str(r.get("id", r.get("code"))) == row_id), None)
        if row is None:
            raise RequestError(
                [Problem(f"knowledge.{section}", f"no row with id {row_id!r} (list them at /knowledge/{section})")],
                status=404,
            )
        data = {**_versions(engine), "section": section, "rows": [row]}
        if _wants_html(request, format):
            from .pages import knowledge_section_html

            return HTMLResponse(knowledge_section_html(data))
        return JSONResponse({**_versions(engine), "section": section, "row": row})

    return router


def _section(engine: Engine, section: str) -> list[Any]:
    sections = engine.sections()
    if section not in sections:
        allowed = ", ".join(sorted(sections))
        shown = section if _SECTION.match(section) else section[:40]
        raise RequestError([Problem("section", f"{shown!r} is not a section (allowed: {allowed})")], status=404)
    rows = sections[section]
    if isinstance(rows, dict):
        return [rows]
    return list(rows)


def _check_envelope(bundle: Any) -> None:
    """Refuse a Bundle whose ``type`` or ``timestamp`` is not as documented (``FhirBundle``), even
    when they are not used (``reference_date`` given): a Bundle is read whole or refused."""
    if not isinstance(bundle, dict):
        return
    problems: list[Problem] = []
    kind, stamp = bundle.get("type"), bundle.get("timestamp")
    if "type" in bundle and kind not in BUNDLE_TYPES:
        allowed = ", ".join(BUNDLE_TYPES)
        problems.append(Problem("bundle.type", f"{shown(kind)} is not a Bundle type (allowed: {allowed})"))
    if stamp is not None and not (isinstance(stamp, str) and re.fullmatch(FHIR_INSTANT, stamp)):
        problems.append(Problem("bundle.timestamp", f"{shown(stamp)} is not a FHIR instant "
                                                    "(YYYY-MM-DDThh:mm:ss with a time zone)"))
    if problems:
        raise CaseError(problems, source="FHIR")


def _read_fhir(engine: Engine, bundle: Any, reference_date: date | None) -> Any:
    _check_envelope(bundle)
    try:
        return read_bundle(bundle, reference_date=reference_date, codes=engine.codes)
    except CaseError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise CaseError(
            [Problem("bundle", f"cannot be read ({excerpt(str(error), 120)})")], source="FHIR"
        ) from None
