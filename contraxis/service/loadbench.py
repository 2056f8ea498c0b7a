"""A bounded load benchmark of the service on loopback: ``POST /assess`` beside ``GET /health``.

The server is started here (uvicorn, httptools and uvloop, ``workers`` processes) on a free
loopback port, measured, and stopped. Load comes from ``wrk`` when it is installed (Debian's
package), else from a small asyncio client in this module (keep-alive HTTP/1.1, one
request in flight per connection). Every run is bounded in time and sends traffic to
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "LoadResult", "TYPICAL_CASE", "bench_load", "free_port", "merge_results", "run_load", "secured_server_env",
    "start_server",
]

Tool = Literal["auto", "wrk", "python"]
Auth = Literal["none", "api-key", "jwt"]

TYPICAL_CASE: dict[str, Any] = {
    "age": 55, "sex": "male", "onset_age": 53, "course": "static", "regions": ["neck"],
    "findings": ["HP:0000473", "CX:sustained-contractions", "CX:abnormal-posture", "CX:sensory-trick", "HP:0030833"],
    "absent": ["HP:0001337", "HP:0001300", "HP:0001257", "HP:0001251"],
    "imaging": {"mri_brain": "normal"}, "family_history": False, "severity": "moderate", "disabling": False,
}
"""A typical case: adult-onset cervical dystonia with a sensory trick, MRI normal."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The figures of one endpoint under load."""

    endpoint: str
    tool: str
    connections: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    *, port: int, workers: int = 1, timeout: float = 60.0, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``contraxis serve`` on 127.0.0.1:port in a child process and wait until it answers.

    Parameters
    ----------
    port : int
        The port.
    workers : int
        Uvicorn worker processes.
    timeout : float
        Seconds to wait for ``GET /health``.
    env : dict, optional
        Extra environment variables for the server. Without ``CONTRAXIS_STATE_DIR`` (here or in
        this process's environment) the server keeps its audit log in a temporary folder,
        removed by :func:`stop_server`.

    Returns
    -------
    subprocess.Popen
        The server process (stop it with :func:`stop_server`).

    Raises
    ------
    RuntimeError
        If the server does not answer in time (its output is in the message).
    """
    log = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller with the server process
    env = dict(env or {})
    state = None
    if "CONTRAXIS_STATE_DIR" not in {**os.environ, **env}:  # its audit log, key and jti store: not the user's
        state = tempfile.mkdtemp(prefix="contraxis-serve-")
        env["CONTRAXIS_STATE_DIR"] = state
    command = [sys.executable, "-c",
               "from contraxis.cli.serve import serve_command; import sys; "
               "serve_command(host='127.0.0.1', port=int(sys.argv[1]), workers=int(sys.argv[2]))",
               str(port), str(workers)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
                               start_new_session=True)
    process.state_dir = state  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    process.log = log  # type: ignore[attr-defined]
                    return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    log.seek(0)
    output = log.read().decode(errors="replace")[-3000:]
    raise RuntimeError(f"the server did not answer on port {port} within {timeout:g} s:\n{output}")


def stop_server(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """Stop a server started by :func:`start_server` (its process group: uvicorn's workers too)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    state = getattr(process, "state_dir", None)
    if state:
        shutil.rmtree(state, ignore_errors=True)


# --- wrk ----------------------------------------------------------------------------------

_WRK_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _run_wrk(*, url: str, method: str, body: bytes | None, connections: int, duration: float,
             headers: dict[str, str] | None = None) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
        for name, value in (headers or {}).items():
            script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
        if body is not None:
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
            script.write(f"wrk.body = {json.dumps(body.decode())}\n")
    try:
        threads = max(1, min(2, connections))
        output = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s", "--latency",
             "-s", script.name, url],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    latency = {int(m.group(1)): float(m.group(2)) * _UNIT[m.group(3)] for m in _WRK_LATENCY.finditer(output)}
    requests_match = _WRK_REQUESTS.search(output)
    if not requests_match or 50 not in latency or 99 not in latency:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    requests = int(requests_match.group(1))
    seconds = float(requests_match.group(2)) * _UNIT[requests_match.group(3)] / 1000
    non_2xx = _WRK_ERRORS.search(output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = _WRK_SOCKET.search(output)
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return LoadResult(endpoint=f"{method} {url}", tool="wrk",
                      connections=connections, seconds=round(seconds, 2), requests=requests, errors=errors,
                      rps=round(requests / seconds, 1), p50_ms=round(latency[50], 2), p99_ms=round(latency[99], 2))


# --- the Python client -------------------------------------------------------------------


async def _connection(
    host: str, port: int, request: bytes, stop_at: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            status = int(head[9:12])
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def _run_python(
    *, host: str, port: int, method: str, path: str, body: bytes | None, connections: int, duration: float,
    extra_headers: dict[str, str] | None = None,
) -> LoadResult:
    headers = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    headers += [f"{name}: {value}" for name, value in (extra_headers or {}).items()]
    if body is not None:
        headers += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(headers) + "\r\n\r\n").encode() + (body or b"")
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> float:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        start = time.perf_counter()
        await asyncio.gather(
            *(_connection(host, port, request, start + duration, latencies, errors) for _ in range(connections))
        )
        return time.perf_counter() - start

    seconds = asyncio.run(main())
    return LoadResult(
        endpoint=f"{method} {path}",
        tool="python",
        connections=connections,
        seconds=round(seconds, 2),
        requests=len(latencies),
        errors=len(errors),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(_percentile(latencies, 50) * 1000, 2),
        p99_ms=round(_percentile(latencies, 99) * 1000, 2),
    )


def run_load(*, port: int, method: str, path: str, body: bytes | None = None, connections: int = 32,
             duration: float = 10.0, tool: Tool = "auto", headers: dict[str, str] | None = None) -> LoadResult:
    """Load one endpoint of a server on 127.0.0.1:port for ``duration`` seconds.

    Parameters
    ----------
    port : int
        The server's port on 127.0.0.1.
    method, path : str
        The request (``POST``, ``/assess``).
    body : bytes, optional
        A JSON body.
    connections : int
        Concurrent keep-alive connections.
    duration : float
        Seconds of load (bounded: at most 120).
    tool : {"auto", "wrk", "python"}
        ``wrk`` if installed ("auto"), else the asyncio client.
    headers : dict, optional
        Headers sent with every request (``Authorization``).

    Returns
    -------
    LoadResult
        Requests per second and the p50 / p99 latencies.
    """
    duration = min(float(duration), 120.0)
    use_wrk = tool == "wrk" or (tool == "auto" and shutil.which("wrk"))
    if use_wrk:
        result = _run_wrk(url=f"http://127.0.0.1:{port}{path}", method=method, body=body, connections=connections,
                          duration=duration, headers=headers)
        return LoadResult(**{**result.to_dict(), "endpoint": f"{method} {path}"})
    return _run_python(host="127.0.0.1", port=port, method=method, path=path, body=body, connections=connections,
                       duration=duration, extra_headers=headers)


def secured_server_env(folder: Path, *, auth: Auth) -> tuple[dict[str, str], dict[str, str]]:
    """Settings for a benchmark server with authentication on, and the header every request sends.

    ``api-key``: an API key with the clinician role (kept as its SHA-256). ``jwt``: an OpenID
    Connect provider whose JWK Set is a file in ``folder`` (an RS256 key made for the run) and
    one bearer token of it, reused as a client reuses its access token (verified on first use,
    then kept until it expires). ``none``: no authentication (the quick
    start). The audit log is on, in ``folder``, in every case.

    Returns
    -------
    (dict, dict)
        The server's environment (``CONTRAXIS_*``) and the request headers.
    """
    env = {"CONTRAXIS_STATE_DIR": str(folder / "state")}
    if auth == "none":
        return env, {}
    if auth == "api-key":
        from .auth import hash_api_key, new_api_key

        key = new_api_key()
        keys = [{"name": "load benchmark", "roles": ["clinician"], "sha256": hash_api_key(key)}]
        return {**env, "CONTRAXIS_API_KEYS": json.dumps(keys)}, {"Authorization": f"Bearer {key}"}
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "bench", "alg": "RS256", "use": "sig"}]}))
    issuer = "https://login.example.org/realms/bench"
    provider = {"issuer": issuer, "audience": "contraxis", "jwks_file": str(folder / "jwks.json")}
    now = int(time.time())
    token = jwt.encode({"iss": issuer, "aud": "contraxis", "sub": "load-benchmark", "iat": now, "exp": now + 3600,
                        "roles": ["clinician"]}, private, algorithm="RS256", headers={"kid": "bench"})
    return {**env, "CONTRAXIS_OIDC_PROVIDERS": json.dumps([provider])}, {"Authorization": f"Bearer {token}"}


