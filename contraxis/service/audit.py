"""The audit log: who asked what, when, with what outcome, and never the patient's data.

Every request that carries patient data (every ``POST``, and the administrator's reads) is
written as one FHIR R4 AuditEvent in a JSON line, to the file the operator sets
(``audit.path``; ``STATE_DIR/audit.jsonl`` by default). A line holds:

- the route (its template: ``POST /cds-services/{service_id}``), the action and the outcome
  (the AuditEvent outcome code and the HTTP status);
- who asked: the user, the API key's name or the CDS client (``iss`` and ``sub``), and the
  network address it came from;
- the patient, only as a keyed hash: HMAC-SHA256 of the patient id with the service's audit
  key, so that an operator holding the key can find one patient's lines, and no one else can
  read an id back (names, birth dates and identifiers are never written);
- the knowledge-base version that answered.

CDS Hooks feedback (``POST /cds-services/{id}/feedback``) is written the same way, one line per
call, with each card's id, outcome, accepted suggestions and override reason code (a user's
free-text comment is not kept, only whether there was one).

Code systems are FHIR R4's: ``audit-event-type`` (``rest``), ``restful-interaction``
(``operation``), ``audit-event-action`` (``E``: execute), ``audit-event-outcome`` (0, 4, 8, 12),
``security-source-type`` (4: application server), ``audit-entity-type``, ``object-role`` (1:
patient, 24: query), DICOM 110150 (application) and ``extra-security-role-type`` (human user).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import itertools
import json
import logging
import os
import secrets
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .settings import ServiceSettings

__all__ = [
    "AuditLog",
    "audit_event",
    "audit_line",
    "feedback_items",
    "load_audit_key",
    "outcome_code",
    "patient_id_of",
    "patient_reference",
    "read_events",
]

_log = logging.getLogger(__name__)

AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
SECURITY_ROLE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
PATIENT_HASH_SYSTEM = "urn:contraxis:audit:patient-hmac-sha256"
"""The identifier system of a patient's keyed hash in the audit log."""
CLIENT_SYSTEM = "urn:contraxis:audit:client"
MAX_LINE_BYTES = 16 * 1024
"""A line is cut to this size (free text from clients is short already); one write per line."""


def outcome_code(status: int) -> str:
    """The AuditEvent outcome for an HTTP status: 0 success, 4 refused or bad request, 8 server failure."""
    if status < 400:
        return "0"
    if status < 500:
        return "4"
    return "8"


def load_audit_key(settings: ServiceSettings) -> bytes:
    """The HMAC key patient ids are hashed with.

    ``audit.key`` when set; else the key in ``audit.key_file`` (``STATE_DIR/audit.key``), made
    there on first start (32 random bytes, readable by the service's user only) so that every
    worker and every restart hashes a patient alike.

    Raises
    ------
    OSError
        When the key file can be neither read nor made.
    """
    if settings.audit.key is not None:
        return settings.audit.key.get_secret_value().encode()
    path = settings.audit_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another worker made it first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise OSError(f"{path}: the audit key is shorter than 32 characters")
    return key.encode()


