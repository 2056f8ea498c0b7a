"""CDS Hooks 2.0: discovery, ``patient-view`` and the ``order-select`` / ``order-sign`` check.

The service catalogue is the data file ``data/cds-services.json``, served as is. The services
read the patient from the prefetched FHIR resources; they never call the EHR's FHIR server
(a request without a prefetch they cannot work without is answered 412, as the
specification allows).

Requests are read as EHRs send them: the unambiguous non-conformant shapes are coerced
(:mod:`contraxis.io.fhir.shapes`), an element that is still not valid is left out and the rest
read, prefetch keys the service did not ask for are ignored. A safety warning is never lost
to strict validation: a draft order that cannot be fully read is checked by the drug that
can be read. Every answer that left something out, or read it after a change, adds one info
card listing it; an OperationOutcome or a paginated search in the prefetch adds "results may
be missing". A prefetched Patient (or a resource's subject) other than ``context.patientId``
is refused (422), naming both ids: never cards about another patient.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from ..errors import Problem
from ..io.fhir.elements import Located
from ..io.fhir.medication import DrugGiven, drugs_of
from ..io.fhir.parts import Context
from ..io.fhir.prefetch import Prefetched, gather_prefetch
from ..io.fhir.reader import check_all, one_patient, read_located
from ..io.fhir.systems import RXNORM
from ..io.fhir.tables import load_tables
from ..reading import NotRead
from .audit import feedback_items, read_events
from .body import read_document
from .cards import assessment_cards, not_read_card, order_cards
from .compute import compute
from .engine import Engine
from .errors import RequestError
from .ordering import OrderSafety, check_order, load_order_safety, patient_record
from .routing import DirectRoute

__all__ = ["build_cds_router", "discovery_document"]

PATIENT_VIEW = "contraxis-patient-view"
REQUIRED_PREFETCH: Mapping[str, tuple[str, ...]] = {
    "patient-view": ("patient",),
    "order-select": ("patient", "conditions"),
    "order-sign": ("patient", "conditions"),
}
"""The prefetch keys a service cannot work without (412 when missing)."""


@functools.lru_cache(maxsize=1)
def discovery_bytes() -> bytes:
    """The discovery document, byte for byte as shipped."""
    return (files("contraxis.service") / "data" / "cds-services.json").read_bytes()


def discovery_document() -> dict[str, Any]:
    """The discovery document, parsed."""
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
        raise RequestError(
            [Problem("body", f"expected a CDS Hooks request (a JSON object), got {type(body).__name__}")]
        )
    problems = []
    if body.get("hook") != hook:
        problems.append(Problem("hook", f"{str(body.get('hook'))[:60]!r} is not {hook!r}, the hook of this service"))
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


def _prefetched(prefetch: Mapping[str, Any], *, service: Mapping[str, Any]) -> Prefetched:
    gathered = gather_prefetch(prefetch, asked=service.get("prefetch") or {})
    required = REQUIRED_PREFETCH.get(service["hook"], ())
    missing = [key for key in required if key in gathered.missing]
    if missing:
        raise RequestError(
            [Problem(f"prefetch.{key}", "is missing: this service reads the patient from the prefetch only "
                                        "(see its prefetch templates at /cds-services)") for key in missing],
            status=412,
        )
    return gathered


def _base_url(request: Request) -> str:
    """The configured public base URL (``ServiceSettings.base_url``), never the request's Host."""
    return request.app.state.base_url


