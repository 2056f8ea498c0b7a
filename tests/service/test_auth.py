"""Authentication at each door: the CDS client's signed JWT (CDS Hooks 2.0), OpenID Connect
tokens and API keys for the REST API and the page, and the clinician and admin roles.

No test reaches the network: the EHR's JWK Set is a file, the identity provider's is served on
127.0.0.1 by the test itself.
"""

from __future__ import annotations

import json
import time
import warnings
from types import SimpleNamespace

import jwt
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from contraxis.service import ServiceSettings, create_app
from contraxis.service.auth import hash_api_key, new_api_key
from contraxis.service.settings import ApiKey, CdsClient, OidcProvider

from .conftest import TODAY
from .identity import Issuer, serve_jwks, unsigned

PUBLIC = "https://cds.example.org"
SERVICE = "contraxis-patient-view"
AUDIENCE = f"{PUBLIC}/cds-services/{SERVICE}"
CASE = {"id": "case-1", "age": 55, "sex": "male", "regions": ["neck"], "findings": ["HP:0000473"]}


def patient_view(patient_id: str = "p1") -> dict:
    """A patient-view call whose prefetch holds only the patient (no finding: no card)."""
    patient = {"resourceType": "Patient", "id": patient_id, "gender": "female", "birthDate": "1970-01-01"}
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": patient_id}, "prefetch": {"patient": patient}}


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    """A service with one CDS client (JWK Set file), one OpenID Connect provider (JWK Set URL on
    127.0.0.1), a clinician's and an administrator's API key; reached at its public URL."""
    folder = tmp_path_factory.mktemp("auth")
    ehr = Issuer("https://ehr.example.org", alg="ES384")
    (folder / "ehr-jwks.json").write_text(json.dumps(ehr.jwks()))
    idp = Issuer("https://idp.example.org/realms/hospital", alg="RS256", kid="idp-1")
    clinician_key, admin_key = new_api_key(), new_api_key()
    with serve_jwks(idp.jwks()) as (url, fetches):
        settings = ServiceSettings(
            today=TODAY, public_url=PUBLIC, state_dir=folder / "state",
            cds_clients=[CdsClient(issuer=ehr.iss, jwks_file=folder / "ehr-jwks.json", subjects=("ehr-client",))],
            oidc_providers=[OidcProvider(issuer=idp.iss, audience="contraxis", jwks_url=url)],
            api_keys=[ApiKey(name="dr-key", sha256=hash_api_key(clinician_key)),
                      ApiKey(name="ops-key", sha256=hash_api_key(admin_key), roles=("admin",))],
        )
        secured = create_app(settings, engine=app.state.engine)
        with TestClient(secured, base_url=PUBLIC, raise_server_exceptions=False) as client:
            yield SimpleNamespace(client=client, ehr=ehr, idp=idp, clinician_key=clinician_key,
                                  admin_key=admin_key, fetches=fetches)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(world, token: str | None, service: str = SERVICE):
    headers = bearer(token) if token is not None else {}
    return world.client.post(f"/cds-services/{service}", json=patient_view(), headers=headers)


# --- CDS Hooks: the client's JWT -----------------------------------------------------------------


def test_a_cds_call_with_a_valid_token_gets_its_cards(world):
    """Check that a token signed by the registered EHR, for this service's public URL, is let in."""
    answer = call(world, world.ehr.token(aud=AUDIENCE))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"cards": []}


def test_the_audience_may_be_a_list(world):
    """Check that ``aud`` given as a list holding the service's URL is accepted (RFC 7519)."""
    assert call(world, world.ehr.token(aud=[AUDIENCE])).status_code == 200


def _other_key_same_kid(world):
    impostor = Issuer(world.ehr.iss, alg="ES384", kid=world.ehr.kid)
    return impostor.token(aud=AUDIENCE)


SHARED_SECRET = "a shared secret of thirty-two bytes or more"


def _now() -> int:
    return int(time.time())


