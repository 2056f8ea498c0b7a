"""The stateful phase of schemathesis: sequences of calls along the OpenAPI document's links
(a visit added, then read, scored, re-assessed and exported; a screening job started, then
followed), each answer checked with every check, as in ``test_fuzz.py``.

Bounded for CI: a few derandomized sequences of a few steps each.
"""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from .test_fuzz import SCHEMA  # noqa: E402

Machine = SCHEMA.as_state_machine()
Machine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck),
    derandomize=True, database=None,
)
TestStatefulLinks = Machine.TestCase