def build_cds_router() -> APIRouter:
    """The CDS Hooks routes."""
    router = APIRouter(tags=["cds-hooks"], route_class=DirectRoute)

    @router.get("/cds-services", summary="CDS Hooks discovery: the services offered")
    async def discovery() -> Response:
        return Response(discovery_bytes(), media_type="application/json")

    @router.post(
        "/cds-services/{service_id}",
        summary="Call a CDS Hooks service",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": CDS_REQUEST_SCHEMA}}}
        },
        responses={
            200: {
                "description": "The cards",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"cards": {"type": "array", "items": {"type": "object"}}},
                        }
                    }
                },
            }
        },
    )
    async def call(request: Request, service_id: str) -> JSONResponse:
        services = _services()
        service = services.get(service_id)
        if service is None:
            raise RequestError(
                [Problem("service", f"{service_id[:80]!r} is not a service here (allowed: {', '.join(services)})")],
                status=404,
            )
        body = await read_document(request, yaml_allowed=False)
        context, prefetch = _check_request(body, hook=service["hook"])
        engine: Engine = request.app.state.engine
        today = request.app.state.settings.today or datetime.now(UTC).date()
        base = _base_url(request)
        if service_id == PATIENT_VIEW:
            gathered = _prefetched(prefetch, service=service)
            cards = await compute(request, _patient_view, engine, gathered, context, today, base)
        else:
            draft, draft_notes = _draft_orders(context)
            gathered = _prefetched(prefetch, service=service)
            safety = _order_safety(request, engine)
            cards = await compute(
                request, _order_check, engine, safety, gathered, draft, draft_notes, context, today, base
            )
        return JSONResponse({"cards": cards})

    @router.post("/cds-services/{service_id}/feedback", summary="CDS Hooks feedback on cards (recorded)")
    async def feedback(request: Request, service_id: str) -> JSONResponse:
        if service_id not in _services():
            raise RequestError([Problem("service", f"{service_id[:80]!r} is not a service here")], status=404)
        body = await read_document(request, yaml_allowed=False)
        request.state.audit_feedback = _check_feedback(body)
        return JSONResponse({})

    @router.get("/cds-services/{service_id}/feedback", summary="The feedback recorded on a service's cards (admin)",
                responses=FEEDBACK_ANSWER)
    async def feedback_recorded(
        request: Request, service_id: str, limit: int = Query(100, ge=1, le=5000, description="At most this many"),
    ) -> JSONResponse:
        if service_id not in _services():
            raise RequestError([Problem("service", f"{service_id[:80]!r} is not a service here")], status=404)
        log = request.app.state.audit
        events = [] if log.path is None else await run_in_threadpool(
            read_events, log.path, limit=limit, feedback_of=service_id)
        return JSONResponse({"service": service_id, "feedback": [_feedback_row(e) for e in events]})

    return router


