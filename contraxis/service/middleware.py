"""ASGI middleware: a limit on the request body (413) and the versions on every answer
(:class:`ServiceMiddleware`); a rate limit per client (429), a limit on requests at once and
on the time of each (503) (:class:`GuardMiddleware`)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import Problem
from .body import CDS_BODY_BYTES, body_limit
from .errors import RequestError
from .limits import LimitSettings

__all__ = ["EXEMPT_PATHS", "GuardMiddleware", "ServiceMiddleware"]

_log = logging.getLogger("contraxis.service")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _TooLarge(RequestError):
    """Raised while reading a body past the limit; the error handlers answer it with 413
    (as a ``RequestError``)."""


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
    cds_body_bytes : int
        The largest body of a CDS Hooks service call (:func:`contraxis.service.body.body_limit`).
    """

    def __init__(self, app: Any, *, max_body_bytes: int, versions: Callable[[], tuple[str, str]],
                 cds_body_bytes: int = CDS_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.cds_body_bytes = cds_body_bytes
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
        limit = body_limit(scope.get("path", ""), self.max_body_bytes, cds=self.cds_body_bytes)
        too_large = f"is larger than the limit of {limit} bytes on this route"
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


EXEMPT_PATHS = frozenset({"/health"})
"""Paths never refused by :class:`GuardMiddleware`, so that a busy service still says it is alive."""

_MAX_CLIENTS = 10_000


def _refusal(status: int, field: str, message: str, retry_after: int) -> tuple[Message, Message]:
    body = json.dumps({
        "error": "RequestError", "status": status, "source": None,
        "problems": [{"field": field, "message": message}],
    }).encode()
    start = {
        "type": "http.response.start", "status": status,
        "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()), (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class GuardMiddleware:
    """Bound the work the service takes on: a rate limit per client, requests at once, and
    the time of each request.

    In this order, for every HTTP request but :data:`EXEMPT_PATHS`:

    1. a client (its address) past ``rate_limit_per_minute`` (token bucket of
       ``burst`` requests) gets 429 with ``Retry-After`` (the seconds until a request is
       allowed again); off when the rate is 0;
    2. past ``max_concurrent_requests`` requests in progress, 503 with ``Retry-After``;
    3. a request not answered within ``request_timeout`` seconds gets 503 with ``Retry-After``
       at that moment and is cancelled; work it had started in a thread cannot be stopped and
       runs to its end, and its answer is dropped. The request runs in the server's own task
       under a timer (no task of its own per request).

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    limits : LimitSettings
        The limits.
    """

    def __init__(self, app: Any, *, limits: LimitSettings) -> None:
        self.app = app
        self.limits = limits
        self.active = 0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _wait(self, client: str) -> float:
        """Seconds until ``client`` may send again (0: now, and one request is counted)."""
        rate = self.limits.rate_limit_per_minute / 60.0
        burst = float(self.limits.burst)
        now = time.monotonic()
        tokens, last = self._buckets.pop(client, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > _MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        limits = self.limits
        if limits.rate_limit_per_minute:
            client = (scope.get("client") or ("unknown",))[0]
            wait = self._wait(str(client))
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                for message in _refusal(429, "request", (
                    f"too many requests from this client (allowed: {limits.rate_limit_per_minute} a minute): "
                    f"try again in {seconds} s"), seconds):
                    await send(message)
                return
        if self.active >= limits.max_concurrent_requests:
            _log.warning("%d requests in progress: one refused with 503", self.active)
            for message in _refusal(503, "request", (
                f"the service is busy ({self.active} requests in progress, allowed: "
                f"{limits.max_concurrent_requests}): try again in {limits.retry_after_seconds} s"),
                    limits.retry_after_seconds):
                await send(message)
            return
        started = False
        abandoned = False
        refused: list[asyncio.Task[None]] = []

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def refuse() -> None:
            for message in _refusal(503, "request", (
                f"took longer than {limits.request_timeout:g} s (allowed: {limits.request_timeout:g} s): "
                f"try again in {limits.retry_after_seconds} s"), limits.retry_after_seconds):
                await send(message)

        this = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def expire() -> None:
            # The time limit: answer 503 now (unless the answer has begun) and cancel the request.
            nonlocal abandoned
            abandoned = True
            _log.warning("%s %s took longer than %g s: answered 503", scope.get("method"), scope.get("path"),
                         limits.request_timeout)
            if not started:
                refused.append(loop.create_task(refuse()))
            if this is not None:
                this.cancel()

        self.active += 1
        timer = loop.call_later(limits.request_timeout, expire)
        try:
            await self.app(scope, receive, guarded_send)
        except asyncio.CancelledError:
            if not abandoned or this is None:
                raise
            this.uncancel()
        except Exception as error:
            if not abandoned:
                raise
            _log.warning("a request abandoned after its time limit failed: %s", type(error).__name__)
        finally:
            timer.cancel()
            self.active -= 1
        if refused:
            await refused[0]
