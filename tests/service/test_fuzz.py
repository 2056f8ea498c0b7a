"""Check the OpenAPI document against the service with schemathesis: every phase, every check.

The phases are the operations' examples, the coverage of each schema's edges, fuzzing with
Hypothesis, and the stateful phase (sequences of calls along the document's links, in
``test_fuzz_stateful.py``). Every check runs, none with a 5xx allowed: no server error, status
codes, content types, headers and bodies as documented, schema-valid input accepted,
schema-violating input refused, ``Allow`` on 405, and the rest of schemathesis' built-in checks.

Bounded in time for CI (about a minute here on two cores): at most ``MAX_EXAMPLES`` fuzzed
inputs per operation, derandomized (the same inputs on every run), against the ASGI app in process.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from contraxis.service import ServiceSettings, create_app  # noqa: E402

MAX_EXAMPLES = 20
"""Fuzzed inputs per operation (the examples and coverage phases add their own, a bounded set)."""

CHECKED_BEYOND_THE_SCHEMA: list[dict[str, str]] = [
    {"include-method": "POST", "include-path-regex": r"^/(assess|differential|report(/.*)?)$"},
    {"include-method": "POST", "include-path-regex": r"^/fhir/"},
    {"include-method": "POST", "include-path-regex": r"^/cds-services/"},
    {"include-method": "POST", "include-path-regex": r"^/registry/"},
    {"include-method": "POST", "include-path-regex": r"^/screening/jobs$"},
    {"include-method": "POST", "include-path-regex": r"^/note$"},
    {"include-method": "GET", "include-path-regex": r"^/terminology/(drugs/resolve|labs/check)$"},
]
"""Operations whose input is checked beyond what a JSON Schema can say, so that a schema-valid
input may rightly be refused with 422 naming the field: a case's terms, genes and codes against
the knowledge base and the code tables, a case that contradicts itself, a FHIR resource's
content, a rating scale's items, a toxin's label, a population file that must exist, a LOINC
code that must be known, a drug given by name or by code (one of two)."""


PHASES = ("examples", "coverage", "fuzzing", "stateful")


def fuzz_config(phases: tuple[str, ...] = PHASES) -> SchemathesisConfig:
    """Every check, the ``phases`` given (all by default), seeded; 422 also accepted as the answer
    to schema-valid input on the operations of :data:`CHECKED_BEYOND_THE_SCHEMA`."""
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
    operations: list[dict[str, Any]] = [
        {**selector, "checks": {"positive_data_acceptance": {"expected-statuses": accepted}}}
        for selector in CHECKED_BEYOND_THE_SCHEMA
    ]
    return SchemathesisConfig.from_dict({
        "seed": 20260302,
        "phases": {phase: {"enabled": phase in phases} for phase in PHASES},
        "checks": {"enabled": True},
        "operations": operations,
    })


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    APP = create_app(ServiceSettings(preload=False))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=fuzz_config())


@SCHEMA.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          database=None)
def test_every_operation_answers_as_documented(case: Any) -> None:
    """Check every operation with every check: any failure names the check, the request and the answer."""
    case.call_and_validate()
