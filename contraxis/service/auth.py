"""Who is asking: the CDS client's signed JWT, a user's OpenID Connect token, an API key.

Three doors, three kinds of credential, each sent as ``Authorization: Bearer ...``:

- **CDS Hooks services** (``POST /cds-services/{id}`` and its feedback): the EHR signs a JWT
  for every call, as CDS Hooks 2.0 asks ("Trusting CDS Clients"). :meth:`Authenticator.cds_client`
  refuses a token unless its header names an asymmetric algorithm the client is allowed
  (never ``none``) and a ``kid`` of the client's JWK Set; its ``iss`` is a configured client (and
  ``sub`` one of its ids when listed); ``aud`` is the public URL of the service called; ``exp``
  and ``iat`` hold (within the leeway) and span at most the configured lifetime; ``jti`` was not
  seen before within that window (shared by the workers through a SQLite file).
- **REST API and the page**: a bearer token of a configured OpenID Connect provider (issuer,
  audience, signature by a key of its JWK Set, ``exp``), whose roles claim gives the roles; or
  an API key an operator issued (``cxk_`` and 43 characters), kept as its SHA-256 only.
- **Roles**: ``clinician`` assesses; ``admin`` reads the audit log and the settings.

JWK Sets are read from a file or fetched from the issuer's URL, kept for ``jwks_cache_seconds``
and fetched again (at most once a minute) when a token names a ``kid`` not in them. A token is
verified once per request, with PyJWT (a maintained JOSE library; see the README).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import sqlite3
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from anyio import to_thread

from .settings import ApiKey, CdsClient, OidcProvider, ServiceSettings

__all__ = [
    "API_KEY_PREFIX",
    "AuthError",
    "Authenticator",
    "JwkSet",
    "Principal",
    "ReplayGuard",
    "hash_api_key",
    "new_api_key",
]

_log = logging.getLogger(__name__)

API_KEY_PREFIX = "cxk_"
JWKS_MAX_BYTES = 1024 * 1024
"""Largest JWK Set document read from a URL or a file."""
JWKS_REFETCH_SECONDS = 60.0
"""A token with an unknown ``kid`` fetches its issuer's JWK Set again at most this often."""
VERIFIED_TOKENS = 4096
VERIFIED_SECONDS = 300.0
"""A user's access token, once verified, is taken as verified for at most this long (and never
past its ``exp``); a CDS client's token is used once and never kept."""
CDS_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti")
"""The claims CDS Hooks 2.0 makes required in the client's JWT."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request, as far as the service knows.

    Attributes
    ----------
    kind : str
        ``cds-client`` (an EHR's signed JWT), ``user`` (an OpenID Connect token), ``api-key``,
        or ``anonymous`` (no authentication configured: loopback only).
    name : str
        The client's ``sub``, the user's claim, the key's name; ``anonymous``.
    issuer : str or None
        The token's issuer (None for an API key or anonymous).
    roles : frozenset of str
        ``clinician``, ``admin``.
    """

    kind: str
    name: str
    issuer: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)


ANONYMOUS = Principal("anonymous", "anonymous", None, frozenset({"clinician", "admin"}))


