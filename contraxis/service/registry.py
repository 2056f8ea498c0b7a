"""The registry over REST: patients, visits, course, treatments, exports and pages.

==========================================================  ==============================================
route                                                       answer (role)
==========================================================  ==============================================
``GET /registry/patients``                                  every patient with visits, first and last
                                                            date (clinician)
``POST /registry/patients/{patient}/visits?date=D``         a visit from any input the assessment
                                                            accepts: the visit, its assessment, what it
                                                            changed in the course (clinician)
``GET /registry/patients/{patient}``                        the record: visits, scales, injections,
                                                            stimulation, implants (clinician)
``GET /registry/patients/{patient}/visits/{visit}``         one visit with its whole assessment
``GET /registry/patients/{patient}/course``                 spread, distribution changes, new features
``POST /registry/patients/{patient}/reassess``              every visit (or ``?visit=``) assessed again
                                                            with the knowledge base in use; ``?save=true``
                                                            keeps the new assessments
``POST .../visits/{visit}/scales/{scale}``                  a rating scale's items, scored
``POST .../visits/{visit}/injections``                      a toxin treatment, with its label warnings
``POST /registry/patients/{patient}/implants``              a deep brain stimulation system
``POST .../visits/{visit}/stimulation``                     settings programmed at a visit
``GET /registry/patients/{patient}/dbs``                    the follow-up at 1, 3, 6 and 12 months
``GET /registry/patients/{patient}/export?format=F``        phenopacket, fhir or json; pseudonymous
                                                            (clinician or researcher); ``identified=true``
                                                            adds the identity (clinician)
``GET /registry/patients/{patient}/timeline``               the timeline page (HTML, printable)
``GET /registry/cohort``                                    the cohort overview, JSON or its page
                                                            (``?format=html``) (clinician or researcher)
==========================================================  ==============================================

The routes are behind the registry's door (:mod:`contraxis.service.access`): a token or key
with the clinician or researcher role; the store then checks what the role allows (a
researcher gets exports and the cohort overview only: 403 otherwise) and writes an audit row
for every read and write, beside the service's own audit line (the patient as a keyed hash).
The registry is the database of the ``registry_url`` setting (a SQLite file in the user's data
folder by default), made or upgraded to the newest schema on first use.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..errors import Problem
from .body import read_document, read_reading
from .errors import RequestError
from .routing import DirectRoute
from .schemas import body_of, html_or_json_answer

__all__ = ["build_registry_router"]

if TYPE_CHECKING:  # pragma: no cover
    from ..registry.records import Role

Patient = Annotated[str, Path(
    description="The patient's pseudonymous id (never a name or a record number)",
    json_schema_extra={"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},  # the store's PSEUDONYM, checked there
)]


def _link(path: str, method: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation at ``path`` and ``method``, with its parameters' sources."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


_VISIT = {"patient": "$request.path.patient", "visit_id": "$response.body#/id"}
_PATIENT = {"patient": "$request.path.patient"}
VISIT_ADDED: dict[int | str, Any] = {201: {"description": "The visit recorded, with its course events", "links": {
    "GetVisit": _link("/registry/patients/{patient}/visits/{visit_id}", "get", **_VISIT),
    "AddScale": _link("/registry/patients/{patient}/visits/{visit_id}/scales/{scale}", "post",
                      **_VISIT, scale="twstrs"),
    "AddInjection": _link("/registry/patients/{patient}/visits/{visit_id}/injections", "post", **_VISIT),
    "AddStimulation": _link("/registry/patients/{patient}/visits/{visit_id}/stimulation", "post", **_VISIT),
    "GetRecord": _link("/registry/patients/{patient}", "get", **_PATIENT),
    "GetCourse": _link("/registry/patients/{patient}/course", "get", **_PATIENT),
    "Reassess": _link("/registry/patients/{patient}/reassess", "post", **_PATIENT),
    "Export": _link("/registry/patients/{patient}/export", "get", **_PATIENT),
    "Timeline": _link("/registry/patients/{patient}/timeline", "get", **_PATIENT),
    "FollowUp": _link("/registry/patients/{patient}/dbs", "get", **_PATIENT),
}}}
"""The answer of a visit added, with links to what may follow it (for clients and the stateful tests)."""

ROLE_ORDER: tuple[Role, ...] = ("clinician", "researcher", "admin")
"""The role a request acts in when its principal holds several: the first it holds."""



def _actor(request: Request) -> Any:
    """The store's actor for the request's principal: clinician when it holds that role, else
    researcher, else admin (with no authentication, the quick start's anonymous clinician)."""
    from ..registry.records import Actor

    principal = (request.scope.get("state") or {}).get("principal")
    if principal is None:
        return Actor("anonymous", "clinician")
    roles = principal.roles
    role: Role = next((r for r in ROLE_ORDER if r in roles), "researcher")
    return Actor(f"{principal.kind}:{principal.name}"[:200], role)


def _object_body(description: str, *, yaml_allowed: bool = False) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is a JSON object (or the same in YAML)."""
    content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    if yaml_allowed:
        content["application/yaml"] = {"schema": {"type": "object"}}
    return {"requestBody": {"required": True, "description": description, "content": content}}


def _today(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RequestError([Problem("query.date", f"{value[:30]!r} is not a date (YYYY-MM-DD)")], status=422) from None


def build_registry_router(settings: Any = None) -> APIRouter:
    """The registry routes, on the database of ``settings.registry_url`` (the default SQLite file
    when unset), opened on first use with the service's knowledge base."""
    router = APIRouter(prefix="/registry", tags=["registry"], route_class=DirectRoute)
    lock = threading.Lock()
    held: dict[str, Any] = {}

    def registry(request: Request) -> Any:
        try:
            from ..registry.store import Registry
        except ImportError as error:
            raise RequestError([Problem("registry", f"not installed on this service ({error.name} is missing: "
                                                    "the registry extra)")], status=503) from None

        with lock:
            if "registry" not in held:
                url = getattr(settings, "registry_url", None)
                engine = getattr(request.app.state, "engine", None)
                held["registry"] = Registry.init(url, kb=engine.kb if engine is not None else None)
        return held["registry"].as_actor(_actor(request))

    def noted(request: Request, patient: str) -> None:
        request.state.audit_patient_id = patient

    async def run(request: Request, work: Any) -> Any:
        store = await run_in_threadpool(registry, request)
        return await run_in_threadpool(work, store)

    @router.get("/patients", summary="Every patient: pseudonymous id, visits, first and last visit")
    async def patients(request: Request) -> dict[str, Any]:
        return {"patients": await run(request, lambda r: r.patients())}

    @router.post(
        "/patients/{patient}/visits", status_code=201, summary="Add a visit from any input the assessment accepts",
        responses=VISIT_ADDED,
        openapi_extra=body_of("CaseInput", yaml_allowed=True,
                              description="A case, vignette, FHIR Bundle or phenopacket"),
    )
    async def add_visit(request: Request, patient: Patient,
                        date: str | None = Query(None, description="The visit's date (default: today)",
                                                json_schema_extra={"format": "date"}),
                        ) -> JSONResponse:
        noted(request, patient)
        day = _today(date)
        reading = await read_reading(request, source="request", today=day)
        visit = await run(request, lambda r: r.add_visit(patient, reading, date=day))
        events = await run(request, lambda r: [e.to_json() for e in r.course(patient) if e.visit_id == visit.id])
        return JSONResponse({**visit.to_json(), "course": events}, status_code=201,
                            headers={"Location": f"/registry/patients/{patient}/visits/{visit.id}"})

    @router.get("/patients/{patient}", summary="A patient's record (visits with their summaries, treatments)")
    async def record(request: Request, patient: Patient) -> dict[str, Any]:
        noted(request, patient)
        data = await run(request, lambda r: r.record(patient))
        answer: dict[str, Any] = {"patient": data.pseudonym, "implants": [i.to_json() for i in data.implants],
                                  "visits": [v.to_json(assessment=False) for v in data.visits]}
        return answer

    @router.get("/patients/{patient}/visits/{visit_id}", summary="One visit with its whole assessment")
    async def visit(request: Request, patient: Patient, visit_id: int) -> dict[str, Any]:
        noted(request, patient)
        data = await run(request, lambda r: r.record(patient, audit=f"visit {visit_id}"))
        found = data.visit(visit_id)
        if found is None:
            raise RequestError([Problem("visit", f"{visit_id} is not a visit of {patient!r}")], status=404)
        answer: dict[str, Any] = found.to_json()
        return answer

    @router.get("/patients/{patient}/course", summary="Spread, distribution changes and new features, dated")
    async def course(request: Request, patient: Patient) -> dict[str, Any]:
        noted(request, patient)
        return {"patient": patient, "events": [e.to_json() for e in await run(request, lambda r: r.course(patient))]}

    @router.post("/patients/{patient}/reassess", summary="Assess the visits again with the knowledge base in use")
    async def reassess(request: Request, patient: Patient, visit: int | None = Query(None),
                       save: bool = Query(False)) -> dict[str, Any]:
        noted(request, patient)
        results = await run(request, lambda r: r.reassess(patient, visit, save=save))
        return {"patient": patient, "visits": [x.to_json() for x in results]}

    @router.post("/patients/{patient}/visits/{visit_id}/scales/{scale}", status_code=201,
                 summary="Score a rating scale's items and keep them with the visit",
                 openapi_extra=_object_body("Item codes and values", yaml_allowed=True))
    async def add_scale(request: Request, patient: Patient, visit_id: int, scale: str) -> JSONResponse:
        noted(request, patient)
        items = await read_document(request)
        if not isinstance(items, dict):
            raise RequestError([Problem("body", "expected an object of item codes and values")], status=422)
        made = await run(request, lambda r: r.add_scale(patient, visit_id, scale, items))
        return JSONResponse(made.to_json(), status_code=201)

    @router.post("/patients/{patient}/visits/{visit_id}/injections", status_code=201,
                 summary="Log a botulinum toxin treatment, checked against the product's label",
                 openapi_extra=_object_body("The treatment", yaml_allowed=True))
    async def add_injection(request: Request, patient: Patient, visit_id: int) -> JSONResponse:
        noted(request, patient)
        body = await read_document(request)
        made = await run(request, lambda r: r.add_injection(patient, visit_id, body))
        return JSONResponse(made.to_json(), status_code=201)

    @router.post("/patients/{patient}/implants", status_code=201, summary="Record a deep brain stimulation system",
                 openapi_extra=_object_body("surgery_date, device, target, side"))
    async def add_implant(request: Request, patient: Patient) -> JSONResponse:
        noted(request, patient)
        body = await read_document(request, yaml_allowed=False)
        if not isinstance(body, dict) or set(body) != {"surgery_date", "device", "target", "side"}:
            raise RequestError([Problem("body", "expected surgery_date, device, target and side")], status=422)
        made = await run(request, lambda r: r.add_implant(patient, **body))
        return JSONResponse(made.to_json(), status_code=201)

    @router.post("/patients/{patient}/visits/{visit_id}/stimulation", status_code=201,
                 summary="Record the stimulation settings programmed at a visit",
                 openapi_extra=_object_body("implant_id, side, contacts, amplitude, amplitude_unit, "
                                                "pulse_width_us, frequency_hz"))
    async def add_stimulation(request: Request, patient: Patient, visit_id: int) -> JSONResponse:
        noted(request, patient)
        body = await read_document(request, yaml_allowed=False)
        fields = {"implant_id", "side", "contacts", "amplitude", "amplitude_unit", "pulse_width_us", "frequency_hz"}
        if not isinstance(body, dict) or set(body) != fields:
            raise RequestError([Problem("body", f"expected {', '.join(sorted(fields))}")], status=422)
        made = await run(request, lambda r: r.add_stimulation(patient, visit_id, **body))
        return JSONResponse(made.to_json(), status_code=201)

    @router.get("/patients/{patient}/dbs", summary="Deep brain stimulation follow-up with percentage improvement")
    async def dbs(request: Request, patient: Patient) -> dict[str, Any]:
        from ..registry.dbs import dbs_followup

        noted(request, patient)
        data = await run(request, lambda r: r.record(patient, audit="dbs follow-up"))
        return {"patient": patient, "followup": [f.to_json() for f in dbs_followup(data)]}

    @router.get("/patients/{patient}/export", summary="Export a patient: phenopacket v2, FHIR Bundle or registry JSON",
                responses={200: {"description": "The export (application/fhir+json for format=fhir)", "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/fhir+json": {"schema": {"type": "object"}}}}})
    async def export(request: Request, patient: Patient,
                     format: str = Query("phenopacket", pattern="^(phenopacket|fhir|json)$"),
                     identified: bool = Query(False, description="Include the identity (clinicians)")) -> JSONResponse:
        noted(request, patient)
        data = await run(request, lambda r: r.export(patient, format, identified=identified))
        media = "application/fhir+json" if format == "fhir" else "application/json"
        return JSONResponse(data, media_type=media)

    @router.get("/patients/{patient}/timeline", response_class=HTMLResponse,
                summary="The patient's timeline page (body map, course, scales, toxin, stimulation)")
    async def timeline(request: Request, patient: Patient) -> HTMLResponse:
        from ..registry.dbs import dbs_followup
        from ..registry.pages import timeline_html

        noted(request, patient)

        def page(r: Any) -> str:
            data = r.record(patient, audit="timeline")
            return timeline_html(data, events=r.course_of(data), followups=dbs_followup(data))

        return HTMLResponse(await run(request, page))

    @router.get("/cohort", summary="The cohort overview (JSON, or its page with format=html)",
                responses=html_or_json_answer({"type": "object"}, "The cohort overview"))
    async def cohort(request: Request, format: str = Query("json", pattern="^(json|html)$")) -> Response:
        from ..registry.pages import cohort_html

        data = (await run(request, lambda r: r.cohort())).to_json()
        if format == "html":
            return HTMLResponse(cohort_html(data))
        return JSONResponse(data)

    return router
