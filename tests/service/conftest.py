"""Fixtures of the service tests: one app (with a pinned date), its client, snapshots."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# Every app a test builds writes its audit log, key and jti store in a folder of its own, never
# in the user's state folder, and is reached at the test client's host.
os.environ.setdefault("CONTRAXIS_STATE_DIR", tempfile.mkdtemp(prefix="contraxis-test-state-"))
os.environ.setdefault("CONTRAXIS_PUBLIC_URL", "http://testserver")
os.environ.setdefault("CONTRAXIS_REGISTRY_URL", f"sqlite:///{tempfile.mkdtemp(prefix='contraxis-test-registry-')}/r.sqlite")

from contraxis.service import ServiceSettings, create_app  # noqa: E402

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
TODAY = date(2026, 3, 2)
"""The date the CDS Hooks services read FHIR data at, in these tests."""
PUBLIC_URL = "http://testserver"
"""The public base URL of the app under test (the test client's host): every link starts with it."""


@pytest.fixture(scope="session")
def app() -> Any:
    return create_app(ServiceSettings(today=TODAY, public_url=PUBLIC_URL))


@pytest.fixture(scope="session")
def client(app: Any) -> Any:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def vignette(vignette_dir: Path) -> Callable[[str], dict[str, Any]]:
    def load(prefix: str) -> dict[str, Any]:
        (path,) = sorted(vignette_dir.glob(f"{prefix}-*.yaml"))
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    return load


@pytest.fixture
def snapshot() -> Callable[[str, Any], None]:
    """Compare data with ``snapshots/NAME.json``; ``CONTRAXIS_UPDATE_SNAPSHOTS=1`` rewrites it.

    Snapshots depend on the knowledge base's wording: after a reviewed change, rerun with
    ``CONTRAXIS_UPDATE_SNAPSHOTS=1 pytest tests/service`` and read the diff before committing.
    """

    def check(name: str, data: Any) -> None:
        path = SNAPSHOTS / f"{name}.json"
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if os.environ.get("CONTRAXIS_UPDATE_SNAPSHOTS") == "1" or not path.exists():
            path.write_text(text, encoding="utf-8")
            if os.environ.get("CONTRAXIS_UPDATE_SNAPSHOTS") != "1":
                pytest.fail(f"wrote the new snapshot {path.name}: check it and run again")
            return
        assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), (
            f"{name} differs from its snapshot; if the change is intended, rerun with CONTRAXIS_UPDATE_SNAPSHOTS=1"
        )

    return check