def patient_reference(key: bytes, patient_id: str) -> str:
    """The keyed hash of a patient id written in the audit log (HMAC-SHA256, hex)."""
    return hmac.new(key, patient_id.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def _patient_in_bundle(document: Mapping[str, Any]) -> str | None:
    entries = document.get("entry")
    if not isinstance(entries, list):
        return None
    for entry in entries[:10_000]:
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(resource, Mapping) and resource.get("resourceType") == "Patient":
            return _text(resource.get("id"))
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def patient_id_of(document: Any) -> str | None:
    """The patient id a request is about, whatever its shape; None when it names none.

    A CDS Hooks request's ``context.patientId``; a FHIR Bundle's Patient, a Patient resource,
    or a resource's ``subject.reference``; a phenopacket's ``subject.id``; a native case's ``id``.
    """
    if not isinstance(document, Mapping):
        return None
    context = document.get("context")
    if isinstance(context, Mapping) and "hook" in document:
        return _text(context.get("patientId"))
    kind = document.get("resourceType")
    if kind == "Bundle":
        return _patient_in_bundle(document)
    if kind == "Patient":
        return _text(document.get("id"))
    subject = document.get("subject")
    if isinstance(subject, Mapping):
        reference = _text(subject.get("reference"))
        if kind and reference:
            return reference.removeprefix("Patient/")
        return _text(subject.get("id"))
    return _text(document.get("id")) if not kind else None


def feedback_items(body: Any) -> list[dict[str, Any]]:
    """The cards' outcomes of a CDS Hooks feedback call, without free text.

    Each item keeps ``card`` (its id), ``outcome`` (accepted or overridden),
    ``acceptedSuggestions`` (ids), ``overrideReason`` (system and code), ``userComment``
    (only whether there was one) and ``outcomeTimestamp``.
    """
    items = body.get("feedback") if isinstance(body, Mapping) else None
    kept = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        given = item.get("overrideReason")
        reason: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        coding: Mapping[str, Any] = reason["reason"] if isinstance(reason.get("reason"), Mapping) else {}
        listed = item.get("acceptedSuggestions")
        suggestions: list[Any] = listed if isinstance(listed, list) else []
        kept.append({
            "card": str(item.get("card", ""))[:64],
            "outcome": str(item.get("outcome", ""))[:20],
            "acceptedSuggestions": [str(s.get("id"))[:64] for s in suggestions[:20] if isinstance(s, Mapping)],
            "overrideReason": {"system": str(coding.get("system", ""))[:120], "code": str(coding.get("code", ""))[:64]}
            if coding else None,
            "userComment": bool(reason.get("userComment")),
            "outcomeTimestamp": str(item.get("outcomeTimestamp", ""))[:40],
        })
    return kept


def _agent(principal: Any, address: str | None) -> dict[str, Any]:
    if principal is None:
        agent: dict[str, Any] = {"who": {"display": "not authenticated"}, "requestor": True}
        if address:
            agent["network"] = {"address": address, "type": "2"}
        return agent
    kind = getattr(principal, "kind", "anonymous")
    human = kind in ("user", "anonymous")
    coding = (
        {"system": SECURITY_ROLE, "code": "humanuser", "display": "human user"}
        if human else {"system": DICOM, "code": "110150", "display": "Application"}
    )
    agent = {
        "type": {"coding": [coding]},
        "who": {"identifier": {"system": getattr(principal, "issuer", None) or f"{CLIENT_SYSTEM}:{kind}",
                               "value": getattr(principal, "name", "anonymous")}},
        "requestor": True,
    }
    if address:
        agent["network"] = {"address": address, "type": "2"}
    return agent


_EVENT_TYPE = {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
_SUBTYPE = [{"system": RESTFUL_INTERACTION, "code": "operation", "display": "operation"}]
_SOURCE = {"observer": {"display": "contraxis"},
           "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}]}


def _details(route: str, status: int, knowledge_base: str | None, service: str | None,
             feedback: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    details = [{"type": "route", "valueString": route}, {"type": "status", "valueString": str(status)}]
    if service:
        details.append({"type": "service", "valueString": service[:80]})
    if knowledge_base:
        details.append({"type": "knowledge-base-version", "valueString": knowledge_base})
    if feedback is not None:
        details.append({"type": "cds-feedback", "valueString": json.dumps(list(feedback), separators=(",", ":"))})
    return details


def _request_entity(details: list[dict[str, str]], route: str) -> dict[str, Any]:
    return {
        "what": {"display": route},
        "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
        "detail": details,
    }


def _patient_entity(patient: str) -> dict[str, Any]:
    return {
        "what": {"identifier": {"system": PATIENT_HASH_SYSTEM, "value": patient}},
        "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
    }


def _recorded(when: datetime | None) -> str:
    return (when or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audit_event(
    *,
    route: str,
    status: int,
    principal: Any,
    address: str | None,
    patient: str | None,
    knowledge_base: str | None,
    reason: str | None = None,
    service: str | None = None,
    feedback: Sequence[Mapping[str, Any]] | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    """One request as a FHIR R4 AuditEvent (plain JSON data).

    Parameters
    ----------
    route : str
        The method and route template (``POST /assess``); never the query.
    status : int
        The HTTP status answered.
    principal : Principal
        Who asked (:class:`contraxis.service.auth.Principal`); None when no one was recognised.
    address : str, optional
        The client's network address.
    patient : str, optional
        The patient's keyed hash (:func:`patient_reference`), never the id itself.
    knowledge_base : str, optional
        The knowledge-base version that answered.
    reason : str, optional
        Why a request was refused (an authentication failure).
    service : str, optional
        The CDS Hooks service called.
    feedback : list of dict, optional
        CDS Hooks feedback items (:func:`feedback_items`).
    when : datetime, optional
        The time recorded (now, UTC, if omitted).
    """
    entities = [_request_entity(_details(route, status, knowledge_base, service, feedback), route)]
    if patient:
        entities.insert(0, _patient_entity(patient))
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid4()),
        "type": _EVENT_TYPE,
        "subtype": _SUBTYPE,
        "action": "E",
        "recorded": _recorded(when),
        "outcome": outcome_code(status),
        "agent": [_agent(principal, address)],
        "source": _SOURCE,
        "entity": entities,
    }
    if reason:
        event["outcomeDesc"] = reason[:200]
    copy: dict[str, Any] = json.loads(json.dumps(event))  # a plain copy: nothing shared with the constants
    return copy


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True)


_LINE_HEAD = '{"resourceType":"AuditEvent","id":"'
_LINE_TYPE = f'"type":{_dumps(_EVENT_TYPE)},"subtype":{_dumps(_SUBTYPE)},"action":"E"'
_LINE_SOURCE = f'"source":{_dumps(_SOURCE)}'


@functools.lru_cache(maxsize=512)
def _agent_json(principal: Any, address: str | None) -> str:
    return _dumps(_agent(principal, address))


@functools.lru_cache(maxsize=512)
def _entity_json(route: str, status: int, knowledge_base: str | None, service: str | None) -> str:
    return _dumps(_request_entity(_details(route, status, knowledge_base, service, None), route))


_PATIENT_JSON = _dumps(_patient_entity("HASH")).split('"HASH"')


def _patient_json(patient: str) -> str:
    return _PATIENT_JSON[0] + _dumps(patient) + _PATIENT_JSON[1]


_ID_PREFIX = secrets.token_hex(8)
_ids = itertools.count(1)
_second: list[Any] = [None, ""]


def _line_id() -> str:
    """A FHIR id unique to this event: the worker's random prefix and a counter."""
    return f"{_ID_PREFIX}-{next(_ids):x}"


def _now_text() -> str:
    """Now (UTC) to the millisecond, as :func:`_recorded` writes it; the second's text is kept."""
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((now - second) * 1000):03d}Z"


def audit_line(
    *,
    route: str,
    status: int,
    principal: Any,
    address: str | None,
    patient: str | None,
    knowledge_base: str | None,
    reason: str | None = None,
    service: str | None = None,
    feedback: Sequence[Mapping[str, Any]] | None = None,
) -> bytes:
    """:func:`audit_event` as one JSON line, built from cached pieces (the request's hot path).

    The same event, field for field, as ``json.dumps(audit_event(...))``; the parts that repeat
    (the event type, the source, who asked from where, the route's entity) are serialised once.
    """
    if feedback is None:
        entity = _entity_json(route, status, knowledge_base, service)
    else:
        entity = _dumps(_request_entity(_details(route, status, knowledge_base, service, feedback), route))
    entities = f"{_patient_json(patient)},{entity}" if patient else entity
    try:
        agent = _agent_json(principal, address)
    except TypeError:  # a principal that cannot be a cache key
        agent = _dumps(_agent(principal, address))
    described = f',"outcomeDesc":{_dumps(reason[:200])}' if reason else ""
    return (f'{_LINE_HEAD}{_line_id()}",{_LINE_TYPE},"recorded":"{_now_text()}",'
            f'"outcome":"{outcome_code(status)}","agent":[{agent}],{_LINE_SOURCE},"entity":[{entities}]'
            f"{described}}}").encode()


class AuditLog:
    """Appends AuditEvents as JSON lines to one file, shared safely by the workers.

    Each line is written with one ``write`` to a file opened for appending, so that lines of
    several processes never interleave. A failure to write is logged (the answer is not lost).

    Parameters
    ----------
    path : pathlib.Path or None
        The file (made with its folder, readable by the service's user only); None: off.
    key : bytes
        The HMAC key for patient ids.
    """

    def __init__(self, path: Path | None, *, key: bytes = b"") -> None:
        self.path = path
        self.key = key
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> AuditLog:
        """The log the settings ask for (off when ``audit.enabled`` is false)."""
        if not settings.audit.enabled:
            return cls(None)
        return cls(settings.audit_path, key=load_audit_key(settings))

    @property
    def enabled(self) -> bool:
        """Whether lines are written."""
        return self._fd is not None

    def patient(self, patient_id: str | None) -> str | None:
        """The keyed hash of ``patient_id`` (None for None)."""
        return patient_reference(self.key, patient_id) if patient_id else None

    def write(self, event: Mapping[str, Any] | bytes) -> None:
        """Append one event (an AuditEvent, or its JSON line from :func:`audit_line`) as a line."""
        if self._fd is None:
            return
        line = event if isinstance(event, bytes) else _dumps(event).encode()
        if len(line) >= MAX_LINE_BYTES:
            data = json.loads(line)
            line = _dumps({**data, "entity": data.get("entity", [])[-1:], "truncated": True}).encode()
            line = line[: MAX_LINE_BYTES - 1]
        try:
            os.write(self._fd, line + b"\n")
        except OSError as error:
            _log.error("audit log %s cannot be written: %s", self.path, error)

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _tail_lines(path: Path, *, max_bytes: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - max_bytes))
        data = handle.read()
    lines = data.split(b"\n")
    if size > max_bytes:
        lines = lines[1:]  # the first is cut
    yield from (line for line in lines if line.strip())


def read_events(path: Path, *, limit: int = 100, route: str | None = None, feedback_of: str | None = None,
                max_bytes: int = 32 * 1024 * 1024) -> list[dict[str, Any]]:
    """The newest events of the audit log, oldest first (for the administrator's routes).

    Parameters
    ----------
    path : pathlib.Path
        The audit log.
    limit : int
        At most this many events.
    route : str, optional
        Only events of this route template (``POST /assess``).
    feedback_of : str, optional
        Only CDS Hooks feedback on this service id.
    max_bytes : int
        How much of the end of the file is read.
    """
    if not path.exists():
        return []
    found: deque[dict[str, Any]] = deque(maxlen=limit)
    for line in _tail_lines(path, max_bytes=max_bytes):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        details = {d.get("type"): d.get("valueString") for e in event.get("entity", []) for d in e.get("detail", [])}
        if route is not None and details.get("route") != route:
            continue
        if feedback_of is not None and (details.get("service") != feedback_of or "cds-feedback" not in details):
            continue
        found.append(event)
    return list(found)
