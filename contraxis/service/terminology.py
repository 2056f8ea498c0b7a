"""Terminology for the intake page: drug suggestions and readings, laboratory units and limits.

The page writes no clinical fact of its own: what it needs is served here from the same
resolvers every reader uses.

=====================================  ===========================================================
route                                  answer
=====================================  ===========================================================
``GET /terminology/drugs?q=reg``       generic and brand names starting with ``q``, each with its
                                       ingredient (:func:`contraxis.terminology.drugs.suggest_drugs`)
``GET /terminology/drugs/resolve``     what a name (or RxNorm code) is read as, the knowledge
                                       base's drug classes of its ingredients and whether it can
                                       cause the movement, with the question the assessment asks
                                       about its start and why
``GET /terminology/labs``              every analyte read: LOINC codes, canonical unit, the units
                                       it is reported in with their factor to the canonical unit,
                                       and its plausible limits in each unit
``GET /terminology/labs/check``        the check the server makes of one result when a case is
                                       sent (:func:`contraxis.terminology.labs.read_lab`):
                                       ``accepted`` and the reading, or the problem
=====================================  ===========================================================

Every query is bounded (lengths and counts) and bad input gets a 422 naming the parameter, an
excerpt of the value and what is allowed.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..errors import Problem
from ..reading import excerpt
from .engine import Engine
from .errors import RequestError
from .rest import query_int
from .routing import DirectRoute

__all__ = ["build_terminology_router", "drug_answer", "lab_catalogue"]

MAX_PREFIX = 60
"""The longest drug-name prefix read for suggestions (characters)."""
MAX_NAME = 200
"""The longest drug name read (characters), as the case format allows."""
MAX_RXNORM = 10
MAX_UNIT = 80
MAX_VALUE = 40
MAX_SUGGESTIONS = 50
DRUG_START_QUESTION = "ask.drug-start"
"""The knowledge base's question about a drug's start: its wording is the prompt's."""


