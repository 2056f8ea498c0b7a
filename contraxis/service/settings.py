"""The service's settings, in one place: defaults, a settings file and ``CONTRAXIS_*`` variables.

Read with pydantic-settings, validated once at start-up; nothing else reads the configuration.
Precedence, highest first: arguments given to :class:`ServiceSettings` (the command line of
``contraxis serve``), environment variables (``CONTRAXIS_PUBLIC_URL``, ``CONTRAXIS_WORKERS``,
nested fields as JSON or with ``__``: ``CONTRAXIS_AUDIT__PATH``), the YAML settings file named
by ``CONTRAXIS_SETTINGS_FILE``, then the defaults below.

With no settings at all the service is the quick start: it listens on 127.0.0.1 only, asks no
one for credentials and builds its links from ``http://127.0.0.1:8000``. Authentication is on
as soon as one CDS client, OpenID Connect provider or API key is configured.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, YamlConfigSettingsSource

from .limits import LimitSettings

__all__ = [
    "ApiKey",
    "AuditSettings",
    "CdsClient",
    "MiB",
    "OidcProvider",
    "Role",
    "LimitSettings",
    "ServiceSettings",
    "SettingsFileError",
    "SETTINGS_FILE_VARIABLE",
    "is_loopback",
]

MiB = 1024 * 1024
SETTINGS_FILE_VARIABLE = "CONTRAXIS_SETTINGS_FILE"
"""The environment variable naming the YAML settings file."""

Role = Literal["clinician", "admin", "researcher"]
"""What a user may do: ``clinician`` assesses cases and keeps the registry; ``admin`` reads the
audit log and the settings; ``researcher`` gets the registry's pseudonymous exports and cohort
overview only."""

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""Asymmetric JWS algorithms a token may be signed with (never ``none``, never a shared secret)."""


