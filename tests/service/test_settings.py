"""The settings: the README's production example is valid, and what each setting derives."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from contraxis.service.settings import ServiceSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def production_example() -> dict:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- production-settings -->\s*```yaml\n(.*?)```\s*<!-- /production-settings -->", text, re.S)
    assert block, "the README's production settings example is missing"
    return yaml.safe_load(block.group(1))


def test_the_readmes_production_example_is_valid(tmp_path, monkeypatch):
    """Check that the README's production settings validate as they stand, and ask for what the
    README says: TLS, two workers or more, issuers, keys, limits, the audit path."""
    path = tmp_path / "contraxis.yaml"
    path.write_text(yaml.safe_dump(production_example()))
    for name in [n for n in os.environ if n.startswith("CONTRAXIS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CONTRAXIS_SETTINGS_FILE", str(path))
    settings = ServiceSettings()
    assert settings.tls and settings.workers >= 2 and settings.authentication
    assert settings.cds_clients and settings.oidc_providers and settings.api_keys
    assert str(settings.audit_path) == "/var/log/contraxis/audit.jsonl"
    assert settings.base_url == "https://cds.hospital.example"
    assert settings.exposure()[0] == []  # nothing stops it from starting
    assert "limits" in production_example()


def test_secrets_are_not_shown():
    """Check that the settings shown to an admin leave out key hashes and the audit key."""
    settings = ServiceSettings(api_keys=[{"name": "k", "sha256": "a" * 64}], audit={"key": "s" * 40})
    shown = str(settings.redacted())
    assert "a" * 64 not in shown and "s" * 40 not in shown and "'k'" in shown
