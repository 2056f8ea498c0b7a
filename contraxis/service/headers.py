"""Security headers on every answer (ASGI middleware).

- ``Content-Security-Policy``: scripts, styles, images and requests from this origin only, no
  plugin, no ``<base>``, never framed (``frame-ancestors 'none'``). The intake page and the API
  docs load their script and styles as files; a standalone report (``/report/html``,
  ``/report/handout``) carries its stylesheet in a ``<style>`` element, allowed by its SHA-256.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
  no-referrer`` (a link never tells the next site where the user was), ``Cross-Origin-Opener-Policy``.
- ``Strict-Transport-Security`` when the request came over HTTPS (uvicorn's TLS, or a trusted
  proxy's ``X-Forwarded-Proto``).
- ``Cache-Control: no-store`` on every answer that does not set its own: answers carry patient
  data and must not be kept by a browser or a proxy. Static files keep their validators
  (``no-cache``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["CSP", "SecurityHeadersMiddleware", "content_security_policy"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)
_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def content_security_policy(*, style_hashes: tuple[str, ...] = ()) -> str:
    """The policy, with ``'sha256-...'`` sources added to ``style-src`` for inline stylesheets."""
    parts = []
    for name, value in CSP_DIRECTIVES:
        if name == "style-src" and style_hashes:
            value = " ".join((value, *(f"'sha256-{h}'" for h in style_hashes)))
        parts.append(f"{name} {value}")
    return "; ".join(parts)


CSP = content_security_policy()
"""The policy of every answer without an inline stylesheet."""


def _style_hashes(body: bytes) -> tuple[str, ...]:
    return tuple(base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() for m in _STYLE.finditer(body))


class SecurityHeadersMiddleware:
    """Add the headers above to every HTTP answer.

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    hsts_seconds : int
        ``max-age`` of ``Strict-Transport-Security`` (sent over HTTPS only; 0: never).
    """

    def __init__(self, app: Any, *, hsts_seconds: int = 31_536_000) -> None:
        self.app = app
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        self.hsts = [(b"strict-transport-security", f"max-age={hsts_seconds}".encode())] if hsts_seconds else []

    def _headers(self, scope: Scope, headers: list[tuple[bytes, bytes]], *, csp: str) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in headers}
        added = [(n, v) for n, v in self.common if n not in names]
        if b"content-security-policy" not in names:
            added.append((b"content-security-policy", csp.encode()))
        if b"cache-control" not in names:
            static = scope.get("path", "").startswith("/static/")
            added.append((b"cache-control", b"no-cache" if static else b"no-store"))
        if scope.get("scheme") == "https":
            added += self.hsts
        return [*headers, *added]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def secured_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                html = any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers)
                if html:
                    held = {**message, "headers": headers}  # the policy depends on the body
                    return
                await send({**message, "headers": self._headers(scope, headers, csp=CSP)})
                return
            if held is not None and message["type"] == "http.response.body":
                start, held = held, None
                body = message.get("body", b"")
                hashes = () if message.get("more_body") else _style_hashes(body)
                csp = content_security_policy(style_hashes=hashes) if hashes else CSP
                await send({**start, "headers": self._headers(scope, start["headers"], csp=csp)})
            await send(message)

        await self.app(scope, receive, secured_send)
