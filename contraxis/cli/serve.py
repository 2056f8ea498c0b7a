"""``contraxis serve``, ``contraxis serve-key`` and ``contraxis bench load``: plain functions
the Typer app registers.

The service runs on uvicorn with httptools and uvloop (plain uvicorn adds tens of
milliseconds to each keep-alive request on some kernels). Its settings come from
:class:`contraxis.service.settings.ServiceSettings`: a YAML file (``--settings``),
``CONTRAXIS_*`` variables and the options below, which win. Options are passed on to the
worker processes as ``CONTRAXIS_*`` variables, so that every worker reads the same settings.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..service.settings import ServiceSettings

__all__ = ["api_key_command", "bench_load_command", "serve_command"]

_log = logging.getLogger("contraxis.serve")


def _export(name: str, value: object) -> None:
    """Pass one option to this process's settings and its workers' (a ``CONTRAXIS_*`` variable)."""
    if value is None:
        return
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    os.environ[f"CONTRAXIS_{name.upper()}"] = text


def _raise_open_files_limit(wanted: int) -> None:
    """Let each worker hold ``wanted`` open files (connections), within the hard limit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def serve_command(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    settings: Path | None = None,
    public_url: str | None = None,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    forwarded_allow_ips: str | None = None,
    insecure: bool = False,
    access_log: bool | None = None,
) -> None:
    """Start the web service: REST, CDS Hooks, FHIR input, the intake page and the API docs.

    With no settings it listens on 127.0.0.1:8000 and asks no one for credentials. On any
    other address it refuses to start without authentication configured, unless ``--insecure``
    is given (and says so in its log).

    Parameters
    ----------
    host : str
        The address to listen on (127.0.0.1 by default: this machine only).
    port : int
        The TCP port (8000).
    workers : int
        Worker processes (each loads its own knowledge base).
    settings : pathlib.Path
        A YAML settings file (see the README's production example).
    public_url : str
        The URL clients reach the service at; every link is built from it.
    ssl_certfile, ssl_keyfile : pathlib.Path
        Serve HTTPS with this certificate chain and private key (PEM).
    forwarded_allow_ips : str
        Comma-separated addresses of the proxies whose X-Forwarded-* headers are believed.
    insecure : bool
        Serve on an address other than loopback without authentication.
    access_log : bool
        Write uvicorn's access log (one line per request).
    """
    import uvicorn
    from pydantic import ValidationError

    from ..service.settings import SETTINGS_FILE_VARIABLE, ServiceSettings, SettingsFileError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    if settings is not None:
        os.environ[SETTINGS_FILE_VARIABLE] = str(settings.resolve())
    for name, value in (("host", host), ("port", port), ("workers", workers), ("public_url", public_url),
                        ("ssl_certfile", ssl_certfile), ("ssl_keyfile", ssl_keyfile)):
        _export(name, value)
    if forwarded_allow_ips is not None:
        _export("forwarded_allow_ips", json.dumps([a.strip() for a in forwarded_allow_ips.split(",") if a.strip()]))
    if insecure:
        _export("insecure", True)
    if access_log is not None:
        _export("audit__access_log", access_log)
    try:
        config = ServiceSettings()
    except SettingsFileError as error:
        _log.error("%s", error)
        raise SystemExit(2) from None
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem.get("loc", ())) or "settings"
            _log.error("settings: %s: %s", where, problem.get("msg", "is not valid"))
        raise SystemExit(2) from None
    refusals, warnings = config.exposure()
    refusals += _audit_problems(config)
    for warning in warnings:
        _log.warning("%s", warning)
    if refusals:
        for refusal in refusals:
            _log.error("%s", refusal)
        raise SystemExit(2)
    _log.info("public URL %s; authentication %s; audit log %s", config.base_url,
              "on" if config.authentication else "off",
              config.audit_path if config.audit.enabled else "off")
    from ..service.protocol import GuardedHttpToolsProtocol

    _raise_open_files_limit(config.limits.max_connections + 256)
    uvicorn.run(
        "contraxis.service.app:default_app", factory=True, host=config.host, port=config.port,
        workers=config.workers, loop="uvloop", http=GuardedHttpToolsProtocol, access_log=config.audit.access_log,
        log_level="info", timeout_keep_alive=max(1, round(config.limits.keep_alive_timeout)), server_header=False,
        ssl_certfile=str(config.ssl_certfile) if config.ssl_certfile else None,
        ssl_keyfile=str(config.ssl_keyfile) if config.ssl_keyfile else None,
        proxy_headers=bool(config.forwarded_allow_ips),
        forwarded_allow_ips=",".join(config.forwarded_allow_ips) or None,
    )


