"""Bounded work per request, on a real uvicorn server on 127.0.0.1 (``contraxis serve`` in a
child process, as deployed): bombs answered 4xx at once while ``GET /health`` keeps
answering, a limit on requests at once and on time (503), a rate limit (429), slow clients
cut, large headers refused, idle connections closed."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from contraxis.service.loadbench import free_port, start_server, stop_server

BOMB = """a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
DEEP_YAML = "".join("  " * i + "- \n" for i in range(10_000))[:20_000]
"""A 20 kB YAML document nested 10,000 deep (cut where it reaches 20 kB)."""


class Server:
    """A ``contraxis serve`` child process on 127.0.0.1 and ways to talk to it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = start_server(port=self.port, workers=1, env=env)

    def request(self, method: str, path: str, body: bytes | None = None, *, content_type: str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def connect(self, source: str = "127.0.0.1") -> socket.socket:
        """A raw connection, from ``source`` (another loopback address is another client)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(source, 0))
        return sock

    def health_during(self, action: Callable[[], Any]) -> tuple[Any, list[float]]:
        """Run ``action`` while another thread asks ``GET /health`` over and over; return its
        result and the health round trips (seconds; 99 for a failure)."""
        times: list[float] = []
        done = threading.Event()

        def poll() -> None:
            while not done.is_set() and len(times) < 10_000:
                start = time.perf_counter()
                try:
                    status, _, _ = self.request("GET", "/health", timeout=5)
                    times.append(time.perf_counter() - start if status == 200 else 99.0)
                except OSError:
                    times.append(99.0)
                time.sleep(0.005)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            time.sleep(0.05)
            result = action()
            time.sleep(0.05)
        finally:
            done.set()
            poller.join(timeout=10)
        return result, times

    def stop(self) -> None:
        stop_server(self.process)


def current_hpo_terms(count: int) -> list[str]:
    """The first ``count`` current (not obsolete) terms of the bundled HPO release, past the root."""
    import gzip

    import contraxis

    terms: list[str] = []
    with gzip.open(Path(contraxis.__file__).parent / "data" / "hpo" / "hp.obo.gz", "rt", encoding="utf-8") as obo:
        for block in obo.read().split("\n[Term]\n")[2:]:
            lines = block.splitlines()
            if lines[0].startswith("id: HP:") and "is_obsolete: true" not in lines and any(
                    line.startswith("is_a:") for line in lines):
                terms.append(lines[0][4:])
            if len(terms) == count:
                break
    return terms


