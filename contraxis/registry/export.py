"""A patient of the registry written out: a GA4GH phenopacket v2, a FHIR R4 Bundle, or the
registry's own JSON (which ``contraxis registry import`` reads back).

Every export names the patient by the pseudonymous id; the identity (name, birth date, record
number) is written only when a clinician asks for an identified export.

**Phenopacket v2** (built as the ``phenopackets`` package's protobuf message, so that the
schema is checked as it is built):

==============================  ==============================================================
phenopacket                     from
==============================  ==============================================================
``subject``                     the pseudonymous id, the sex, the age at the newest visit
                                (``timeAtLastEncounter``); date of birth and record number
                                only identified
``phenotypicFeatures``          every HPO finding over the visits, once: present (its
                                ``onset`` the age, or the date, of the first visit it was seen
                                at; ``resolution`` the first visit after that it was absent),
                                or ``excluded`` when it was only ever recorded absent; its
                                ``description`` lists the visit dates it was seen at
``diseases``                    the newest visit's diagnosis (ICD-10-CM) with the onset age
``measurements``                the rating scales' scores at each visit (``timeObserved``)
``medicalActions``              each botulinum toxin treatment, a ``treatment``: the agent the
                                product's substance class of ``toxins.yaml`` (MeSH D019274 for
                                the type A products, ATC M03AX01 for rimabotulinumtoxinB), the
                                route intramuscular (NCIt C28161), one dose interval per muscle
                                (its units, the product named in the unit, never added across
                                products; the interval the injection's date); each deep brain
                                stimulation system, a ``procedure`` (MAxO 0000943, performed on
                                the surgery date); the treatment target the newest diagnosis.
                                A phenopacket treatment has no body site: the muscles are named
                                in the FHIR export only, and the stimulation target (GPi, STN)
                                is not coded (no anatomy code was checked)
``metaData``                    the HPO release, ICD-10-CM's, the knowledge-base version
==============================  ==============================================================

**FHIR R4 Bundle** (``collection``, each resource checked against ``fhir.resources``' R4B
models): the Patient; per visit an Encounter and, referring to it, a Condition (the
diagnosis in ICD-10-CM, its onset age, the regions as body sites), an Observation per finding
(HPO or local code, ``valueBoolean``), an Observation of the distribution, Observations of the
scales' scores and a QuestionnaireResponse per rating (:func:`contraxis.registry.scales.questionnaire_response`),
a Procedure per toxin treatment (product, muscles with side and units) and an Observation per
stimulation setting; and a Procedure per deep brain stimulation surgery. Codes are those the
registry holds (HPO, ICD-10-CM, UCUM units); a procedure without a checked code carries its text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import CaseError, Problem
from .course import CourseEvent
from .records import PatientRecord, VisitRecord

if TYPE_CHECKING:  # pragma: no cover
    from ..knowledge import KnowledgeBase

__all__ = ["FORMATS", "export_record", "fhir_bundle", "phenopacket", "registry_json"]

FORMATS = ("phenopacket", "fhir", "json")
"""The export formats."""

PSEUDONYM_SYSTEM = "urn:contraxis:registry:pseudonym"
"""The identifier system of a patient's pseudonymous id."""
HPO_SYSTEM = "http://human-phenotype-ontology.org"
CX_FINDING_SYSTEM = "urn:contraxis:finding"
CX_REGION_SYSTEM = "urn:contraxis:region"
SCALE_SYSTEM = "urn:contraxis:scale"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTRAMUSCULAR: dict[str, str] = {"id": "NCIT:C28161", "label": "Intramuscular Route of Administration"}
"""The route of a botulinum toxin injection (NCI Thesaurus; source ``ncit-intramuscular-route``)."""
DEEP_BRAIN_STIMULATION: dict[str, str] = {"id": "MAXO:0000943", "label": "deep brain stimulation"}
"""The procedure of a stimulation system (Medical Action Ontology, release 2024-07-29; ``maxo-2024``)."""
_ACTION_RESOURCES: dict[str, dict[str, str]] = {
    "NCIT": {"id": "ncit", "name": "NCI Thesaurus", "url": "http://purl.obolibrary.org/obo/ncit.owl",
             "version": "unspecified", "namespacePrefix": "NCIT", "iriPrefix": "http://purl.obolibrary.org/obo/NCIT_"},
    "MAXO": {"id": "maxo", "name": "Medical Action Ontology", "url": "http://purl.obolibrary.org/obo/maxo.owl",
             "version": "2024-07-29", "namespacePrefix": "MAXO", "iriPrefix": "http://purl.obolibrary.org/obo/MAXO_"},
    "MESH": {"id": "mesh", "name": "Medical Subject Headings", "url": "https://id.nlm.nih.gov/mesh/",
             "version": "unspecified", "namespacePrefix": "MESH", "iriPrefix": "http://id.nlm.nih.gov/mesh/"},
    "ATC": {"id": "atc", "name": "Anatomical Therapeutic Chemical classification", "url": "https://atcddd.fhi.no/",
            "version": "unspecified", "namespacePrefix": "ATC", "iriPrefix": "https://atcddd.fhi.no/atc_ddd_index/?code="},
}
"""The metadata resource of each prefix a medical action may use."""