def _parameter(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    """An OpenAPI query parameter (the routes read their queries themselves, to word the errors)."""
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


DRUG_PARAMETERS = [
    _parameter(
        "q",
        "The start of a generic or brand name",
        {"type": "string", "minLength": 1, "maxLength": MAX_PREFIX},
        required=True,
    ),
    _parameter(
        "limit", "At most this many names", {"type": "integer", "minimum": 1, "maximum": MAX_SUGGESTIONS, "default": 10}
    ),
]
RESOLVE_PARAMETERS = [
    _parameter("name", "The drug as written: generic, brand, salt or display string",
               {"type": "string", "maxLength": MAX_NAME}),
    _parameter("rxnorm", "An RxNorm code (ingredient, clinical drug or branded drug)",
               {"type": "string", "pattern": "^[0-9]{1,10}$"}),
]
CHECK_PARAMETERS = [
    _parameter("loinc", "The LOINC code of the test", {"type": "string", "example": "17861-6"}, required=True),
    _parameter(
        "value", "The value as a number", {"type": "string", "maxLength": MAX_VALUE, "example": "2.35"}, required=True
    ),
    _parameter(
        "unit",
        "The unit: UCUM, a common spelling or a Units Ontology id",
        {"type": "string", "maxLength": MAX_UNIT, "example": "mg/dL"},
        required=True,
    ),
    _parameter("comparator", "The value is a bound", {"type": "string", "enum": ["<", "<=", ">", ">="]}),
]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _text(request: Request, name: str, *, limit: int, required: bool, allowed: str) -> str | None:
    """A text query parameter: stripped, printable, at most ``limit`` characters."""
    value = request.query_params.get(name)
    if value is None or not value.strip():
        if required:
            raise RequestError([Problem(f"query.{name}", f"is required ({allowed})")], status=422)
        return None
    value = value.strip()
    if len(value) > limit:
        raise RequestError([Problem(f"query.{name}", f"{excerpt(value, 40)!r} is longer than {limit} characters "
                                                     f"({allowed})")], status=422)
    if not value.isprintable():
        raise RequestError([Problem(f"query.{name}", f"{excerpt(value, 40)!r} holds control characters "
                                                     f"({allowed})")], status=422)
    return value


# --- drugs ----------------------------------------------------------------------------------


def drug_answer(name: str | None, rxnorm: str | None, *, kb: Any) -> dict[str, Any]:
    """What a drug is read as, and whether the knowledge base counts it as a possible cause.

    Parameters
    ----------
    name, rxnorm : str or None
        The drug as given (a generic or brand name, a salt, a display string) and/or its
        RxNorm code; at least one.
    kb : contraxis.knowledge.KnowledgeBase
        Supplies the drug classes (``drug_membership``, ``drug_classes``) and the question
        asked about a drug's start (``ask.drug-start`` of questions.yaml).

    Returns
    -------
    dict
        ``given``, ``ingredients`` (lower-case generic names), ``how``, ``note`` (from
        :func:`contraxis.terminology.drugs.resolve_drug`), ``display`` ('Reglan
        (metoclopramide)'), ``classes`` (each knowledge-base class of an ingredient: ``id``,
        ``label``, ``causes``, ``source``), ``can_cause_movement`` (a member of a class, as the
        assessment reads it), and ``question`` and ``why``: the knowledge base's question about
        its start and the reason, for the page's prompt.
    """
    from ..terminology.drugs import resolve_drug

    reading = resolve_drug(name, rxnorm=rxnorm)
    ingredients = " and ".join(reading.ingredients)
    given = reading.given
    if not ingredients or given.casefold() == ingredients.casefold():
        display = ingredients or given
    else:
        display = f"{given} ({ingredients})"
    class_ids = sorted({c for i in reading.ingredients for c in kb.drug_membership.get(i, ())})
    classes = [
        {"id": c, "label": kb.drug_classes[c].label, "causes": list(kb.drug_classes[c].causes),
         "source": kb.drug_classes[c].source}
        for c in class_ids if c in kb.drug_classes
    ]
    asked = next((rule.row for rule in kb.questions if rule.row.id == DRUG_START_QUESTION), None)
    return {
        "given": given,
        "ingredients": list(reading.ingredients),
        "how": reading.how,
        "note": reading.note,
        "display": display,
        "classes": classes,
        "can_cause_movement": bool(classes),
        "question": asked.question.replace("{undated_drugs}", display) if asked is not None and classes else None,
        "why": asked.why if asked is not None and classes else None,
    }


# --- laboratory results ---------------------------------------------------------------------


def _unit_label(code: str) -> str:
    """A UCUM code as laboratories print it: meq/L -> mEq/L, ug/(24.h) -> µg/24 h."""
    label = code.replace("/(24.h)", "/24 h").replace("meq", "mEq")
    for ucum, shown in (("ug", "µg"), ("umol", "µmol"), ("ukat", "µkat")):
        if label.startswith(ucum):
            label = shown + label[len(ucum):]
    return label


def lab_catalogue(*, kb: Any) -> list[dict[str, Any]]:
    """Every analyte read, as the intake page offers it.

    Parameters
    ----------
    kb : contraxis.knowledge.KnowledgeBase
        Says which analytes a rule reads (``kb.labs``) and the LOINC code the form sends for
        each.

    Returns
    -------
    list of dict
        One per analyte, those a rule reads first: ``id``, ``name``, ``label``, ``loinc`` (the
        code the form sends), ``loinc_codes`` (every code read as it), ``unit`` (canonical,
        UCUM), ``units`` (each reported unit, canonical first: ``unit`` as UCUM, ``label`` as
        printed, ``factor`` that turns a value in it into the canonical unit, and ``low`` and
        ``high``, the plausible limits in it, inclusive), ``reference`` (``low``, ``high`` in
        the canonical unit, or None) and ``rules_read``.

    Source: :mod:`contraxis.terminology.labs` (``terminology/data/labs.yaml``) converted with
    :func:`contraxis.terminology.units.convert`.
    """
    from ..terminology.labs import analytes
    from ..terminology.units import convert

    rows = []
    for info in analytes().values():
        test = kb.labs.get(info.id)
        codes = list(info.loinc_codes) + [c for c in info.case_format_codes if c not in info.loinc_codes]
        primary = test.loinc if test is not None and test.loinc in info.loinc_codes else info.loinc_codes[0]
        units = []
        for unit in info.units:
            try:
                factor = convert(1.0, unit, info.unit, molar_mass=info.molar_mass, charge=info.charge)
            except ValueError:
                continue
            units.append({"unit": unit, "label": _unit_label(unit), "factor": factor,
                          "low": info.plausible[0] / factor, "high": info.plausible[1] / factor})
        rows.append({
            "id": info.id,
            "name": info.name,
            "label": info.name[:1].upper() + info.name[1:],
            "loinc": primary,
            "loinc_codes": codes,
            "unit": info.unit,
            "units": units,
            "reference": {"low": info.reference[0], "high": info.reference[1]} if info.reference else None,
            "rules_read": test is not None,
        })
    rows.sort(key=lambda row: not row["rules_read"])
    return rows


def _check_lab(request: Request) -> dict[str, Any]:
    from ..terminology.labs import COMPARATORS, LabProblem, read_lab

    loinc = _text(request, "loinc", limit=12, required=True, allowed="a LOINC code such as 17861-6")
    assert loinc is not None
    text = _text(request, "value", limit=MAX_VALUE, required=True, allowed="a number such as 2.35")
    assert text is not None
    unit = _text(request, "unit", limit=MAX_UNIT, required=True, allowed="a unit such as mg/dL or mmol/L")
    comparator = _text(request, "comparator", limit=2, required=False, allowed=", ".join(COMPARATORS))
    try:
        value = float(text)
    except ValueError:
        raise RequestError(
            [
                Problem(
                    "query.value",
                    f"{excerpt(text, 40)!r} is not a number (write it with digits and a decimal point: 2.35)",
                )
            ],
            status=422,
        ) from None
    try:
        reading = read_lab(loinc, value, unit, comparator=comparator)
    except LabProblem as problem:
        return {"accepted": False, "analyte": problem.analyte, "loinc": loinc,
                "problems": [{"field": problem.field, "message": problem.message}]}
    return {
        "accepted": True,
        "problems": [],
        "analyte": reading.analyte,
        "loinc": reading.loinc,
        "value": reading.value if reading.value is not None and math.isfinite(reading.value) else None,
        "unit": reading.unit,
        "note": reading.note,
    }


# --- the router -----------------------------------------------------------------------------


def build_terminology_router() -> APIRouter:
    """The ``/terminology/*`` routes the intake page reads (tag ``terminology``)."""
    router = APIRouter(prefix="/terminology", tags=["terminology"], route_class=DirectRoute)

    @router.get("/drugs", summary="Drug names (generic and brand) starting with q, each with its ingredient",
                openapi_extra={"parameters": DRUG_PARAMETERS})
    async def drugs(request: Request) -> JSONResponse:
        from ..terminology.drugs import suggest_drugs

        query = _text(request, "q", limit=MAX_PREFIX, required=True,
                      allowed=f"the start of a generic or brand drug name, at most {MAX_PREFIX} characters")
        limit = query_int(request, "limit", default=10, low=1, high=MAX_SUGGESTIONS)
        # In a worker thread: the first call reads the drug dictionaries (seconds), later ones are
        # a binary search.
        found = await run_in_threadpool(suggest_drugs, query or "", limit=limit)
        return JSONResponse({"query": query, "drugs": found})

    @router.get(
        "/drugs/resolve",
        summary="What a drug name or RxNorm code is read as, and whether it can cause the movement",
        openapi_extra={"parameters": RESOLVE_PARAMETERS},
    )
    async def resolve(request: Request) -> JSONResponse:
        name = _text(request, "name", limit=MAX_NAME, required=False,
                     allowed=f"a generic or brand drug name, at most {MAX_NAME} characters")
        rxnorm = _text(
            request, "rxnorm", limit=MAX_RXNORM, required=False, allowed="an RxNorm code: digits, e.g. 311666"
        )
        if rxnorm is not None and not rxnorm.isdigit():
            raise RequestError([Problem("query.rxnorm", f"{excerpt(rxnorm, 20)!r} is not an RxNorm code "
                                                        "(allowed: digits, e.g. 311666)")], status=422)
        if name is None and rxnorm is None:
            raise RequestError([Problem("query.name", "is required: give a drug name (or an RxNorm code as rxnorm)")],
                               status=422)
        return JSONResponse(await run_in_threadpool(drug_answer, name, rxnorm, kb=_engine(request).kb))

    @router.get("/labs", summary="The analytes read: LOINC codes, units with their factors, plausible limits")
    async def labs(request: Request) -> JSONResponse:
        engine = _engine(request)
        return JSONResponse({"knowledge_base_version": engine.version, "analytes": lab_catalogue(kb=engine.kb)})

    @router.get(
        "/labs/check",
        summary="The server's check of one laboratory value: accepted with its reading, or the problem",
        openapi_extra={"parameters": CHECK_PARAMETERS},
    )
    async def check(request: Request) -> JSONResponse:
        # In a worker thread: a unit outside the unit table loads the UCUM library once (about 0.5 s).
        return JSONResponse(await run_in_threadpool(_check_lab, request))

    return router
