"""Security headers: a CSP the page satisfies, no sniffing, never framed, no referrer, HSTS over
HTTPS, and answers with patient data never cached."""

from __future__ import annotations

import base64
import hashlib
import re
import warnings
from html.parser import HTMLParser
from importlib.resources import files

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CASE = {"id": "case-1", "age": 55, "sex": "male", "regions": ["neck"], "findings": ["HP:0000473"]}


def directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("route", ["/", "/docs", "/health", "/knowledge", "/openapi.json"])
def test_every_answer_carries_the_security_headers(client, route):
    """Check the CSP, nosniff, frame-ancestors, X-Frame-Options and Referrer-Policy on each answer."""
    answer = client.get(route)
    assert answer.status_code == 200
    policy = directives(answer.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in answer.headers  # plain HTTP


def test_hsts_is_sent_over_https(app):
    """Check that an answer over HTTPS carries Strict-Transport-Security."""
    with TestClient(app, base_url="https://testserver") as secure:
        answer = secure.get("/health")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert int(answer.headers["strict-transport-security"].split("=")[1]) >= 31_536_000 // 2


@pytest.mark.parametrize("route, body", [
    ("/assess", CASE), ("/report", CASE), ("/report/html", CASE), ("/report/handout", CASE),
    ("/fhir/case", {"resourceType": "Bundle", "type": "collection", "entry": []}),
    ("/cds-services/contraxis-patient-view", {"hook": "patient-view"}),
])
def test_answers_with_patient_data_are_never_stored(client, route, body):
    """Check that every answer to a request with patient data, good or bad, says no-store."""
    answer = client.post(route, json=body)
    assert answer.headers["cache-control"] == "no-store", (route, answer.status_code)


class _Inline(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, event handlers, style attributes and elements."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        if "style" in names:
            self.found.append(f"style attribute on <{tag}>")
        self.found += [f"{name} handler on <{tag}>" for name in names if name.startswith("on")]


@pytest.mark.parametrize("route", ["/", "/docs", "/knowledge"])
def test_the_pages_need_nothing_inline(client, route):
    """Check that the page, the API docs and the knowledge pages hold no inline script or style."""
    parser = _Inline()
    parser.feed(client.get(route).text)
    assert parser.found == []


def test_the_page_script_writes_no_inline_style():
    """Check that the page's script sets no style attribute nor inline handler (CSP 'self' only)."""
    script = (files("contraxis.service") / "static" / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"setAttribute\(\s*['\"](style|on\w+)['\"]|\.innerHTML\s*=\s*`[^`]*style=|eval\(", script)


def test_a_standalone_report_is_allowed_its_own_stylesheet_only(client):
    """Check that /report/html's <style> is allowed by its SHA-256, and nothing else inline."""
    answer = client.post("/report/html", json=CASE)
    assert answer.status_code == 200
    styles = re.findall(r"<style[^>]*>(.*?)</style>", answer.text, re.DOTALL)
    assert styles
    policy = directives(answer.headers["content-security-policy"])
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["style-src"]
    assert policy["script-src"] == ["'self'"]


def test_the_docs_do_not_try_requests_by_default(client):
    """Check that /docs starts Swagger UI with "Try it out" off."""
    assert 'data-try-it-out="false"' in client.get("/docs").text
