"""The load benchmark's own machinery, briefly (the figures come from `contraxis bench load`)."""

from __future__ import annotations

import json
import urllib.request

from contraxis.service.loadbench import (
    _WRK_LATENCY,
    _WRK_REQUESTS,
    TYPICAL_CASE,
    LoadResult,
    free_port,
    merge_results,
    run_load,
    secured_server_env,
    start_server,
    stop_server,
)

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/health
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.52ms    2.10ms  30.11ms   85.00%
  Latency Distribution
     50%    4.50ms
     75%    5.20ms
     90%    6.80ms
     99%   15.89ms
  35699 requests in 5.01s, 5.11MB read
Requests/sec:   7125.50
"""


def test_wrk_output_is_read():
    """Check that wrk's latency distribution and request count are read."""
    latency = {m.group(1): (m.group(2), m.group(3)) for m in _WRK_LATENCY.finditer(WRK_OUTPUT)}
    assert latency == {"50": ("4.50", "ms"), "99": ("15.89", "ms")}
    assert _WRK_REQUESTS.search(WRK_OUTPUT).groups() == ("35699", "5.01", "s")


def test_a_short_python_load_run_against_a_real_server():
    """Check that the server starts on loopback, answers a typical case, and a one-second load run gives figures."""
    port = free_port()
    server = start_server(port=port, workers=1)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/assess?differential=false",
            data=json.dumps(TYPICAL_CASE).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.loads(answer.read())["summary"]["focal_type"] == "cervical"
        result = run_load(port=port, method="GET", path="/health", connections=4, duration=1.0, tool="python")
        assert result.requests > 0 and result.errors == 0 and 0 < result.p50_ms <= result.p99_ms
    finally:
        stop_server(server)
    assert server.poll() is not None


def test_slices_of_load_add_up():
    """Check that slices merge into one figure: requests and seconds summed, p50 weighted, p99 the worst."""
    def part(requests, seconds, p50, p99):
        return LoadResult("POST /assess", "wrk", 32, seconds, requests, 0, requests / seconds, p50, p99)

    merged = merge_results([part(1000, 2.0, 8.0, 20.0), part(3000, 2.0, 4.0, 12.0)])
    assert (merged.requests, merged.seconds, merged.rps) == (4000, 4.0, 1000.0)
    assert merged.p50_ms == 5.0 and merged.p99_ms == 20.0


def test_a_short_load_run_with_an_api_key(tmp_path):
    """Check that a server started with authentication on lets the benchmark's key in, and nothing without it."""
    env, headers = secured_server_env(tmp_path, auth="api-key")
    port = free_port()
    server = start_server(port=port, workers=1, env=env)
    try:
        body = json.dumps(TYPICAL_CASE).encode()
        refused = run_load(port=port, method="POST", path="/assess", body=body, connections=2, duration=0.5,
                           tool="python")
        allowed = run_load(port=port, method="POST", path="/assess", body=body, connections=2, duration=0.5,
                           tool="python", headers=headers)
        assert refused.requests > 0 and refused.errors == refused.requests
        assert allowed.requests > 0 and allowed.errors == 0
    finally:
        stop_server(server)