def read_until_closed(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def read_answer(sock: socket.socket, seconds: float) -> bytes:
    """One HTTP answer (head and a Content-Length body), or what came before the connection closed."""
    sock.settimeout(seconds)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
    return data


def problems(body: bytes) -> list[dict[str, str]]:
    data = json.loads(body)
    assert set(data) >= {"error", "status", "problems"} and data["error"] == "RequestError"
    return data["problems"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with its default limits but short header and body times."""
    state = tmp_path_factory.mktemp("state")
    running = Server({
        "CONTRAXIS_STATE_DIR": str(state),
        "CONTRAXIS_LIMITS__HEADER_TIMEOUT": "1.5",
        "CONTRAXIS_LIMITS__BODY_TIMEOUT": "1.5",
        "CONTRAXIS_LIMITS__MAX_CONCURRENT_REQUESTS": "3",
    })
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with one second per request and a rate limit of 60 a minute (burst 3)."""
    state = tmp_path_factory.mktemp("state")
    running = Server({
        "CONTRAXIS_STATE_DIR": str(state),
        "CONTRAXIS_DIFFERENTIAL": "false",
        "CONTRAXIS_LIMITS__REQUEST_TIMEOUT": "1",
        "CONTRAXIS_LIMITS__BODY_TIMEOUT": "30",
        "CONTRAXIS_LIMITS__RATE_LIMIT_PER_MINUTE": "60",
        "CONTRAXIS_LIMITS__RATE_LIMIT_BURST": "3",
        "CONTRAXIS_LIMITS__RETRY_AFTER_SECONDS": "7",
    })
    yield running
    running.stop()


@pytest.mark.parametrize(
    "path, body",
    [
        ("/assess", BOMB + "id: *i\n"),
        ("/assess", BOMB + "findings: *i\n"),
        ("/differential", BOMB + "case:\n  findings: *i\n"),
        ("/report/html", BOMB + "id: *i\n"),
        ("/assess", DEEP_YAML),
        ("/assess", "[" * 10_000 + "]" * 10_000),
    ],
    ids=["alias-id", "alias-findings", "alias-differential", "alias-report", "deep-block", "deep-flow"],
)
def test_bombs_are_answered_4xx_within_a_second_while_health_answers(server, path, body):
    """Check that a billion laughs or a document nested 10,000 deep is refused in under a second,
    with a short message, while GET /health keeps answering."""
    def send() -> tuple[int, bytes, float]:
        start = time.perf_counter()
        status, _, answer = server.request("POST", path, body.encode(), content_type="application/yaml")
        return status, answer, time.perf_counter() - start

    (status, answer, seconds), health = server.health_during(send)
    assert seconds < 1.0
    assert status == 400 and len(answer) < 600, answer
    message = problems(answer)[0]["message"]
    assert "aliases repeat" in message or "nested too deeply" in message
    assert health and max(health) < 1.0, health


def test_a_deep_json_body_is_refused(server):
    """Check that JSON nested deeper than the cap is refused before it is parsed."""
    status, _, answer = server.request("POST", "/fhir/assess", b'{"resourceType": "Bundle", "entry": '
                                       + b"[" * 5000 + b"]" * 5000 + b"}", content_type="application/fhir+json")
    assert status == 400 and "nested too deeply" in problems(answer)[0]["message"]


def test_a_differential_of_500_findings_does_not_hold_the_loop(server):
    """Check that ranking 500 findings, in a worker thread, leaves GET /health answering quickly."""
    findings = current_hpo_terms(500)
    body = json.dumps({"age": 40, "findings": findings}).encode()
    (status, _, _), health = server.health_during(
        lambda: server.request("POST", "/differential", body, content_type="application/json")
    )
    assert status in (200, 503)  # 503: this machine has no differential index
    assert health and max(health) < 0.5, max(health)


def test_a_byte_a_second_body_is_cut(server):
    """Check that a body trickled a byte at a time is cut with 408 after the body time."""
    sock = server.connect()
    sock.sendall(b"POST /assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 300\r\n\r\n{")
    start = time.perf_counter()
    answer = b""
    sock.settimeout(0.2)
    while time.perf_counter() - start < 10:
        try:
            sock.sendall(b" ")
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        answer += chunk
    elapsed = time.perf_counter() - start
    sock.close()
    assert elapsed < 4, elapsed
    if answer:  # the 408 may be lost to the reset of a connection still sending
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


def test_idle_connections_do_not_pin_the_server(server):
    """Check that a thousand connections that send nothing leave /health answering, and are
    closed after the header time."""
    idle = [server.connect() for _ in range(1000)]
    try:
        start = time.perf_counter()
        assert server.request("GET", "/health", timeout=5)[0] == 200
        assert time.perf_counter() - start < 1
        time.sleep(2.0)
        closed = sum(1 for sock in idle if read_until_closed(sock, 0.5) == b"")
        assert closed == len(idle)
    finally:
        for sock in idle:
            sock.close()


def test_a_huge_header_is_refused(server):
    """Check that a 32 MiB header is refused with 431 once past the limit, not buffered."""
    sock = server.connect()
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
    sent = 0
    with contextlib.suppress(OSError):
        while sent < 32 * 1024 * 1024:
            sock.sendall(b"a" * 65536)
            sent += 65536
    answer = read_until_closed(sock, 5)
    sock.close()
    assert sent < 32 * 1024 * 1024
    if answer:
        assert answer.startswith(b"HTTP/1.1 431") and b"headers" in answer, answer[:200]
    assert server.request("GET", "/health")[0] == 200


def test_headers_sent_too_slowly_are_cut(server):
    """Check that a request whose headers never end is answered 408 after the header time."""
    sock = server.connect()
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    start = time.perf_counter()
    answer = read_until_closed(sock, 5)
    assert time.perf_counter() - start < 3
    assert answer.startswith(b"HTTP/1.1 408")


def test_requests_past_the_limit_at_once_get_503(server):
    """Check that with three requests in progress (bodies pending) a fourth gets 503 with
    Retry-After, and /health still answers."""
    held = []
    for _ in range(3):
        sock = server.connect()
        sock.sendall(b"POST /assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        held.append(sock)
    try:
        time.sleep(0.3)
        status, headers, answer = server.request("POST", "/assess", b"{}", content_type="application/json")
        assert status == 503 and int(headers["retry-after"]) >= 1
        assert "busy" in problems(answer)[0]["message"]
        assert server.request("GET", "/health")[0] == 200
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert server.request("POST", "/assess", b'{"age": 30}', content_type="application/json")[0] == 200


def test_a_request_past_its_time_gets_503(tight):
    """Check that a request not answered within the time limit gets 503 with Retry-After."""
    sock = tight.connect("127.0.0.3")
    sock.sendall(b"POST /assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    start = time.perf_counter()
    answer = read_answer(sock, 5)
    sock.close()
    assert 0.9 < time.perf_counter() - start < 3
    assert answer.startswith(b"HTTP/1.1 503") and b"retry-after: 7" in answer.lower(), answer[:300]
    assert b"took longer than 1 s" in answer


def test_a_client_past_its_rate_gets_429(tight):
    """Check the rate limit: three at once (the burst), then 429 with the seconds to wait;
    another client is not affected, and /health never counts."""

    def post(source: str) -> bytes:
        sock = tight.connect(source)
        sock.sendall(b"POST /assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 11\r\nConnection: close\r\n\r\n{\"age\": 30}")
        answer = read_until_closed(sock, 5)
        sock.close()
        return answer

    answers = [post("127.0.0.2") for _ in range(4)]
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers[:3]), [a[:40] for a in answers]
    assert answers[3].startswith(b"HTTP/1.1 429"), answers[3][:200]
    assert b"retry-after: 1" in answers[3].lower() and b"60 a minute" in answers[3]
    assert post("127.0.0.4").startswith(b"HTTP/1.1 200")
    for _ in range(5):
        assert tight.request("GET", "/health")[0] == 200


def test_the_realworld_bomb_is_refused_by_the_cli():
    """Check that `contraxis assess` refuses the shared alias bomb at once (the same guards)."""
    import subprocess
    import sys

    path = Path("/work/shared/realworld/bad-input-dos-yaml-alias-bomb.yaml")
    text = path.read_text(encoding="utf-8") if path.exists() else BOMB + "id: *i\n"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "contraxis", "assess", "-"], input=text.encode(),
                          capture_output=True, timeout=60)
    assert time.perf_counter() - start < 10
    assert done.returncode == 2 and b"aliases repeat" in done.stderr and len(done.stderr) < 400