FEEDBACK_OUTCOMES = ("accepted", "overridden")
FEEDBACK_ANSWER: dict[int | str, dict[str, Any]] = {200: {
    "description": "Each feedback call: when, who, the cards' outcomes",
    "content": {"application/json": {"schema": {"type": "object", "properties": {
        "service": {"type": "string"}, "feedback": {"type": "array", "items": {"type": "object"}}}}}},
}, **{status: {"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
      for status, what in ((404, "No such service"), (422, "The limit is not an integer from 1 to 5000"))}}


def _check_feedback(body: Any) -> list[dict[str, Any]]:
    """The feedback items as recorded (:func:`contraxis.service.audit.feedback_items`), after
    checking each has a card id, an outcome and its time (CDS Hooks 2.0, Feedback)."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise RequestError([Problem("feedback", "is required (a list of card outcomes)")])
    problems = []
    for i, item in enumerate(items[:200]):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "expected an object with card, outcome and outcomeTimestamp"))
            continue
        if not isinstance(item.get("card"), str) or not item["card"]:
            problems.append(Problem(f"{where}.card", "is required (the id of the card)"))
        if item.get("outcome") not in FEEDBACK_OUTCOMES:
            problems.append(Problem(f"{where}.outcome", f"{str(item.get('outcome'))[:30]!r} is not one of "
                                                        f"{', '.join(FEEDBACK_OUTCOMES)}"))
        if not isinstance(item.get("outcomeTimestamp"), str):
            problems.append(Problem(f"{where}.outcomeTimestamp", "is required (when the user acted, ISO 8601)"))
    if len(items) > 200:
        problems.append(Problem("feedback", f"{len(items)} items: at most 200 in one call"))
    if problems:
        raise RequestError(problems)
    return feedback_items(body)


def _feedback_row(event: Mapping[str, Any]) -> dict[str, Any]:
    details = {d.get("type"): d.get("valueString") for e in event.get("entity", []) for d in e.get("detail", [])}
    who = (event.get("agent") or [{}])[0].get("who", {}).get("identifier", {})
    return {"recorded": event.get("recorded"), "client": who.get("value"), "issuer": who.get("system"),
            "status": details.get("status"), "items": json.loads(details.get("cds-feedback") or "[]")}


def _read_prefetch(gathered: Prefetched, *, patient_id: str) -> tuple[list[Located], list[NotRead]]:
    """The prefetched resources, read leniently, after checking they are about the patient."""
    located, notes = check_all(((data, path) for data, path, _ in gathered.entries), strict=False, source="CDS Hooks")
    one_patient(located, expected=patient_id, source="CDS Hooks")
    return located, [*gathered.not_read, *notes]


def _patient_id(context: Mapping[str, Any]) -> str:
    """``context.patientId``, read as the id when a client sends it as ``Patient/id``."""
    given = str(context["patientId"]).strip()
    return given.split("/", 1)[1] if given.startswith("Patient/") and given.count("/") == 1 else given


def _patient_view(engine: Engine, gathered: Prefetched, context: Mapping[str, Any], today: date,
                  base_url: str) -> list[dict[str, Any]]:
    patient_id = _patient_id(context)
    located, notes = _read_prefetch(gathered, patient_id=patient_id)
    full_urls = {path: url for _, path, url in gathered.entries if url}
    reading = read_located(located, notes=notes, reference_date=today, codes=engine.codes, full_urls=full_urls,
                           patient_id=patient_id)
    case = reading.case
    version = engine.version
    if not case.regions and not case.findings:
        if gathered.incomplete:
            return [not_read_card(reading.not_read, incomplete=gathered.incomplete, patient_id=patient_id,
                                  version=version, base_url=base_url)]
        return []
    assessment, _ = engine.assessment(case)
    sources = {s["id"]: s for s in engine.sections().get("sources", []) if isinstance(s, dict)}
    cards = assessment_cards(assessment, case=case, patient_id=patient_id, base_url=base_url, sources=sources)
    if reading.not_read or gathered.incomplete:
        cards.append(not_read_card(reading.not_read, incomplete=gathered.incomplete, patient_id=patient_id,
                                   version=version, base_url=base_url))
    return cards


def _draft_bundle(draft: Any) -> tuple[Any, list[NotRead]]:
    """The draft orders as a Bundle: a list of resources, or one resource, is read as a
    collection of them (reported)."""
    if isinstance(draft, list) and draft and all(isinstance(r, dict) and "resourceType" in r for r in draft):
        note = NotRead.of("context.draftOrders", f"a list of {len(draft)} resources",
                          "coerced: CDS Hooks 2.0 gives the draft orders as a Bundle; read as a collection of them")
        return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in draft]}, [note]
    if isinstance(draft, dict) and draft.get("resourceType") not in (None, "Bundle"):
        note = NotRead.of("context.draftOrders", draft.get("resourceType"),
                          "coerced: CDS Hooks 2.0 gives the draft orders as a Bundle; read as a collection of one")
        return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}, [note]
    return draft, []


def _draft_orders(context: Mapping[str, Any]) -> tuple[list[tuple[dict[str, Any], str, str | None]], list[NotRead]]:
    draft, notes = _draft_bundle(context.get("draftOrders"))
    if draft is None:
        raise RequestError([Problem("context.draftOrders", "is required (a Bundle of the orders being written)")])
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise RequestError([Problem("context.draftOrders", "expected a FHIR Bundle of the draft orders "
                                                           f"(resourceType 'Bundle'), got {str(draft)[:60]!r}")])
    entries = draft.get("entry", []) or []
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise RequestError([Problem("context.draftOrders.entry", "expected a list of entries")])
    orders: list[tuple[dict[str, Any], str, str | None]] = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise RequestError([Problem(f"context.draftOrders.entry[{i}].resource", "is required (a FHIR resource)")])
        url = entry.get("fullUrl")
        orders.append((resource, f"context.draftOrders.entry[{i}].resource", url if isinstance(url, str) else None))
    selections = context.get("selections")
    if isinstance(selections, str):
        notes.append(NotRead.of("context.selections", selections, "coerced: one reference given where CDS Hooks has "
                                                                  "a list; read as a list of one"))
        selections = [selections]
    if selections is not None:
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise RequestError([Problem("context.selections", "expected a list of references (MedicationRequest/id)")])
        chosen = set(selections)
        orders = [(o, p, u) for o, p, u in orders if f"{o.get('resourceType')}/{o.get('id')}" in chosen
                  or (u is not None and u in chosen) or o.get("resourceType") == "Medication"]
    return [(o, p, u) for o, p, u in orders if o.get("resourceType") in ("MedicationRequest", "Medication")], notes


def _raw_drug(data: Mapping[str, Any], path: str) -> DrugGiven | None:
    """The drug of an order that is not valid FHIR, read from its JSON as far as it goes."""
    concept = data.get("medicationCodeableConcept")
    if not isinstance(concept, Mapping):
        return None
    codings = concept.get("coding")
    codings = [codings] if isinstance(codings, Mapping) else codings if isinstance(codings, list) else []
    rx = next((c for c in codings if isinstance(c, Mapping) and c.get("system") == RXNORM
               and str(c.get("code", "")).strip().isdigit()), None)
    text = concept.get("text") if isinstance(concept.get("text"), str) else None
    display = next(
        (c.get("display") for c in codings if isinstance(c, Mapping) and isinstance(c.get("display"), str)), None
    )
    name = text or display
    code = str(rx["code"]).strip() if rx else None
    if not name and not code:
        return None
    return DrugGiven(name, code, f"{path}.medicationCodeableConcept")


def _medication_references(items: list[Located], urls: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """``Medication/id`` and fullUrl -> the Medication resources given (prefetch and draft orders)."""
    references: dict[str, tuple[Any, str]] = {}
    for item in items:
        if item.kind != "Medication":
            continue
        if item.resource.id:
            references[f"Medication/{item.resource.id}"] = (item.resource, item.path)
        if item.path in urls:
            references[urls[item.path]] = (item.resource, item.path)
    return references


def _drugs_ordered(orders: list[Located], draft: list[tuple[dict[str, Any], str, str | None]],
                   ctx: Context) -> tuple[list[tuple[str | None, DrugGiven]], list[NotRead]]:
    """(order id, drug) for each drug of each draft MedicationRequest, and what could not be checked.

    An order that is not valid FHIR R4 even after coercion is checked by the drug its JSON
    names, as far as it can be read: a safety warning is never lost to strict validation.
    """
    drugs: list[tuple[str | None, DrugGiven]] = []
    notes: list[NotRead] = []
    for order in orders:
        if order.kind != "MedicationRequest":
            continue
        found, why = drugs_of(order, ctx)
        if not found:
            notes.append(NotRead.of(order.path, order.label, f"the drug ordered cannot be read ({why}): not checked"))
        drugs += [(order.resource.id, drug) for drug in found]
    read_paths = {o.path for o in orders}
    for data, path, _ in draft:
        if path in read_paths or data.get("resourceType") != "MedicationRequest":
            continue
        drug = _raw_drug(data, path)
        if drug is None:
            notes.append(NotRead.of(path, data.get("id") or "MedicationRequest",
                                    "not valid FHIR R4 and no drug can be read from it: not checked"))
            continue
        notes.append(NotRead.of(path, drug.shown, "not valid FHIR R4: checked by the drug it names"))
        drugs.append((data.get("id") if isinstance(data.get("id"), str) else None, drug))
    return drugs, notes


def _order_check(
    engine: Engine,
    safety: OrderSafety,
    gathered: Prefetched,
    draft: list[tuple[dict[str, Any], str, str | None]],
    draft_notes: list[NotRead],
    context: Mapping[str, Any],
    today: date,
    base_url: str,
) -> list[dict[str, Any]]:
    from ..terminology.drugs import resolve_drug

    patient_id = _patient_id(context)
    located, notes = _read_prefetch(gathered, patient_id=patient_id)
    notes = [*draft_notes, *notes]
    tables = load_tables()
    orders, order_notes = check_all(((data, path) for data, path, _ in draft), strict=False, source="CDS Hooks")
    notes += order_notes
    one_patient([*located, *orders], expected=patient_id, source="CDS Hooks")
    record = patient_record(located, codes=engine.codes, reference_date=today, tables=tables,
                            relevant=safety.relevant_drugs)
    notes += record.not_read
    urls = {path: url for _, path, url in [*gathered.entries, *draft] if url}
    ctx = Context(reference_date=today, codes=engine.codes, tables=tables,
                  references=_medication_references([*located, *orders], urls))
    drugs, drug_notes = _drugs_ordered(orders, draft, ctx)
    notes += drug_notes
    checked = []
    for order_id, drug in drugs:
        reading = resolve_drug(drug.name, rxnorm=drug.rxnorm)
        if not reading.ingredients:
            notes.append(NotRead.of(drug.path, drug.shown, f"{reading.note}: the order is not checked"))
            continue
        if reading.how == "misspelling":  # a guess that could change the answer
            notes.append(NotRead.of(drug.path, drug.shown, reading.note))
        for ingredient in reading.ingredients:
            matches = check_order(ingredient, record=record, safety=safety, codes=engine.codes)
            checked.append(({"id": order_id}, ingredient, matches))
    cards = order_cards(checked, safety=safety, patient_id=patient_id, version=engine.version, base_url=base_url)
    if notes or gathered.incomplete:
        cards.append(not_read_card(notes, incomplete=gathered.incomplete, patient_id=patient_id,
                                   version=engine.version, base_url=base_url))
    return cards