class SettingsFileError(ValueError):
    """The settings file named by ``CONTRAXIS_SETTINGS_FILE`` cannot be read."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) reaches this machine only.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _one_key_source(model: Any) -> Any:
    if (model.jwks_url is None) == (model.jwks_file is None):
        raise ValueError("give exactly one of jwks_url (the issuer's JWK Set URL) or jwks_file (a JWK Set file)")
    if model.jwks_url is not None:
        parts = urlsplit(model.jwks_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname or "")):
            raise ValueError(f"jwks_url {model.jwks_url[:80]!r} must be https (http only on this machine)")
    return model


def _asymmetric(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [a for a in value if a not in SIGNING_ALGORITHMS]
    if unknown or not value:
        raise ValueError(f"{unknown or value!r}: allowed are {', '.join(SIGNING_ALGORITHMS)}")
    return value


class CdsClient(_Frozen):
    """An EHR (CDS client) allowed to call the CDS Hooks services, by the JWT it signs.

    CDS Hooks 2.0 ("Trusting CDS Clients"): the client signs a JWT per request with its private
    key; its public keys are a JWK Set, here at ``jwks_url`` or in ``jwks_file``. A token's
    ``iss`` must be this ``issuer`` and, when ``subjects`` is given, its ``sub`` (the client id)
    one of them; a ``jku`` header, when sent, must be ``jwks_url``.
    """

    issuer: str = Field(min_length=1, description="The `iss` the client puts in its tokens")
    jwks_url: str | None = Field(None, description="The client's JWK Set URL (https)")
    jwks_file: Path | None = Field(None, description="A JWK Set file, exchanged out of band")
    subjects: tuple[str, ...] = Field((), description="The `sub` values accepted (empty: any)")
    algorithms: tuple[str, ...] = Field(("ES384", "RS384"), description="Signing algorithms accepted")

    check_key_source = model_validator(mode="after")(_one_key_source)
    check_algorithms = field_validator("algorithms")(_asymmetric)


DEFAULT_ROLE_MAP: dict[str, Role] = {"clinician": "clinician", "admin": "admin"}
"""Provider role names taken as Contraxis roles when ``role_map`` is not given."""


class OidcProvider(_Frozen):
    """An OpenID Connect provider whose access tokens open the REST API and the page.

    A token's ``iss`` must be ``issuer``, its ``aud`` contain ``audience``, its signature verify
    with a key of the provider's JWK Set; its roles are read from the claim ``roles_claim`` (a
    dotted path, ``realm_access.roles`` for Keycloak) and mapped through ``role_map``.
    """

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1, description="The `aud` of tokens meant for this service")
    jwks_url: str | None = None
    jwks_file: Path | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256", "PS256", "RS384", "ES384")
    roles_claim: str = "roles"
    role_map: dict[str, Role] = Field(default_factory=lambda: dict(DEFAULT_ROLE_MAP))
    user_claim: str = Field("sub", description="The claim naming the user in the audit log")

    check_key_source = model_validator(mode="after")(_one_key_source)
    check_algorithms = field_validator("algorithms")(_asymmetric)


class ApiKey(_Frozen):
    """An API key an operator issued (``contraxis serve-key``): only its SHA-256 is kept."""

    name: str = Field(min_length=1, max_length=80, description="Who holds the key (shown in the audit log)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The SHA-256 of the key, in hex")
    roles: tuple[Role, ...] = Field(("clinician",), min_length=1)


class AuditSettings(_Frozen):
    """Where and how requests are recorded (FHIR AuditEvent JSON lines, no patient data)."""

    enabled: bool = True
    path: Path | None = Field(None, description="The audit log (default: STATE_DIR/audit.jsonl)")
    key: SecretStr | None = Field(None, description="The HMAC key patient ids are hashed with")
    key_file: Path | None = Field(None, description="A file holding that key (default: STATE_DIR/audit.key)")
    access_log: bool = Field(False, description="Also write uvicorn's access log (one line per request)")


class ServiceSettings(BaseSettings):
    """How the service behaves.

    Parameters
    ----------
    max_body_bytes : int
        Largest request body accepted; a larger one gets 413. 1 MiB by default.
    differential : bool
        Whether to load the HPO differential index (``contraxis.differential``); when it is
        off or cannot be loaded, answers leave the differential out and say why.
    preload : bool
        Load the knowledge base, code tables and differential index when the app starts
        (else on first use).
    docs : bool
        Serve the OpenAPI document's page at ``/docs`` (Swagger UI, local copy).
    docs_try_it_out : bool
        Let ``/docs`` send requests ("Try it out"); off by default. The requests still need a
        token or key where authentication is on.
    today : datetime.date, optional
        The date FHIR data is read at by the CDS Hooks services (ages, days since a drug was
        started); the current date (UTC) if omitted. Tests pin it.
    host, port, workers : str, int, int
        Where ``contraxis serve`` listens and how many worker processes it starts.
    public_url : str, optional
        The URL clients reach the service at (``https://cds.example.org``); every link the
        service writes (cards, discovery, the page) is built from it, never from the request's
        Host header. ``http://HOST:PORT`` of ``host`` and ``port`` when omitted on this machine.
    allowed_hosts : list of str, optional
        Host headers accepted (others get 400); the public URL's host and the loopback names
        when omitted. ``*`` accepts any.
    forwarded_allow_ips : list of str
        Proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed (uvicorn); none
        by default.
    ssl_certfile, ssl_keyfile : pathlib.Path, optional
        Serve HTTPS with this certificate chain and private key (PEM).
    insecure : bool
        Allow serving on an address other than loopback without authentication.
    cds_clients : list of CdsClient
        The EHRs allowed to call the CDS Hooks services (signed JWT); none: the services are open.
    oidc_providers : list of OidcProvider
        OpenID Connect providers whose bearer tokens open the REST API and the page.
    api_keys : list of ApiKey
        API keys an operator issued, stored as SHA-256.
    jwt_leeway_seconds : int
        Clock skew allowed on ``exp``, ``iat`` and ``nbf``.
    cds_token_lifetime_seconds : int
        Longest life (``exp`` - ``iat``) of a CDS client's token, and so the ``jti`` replay window;
        CDS Hooks asks for short-lived tokens (five minutes).
    jwks_cache_seconds : int
        How long a JWK Set fetched from a URL is kept before it is fetched again (a token with
        an unknown ``kid`` fetches it again at most once a minute).
    state_dir : pathlib.Path
        Where the audit log, its key and the ``jti`` store live unless set one by one.
    jti_store : pathlib.Path, optional
        The SQLite file shared by the workers to refuse a replayed ``jti`` (default:
        STATE_DIR/jti.sqlite; in memory when there is no state directory to write).
    audit : AuditSettings
        The audit log.
    hsts_seconds : int
        ``Strict-Transport-Security`` max-age sent over HTTPS.
    registry_url : str, optional
        The registry's database (``sqlite:///PATH`` or ``postgresql://...``); a SQLite file in
        the user's data folder when omitted (``contraxis.registry.database.default_url``).
    limits : LimitSettings
        How much work a request, a connection and a client may cost: body sizes per route,
        time per request, requests at once, a rate per client, header size and time, slow
        bodies (``CONTRAXIS_LIMITS__REQUEST_TIMEOUT``...; :mod:`contraxis.service.limits`).
    """

    model_config = SettingsConfigDict(
        env_prefix="CONTRAXIS_", env_nested_delimiter="__", frozen=True, extra="forbid",
        validate_default=True,
    )

    max_body_bytes: int = Field(MiB, ge=1024)
    differential: bool = True
    preload: bool = True
    docs: bool = True
    docs_try_it_out: bool = False
    today: date | None = None

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] | None = None
    forwarded_allow_ips: tuple[str, ...] = ()
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    insecure: bool = False

    cds_clients: tuple[CdsClient, ...] = ()
    oidc_providers: tuple[OidcProvider, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    cds_token_lifetime_seconds: int = Field(300, ge=10, le=3600)
    jwks_cache_seconds: int = Field(3600, ge=0)

    state_dir: Path = Field(default_factory=lambda: _default_state_dir())
    jti_store: Path | None = None
    audit: AuditSettings = AuditSettings()
    hsts_seconds: int = Field(31_536_000, ge=0)
    limits: LimitSettings = LimitSettings()
    registry_url: str | None = Field(None, max_length=2000)

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"{value[:80]!r} is not a base URL (scheme http or https, a host, no query)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _tls_pair(self) -> ServiceSettings:
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("ssl_certfile and ssl_keyfile go together: give both or neither")
        return self

    @property
    def tls(self) -> bool:
        """Whether ``contraxis serve`` speaks HTTPS itself."""
        return self.ssl_certfile is not None

    @property
    def authentication(self) -> bool:
        """Whether any client, provider or key is configured (then every door asks for one)."""
        return bool(self.cds_clients or self.oidc_providers or self.api_keys)

    @property
    def base_url(self) -> str:
        """The public base URL, without a trailing slash: ``public_url``, else built from host and port."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """The Host headers accepted: ``allowed_hosts``, else the base URL's host and loopback names."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        own = urlsplit(self.base_url).hostname or "127.0.0.1"
        return tuple(dict.fromkeys((own, "127.0.0.1", "localhost", "::1", "[::1]")))

    @property
    def audit_path(self) -> Path:
        """The audit log's path."""
        return self.audit.path or self.state_dir / "audit.jsonl"

    @property
    def audit_key_file(self) -> Path:
        """The file holding the audit HMAC key (made on first start when no key is given)."""
        return self.audit.key_file or self.state_dir / "audit.key"

    @property
    def jti_path(self) -> Path:
        """The ``jti`` store shared by the workers."""
        return self.jti_store or self.state_dir / "jti.sqlite"

    def exposure(self) -> tuple[list[str], list[str]]:
        """What stops ``contraxis serve`` from starting, and what it warns of, for these settings.

        Returns
        -------
        (list of str, list of str)
            Refusals: serving on an address other than loopback with no authentication
            configured (unless ``insecure``), or with no ``public_url`` to build links from.
            Warnings: ``insecure`` in use, plain HTTP off loopback without a trusted proxy, a
            door with no credential configured.
        """
        refusals: list[str] = []
        warnings: list[str] = []
        local = is_loopback(self.host)
        if not local and not self.authentication:
            message = (f"serving on {self.host} with no authentication configured (cds_clients, oidc_providers "
                       "or api_keys)")
            if self.insecure:
                warnings.append(f"--insecure: {message}: anyone who reaches this address can read and send "
                                "patient data")
            else:
                refusals.append(f"refusing to start: {message}; configure one, or pass --insecure to serve "
                                "without it")
        if not local and not self.public_url:
            refusals.append(f"refusing to start: serving on {self.host} needs public_url (CONTRAXIS_PUBLIC_URL), "
                            "the URL clients reach the service at, to build every link from")
        if not local and not self.tls and not self.forwarded_allow_ips:
            warnings.append(f"serving plain HTTP on {self.host}: give ssl_certfile and ssl_keyfile, or put a TLS proxy "
                            "in front and list it in forwarded_allow_ips")
        sources: list[CdsClient | OidcProvider] = [*self.cds_clients, *self.oidc_providers]
        for source in sources:
            if source.jwks_file is not None and not source.jwks_file.is_file():
                refusals.append(f"refusing to start: the JWK Set file {str(source.jwks_file)[:200]!r} of "
                                f"{source.issuer[:80]!r} is not a file")
        if self.authentication and not (self.oidc_providers or self.api_keys):
            warnings.append("no OpenID Connect provider or API key: the REST API and the page refuse every request")
        if self.authentication and not self.cds_clients:
            warnings.append("no CDS client: the CDS Hooks services refuse every call")
        return refusals, warnings

    def redacted(self) -> dict[str, Any]:
        """The settings as JSON data, secrets and key hashes left out (for ``GET /settings``)."""
        data = self.model_dump(mode="json")
        data["api_keys"] = [{"name": k.name, "roles": list(k.roles)} for k in self.api_keys]
        data["audit"]["key"] = "(set)" if self.audit.key else None
        if self.registry_url and "@" in self.registry_url:  # a database password stays out
            scheme, _, rest = self.registry_url.partition("://")
            data["registry_url"] = f"{scheme}://(credentials)@{rest.rsplit('@', 1)[1]}"
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``CONTRAXIS_*`` variables, then the settings file, then defaults."""
        path = os.environ.get(SETTINGS_FILE_VARIABLE)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path:
            file = Path(path)
            if not file.is_file():
                raise SettingsFileError(f"{SETTINGS_FILE_VARIABLE}: {path[:200]!r} is not a file")
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=file))
        return tuple(sources)


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "contraxis"
