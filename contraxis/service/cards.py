"""CDS Hooks 2.0 cards, built from an assessment or from order checks (pure functions).

Card ids are UUID 5 derived from what the card says, so the same input gives the same cards
(and an EHR can tell a repeated card from a new one).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..assessment import Assessment
from ..case import Case
from ..reading import NotRead
from ..vocabulary import urgency_rank
from .ordering import INDICATORS, Match, OrderSafety

__all__ = ["assessment_cards", "indicator_for", "not_read_card", "order_cards", "SUMMARY_LIMIT", "NOT_READ_LISTED"]

SUMMARY_LIMIT = 140
NOT_READ_LISTED = 40
"""At most this many not-read items are listed on a card (the rest are counted)."""
_NAMESPACE = uuid.UUID("6f1c2a4e-3b1d-5c8e-9a7f-0d2e4b6c8a10")
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OVERRIDE_SYSTEM = "urn:contraxis:override-reason"
ALERT_SYSTEM = "urn:contraxis:alert"

INDICATOR_BY_URGENCY: Mapping[str, str] = {"emergency": "critical", "urgent": "warning"}


def indicator_for(urgency: str) -> str:
    """The card indicator for an urgency: emergency → critical, urgent → warning, else info."""
    return INDICATOR_BY_URGENCY.get(urgency, "info")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def _summary(text: str) -> str:
    """The text within the 140 characters CDS Hooks allows: whole sentences, else cut at a word."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(kept) + len(sentence) + 1 > SUMMARY_LIMIT:
            break
        kept = f"{kept} {sentence}".strip()
    if kept:
        return kept
    return text[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _source(version: str, base_url: str, *, path: str = "/knowledge") -> dict[str, Any]:
    return {"label": f"Contraxis knowledge base {version}", "url": f"{base_url.rstrip('/')}{path}"}


def _case_link(case: Case, base_url: str) -> str:
    data = json.dumps(case.model_dump(mode="json", exclude_defaults=True), separators=(",", ":"), sort_keys=True)
    token = base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")
    return f"{base_url.rstrip('/')}/#case={token}"


def assessment_cards(
    assessment: Assessment, *, case: Case, patient_id: str, base_url: str, sources: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The patient-view cards for an assessment: one per alert (most urgent first), then a summary.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    case : Case
        The case it was made from (for the link that opens it in the Contraxis page).
    patient_id : str
        The FHIR id of the patient (for the orders suggested).
    base_url : str
        Where this service is reached (``https://host/``), for links.
    sources : mapping
        The knowledge base's sources by id (for their URLs).

    Returns
    -------
    list of dict
        The cards, in the CDS Hooks 2.0 JSON.
    """
    version = assessment.knowledge_base_version
    cards: list[dict[str, Any]] = []
    for alert in sorted(assessment.alerts, key=lambda a: urgency_rank(a.urgency)):
        why = alert.why
        detail = [f"**{alert.message}**", ""]
        if why.rationale and why.rationale != alert.message:
            detail += [why.rationale, ""]
        if why.facts:
            detail += ["Facts used: " + ", ".join(why.facts), ""]
        detail += [f"Rule `{why.rule}`. Source: {why.citation}", "",
                   f"Knowledge base {version}, HPO release {assessment.hpo_release}."]
        links = []
        url = (sources.get(why.source) or {}).get("url")
        if url:
            links.append({"label": f"Source: {why.source}", "url": url, "type": "absolute"})
        cards.append({
            "uuid": _uuid("alert", patient_id, alert.code, version),
            "summary": _summary(alert.message),
            "detail": "\n".join(detail).strip(),
            "indicator": indicator_for(alert.urgency),
            "source": {**_source(version, base_url, path=f"/knowledge/rules/{why.rule}"),
                       "topic": {"system": ALERT_SYSTEM, "code": alert.code, "display": alert.message[:100]}},
            "links": links,
        })
    cards.append(_summary_card(assessment, case=case, patient_id=patient_id, base_url=base_url))
    return cards


def _classification(assessment: Assessment) -> str:
    s = assessment.summary
    words = [w for w in (s.distribution, f"{s.onset_band} onset" if s.onset_band else None, s.associated,
                         s.etiology, f"cause: {s.cause}" if s.cause else None) if w]
    return ", ".join(words)


def _summary_card(assessment: Assessment, *, case: Case, patient_id: str, base_url: str) -> dict[str, Any]:
    version = assessment.knowledge_base_version
    headline = assessment.diagnosis or (assessment.summary.phenomenology or "Involuntary contractions")
    classification = _classification(assessment)
    detail = [f"**{headline}**" + (f" ({classification})" if classification else ""), ""]
    if assessment.workup:
        detail.append("**Work-up**")
        detail += [f"{i}. {w.label} ({w.priority}): {w.reason}" for i, w in enumerate(assessment.workup, 1)]
        detail.append("")
    if assessment.treatments:
        detail.append("**Treatment options, in order**")
        detail += [f"{t.line}. {t.label}: {t.reason}" for t in sorted(assessment.treatments, key=lambda t: t.line)]
        detail.append("")
    codes = [f"{c.system} {c.code} {c.display}" for c in assessment.codes if c.role == "main diagnosis"]
    if codes:
        detail += ["Codes: " + "; ".join(codes), ""]
    detail.append(f"Knowledge base {version}, HPO release {assessment.hpo_release}. {assessment.disclaimer}")
    suggestions = []
    for item in assessment.workup:
        if not item.loinc:
            continue
        suggestions.append({
            "label": f"Order: {item.label}",
            "uuid": _uuid("workup", patient_id, item.code, version),
            "actions": [{
                "type": "create",
                "description": f"Order {item.label.lower()}",
                "resource": {
                    "resourceType": "ServiceRequest",
                    "status": "draft",
                    "intent": "proposal",
                    "code": {"coding": [{"system": LOINC, "code": code} for code in item.loinc], "text": item.label},
                    "subject": {"reference": f"Patient/{patient_id}"},
                    "reasonCode": [{"text": item.reason}],
                },
            }],
        })
    card: dict[str, Any] = {
        "uuid": _uuid("summary", patient_id, assessment.summary.model_dump_json(), version),
        "summary": _summary(f"{headline}: {classification}" if classification else headline),
        "detail": "\n".join(detail).strip(),
        "indicator": "info",
        "source": _source(version, base_url),
        "links": [
            {"label": "Open the full assessment in Contraxis", "url": _case_link(case, base_url), "type": "absolute"}
        ],
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any"
    return card


def order_cards(
    orders: Sequence[tuple[Mapping[str, Any], str, list[Match]]],
    *,
    safety: OrderSafety,
    patient_id: str,
    version: str,
    base_url: str,
) -> list[dict[str, Any]]:
    """The cards for draft orders of drugs that the patient should not get.

    Parameters
    ----------
    orders : sequence of (resource, drug, matches)
        Each draft MedicationRequest (its ``id`` at least), an ingredient of the drug read
        from it and the contraindications found (orders without any give no card). A delete
        action names the order by ``resourceId`` as a string (``MedicationRequest/id``), as
        CDS Hooks 2.0 types it.
    safety : OrderSafety
        The reviewed checks (labels, sources, alternatives).
    patient_id : str
        The FHIR id of the patient.
    version : str
        The knowledge base's version.
    base_url : str
        Where this service is reached.

    Returns
    -------
    list of dict
        One card per order, in the CDS Hooks 2.0 JSON.
    """
    cards = []
    for resource, drug, matches in orders:
        if not matches:
            continue
        worst = max((m.contraindication.indicator for m in matches), key=INDICATORS.index)
        first = matches[0].contraindication
        more = f" (and {len(matches) - 1} more)" if len(matches) > 1 else ""
        if worst == "info":
            summary = _summary(f"{drug.capitalize()} blocks dopamine; note that this patient has {first.label}{more}")
        else:
            summary = _summary(f"Avoid {drug}: it blocks dopamine and this patient has {first.label}{more}")
        order_ref = f"MedicationRequest/{resource.get('id')}" if resource.get("id") else None
        detail = [f"**{drug}** is one of the {safety.class_label}.", ""]
        links = []
        for match in matches:
            row = match.contraindication
            source = safety.sources.get(row.source, {})
            evidence = "; ".join(f"{e.text} ({e.where})" for e in match.evidence)
            detail.append(f"- **{row.label}** — {evidence}. Source: {source.get('citation', row.source)}")
            if source.get("url"):
                links.append({"label": f"Source: {row.source}", "url": source["url"], "type": "absolute"})
        alternative = safety.alternative_for(drug)
        suggestions = []
        if alternative:
            detail += ["", f"Safer choices for {alternative.purpose}:"]
            for option in alternative.options:
                detail.append(f"- {option.name}: {option.note}")
                concept: dict[str, Any] = {"text": option.name}
                if option.rxnorm:
                    concept["coding"] = [{"system": RXNORM, "code": option.rxnorm, "display": option.name}]
                actions: list[dict[str, Any]] = []
                if order_ref:
                    actions.append({"type": "delete", "description": f"Remove the {drug} order",
                                    "resourceId": order_ref})
                actions.append({"type": "create", "description": f"Order {option.name} instead", "resource": {
                    "resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
                    "medicationCodeableConcept": concept, "subject": {"reference": f"Patient/{patient_id}"},
                }})
                suggestions.append({"label": f"Replace {drug} with {option.name}",
                                    "uuid": _uuid("replace", patient_id, drug, option.name, version),
                                    "actions": actions})
        if order_ref:
            suggestions.append({"label": f"Cancel the {drug} order",
                                "uuid": _uuid("cancel", patient_id, drug, version),
                                "actions": [{"type": "delete", "description": f"Remove the {drug} order",
                                             "resourceId": order_ref}]})
        detail += ["", f"Drug class from the Contraxis knowledge base {version}; checks reviewed {safety.reviewed}."]
        card: dict[str, Any] = {
            "uuid": _uuid("order", patient_id, drug, *(m.contraindication.id for m in matches), version),
            "summary": summary,
            "detail": "\n".join(detail),
            "indicator": worst,
            "source": _source(version, base_url, path=f"/knowledge/drugs/{safety.drug_class}"),
            "links": links,
            "overrideReasons": [
                {
                    "system": OVERRIDE_SYSTEM,
                    "code": "benefit-outweighs-risk",
                    "display": "The benefit outweighs the risk for this patient",
                },
                {"system": OVERRIDE_SYSTEM, "code": "risk-discussed", "display": "Risk discussed; patient monitored"},
            ],
        }
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "at-most-one"
        cards.append(card)
    return cards


def not_read_card(
    not_read: Sequence[NotRead],
    *,
    incomplete: Sequence[str] = (),
    patient_id: str,
    version: str,
    base_url: str,
) -> dict[str, Any]:
    """One info card listing what was not read from the request, and why.

    Parameters
    ----------
    not_read : sequence of NotRead
        What was not used, or used after a change (coerced shapes, statuses, prefetch keys
        not asked for...), with its path in the request.
    incomplete : sequence of str
        Prefetch keys whose results may be missing (an OperationOutcome, more pages): the
        summary then says "results may be missing".
    patient_id, version, base_url
        As for :func:`assessment_cards`.

    Returns
    -------
    dict
        The card, in the CDS Hooks 2.0 JSON; at most :data:`NOT_READ_LISTED` items are
        listed, the rest counted.
    """
    count = len(not_read)
    if incomplete:
        summary = f"Results may be missing: the EHR sent incomplete {', '.join(incomplete)}"
        if count:
            summary += f"; {count} item{'s' if count != 1 else ''} not read"
    else:
        summary = (f"Contraxis did not read {count} item{'s' if count != 1 else ''} of this record, "
                   "or read them after a change")
    detail = []
    if incomplete:
        detail += [
            f"**Results may be missing** from {', '.join(incomplete)}: the answer may leave out what they hold.",
            "",
        ]
    if count:
        detail.append("**Not read, or read after a change**")
        for item in not_read[:NOT_READ_LISTED]:
            detail.append(f"- `{item.path}` {item.value}: {item.reason}")
        if count > NOT_READ_LISTED:
            detail.append(f"- and {count - NOT_READ_LISTED} more")
    token = "|".join(f"{i.path}:{i.reason}" for i in not_read) + "|" + ",".join(incomplete)
    return {
        "uuid": _uuid("not-read", patient_id, token, version),
        "summary": _summary(summary),
        "detail": "\n".join(detail).strip(),
        "indicator": "info",
        "source": _source(version, base_url),
    }