class AuthError(Exception):
    """A request refused for its credentials: 401 (none, or not valid) or 403 (not allowed).

    Parameters
    ----------
    message : str
        What failed, for the client and the audit log (never the token itself).
    status : int
        401 or 403.
    """

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header of the answer (RFC 6750)."""
        error = "insufficient_scope" if self.status == 403 else "invalid_token"
        text = self.message.replace('"', "'").replace("\\", "/")[:200]
        return f'Bearer realm="contraxis", error="{error}", error_description="{text}"'


def new_api_key() -> str:
    """A new random API key (256 bits): ``cxk_`` and 43 URL-safe characters."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The SHA-256 (hex) an operator stores for ``key``.

    A key carries 256 random bits, so a fast hash is as safe as a slow one and keeps each
    request cheap; the key itself is shown once and never stored.
    """
    return hashlib.sha256(key.encode()).hexdigest()


# --- JWK Sets ---------------------------------------------------------------------------------


def _fetch_url(url: str, timeout: float = 5.0) -> bytes:
    request = urllib.request.Request(url, headers={"accept": "application/json, application/jwk-set+json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - https or loopback, checked at load
        data = bytes(answer.read(JWKS_MAX_BYTES + 1))
    if len(data) > JWKS_MAX_BYTES:
        raise ValueError(f"larger than {JWKS_MAX_BYTES} bytes")
    return data


class JwkSet:
    """An issuer's public keys, by ``kid``, from a file or a URL, cached.

    Parameters
    ----------
    url : str, optional
        The JWK Set URL (fetched in a worker thread, never on the event loop).
    file : pathlib.Path, optional
        A JWK Set file (read on first use).
    ttl : float
        Seconds a fetched set is kept.
    fetch : callable
        ``fetch(url) -> bytes``; tests may pass their own.
    """

    def __init__(self, *, url: str | None = None, file: Path | None = None, ttl: float = 3600.0,
                 fetch: Callable[[str], bytes] = _fetch_url) -> None:
        self.url = url
        self.file = file
        self.ttl = ttl
        self._fetch = fetch
        self._keys: dict[str, dict[str, Any]] = {}
        self._built: dict[tuple[str, str], jwt.PyJWK] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    @staticmethod
    def _parse(raw: bytes) -> dict[str, dict[str, Any]]:
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("is not a JWK Set (an object with a 'keys' list)")
        return {str(entry.get("kid", "")): entry for entry in data["keys"]
                if isinstance(entry, dict) and entry.get("use", "sig") == "sig"}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self.file is not None:
            raw = self.file.read_bytes()[: JWKS_MAX_BYTES + 1]
            if len(raw) > JWKS_MAX_BYTES:
                raise ValueError(f"larger than {JWKS_MAX_BYTES} bytes")
            return self._parse(raw)
        assert self.url is not None
        return self._parse(self._fetch(self.url))

    def _due(self, kid: str | None) -> bool:
        since = time.monotonic() - self._loaded_at
        if self.url is not None and since > self.ttl:
            return True
        return self._entry(kid) is None and since > JWKS_REFETCH_SECONDS

    def _entry(self, kid: str | None) -> tuple[str, dict[str, Any]] | None:
        if kid is None:
            return next(iter(self._keys.items())) if len(self._keys) == 1 else None
        entry = self._keys.get(kid)
        return (kid, entry) if entry is not None else None

    async def key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        """The key named ``kid`` (the only key, when the token names none and the set has one),
        for a token signed with ``alg``.

        A key that names its algorithm keeps it (a token of another algorithm then fails its
        check); one that does not is used with the token's, if its key type fits.

        Raises
        ------
        AuthError
            401 when the set cannot be read, holds no such key, or the key does not fit ``alg``.
        """
        if self._due(kid):
            async with self._lock:
                if self._due(kid):
                    self._loaded_at = time.monotonic()
                    try:
                        keys = await to_thread.run_sync(self._load)
                    except (OSError, ValueError) as error:
                        _log.error("JWK Set %s cannot be read: %s", self.url or self.file, error)
                    else:
                        self._keys, self._built = keys, {}
        found = self._entry(kid)
        if found is None:
            if not self._keys:
                raise AuthError("the issuer's keys cannot be read now; try again in a minute")
            shown = repr(kid[:40]) if isinstance(kid, str) else "no kid"
            raise AuthError(f"the token's key ({shown}) is not in the issuer's JWK Set")
        name, entry = found
        built = self._built.get((name, alg))
        if built is None:
            try:
                built = jwt.PyJWK(entry, algorithm=None if entry.get("alg") else alg)
            except jwt.PyJWTError as error:
                raise AuthError(f"the issuer's key {name[:40]!r} cannot check an {alg} token: {error}") from None
            self._built[(name, alg)] = built
        return built


# --- replayed jti -----------------------------------------------------------------------------


class ReplayGuard:
    """Remembers each token's ``jti`` until it expires, so that a token is used once.

    Kept in a SQLite file that every worker of the service shares (in memory if ``path`` is
    None or cannot be written). Only a SHA-256 of issuer and ``jti`` is stored.
    """

    def __init__(self, path: Path | None) -> None:
        self._calls = 0
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(str(path), timeout=5.0, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, expires REAL NOT NULL)")
                self._db = db
            except (OSError, sqlite3.Error) as error:
                _log.warning("jti store %s cannot be used (%s): replays are caught per worker only", path, error)
        self._memory: dict[str, float] = {}

    def first_use(self, issuer: str, jti: str, *, expires: float) -> bool:
        """Record ``jti`` of ``issuer`` until ``expires`` (epoch seconds); False if already seen."""
        key = hashlib.sha256(f"{issuer}\0{jti}".encode()).hexdigest()
        now = time.time()
        self._calls += 1
        if self._db is None:
            if self._calls % 256 == 0:
                self._memory = {k: e for k, e in self._memory.items() if e >= now}
            seen = self._memory.get(key)
            if seen is not None and seen >= now:
                return False
            self._memory[key] = expires
            return True
        if self._calls % 256 == 0:
            self._db.execute("DELETE FROM jti WHERE expires < ?", (now,))
        try:
            self._db.execute("INSERT INTO jti (key, expires) VALUES (?, ?)", (key, expires))
            return True
        except sqlite3.IntegrityError:
            updated = self._db.execute("UPDATE jti SET expires = ? WHERE key = ? AND expires < ?", (expires, key, now))
            return updated.rowcount == 1


# --- the authenticator ------------------------------------------------------------------------


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("an Authorization header is required (Bearer and a token or key)")
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise AuthError("the Authorization header must be 'Bearer' followed by a token or key")
    return credential.strip()


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthError("the bearer token is not a JWT (three base64url parts)") from None
    return header


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthError("the bearer token's claims cannot be read") from None
    return claims


def _check_algorithm(header: Mapping[str, Any], allowed: Sequence[str]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise AuthError(f"unsigned tokens (alg {str(alg)[:20]!r}) are refused: sign with {' or '.join(allowed)}")
    if alg not in allowed:
        raise AuthError(f"alg {alg[:20]!r} is not accepted from this issuer (allowed: {', '.join(allowed)})")
    return alg


_JWT_MESSAGES: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired (exp is past)"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (iat or nbf is in the future)"),
    (jwt.InvalidAudienceError, "the token's aud is not this service's URL"),
    (jwt.InvalidIssuerError, "the token's iss is not the issuer expected"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the token's signature does not verify with the issuer's key"),
    (jwt.InvalidAlgorithmError, "the token's alg does not match the issuer's key"),
)


def _verify(token: str, key: jwt.PyJWK, *, alg: str, audience: str | Sequence[str], issuer: str, leeway: float,
            required: Sequence[str]) -> dict[str, Any]:
    try:
        return jwt.decode(
            token, key, algorithms=[alg], audience=audience, issuer=issuer, leeway=leeway,
            options={"require": list(required), "verify_iat": True},
        )
    except jwt.PyJWTError as error:
        for kind, message in _JWT_MESSAGES:
            if isinstance(error, kind):
                detail = f" ({error})" if isinstance(error, jwt.MissingRequiredClaimError) else ""
                raise AuthError(message + detail) from None
        raise AuthError(f"the token is not valid: {str(error)[:120]}") from None


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class Authenticator:
    """Checks credentials against the settings; one per app (and so per worker).

    Parameters
    ----------
    settings : ServiceSettings
        The CDS clients, OpenID Connect providers, API keys and token limits.
    fetch : callable, optional
        ``fetch(url) -> bytes`` for JWK Set URLs (tests may pass their own).
    """

    def __init__(self, settings: ServiceSettings, *, fetch: Callable[[str], bytes] = _fetch_url) -> None:
        ttl = float(settings.jwks_cache_seconds)
        self.enabled = settings.authentication
        self.leeway = float(settings.jwt_leeway_seconds)
        self.lifetime = float(settings.cds_token_lifetime_seconds)
        self.cds: dict[str, tuple[CdsClient, JwkSet]] = {
            c.issuer: (c, JwkSet(url=c.jwks_url, file=c.jwks_file, ttl=ttl, fetch=fetch)) for c in settings.cds_clients
        }
        self.oidc: dict[str, tuple[OidcProvider, JwkSet]] = {
            p.issuer: (p, JwkSet(url=p.jwks_url, file=p.jwks_file, ttl=ttl, fetch=fetch))
            for p in settings.oidc_providers
        }
        self.api_keys: dict[str, ApiKey] = {k.sha256: k for k in settings.api_keys}
        self.replay = ReplayGuard(settings.jti_path if self.cds else None)
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def cds_client(self, authorization: str | None, *, audience: str | Sequence[str]) -> Principal:
        """The CDS client whose JWT is in ``authorization``, for a call of the service at ``audience``
        (its public URL; a list: any of them).

        Raises
        ------
        AuthError
            401 naming the first check that failed.
        """
        if not self.enabled:
            return ANONYMOUS
        if not self.cds:
            raise AuthError("no CDS client is configured: the CDS Hooks services are closed", status=403)
        token = _bearer(authorization)
        header = _header(token)
        issuer = _unverified_claims(token).get("iss")
        found = self.cds.get(issuer) if isinstance(issuer, str) else None
        if found is None:
            raise AuthError(f"the token's iss {str(issuer)[:80]!r} is not a CDS client allowed here")
        client, keys = found
        alg = _check_algorithm(header, client.algorithms)
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise AuthError("the token's jku is not the JWK Set URL registered for its issuer")
        key = await keys.key(header.get("kid") if isinstance(header.get("kid"), str) else None, alg)
        claims = _verify(token, key, alg=alg, audience=audience, issuer=client.issuer, leeway=self.leeway,
                         required=CDS_CLAIMS)
        subject, jti = claims.get("sub"), claims.get("jti")
        if not isinstance(subject, str) or (client.subjects and subject not in client.subjects):
            raise AuthError(f"the token's sub {str(subject)[:80]!r} is not a client id allowed for its issuer")
        if not isinstance(jti, str) or not jti:
            raise AuthError("the token's jti must be a non-empty string")
        expires, issued = float(claims["exp"]), float(claims["iat"])
        if expires - issued > self.lifetime + self.leeway:
            raise AuthError(f"the token lives {int(expires - issued)} s (exp - iat): at most {int(self.lifetime)} s")
        if not self.replay.first_use(client.issuer, jti, expires=expires + self.leeway):
            raise AuthError("the token's jti was used before: a new token is needed for each call")
        return Principal("cds-client", subject, client.issuer, frozenset())

    async def user(self, authorization: str | None) -> Principal:
        """The user or key holder whose token or API key is in ``authorization``.

        Raises
        ------
        AuthError
            401 when the credential is missing or not valid.
        """
        if not self.enabled:
            return ANONYMOUS
        credential = _bearer(authorization)
        if credential.startswith(API_KEY_PREFIX):
            key = self.api_keys.get(hash_api_key(credential))
            if key is None:
                raise AuthError("the API key is not one issued here (or it was revoked)")
            return Principal("api-key", key.name, None, frozenset(key.roles))
        if credential.count(".") != 2:
            raise AuthError(f"the credential is neither an API key ({API_KEY_PREFIX}...) nor a JWT")
        known = self._verified.get(credential)
        if known is not None and known[1] > time.time():
            return known[0]
        header = _header(credential)
        issuer = _unverified_claims(credential).get("iss")
        found = self.oidc.get(issuer) if isinstance(issuer, str) else None
        if found is None:
            raise AuthError(f"the token's iss {str(issuer)[:80]!r} is not an OpenID Connect provider allowed here")
        provider, keys = found
        alg = _check_algorithm(header, provider.algorithms)
        signing_key = await keys.key(header.get("kid") if isinstance(header.get("kid"), str) else None, alg)
        claims = _verify(credential, signing_key, alg=alg, audience=provider.audience, issuer=provider.issuer,
                         leeway=self.leeway, required=("iss", "aud", "exp"))
        granted = _claim(claims, provider.roles_claim)
        if isinstance(granted, str):
            granted = granted.split()
        roles = frozenset(provider.role_map[r] for r in granted or () if isinstance(r, str) and r in provider.role_map)
        name = _claim(claims, provider.user_claim)
        principal = Principal("user", str(name)[:120] if name is not None else "unknown", provider.issuer, roles)
        self._remember(credential, principal, expires=float(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, *, expires: float) -> None:
        """Keep a verified access token until it expires (at most VERIFIED_SECONDS), so that a
        client reusing its token is not verified again on every request."""
        if len(self._verified) >= VERIFIED_TOKENS:
            now = time.time()
            self._verified = {t: v for t, v in self._verified.items() if v[1] > now}
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, min(expires, time.time() + VERIFIED_SECONDS))
