"""Schemathesis, every phase and every check, with authentication on: each operation behind a
door is documented with its security scheme and its 401 and 403 answers, and called with a
valid credential (a clinician and administrator API key; a fresh CDS client JWT per call); the
``ignored_auth`` check calls it again without one and expects the refusal.

Bounded: the examples and fuzzing phases, a few fuzzed inputs per operation; the coverage and
stateful phases run without authentication (``test_fuzz.py``, ``test_fuzz_stateful.py``), where
the operations answer the same once past their door.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from contraxis.service import ServiceSettings, create_app  # noqa: E402
from contraxis.service.access import Door, door_of  # noqa: E402
from contraxis.service.auth import hash_api_key, new_api_key  # noqa: E402
from contraxis.service.settings import ApiKey, CdsClient  # noqa: E402

from .identity import Issuer  # noqa: E402
from .test_fuzz import fuzz_config  # noqa: E402

PUBLIC = "http://testserver"
EHR = Issuer("https://ehr.example.org", alg="ES256")
API_KEY = new_api_key()


def _secured_app(folder: Any) -> Any:
    (folder / "ehr-jwks.json").write_text(json.dumps(EHR.jwks()), encoding="utf-8")
    configured = ServiceSettings(
        preload=False, public_url=PUBLIC, state_dir=folder / "state",
        cds_clients=[CdsClient(issuer=EHR.iss, jwks_file=folder / "ehr-jwks.json", subjects=("ehr-client",))],
        api_keys=[ApiKey(name="fuzz-key", sha256=hash_api_key(API_KEY), roles=("clinician", "admin"))],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_app(configured)


def _folder() -> Any:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="contraxis-fuzz-auth-"))


APP = _secured_app(_folder())
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=fuzz_config(phases=("examples", "fuzzing")))


@SCHEMA.auth(refresh_interval=None)
class Credentials:
    """The API key for the REST doors, a JWT signed by the EHR's key for each CDS call."""

    def get(self, case: Any, context: Any) -> str:
        return API_KEY

    def set(self, case: Any, data: str, context: Any) -> None:
        path = case.path.format(**{k: str(v) for k, v in (case.path_parameters or {}).items()})
        if door_of(case.method.upper(), path) is Door.CDS:
            data = EHR.token(aud=f"{PUBLIC}{path.rstrip('/')}")
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def test_doors_are_documented() -> None:
    """Check that each operation behind a door names its scheme and its 401 and 403 answers."""
    document = APP.openapi()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "cdsClientJwt"}
    secured = [(path, operation) for path, operations in document["paths"].items()
               for operation in operations.values() if "security" in operation]
    assert any(path == "/assess" for path, _ in secured)
    assert any(path.startswith("/cds-services/{") for path, _ in secured)
    for _, operation in secured:
        assert {"401", "403"} <= set(operation["responses"])


@SCHEMA.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_every_operation_answers_as_documented_with_authentication(case: Any) -> None:
    """Check every operation with every check, ``ignored_auth`` among them."""
    case.call_and_validate()