BAD_TOKENS = {
    "no Authorization header": (lambda w: None, "Authorization header is required"),
    "not a JWT": (lambda w: "not.a.jwt", "not a JWT"),
    "alg none, unsigned": (lambda w: unsigned({"iss": w.ehr.iss, "sub": "ehr-client", "aud": AUDIENCE,
                                               "exp": _now() + 60, "iat": _now(), "jti": "x"}), "unsigned"),
    "a shared-secret algorithm": (lambda w: jwt.encode({"iss": w.ehr.iss, "aud": AUDIENCE}, SHARED_SECRET,
                                                       algorithm="HS256"), "'HS256' is not accepted"),
    "wrong issuer": (lambda w: Issuer("https://other-ehr.example.org").token(aud=AUDIENCE),
                     "is not a CDS client allowed here"),
    "wrong signature": (_other_key_same_kid, "signature does not verify"),
    "wrong audience (another service)": (lambda w: w.ehr.token(aud=f"{PUBLIC}/cds-services/other"),
                                         "aud is not this service's URL"),
    "wrong audience (the Host header's URL)": (lambda w: w.ehr.token(aud=f"http://testserver/cds-services/{SERVICE}"),
                                               "aud is not this service's URL"),
    "expired": (lambda w: w.ehr.token(aud=AUDIENCE, iat=_now() - 400, exp=_now() - 200), "expired"),
    "issued in the future": (lambda w: w.ehr.token(aud=AUDIENCE, iat=_now() + 600, exp=_now() + 700), "not valid yet"),
    "living too long": (lambda w: w.ehr.token(aud=AUDIENCE, exp=_now() + 3600), "at most 300 s"),
    "no jti": (lambda w: w.ehr.token(aud=AUDIENCE, jti=None), "jti"),
    "no exp": (lambda w: w.ehr.token(aud=AUDIENCE, exp=None), '"exp" claim'),
    "a client id not registered": (lambda w: w.ehr.token(aud=AUDIENCE, sub="someone-else"), "sub"),
    "a key not in the JWK Set": (lambda w: w.ehr.token(aud=AUDIENCE, headers={"kid": "rotated-away"}),
                                 "not in the issuer's JWK Set"),
    "a jku elsewhere": (lambda w: w.ehr.token(aud=AUDIENCE, headers={"jku": "https://evil.example/jwks.json"}),
                        "jku"),
    "an API key": (lambda w: w.clinician_key, "not a JWT"),
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_each_bad_token_is_refused_for_its_own_reason(world, name):
    """Check that a token wrong in one way only is refused (401), naming that way."""
    make, reason = BAD_TOKENS[name]
    answer = call(world, make(world))
    assert answer.status_code == 401, answer.text
    message = answer.json()["problems"][0]["message"]
    assert reason in message, message
    assert answer.headers["www-authenticate"].startswith('Bearer realm="contraxis"')
    assert "cards" not in answer.json()


def test_a_replayed_token_is_refused(world):
    """Check that the same token (same jti) is let in once, then refused."""
    token = world.ehr.token(aud=AUDIENCE)
    assert call(world, token).status_code == 200
    again = call(world, token)
    assert again.status_code == 401
    assert "used before" in again.json()["problems"][0]["message"]


def test_the_feedback_route_takes_the_clients_token(world):
    """Check that feedback needs the client's JWT too, with aud the service (or its feedback URL)."""
    feedback = {"feedback": [{"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-03-02T10:00:00Z"}]}
    path = f"/cds-services/{SERVICE}/feedback"
    assert world.client.post(path, json=feedback).status_code == 401
    for audience in (AUDIENCE, f"{AUDIENCE}/feedback"):
        answer = world.client.post(path, json=feedback, headers=bearer(world.ehr.token(aud=audience)))
        assert answer.status_code == 200, answer.text


def test_discovery_stays_open(world):
    """Check that the discovery document (no patient data) needs no token."""
    assert world.client.get("/cds-services").status_code == 200


# --- REST API and page: OpenID Connect tokens, API keys, roles -----------------------------------------


def test_the_rest_api_refuses_a_request_without_a_credential(world):
    """Check that POST /assess without Authorization is refused (401) with a Bearer challenge."""
    answer = world.client.post("/assess", json=CASE)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["problems"][0]["field"] == "authorization"


@pytest.mark.parametrize("route", ["/assess", "/report/html", "/fhir/case", "/differential", "/report"])
def test_every_patient_route_is_closed(world, route):
    """Check that each route that takes patient data refuses a request without a credential."""
    assert world.client.post(route, json=CASE).status_code == 401


def test_a_clinicians_api_key_opens_assess(world):
    """Check that the clinician's API key is let in to assess."""
    answer = world.client.post("/assess", json=CASE, headers=bearer(world.clinician_key))
    assert answer.status_code == 200, answer.text


def test_an_unknown_api_key_is_refused(world):
    """Check that a key not issued here is refused (401)."""
    answer = world.client.post("/assess", json=CASE, headers=bearer(new_api_key()))
    assert answer.status_code == 401
    assert "not one issued here" in answer.json()["problems"][0]["message"]


def test_roles_keep_each_to_their_own(world):
    """Check that an admin key cannot assess (403), a clinician's cannot read the audit log or the
    settings (403), and the admin's can."""
    assert world.client.post("/assess", json=CASE, headers=bearer(world.admin_key)).status_code == 403
    for route in ("/audit", "/settings", f"/cds-services/{SERVICE}/feedback"):
        refused = world.client.get(route, headers=bearer(world.clinician_key))
        assert refused.status_code == 403, route
        assert "admin role" in refused.json()["problems"][0]["message"]
        assert world.client.get(route, headers=bearer(world.admin_key)).status_code == 200, route


def test_the_settings_route_shows_no_secret(world):
    """Check that GET /settings names the keys and their roles but not their hashes."""
    shown = world.client.get("/settings", headers=bearer(world.admin_key))
    assert {"name": "dr-key", "roles": ["clinician"]} in shown.json()["api_keys"]
    assert hash_api_key(world.clinician_key) not in shown.text and world.clinician_key not in shown.text


def test_an_openid_connect_token_with_the_clinician_role_opens_assess(world):
    """Check that the provider's token (JWK Set fetched from its URL, once) is let in by its role."""
    for _ in range(3):
        token = world.idp.token(aud="contraxis", roles=["clinician"], sub="dr.jones", jti=None)
        answer = world.client.post("/assess", json=CASE, headers=bearer(token))
        assert answer.status_code == 200, answer.text
    assert len(world.fetches) == 1


@pytest.mark.parametrize("claims, status, reason", [
    ({"roles": []}, 403, "clinician role"),
    ({"roles": ["admin"]}, 403, "clinician role"),
    ({"roles": ["clinician"], "aud": "another-app"}, 401, "aud"),
    ({"roles": ["clinician"], "exp": int(time.time()) - 100, "iat": int(time.time()) - 400}, 401, "expired"),
])
def test_an_openid_connect_token_is_refused_for_its_own_reason(world, claims, status, reason):
    """Check that a provider's token without the role, for another audience or expired is refused."""
    token = world.idp.token(**{"aud": "contraxis", **claims})
    answer = world.client.post("/assess", json=CASE, headers=bearer(token))
    assert answer.status_code == status, answer.text
    assert reason in answer.json()["problems"][0]["message"]


def test_a_cds_clients_token_does_not_open_the_rest_api(world):
    """Check that the EHR's CDS token is not a user's token."""
    answer = world.client.post("/assess", json=CASE, headers=bearer(world.ehr.token(aud=AUDIENCE)))
    assert answer.status_code == 401
    assert "not an OpenID Connect provider" in answer.json()["problems"][0]["message"]


@pytest.mark.parametrize("route", ["/health", "/", "/docs", "/openapi.json", "/knowledge", "/static/app.js"])
def test_pages_without_patient_data_stay_open(world, route):
    """Check that health, the page, the docs, the knowledge base and static files need no credential."""
    assert world.client.get(route).status_code == 200


def test_a_route_not_listed_is_closed_by_default(world):
    """Check that an unknown route asks for a credential before saying it does not exist."""
    assert world.client.get("/no-such-route").status_code == 401


def test_the_openapi_document_declares_who_may_call(world):
    """Check that the OpenAPI document gives each closed operation its scheme and 401/403 answers."""
    document = world.client.get("/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "cdsClientJwt"}
    assess = document["paths"]["/assess"]["post"]
    assert assess["security"] == [{"bearer": []}] and {"401", "403"} <= set(assess["responses"])
    assert document["paths"]["/cds-services/{service_id}"]["post"]["security"] == [{"cdsClientJwt": []}]
    assert "security" not in document["paths"]["/health"]["get"]


def test_without_authentication_configured_every_door_is_open(client):
    """Check the quick start: no credential configured, loopback, everything answers."""
    assert client.post("/assess", json=CASE).status_code == 200
    assert client.get("/audit").status_code == 200


def test_a_reused_access_token_is_verified_once(world, monkeypatch):
    """Check that a user's token sent again is not verified again (cheap per request), while a
    CDS client's token is never kept (each is used once)."""
    from contraxis.service import auth

    calls = []
    verify = auth._verify
    monkeypatch.setattr(auth, "_verify", lambda *a, **k: calls.append(1) or verify(*a, **k))
    token = world.idp.token(aud="contraxis", roles=["clinician"])
    for _ in range(3):
        assert world.client.post("/assess", json=CASE, headers=bearer(token)).status_code == 200
    assert len(calls) == 1


def test_a_key_without_alg_is_used_with_the_tokens_if_its_type_fits(tmp_path):
    """Check that a JWK Set whose keys name no alg (as some EHRs publish) verifies an RS384 token
    with an RSA key, and refuses to use an EC key for it."""
    import asyncio

    from contraxis.service.auth import AuthError, JwkSet

    rsa_issuer, ec_issuer = Issuer("https://a", alg="RS384", kid="r"), Issuer("https://b", alg="ES384", kid="e")
    keys = [{k: v for k, v in i.jwks()["keys"][0].items() if k != "alg"} for i in (rsa_issuer, ec_issuer)]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys}))
    keyset = JwkSet(file=tmp_path / "jwks.json")
    token = rsa_issuer.token(aud="x")
    key = asyncio.run(keyset.key("r", "RS384"))
    assert jwt.decode(token, key, algorithms=["RS384"], audience="x")["iss"] == "https://a"
    with pytest.raises(AuthError, match="cannot check an RS384 token"):
        asyncio.run(keyset.key("e", "RS384"))