def _age(years: float) -> str:
    """An age in years as an ISO 8601 duration (``P52Y``, ``P4Y6M``)."""
    whole = int(math.floor(years))
    months = int(round((years - whole) * 12))
    if months == 12:
        whole, months = whole + 1, 0
    return f"P{whole}Y{months}M" if months else f"P{whole}Y"


def _time(visit: VisitRecord) -> dict[str, Any]:
    age = visit.case.get("age")
    if age is not None:
        return {"age": {"iso8601duration": _age(float(age))}}
    return {"timestamp": f"{visit.date.isoformat()}T00:00:00Z"}


def _sex(visits: Sequence[VisitRecord]) -> str:
    for visit in reversed(visits):
        sex = visit.case.get("sex")
        if sex in ("female", "male"):
            return str(sex).upper()
    return "UNKNOWN_SEX"


def _onset_age(visits: Sequence[VisitRecord]) -> float | None:
    ages = [v.case["onset_age"] for v in visits if v.case.get("onset_age") is not None]
    return float(ages[-1]) if ages else None


def _diagnosis(visit: VisitRecord) -> tuple[str, str] | None:
    code = visit.summary.get("icd10cm")
    if not code:
        return None
    display = next((c.get("display") for c in visit.assessment.get("codes") or ()
                    if c.get("system") == "ICD-10-CM" and c.get("code") == code), None)
    return str(code), str(display or visit.assessment.get("diagnosis") or code)


def _label(kb: KnowledgeBase | None, code: str) -> str:
    return (kb.label(code) if kb is not None else "") or code


# --- phenopacket -----------------------------------------------------------------------------


def _features(record: PatientRecord, kb: KnowledgeBase | None) -> list[dict[str, Any]]:
    seen: dict[str, list[VisitRecord]] = {}
    absent: dict[str, list[VisitRecord]] = {}
    for visit in record.visits:
        present = [*visit.case.get("findings", ()), *(visit.case.get("imaging") or {}).get("findings", ())]
        for code in present:
            if code.startswith("HP:"):
                seen.setdefault(code, []).append(visit)
        for code in visit.case.get("absent", ()):
            if code.startswith("HP:"):
                absent.setdefault(code, []).append(visit)
    out = []
    for code, visits in seen.items():
        first = visits[0]
        feature: dict[str, Any] = {
            "type": {"id": code, "label": _label(kb, code)}, "onset": _time(first),
            "description": "seen at the visits of " + ", ".join(v.date.isoformat() for v in visits),
        }
        gone = next((v for v in absent.get(code, ()) if v.date > first.date), None)
        if gone is not None:
            feature["resolution"] = _time(gone)
        out.append(feature)
    for code, visits in absent.items():
        if code not in seen:
            out.append({"type": {"id": code, "label": _label(kb, code)}, "excluded": True,
                        "description": "recorded absent at the visits of " + ", ".join(v.date.isoformat()
                                                                                        for v in visits)})
    return out


