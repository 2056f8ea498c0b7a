"""Reading request bodies: JSON (or YAML) into plain data, with errors that name the problem,
and how large a body each route accepts.

Most routes take one case or one Bundle and keep the service's limit (1 MiB by default). The
CDS Hooks services take a whole prefetched record (conditions, results, drugs, allergies),
which real EHRs send in several megabytes: they accept up to :data:`CDS_BODY_BYTES`.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ..errors import Problem
from .errors import RequestError

__all__ = ["CDS_BODY_BYTES", "CDS_PREFIX", "JSON_TYPES", "YAML_TYPES", "body_limit", "read_document"]

MiB = 1024 * 1024
CDS_PREFIX = "/cds-services/"
CDS_BODY_BYTES = 8 * MiB
"""Largest body a CDS Hooks service accepts: a patient's prefetched record."""
PARSE_IN_THREAD_BYTES = 256 * 1024
"""Bodies larger than this are parsed off the event loop, so that the service keeps answering."""


def body_limit(path: str, default: int) -> int:
    """The largest request body accepted on ``path``.

    Parameters
    ----------
    path : str
        The request path.
    default : int
        The service's limit (``ServiceSettings.max_body_bytes``).

    Returns
    -------
    int
        :data:`CDS_BODY_BYTES` (or the default, if larger) for a CDS Hooks service call;
        the default for every other route.
    """
    if path.startswith(CDS_PREFIX) and not path.rstrip("/").endswith("/feedback"):
        return max(default, CDS_BODY_BYTES)
    return default


JSON_TYPES = ("application/json", "application/fhir+json", "application/cds-hooks+json")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def _media_type(request: Request) -> str:
    value = request.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


async def read_document(request: Request, *, yaml_allowed: bool = True) -> Any:
    """Read the request body as JSON (or YAML, when its content type says so).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    yaml_allowed : bool
        Whether a YAML body is accepted (cases and vignettes: yes; FHIR and CDS Hooks: no).

    Returns
    -------
    Any
        The parsed document, also kept as ``request.state.document`` (the audit log takes the
        patient id from it, :mod:`contraxis.service.access`).

    Raises
    ------
    RequestError
        400 for an empty or malformed body, 415 for a content type not accepted, 413 (from
        the middleware) for a body over the limit.
    """
    document = await _parse_document(request, yaml_allowed=yaml_allowed)
    request.state.document = document
    return document


async def _parse_document(request: Request, *, yaml_allowed: bool) -> Any:
    media = _media_type(request)
    accepted = JSON_TYPES + (YAML_TYPES if yaml_allowed else ())
    if media and media not in accepted and not media.endswith("+json"):
        raise RequestError(
            [Problem("content-type", f"{media!r} is not accepted (allowed: {', '.join(accepted)})")], status=415
        )
    raw = await request.body()
    if not raw.strip():
        raise RequestError([Problem("body", "is empty: send a JSON document")], status=400)
    if media in YAML_TYPES:
        try:
            text = raw.decode("utf-8")
            return yaml.safe_load(text)
        except UnicodeDecodeError:
            raise RequestError([Problem("body", "is not UTF-8 text")], status=400) from None
        except yaml.YAMLError as error:
            detail = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise RequestError([Problem("body", f"is not valid YAML: {detail}")], status=400) from None
        except RecursionError:
            raise RequestError([Problem("body", "is nested too deeply")], status=400) from None
    try:
        if len(raw) > PARSE_IN_THREAD_BYTES:
            return await run_in_threadpool(json.loads, raw)
        return json.loads(raw)
    except UnicodeDecodeError:
        raise RequestError([Problem("body", "is not UTF-8 text")], status=400) from None
    except json.JSONDecodeError as error:
        raise RequestError(
            [Problem("body", f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}")], status=400
        ) from None
    except RecursionError:
        raise RequestError([Problem("body", "is nested too deeply")], status=400) from None
