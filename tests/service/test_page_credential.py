"""The intake page with authentication on: it asks for a token or key when the service does,
and sends it (Debian's Chromium driven by Playwright; skipped, saying why, without them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contraxis.service.auth import hash_api_key, new_api_key

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory):
    from contraxis.service.loadbench import free_port, start_server, stop_server

    key = new_api_key()
    env = {"CONTRAXIS_STATE_DIR": str(tmp_path_factory.mktemp("state")),
           "CONTRAXIS_API_KEYS": json.dumps([{"name": "dr", "roles": ["clinician"], "sha256": hash_api_key(key)}])}
    port = free_port()
    process = start_server(port=port, workers=1, env=env)
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        stop_server(process)


def test_the_page_asks_for_a_credential_and_sends_it(secured_server):
    """Check that Assess without a credential shows the credential field and the refusal, and that
    the key typed there lets the case be assessed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    base, key = secured_server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(base + "/")
            page.wait_for_selector("body[data-ready=true]")
            assert page.is_hidden("#credential")
            page.fill("#age", "55")
            page.click("#assess")
            page.wait_for_selector("#credential:not([hidden])")
            assert "Authorization header is required" in page.text_content("#errors")
            page.fill("#credential-input", key)
            page.click("#assess")
            page.wait_for_selector("#results[data-assessed=true]")
            assert page.text_content("#status").startswith("Assessed")
            assert errors == []
        finally:
            browser.close()