def _audit_problems(config: ServiceSettings) -> list[str]:
    """Open the audit log and its key as a worker will, so that a path that cannot be written
    stops the start with one line rather than a traceback in every worker."""
    from ..service.audit import AuditLog

    try:
        AuditLog.from_settings(config).close()
    except OSError as error:
        return [f"refusing to start: the audit log cannot be opened: {error}"]
    return []


def api_key_command(name: str, role: list[str] | None = None) -> None:
    """Issue an API key: print it once, and the line of settings that lets it in (its SHA-256).

    Parameters
    ----------
    name : str
        Who holds the key (shown in the audit log).
    role : list of str
        ``clinician`` (the default) and/or ``admin``.
    """
    from ..service.auth import hash_api_key, new_api_key

    roles = role or ["clinician"]
    unknown = [r for r in roles if r not in ("clinician", "admin")]
    if unknown:
        raise SystemExit(f"--role: {unknown[0][:40]!r} is not one of clinician, admin")
    key = new_api_key()
    print(f"API key for {name} (shown once; give it to its holder, keep it nowhere else):\n  {key}\n")
    print("Add to the settings file under api_keys:")
    print(f"  - {{name: {json.dumps(name)}, roles: [{', '.join(roles)}], sha256: {hash_api_key(key)}}}")


def bench_load_command(connections: int = 32, duration: float = 10.0, workers: int = 2, tool: str = "auto",
                       auth: str = "none", rounds: int = 1, json_output: bool = False) -> None:
    """Measure requests per second and p50/p99 latency of POST /assess beside GET /health.

    POST /assess is measured as it answers by default (without the HPO differential) and, when
    the service has its index, with ``?differential=true`` (as ``contraxis assess --json``).

    Parameters
    ----------
    connections : int
        Concurrent keep-alive connections.
    duration : float
        Seconds of load per endpoint (at most 120).
    workers : int
        Uvicorn worker processes of the server started for the run.
    tool : str
        ``wrk`` (Debian's package), ``python`` (the built-in asyncio client) or ``auto``.
    auth : str
        ``none``; ``api-key`` (every request with an API key); ``jwt`` (every request with the
        same OpenID Connect bearer token, as a client reuses its access token). The audit log is on.
    rounds : int
        Measure the endpoints in turn this many times (``duration / rounds`` seconds each) and add
        the slices up; p99 is then the largest slice's. For a machine whose other load varies.
    json_output : bool
        Print the figures as JSON.
    """
    from ..service.loadbench import bench_load

    if tool not in ("auto", "wrk", "python"):
        raise SystemExit(f"--tool: {tool!r} is not one of auto, wrk, python")
    if auth not in ("none", "api-key", "jwt"):
        raise SystemExit(f"--auth: {auth[:40]!r} is not one of none, api-key, jwt")
    if not 1 <= rounds <= 20:
        raise SystemExit(f"--rounds: {rounds} is not from 1 to 20")
    results = bench_load(connections=connections, duration=duration, workers=workers, tool=tool,  # type: ignore[arg-type]
                         auth=auth, rounds=rounds)  # type: ignore[arg-type]
    health = results[0]
    ratios = {r.endpoint: round(r.rps / health.rps, 3) if health.rps else 0.0 for r in results[1:]}
    if json_output:
        print(json.dumps({"results": [r.to_dict() for r in results], "rate_to_health": ratios, "auth": auth},
                         indent=2))
        return
    print(
        f"{'endpoint':<34} {'tool':<6} {'conns':>5} {'seconds':>7} {'requests':>9} {'errors':>6} "
        f"{'req/s':>9} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        print(
            f"{r.endpoint:<34} {r.tool:<6} {r.connections:>5} {r.seconds:>7.1f} {r.requests:>9} {r.errors:>6} "
            f"{r.rps:>9.1f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f}"
        )
    for r in results[1:]:
        share = f"{ratios[r.endpoint]:.3f} of the GET /health rate"
        if "differential" in r.endpoint:
            print(f"{r.endpoint}: {r.rps:.0f} req/s (target >= 1000), p99 {r.p99_ms:.2f} ms (target < 50 ms); {share}")
        else:
            print(f"{r.endpoint}: {share} (target >= 0.25), p99 {r.p99_ms:.2f} ms (target < 25 ms)")
    slices = f"; endpoints in turn, {rounds} rounds" if rounds > 1 else ""
    print(f"{workers} uvicorn worker(s), httptools + uvloop, {results[0].connections} connections, loopback; "
          f"authentication: {auth}; audit log on{slices}.")
