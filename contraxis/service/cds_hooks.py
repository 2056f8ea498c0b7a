"""CDS Hooks 2.0: discovery, ``patient-view`` and the ``order-select`` / ``order-sign`` check.

The service catalogue is the data file ``data/cds-services.json``, served as is. The services
read the patient from the prefetched FHIR resources; they never call the EHR's FHIR server
(a request without the prefetch they need is answered 412, as the specification allows).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from importlib.resources import files
from typing import Any, Mapping

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from ..errors import CaseError, Problem
from ..io.fhir import drug_name, read_resources
from .body import read_document
from .cards import assessment_cards, order_cards
from .engine import Engine
from .errors import RequestError
from .ordering import OrderSafety, check_order, load_order_safety, patient_record

__all__ = ["build_cds_router", "discovery_document"]

PATIENT_VIEW = "contraxis-patient-view"
ORDER_SERVICES = {"contraxis-dopamine-blocker-check": "order-select", "contraxis-dopamine-blocker-check-sign": "order-sign"}


@functools.lru_cache(maxsize=1)
def discovery_bytes() -> bytes:
    """The discovery document, byte for byte as shipped."""
    return (files("contraxis.service") / "data" / "cds-services.json").read_bytes()


def discovery_document() -> dict[str, Any]:
    return json.loads(discovery_bytes())


def _services() -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in discovery_document()["services"]}


CDS_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["hook", "hookInstance", "context"],
    "properties": {
        "hook": {"type": "string"},
        "hookInstance": {"type": "string"},
        "fhirServer": {"type": "string"},
        "fhirAuthorization": {"type": "object"},
        "context": {"type": "object", "properties": {"userId": {"type": "string"}, "patientId": {"type": "string"}}},
        "prefetch": {"type": "object"},
    },
}


def _order_safety(request: Request, engine: Engine) -> OrderSafety:
    state = request.app.state
    if getattr(state, "order_safety", None) is None:
        state.order_safety = load_order_safety(engine.kb)
    return state.order_safety


def _check_request(body: Any, *, hook: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(body, dict):
        raise RequestError([Problem("body", f"expected a CDS Hooks request (a JSON object), got {type(body).__name__}")])
    problems = []
    if body.get("hook") != hook:
        problems.append(Problem("hook", f"{body.get('hook')!r} is not {hook!r}, the hook of this service"))
    if not isinstance(body.get("hookInstance"), str):
        problems.append(Problem("hookInstance", "is required (a string, usually a UUID)"))
    context = body.get("context")
    if not isinstance(context, dict):
        problems.append(Problem("context", "is required (a JSON object)"))
        context = {}
    elif not isinstance(context.get("patientId"), str) or not context.get("patientId"):
        problems.append(Problem("context.patientId", "is required (the FHIR id of the patient)"))
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        problems.append(Problem("prefetch", f"expected a JSON object, got {type(prefetch).__name__}"))
    if problems:
        raise RequestError(problems)
    return context, prefetch or {}


def _prefetched(prefetch: Mapping[str, Any], *, required: tuple[str, ...]) -> list[dict[str, Any]]:
    missing = [key for key in required if key not in prefetch]
    if missing:
        raise RequestError(
            [Problem(f"prefetch.{key}", "is missing: this service reads the patient from the prefetch only "
                                        "(see its prefetch templates at /cds-services)") for key in missing],
            status=412,
        )
    resources: list[dict[str, Any]] = []
    for key, value in prefetch.items():
        if value is None:
            continue
        if not isinstance(value, dict):
            raise RequestError([Problem(f"prefetch.{key}", "expected a FHIR resource or Bundle")])
        if value.get("resourceType") == "Bundle":
            for i, entry in enumerate(value.get("entry", []) or []):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(resource, dict):
                    raise RequestError([Problem(f"prefetch.{key}.entry[{i}].resource", "is required")])
                if resource.get("resourceType") == "OperationOutcome":
                    continue
                resources.append(resource)
        elif value.get("resourceType") != "OperationOutcome":
            resources.append(value)
    return resources


def _base_url(request: Request) -> str:
    return str(request.base_url)


def build_cds_router() -> APIRouter:
    """The CDS Hooks routes."""
    router = APIRouter(tags=["cds-hooks"])

    @router.get("/cds-services", summary="CDS Hooks discovery: the services offered")
    async def discovery() -> Response:
        return Response(discovery_bytes(), media_type="application/json")

    @router.post(
        "/cds-services/{service_id}", summary="Call a CDS Hooks service",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": CDS_REQUEST_SCHEMA}}}},
        responses={200: {"description": "The cards", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"cards": {"type": "array", "items": {"type": "object"}}}}}}}},
    )
    async def call(request: Request, service_id: str) -> JSONResponse:
        services = _services()
        service = services.get(service_id)
        if service is None:
            raise RequestError([Problem("service", f"{service_id[:80]!r} is not a service here (allowed: {', '.join(services)})")], status=404)
        body = await read_document(request, yaml_allowed=False)
        context, prefetch = _check_request(body, hook=service["hook"])
        engine: Engine = request.app.state.engine
        today = request.app.state.settings.today or datetime.now(timezone.utc).date()
        if service_id == PATIENT_VIEW:
            resources = _prefetched(prefetch, required=("patient",))
            cards = await run_in_threadpool(_patient_view, engine, resources, context, today, _base_url(request))
        else:
            resources = _prefetched(prefetch, required=("patient", "conditions"))
            safety = _order_safety(request, engine)
            cards = await run_in_threadpool(_order_check, engine, safety, resources, context, _base_url(request))
        return JSONResponse({"cards": cards})

    @router.post("/cds-services/{service_id}/feedback", summary="CDS Hooks feedback on cards (acknowledged)")
    async def feedback(request: Request, service_id: str) -> JSONResponse:
        if service_id not in _services():
            raise RequestError([Problem("service", f"{service_id[:80]!r} is not a service here")], status=404)
        body = await read_document(request, yaml_allowed=False)
        if not isinstance(body, dict) or not isinstance(body.get("feedback"), list):
            raise RequestError([Problem("feedback", "is required (a list of card outcomes)")])
        return JSONResponse({})

    return router


def _patient_view(engine: Engine, resources: list[dict[str, Any]], context: Mapping[str, Any], today: Any, base_url: str) -> list[dict[str, Any]]:
    patient_id = str(context["patientId"])
    labs = engine.sections().get("labs")
    drugs = sorted({m for c in engine.kb.drug_classes.values() for m in c.members})
    reading = read_resources(resources, reference_date=today, codes=engine.codes, labs=labs, drug_names=drugs,
                             where="prefetch")
    case = reading.case
    if not case.regions and not case.findings:
        return []
    assessment, _ = engine.assessment(case)
    sources = {s["id"]: s for s in engine.sections().get("sources", []) if isinstance(s, dict)}
    return assessment_cards(assessment, case=case, patient_id=patient_id, base_url=base_url, sources=sources)


def _draft_orders(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    draft = context.get("draftOrders")
    if draft is None:
        raise RequestError([Problem("context.draftOrders", "is required (a Bundle of the orders being written)")])
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise RequestError([Problem("context.draftOrders", "expected a FHIR Bundle")])
    orders = []
    for i, entry in enumerate(draft.get("entry", []) or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise RequestError([Problem(f"context.draftOrders.entry[{i}].resource", "is required")])
        orders.append(resource)
    selections = context.get("selections")
    if selections is not None:
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise RequestError([Problem("context.selections", "expected a list of references (MedicationRequest/id)")])
        chosen = set(selections)
        orders = [o for o in orders if f"{o.get('resourceType')}/{o.get('id')}" in chosen]
    return [o for o in orders if o.get("resourceType") == "MedicationRequest"]


def _order_check(engine: Engine, safety: OrderSafety, resources: list[dict[str, Any]], context: Mapping[str, Any], base_url: str) -> list[dict[str, Any]]:
    from ..io.fhir import validate_resource

    orders = _draft_orders(context)
    problems = []
    for i, order in enumerate(orders):
        problems += validate_resource(order, where=f"context.draftOrders[{i}]")
    for i, resource in enumerate(resources):
        problems += validate_resource(resource, where=f"prefetch[{i}]")
    if problems:
        raise CaseError(problems, source="CDS Hooks")
    known = sorted({m for c in engine.kb.drug_classes.values() for m in c.members} | set(safety.members),
                   key=lambda n: (-len(n), n))
    record = patient_record(resources, codes=engine.codes, known_drugs=known)
    checked = []
    for order in orders:
        drug = drug_name(order.get("medicationCodeableConcept"), known=known) if order.get("medicationCodeableConcept") else None
        if not drug:
            continue
        checked.append((order, drug, check_order(drug, record=record, safety=safety, codes=engine.codes)))
    return order_cards(checked, safety=safety, patient_id=str(context["patientId"]), version=engine.version, base_url=base_url)
