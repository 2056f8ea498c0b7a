"""``contraxis serve`` and ``contraxis bench load``: plain functions the Typer app registers.

The service runs on uvicorn with httptools and uvloop (plain uvicorn adds tens of
milliseconds to each keep-alive request on some kernels). Nothing else is installed or
started: the app is built from the bundled knowledge base with the embedded defaults.
"""

from __future__ import annotations

import json

__all__ = ["bench_load_command", "serve_command"]


def serve_command(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Start the web service: REST, CDS Hooks, FHIR input, the intake page and the API docs.

    Parameters
    ----------
    host : str
        The address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).
    port : int
        The TCP port.
    workers : int
        Worker processes (each loads its own knowledge base).
    """
    import uvicorn

    uvicorn.run(
        "contraxis.service.app:default_app", factory=True, host=host, port=port, workers=workers,
        loop="uvloop", http="httptools", access_log=False, log_level="info", timeout_keep_alive=30,
    )


def bench_load_command(connections: int = 32, duration: float = 10.0, workers: int = 2, tool: str = "auto",
                       json_output: bool = False) -> None:
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
    json_output : bool
        Print the figures as JSON.
    """
    from ..service.loadbench import bench_load

    if tool not in ("auto", "wrk", "python"):
        raise SystemExit(f"--tool: {tool!r} is not one of auto, wrk, python")
    results = bench_load(connections=connections, duration=duration, workers=workers, tool=tool)  # type: ignore[arg-type]
    health = results[0]
    ratios = {r.endpoint: round(r.rps / health.rps, 3) if health.rps else 0.0 for r in results[1:]}
    if json_output:
        print(json.dumps({"results": [r.to_dict() for r in results], "rate_to_health": ratios}, indent=2))
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
        print(
            f"{r.endpoint}: {ratios[r.endpoint]:.2f} of the GET /health rate (target >= 0.25), "
            f"p99 {r.p99_ms:.2f} ms (target < 25 ms)"
        )
    print(f"{workers} uvicorn worker(s), httptools + uvloop, {results[0].connections} connections, loopback.")
