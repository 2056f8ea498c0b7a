"""Fuzz every operation of the OpenAPI document with schemathesis: no input may give a 5xx.

Bounded: a few examples per operation, no deadline per example, against the ASGI app in process.
"""

from __future__ import annotations

import warnings

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from contraxis.service import ServiceSettings, create_app  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    APP = create_app(ServiceSettings(preload=False))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)


@SCHEMA.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_operation_answers_5xx(case):
    """Check that no generated request, valid or not, gets a server error or a traceback.

    The one 5xx allowed is 503 from /differential while its index is not available, which
    names why (the differential is optional; the rest of the service works without it).
    """
    response = case.call()
    unavailable = (
        response.status_code == 503 and case.path == "/differential" and not APP.state.engine.differential_ready
    )
    assert response.status_code < 500 or unavailable, (
        f"{case.method} {case.path}: {response.status_code} {response.text[:500]}"
    )
    assert "Traceback" not in response.text