def _measurements(record: PatientRecord) -> list[dict[str, Any]]:
    out = []
    for visit in record.visits:
        for rating in visit.scales:
            for score_id, value in (rating.scores.get("scores") or {}).items():
                out.append({
                    "assay": {"id": f"{SCALE_SYSTEM}:{rating.scale}.{score_id}",
                              "label": f"{rating.scores.get('title', rating.scale)}: {score_id}"},
                    "value": {"quantity": {"unit": {"id": "UCUM:{score}", "label": "score"}, "value": float(value)}},
                    "timeObserved": {"timestamp": f"{visit.date.isoformat()}T00:00:00Z"},
                })
    return out


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _medical_actions(record: PatientRecord, target: dict[str, str] | None) -> list[dict[str, Any]]:
    """Each toxin treatment (a ``treatment``) and each stimulation system (a ``procedure``).

    A treatment's agent is its product's substance class (``toxins.yaml``, ``agent``); a
    product without one is left out rather than coded by guess. Its dose is one interval per
    muscle, in units of that product (the unit names the product: units of two products are
    never one quantity); a muscle without units is left out.
    """
    from .toxin import toxin_table

    table = toxin_table()
    out: list[dict[str, Any]] = []
    for visit in record.visits:
        day = _timestamp(visit.date)
        for injection in visit.injections:
            product = table.products.get(injection.product)
            if product is None or product.agent is None:
                continue
            unit = {"id": f"UCUM:{{{product.id}_U}}", "label": f"units of {product.id} (specific to the product)"}
            doses = [{"quantity": {"unit": unit, "value": float(m["units"])},
                      "interval": {"start": day, "end": day}}
                     for m in injection.detail.get("muscles") or () if m.get("units") is not None]
            action: dict[str, Any] = {"treatment": {
                "agent": {"id": product.agent.id, "label": product.agent.label},
                "routeOfAdministration": dict(INTRAMUSCULAR),
                "doseIntervals": doses,
                "cumulativeDose": {"unit": unit, "value": float(injection.total_units)},
            }}
            if target is not None:
                action["treatmentTarget"] = dict(target)
            out.append(action)
    for implant in record.implants:
        action = {"procedure": {"code": dict(DEEP_BRAIN_STIMULATION),
                                "performed": {"timestamp": _timestamp(implant.surgery_date)}}}
        if target is not None:
            action["treatmentTarget"] = dict(target)
        out.append(action)
    return out


