"""uvicorn's httptools protocol with limits on what a connection may hold before the app sees it.

The ASGI app only sees a request once its headers are in, and never sees a connection that
sends nothing; so these limits live in the HTTP protocol itself (``contraxis serve`` runs
uvicorn with :class:`GuardedHttpToolsProtocol`):

- **header size**: a request line and headers larger than ``max_header_bytes`` get 431 and
  the connection is closed, before the parser has buffered them;
- **header time**: a client that connects and sends nothing, or starts a request and does not
  finish its headers, within ``header_timeout`` is disconnected (408 if it had begun);
- **body time**: a body not received within ``body_timeout`` plus one second per
  ``body_min_bytes_per_second`` of its ``Content-Length`` gets 408 and the connection is
  closed (a body sent a byte at a time does not hold a worker);
- **connections**: past ``max_connections`` open connections a new one is closed at once;
- **keep-alive**: an idle connection between requests is closed after ``keep_alive_timeout``.

The limits are the app's :class:`~contraxis.service.limits.LimitSettings`
(``app.state.settings.limits``), found through the middleware uvicorn wraps around it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .limits import LimitSettings

__all__ = ["GuardedHttpToolsProtocol", "limits_of"]

_log = logging.getLogger("contraxis.service")
_HEAD_END = b"\r\n\r\n"
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def limits_of(config: Any) -> LimitSettings:
    """The limits of the app uvicorn serves (its ``state.settings.limits``), else the defaults;
    looked up once per server configuration."""
    cached = getattr(config, "_contraxis_limits", None)
    if isinstance(cached, LimitSettings):
        return cached
    limits = LimitSettings()
    app = getattr(config, "loaded_app", None)
    for _ in range(32):  # uvicorn's and the app's middleware, each holding the next as `.app`
        if app is None:
            break
        settings = getattr(getattr(app, "state", None), "settings", None)
        found = getattr(settings, "limits", None)
        if isinstance(found, LimitSettings):
            limits = found
            break
        app = getattr(app, "app", None)
    config._contraxis_limits = limits
    return limits


def _answer(status: int, field: str, message: str) -> bytes:
    body = json.dumps({
        "error": "RequestError", "status": status, "source": None,
        "problems": [{"field": field, "message": message}],
    }).encode()
    head = (
        f"HTTP/1.1 {status} ".encode() + _REASONS[status] + b"\r\n"
        b"content-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`uvicorn.protocols.http.httptools_impl.HttpToolsProtocol` with header-size,
    header-time, body-time and connection limits (see the module's description)."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits_of(config)
        self.timeout_keep_alive = self.limits.keep_alive_timeout
        self._head_bytes: int | None = 0  # bytes of the request head so far; None while in a body
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None
        self._body_seconds = self.limits.body_timeout

    # -- timers --

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close_with(self, status: int | None, field: str = "", message: str = "") -> None:
        """Answer ``status`` (None: nothing) and close; a request in progress sees its client
        gone, and whatever it answers later is dropped."""
        self._disarm()
        if self.transport is None or self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        if status is not None:
            self.transport.write(_answer(status, field, message))
        self.transport.close()

    def _head_timed_out(self) -> None:
        begun = bool(self._head_bytes)
        if begun:
            _log.warning("request headers not received within %.0f s: connection closed", self.limits.header_timeout)
        idle = self.cycle is None or self.cycle.response_complete  # no answer of ours is being written
        self._close_with(408 if begun and idle else None, "headers",
                         f"were not received within {self.limits.header_timeout:g} s")

    def _body_timed_out(self) -> None:
        _log.warning("request body not received within %.0f s: connection closed", self._body_seconds)
        answered = self.cycle is not None and self.cycle.response_started
        self._close_with(None if answered else 408, "body", f"was not received within {self._body_seconds:.0f} s "
                         f"(allowed: {self.limits.body_timeout:g} s, and one more for each "
                         f"{self.limits.body_min_bytes_per_second} bytes declared)")

    # -- the protocol --

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            _log.warning("more than %d connections open: a new one closed", self.limits.max_connections)
            transport.close()
            return
        self._arm(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            window = self._tail + data
            end = window.find(_HEAD_END)
            size = self._head_bytes + (len(data) if end < 0 else max(0, end + len(_HEAD_END) - len(self._tail)))
            if size > self.limits.max_header_bytes:
                _log.warning("request headers larger than %d bytes: refused", self.limits.max_header_bytes)
                self._close_with(431, "headers", f"are larger than {self.limits.max_header_bytes} bytes "
                                 f"(allowed: {self.limits.max_header_bytes})")
                return
            self._head_bytes = size if end < 0 else 0
            self._tail = window[-(len(_HEAD_END) - 1):]
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._timer is None:
            self._arm(self.limits.header_timeout, self._head_timed_out)

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._tail = b""
        length = None
        for name, value in self.headers:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        self._body_seconds = self.limits.body_seconds(length)
        self._arm(self._body_seconds, self._body_timed_out)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._head_bytes = 0
        super().on_message_complete()
