"""Test identities: an issuer's key pair, its JWK Set, signed tokens, and a JWK Set URL served on
127.0.0.1 by the test itself (never the network)."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class Issuer:
    """An issuer with one signing key (ES384 or RS256/RS384) named ``kid``."""

    def __init__(self, iss: str, *, alg: str = "ES384", kid: str = "key-1") -> None:
        self.iss = iss
        self.alg = alg
        self.kid = kid
        if alg.startswith("ES"):
            self.private = ec.generate_private_key(ec.SECP384R1() if alg == "ES384" else ec.SECP256R1())
            self.public_jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.public_jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set."""
        return {"keys": [{**self.public_jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}]}

    def token(self, *, headers: dict[str, Any] | None = None, key: Any = None, alg: str | None = None,
              **claims: Any) -> str:
        """A signed token; claims set to None are left out."""
        now = int(time.time())
        body = {"iss": self.iss, "sub": "ehr-client", "iat": now, "exp": now + 240, "jti": str(uuid.uuid4()),
                **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.private, algorithm=alg or self.alg,
                          headers={"kid": self.kid, "typ": "JWT", **(headers or {})})


def unsigned(claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@contextmanager
def serve_jwks(document: dict[str, Any]) -> Iterator[tuple[str, list[int]]]:
    """Serve ``document`` at ``http://127.0.0.1:PORT/jwks.json``; yields the URL and a list that
    counts the fetches. Stopped on exit."""
    fetches: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            fetches.append(1)
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", fetches
    finally:
        server.shutdown()
        server.server_close()