def merge_results(parts: Sequence[LoadResult]) -> LoadResult:
    """One endpoint's figures from several slices of load: requests and seconds added up, p50
    the request-weighted mean of the slices' p50, p99 the largest slice p99 (an upper bound)."""
    if len(parts) == 1:
        return parts[0]
    requests = sum(p.requests for p in parts)
    seconds = sum(p.seconds for p in parts)
    p50 = sum(p.p50_ms * p.requests for p in parts) / requests if requests else float("nan")
    return LoadResult(endpoint=parts[0].endpoint, tool=parts[0].tool, connections=parts[0].connections,
                      seconds=round(seconds, 2), requests=requests, errors=sum(p.errors for p in parts),
                      rps=round(requests / seconds, 1) if seconds else 0.0, p50_ms=round(p50, 2),
                      p99_ms=max(p.p99_ms for p in parts))


def bench_load(*, connections: int = 32, duration: float = 10.0, workers: int = 2, tool: Tool = "auto",
               warmup: float = 2.0, auth: Auth = "none", rounds: int = 1) -> list[LoadResult]:
    """Start the service; load ``GET /health``, then ``POST /assess`` with a typical case (the
    default answer, without the HPO differential) and ``POST /assess?differential=true``; stop it.

    Parameters
    ----------
    connections : int
        Concurrent connections.
    duration : float
        Seconds of load per endpoint.
    workers : int
        Uvicorn worker processes.
    tool : {"auto", "wrk", "python"}
        The load generator.
    warmup : float
        Seconds of load on each endpoint before measuring.
    auth : {"none", "api-key", "jwt"}
        Authentication on the server (:func:`secured_server_env`): every ``POST /assess``
        carries the key or token; ``GET /health`` stays open. The audit log is on.
    rounds : int
        Measure the endpoints in turn this many times, ``duration / rounds`` seconds each, and
        add the slices up (:func:`merge_results`): on a machine whose other load changes during
        the run, every endpoint then sees the same conditions.

    Returns
    -------
    list of LoadResult
        ``GET /health``, ``POST /assess`` and ``POST /assess?differential=true``, in that order
        (the last is left out when the service has no differential index).
    """
    port = free_port()
    folder = tempfile.TemporaryDirectory(prefix="contraxis-bench-")
    env, headers = secured_server_env(Path(folder.name), auth=auth)
    server = start_server(port=port, workers=workers, env=env)
    body = json.dumps(TYPICAL_CASE).encode()
    try:
        for _ in range(workers * 4):  # every worker loads its knowledge base before measuring
            urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{port}/assess?differential=true",
                    data=body,
                    headers={"content-type": "application/json", **headers},
                ),
                timeout=30,
            ).read()
        with urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/assess?differential=true",
                data=body,
                headers={"content-type": "application/json", **headers},
            ),
            timeout=30,
        ) as answer:
            has_differential = json.loads(answer.read()).get("differential") is not None
        runs = [("GET", "/health", None), ("POST", "/assess", body)]
        if has_differential:
            runs.append(("POST", "/assess?differential=true", body))
        for method, path, payload in runs:
            if warmup > 0:
                run_load(
                    port=port,
                    method=method,
                    path=path,
                    body=payload,
                    connections=connections,
                    duration=warmup,
                    tool=tool,
                    headers=headers,
                )
        slices: list[list[LoadResult]] = [[] for _ in runs]
        for _ in range(rounds):
            for i, (method, path, payload) in enumerate(runs):
                slices[i].append(run_load(port=port, method=method, path=path, body=payload,
                                          connections=connections, duration=duration / rounds, tool=tool,
                                          headers=headers))
        return [merge_results(parts) for parts in slices]
    finally:
        stop_server(server)
        folder.cleanup()
