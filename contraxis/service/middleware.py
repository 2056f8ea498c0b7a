"""ASGI middleware: a limit on the request body (413) and the versions on every answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import Problem
from .body import body_limit
from .errors import RequestError

__all__ = ["ServiceMiddleware"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _TooLarge(RequestError):
    """Raised while reading a body past the limit; the error handlers answer it with 413."""


CORS_PREFIX = "/cds-services"
_CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type, Accept"),
    (b"access-control-max-age", b"600"),
]


class ServiceMiddleware:
    """Refuse bodies over ``max_body_bytes`` with 413 and stamp the versions on each answer.

    The CDS Hooks routes also answer cross-origin requests (CORS), as the CDS Hooks
    specification asks, so that a browser-based EHR sandbox can call them.

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    max_body_bytes : int
        The largest body accepted.
    versions : callable
        Returns ``(knowledge-base version, HPO release)``; called once, on the first request.
    """

    def __init__(self, app: Any, *, max_body_bytes: int, versions: Callable[[], tuple[str, str]]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._versions = versions
        self._headers: list[tuple[bytes, bytes]] | None = None

    def _version_headers(self) -> list[tuple[bytes, bytes]]:
        if self._headers is None:
            try:
                kb, hpo = self._versions()
            except Exception:  # noqa: BLE001 - the answer itself will name the problem
                return []
            self._headers = [
                (b"x-contraxis-kb-version", kb.encode("latin-1", "replace")),
                (b"x-contraxis-hpo-release", hpo.encode("latin-1", "replace")),
            ]
        return self._headers

    async def _refuse(self, send: Send, message: str) -> None:
        body = json.dumps({
            "error": "RequestError", "status": 413, "source": None,
            "problems": [{"field": "body", "message": message}],
        }).encode()
        await send({
            "type": "http.response.start", "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"), *self._version_headers()],
        })
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""), self.max_body_bytes)
        too_large = f"the request body is larger than the limit of {limit} bytes"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        await self._refuse(send, too_large)
                        return
                except ValueError:
                    pass
        received = 0
        started = False
        headers = self._version_headers()
        if scope.get("path", "").startswith(CORS_PREFIX):
            if scope["method"] == "OPTIONS":
                await send({"type": "http.response.start", "status": 204, "headers": [*_CORS_HEADERS, *headers]})
                await send({"type": "http.response.body", "body": b""})
                return
            headers = [*headers, *_CORS_HEADERS]

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge([Problem("body", too_large)], status=413)
            return message

        async def stamped_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if headers:
                    message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        try:
            await self.app(scope, limited_receive, stamped_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, too_large)