def phenopacket(record: PatientRecord, *, kb: KnowledgeBase | None = None,
                created: dt.datetime | None = None) -> dict[str, Any]:
    """The patient as a GA4GH phenopacket v2 (JSON data, checked against the schema).

    Raises
    ------
    CaseError
        When the message does not fit the phenopacket v2 schema (a bug: reported, never written).
    """
    from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
    from phenopackets import Phenopacket

    subject: dict[str, Any] = {"id": record.pseudonym, "sex": _sex(record.visits)}
    if record.visits:
        subject["timeAtLastEncounter"] = _time(record.visits[-1])
    if record.identity is not None:
        if record.identity.birth_date:
            subject["dateOfBirth"] = f"{record.identity.birth_date.isoformat()}T00:00:00Z"
        if record.identity.identifier:
            subject["alternateIds"] = [record.identity.identifier]
    data: dict[str, Any] = {"id": record.pseudonym, "subject": subject, "phenotypicFeatures": _features(record, kb)}
    newest = record.visits[-1] if record.visits else None
    diagnosis = _diagnosis(newest) if newest is not None else None
    onset = _onset_age(record.visits)
    if diagnosis is not None:
        disease: dict[str, Any] = {"term": {"id": f"ICD10CM:{diagnosis[0]}", "label": diagnosis[1]}}
        if onset is not None:
            disease["onset"] = {"age": {"iso8601duration": _age(onset)}}
        data["diseases"] = [disease]
    measurements = _measurements(record)
    if measurements:
        data["measurements"] = measurements
    target = None if diagnosis is None else {"id": f"ICD10CM:{diagnosis[0]}", "label": diagnosis[1]}
    actions = _medical_actions(record, target)
    if actions:
        data["medicalActions"] = actions
    from ..codes.icd10cm import icd10cm_release

    hpo = newest.hpo_release if newest is not None else (kb.hpo_release if kb is not None else "")
    data["metaData"] = {
        "created": (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "createdBy": "Contraxis registry" + (f" (knowledge base {newest.knowledge_base_version})" if newest else ""),
        "phenopacketSchemaVersion": "2.0",
        "resources": [
            {"id": "hp", "name": "human phenotype ontology", "url": "http://purl.obolibrary.org/obo/hp.owl",
             "version": hpo, "namespacePrefix": "HP", "iriPrefix": "http://purl.obolibrary.org/obo/HP_"},
            {"id": "icd10cm", "name": "ICD-10-CM", "url": "https://www.cms.gov/medicare/coding-billing/icd-10-codes",
             "version": icd10cm_release(), "namespacePrefix": "ICD10CM",
             "iriPrefix": "http://purl.bioontology.org/ontology/ICD10CM/"},
        ],
    }
    used = {term["id"].split(":")[0] for action in actions
            for term in (action.get("treatment", {}).get("agent"),
                         action.get("treatment", {}).get("routeOfAdministration"),
                         action.get("procedure", {}).get("code")) if term}
    data["metaData"]["resources"] += [_ACTION_RESOURCES[prefix] for prefix in sorted(used)]
    try:
        message = ParseDict(data, Phenopacket())
    except ParseError as error:  # pragma: no cover - the tests keep this from happening
        raise CaseError([Problem("phenopacket", f"does not fit the v2 schema: {str(error)[:200]}")]) from None
    checked: dict[str, Any] = MessageToDict(message)
    return checked


# --- FHIR ------------------------------------------------------------------------------------


def _ref(kind: str, rid: str) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _visit_resources(record: PatientRecord, visit: VisitRecord, kb: KnowledgeBase | None) -> list[dict[str, Any]]:
    pid = record.pseudonym
    eid = f"{pid}-v{visit.id}"
    when = visit.date.isoformat()
    encounter = {"resourceType": "Encounter", "id": eid, "status": "finished",
                 "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
                 "subject": _ref("Patient", pid), "period": {"start": when, "end": when}}
    out: list[dict[str, Any]] = [encounter]
    at = {"subject": _ref("Patient", pid), "encounter": _ref("Encounter", eid)}
    diagnosis = _diagnosis(visit)
    if diagnosis is not None:
        condition: dict[str, Any] = {
            "resourceType": "Condition", "id": f"{eid}-dx",
            "clinicalStatus": {"coding": [{"system": CLINICAL_STATUS, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION_STATUS, "code": "provisional"}]},
            "code": {"coding": [{"system": ICD10CM_SYSTEM, "code": diagnosis[0], "display": diagnosis[1]}],
                     "text": str(visit.assessment.get("diagnosis") or diagnosis[1])},
            **at, "recordedDate": when,
        }
        if visit.case.get("onset_age") is not None:
            condition["onsetAge"] = {**_quantity(float(visit.case["onset_age"]), "a"), "unit": "years"}
        if visit.regions:
            condition["bodySite"] = [{"coding": [{"system": CX_REGION_SYSTEM, "code": r}], "text": r}
                                     for r in visit.regions]
        out.append(condition)
    for n, (code, present) in enumerate([*((c, True) for c in visit.case.get("findings", ())),
                                         *((c, False) for c in visit.case.get("absent", ()))]):
        system = HPO_SYSTEM if code.startswith("HP:") else CX_FINDING_SYSTEM
        out.append({"resourceType": "Observation", "id": f"{eid}-f{n}", "status": "final",
                    "code": {"coding": [{"system": system, "code": code, "display": _label(kb, code)}]},
                    **at, "effectiveDateTime": when, "valueBoolean": present})
    distribution = visit.summary.get("distribution")
    if distribution:
        out.append({"resourceType": "Observation", "id": f"{eid}-distribution", "status": "final",
                    "code": {"text": "body distribution of the dystonia (2013 consensus, Axis I)"}, **at,
                    "effectiveDateTime": when, "valueCodeableConcept": {"text": distribution}})
    for rating in visit.scales:
        for score_id, value in (rating.scores.get("scores") or {}).items():
            out.append({"resourceType": "Observation", "id": f"{eid}-s{rating.id}-{score_id}", "status": "final",
                        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
                        "code": {"coding": [{"system": SCALE_SYSTEM, "code": f"{rating.scale}.{score_id}"}],
                                 "text": f"{rating.scores.get('title', rating.scale)}: {score_id}"},
                        **at, "effectiveDateTime": when, "valueQuantity": _quantity(float(value), "{score}")})
        out.append(_questionnaire_response(rating, f"{eid}-qr{rating.id}", pid, when))
    for injection in visit.injections:
        muscles = injection.detail.get("muscles") or []
        sites = [{"text": f"{m.get('muscle')} ({m.get('side', 'unspecified side')})"} for m in muscles]
        notes = [f"{m.get('muscle')} {m.get('side', '')}: {m.get('units')} units".replace("  ", " ") for m in muscles]
        procedure: dict[str, Any] = {
            "resourceType": "Procedure", "id": f"{eid}-bont{injection.id}", "status": "completed",
            "code": {"text": f"botulinum toxin injection: {injection.product}, {injection.total_units:g} units"},
            "subject": _ref("Patient", pid), "encounter": _ref("Encounter", eid), "performedDateTime": when,
        }
        if sites:
            procedure["bodySite"] = sites
        guidance = injection.detail.get("guidance")
        lines = notes + ([f"guidance: {guidance}"] if guidance else [])
        lines += [f"label check: {w.get('message', w)}" for w in injection.warnings]
        if lines:
            procedure["note"] = [{"text": line} for line in lines]
        out.append(procedure)
    for setting in visit.stimulation:
        out.append({
            "resourceType": "Observation", "id": f"{eid}-dbs{setting.id}", "status": "final",
            "code": {"text": f"deep brain stimulation settings, {setting.side} side"}, **at,
            "effectiveDateTime": when, "valueString": f"contacts {setting.contacts}",
            "component": [
                {"code": {"text": "amplitude"}, "valueQuantity": _quantity(setting.amplitude, setting.amplitude_unit)},
                {"code": {"text": "pulse width"}, "valueQuantity": _quantity(setting.pulse_width_us, "us")},
                {"code": {"text": "frequency"}, "valueQuantity": _quantity(setting.frequency_hz, "Hz")},
            ],
        })
    return out


def _questionnaire_response(rating: Any, rid: str, pid: str, when: str) -> dict[str, Any]:
    from .scales import questionnaire_response

    response = questionnaire_response(rating.scale, rating.items, subject=f"Patient/{pid}")
    return {**response, "id": rid, "authored": when}


def fhir_bundle(record: PatientRecord, *, kb: KnowledgeBase | None = None,
                created: dt.datetime | None = None) -> dict[str, Any]:
    """The patient as a FHIR R4 Bundle (``collection``), validated with ``fhir.resources``.

    Raises
    ------
    CaseError
        When a resource does not validate (a bug: reported, never written).
    """
    patient: dict[str, Any] = {"resourceType": "Patient", "id": record.pseudonym,
                               "identifier": [{"system": PSEUDONYM_SYSTEM, "value": record.pseudonym}]}
    sex = _sex(record.visits)
    patient["gender"] = {"FEMALE": "female", "MALE": "male"}.get(sex, "unknown")
    if record.identity is not None:
        if record.identity.name:
            patient["name"] = [{"text": record.identity.name}]
        if record.identity.birth_date:
            patient["birthDate"] = record.identity.birth_date.isoformat()
        if record.identity.identifier:
            patient["identifier"].append({"system": record.identity.identifier_system or "urn:contraxis:mrn",
                                          "value": record.identity.identifier})
    resources = [patient]
    for implant in record.implants:
        resources.append({
            "resourceType": "Procedure", "id": f"{record.pseudonym}-dbs{implant.id}", "status": "completed",
            "code": {"text": f"deep brain stimulation system implanted: {implant.target}, {implant.side}"},
            "subject": _ref("Patient", record.pseudonym), "performedDateTime": implant.surgery_date.isoformat(),
            "bodySite": [{"text": f"{implant.target} ({implant.side})"}],
            "note": [{"text": f"device: {implant.device}"}],
        })
    for visit in record.visits:
        resources += _visit_resources(record, visit, kb)
    bundle = {
        "resourceType": "Bundle", "id": f"{record.pseudonym}-registry", "type": "collection",
        "timestamp": (created or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "entry": [{"fullUrl": f"urn:contraxis:{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
    _validate_bundle(bundle)
    return bundle


def _validate_bundle(bundle: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:  # pragma: no cover - the tests keep this from happening
        problems = [Problem(".".join(str(p) for p in e["loc"])[:120], e["msg"][:200]) for e in error.errors()[:10]]
        raise CaseError(problems, source="FHIR export") from None


# --- the registry's own JSON -------------------------------------------------------------------


def registry_json(record: PatientRecord, *, events: Sequence[CourseEvent] = ()) -> dict[str, Any]:
    """The patient as the registry's own JSON: every visit's case (re-assessed on import), its
    date, its scales, injections and stimulation, the implants, and the course."""
    return {
        "format": "contraxis-registry",
        "version": 1,
        "patient": record.pseudonym,
        "identity": record.identity.to_json() if record.identity is not None else None,
        "implants": [i.to_json() for i in record.implants],
        "visits": [{**v.to_json(assessment=False)} for v in record.visits],
        "course": [e.to_json() for e in events],
    }


def export_record(record: PatientRecord, fmt: str, *, events: Sequence[CourseEvent] = (),
                  kb: KnowledgeBase | None = None) -> dict[str, Any]:
    """Export a record as ``phenopacket``, ``fhir`` or ``json``."""
    if fmt == "phenopacket":
        return phenopacket(record, kb=kb)
    if fmt == "fhir":
        return fhir_bundle(record, kb=kb)
    return registry_json(record, events=events)
