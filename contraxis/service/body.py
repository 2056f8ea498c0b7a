"""Reading request bodies: JSON (or YAML) into plain data, with errors that name the problem."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import Request

from ..errors import Problem
from .errors import RequestError

__all__ = ["JSON_TYPES", "YAML_TYPES", "read_document"]

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
        The parsed document.

    Raises
    ------
    RequestError
        400 for an empty or malformed body, 415 for a content type not accepted, 413 (from
        the middleware) for a body over the limit.
    """
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
        return json.loads(raw)
    except UnicodeDecodeError:
        raise RequestError([Problem("body", "is not UTF-8 text")], status=400) from None
    except json.JSONDecodeError as error:
        raise RequestError(
            [Problem("body", f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}")], status=400
        ) from None
    except RecursionError:
        raise RequestError([Problem("body", "is nested too deeply")], status=400) from None
