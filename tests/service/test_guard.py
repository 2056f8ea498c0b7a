"""The time limit of :class:`contraxis.service.middleware.GuardMiddleware`, in process: a
request past its time is answered 503 at once and cancelled, and its late answer is dropped."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool

from contraxis.service.limits import LimitSettings
from contraxis.service.middleware import GuardMiddleware

SCOPE = {"type": "http", "method": "POST", "path": "/assess", "client": ("127.0.0.1", 1), "headers": []}


def _guarded(app: Any, seconds: float) -> GuardMiddleware:
    return GuardMiddleware(app, limits=LimitSettings(request_timeout=seconds, retry_after_seconds=3))


async def _call(guard: GuardMiddleware, sent: list[tuple[float, dict[str, Any]]] | None = None
                ) -> list[tuple[float, dict[str, Any]]]:
    sent = [] if sent is None else sent
    start = time.perf_counter()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append((time.perf_counter() - start, message))

    await guard(dict(SCOPE), receive, send)
    return sent


async def _ok(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


def test_a_request_in_time_is_answered_as_the_app_answers() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await _ok(send)

    guard = _guarded(app, 5)
    sent = asyncio.run(_call(guard))
    assert [m["type"] for _, m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0][1]["status"] == 200 and guard.active == 0


def test_a_thread_past_the_time_limit_gets_503_at_once_and_its_answer_is_dropped() -> None:
    release = threading.Event()

    def work() -> None:
        release.wait(5)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await run_in_threadpool(work)
        await _ok(send)

    guard = _guarded(app, 0.2)
    sent: list[tuple[float, dict[str, Any]]] = []

    async def main() -> int:
        call = asyncio.ensure_future(_call(guard, sent))
        await asyncio.sleep(0.5)
        answered = len(sent)  # while the thread still works
        release.set()
        await call
        return answered

    answered_early = asyncio.run(main())
    assert answered_early == 2  # the 503, start and body, sent while the thread still worked
    assert guard.active == 0
    statuses = [m["status"] for _, m in sent if m["type"] == "http.response.start"]
    assert statuses == [503]  # the app's own late answer is dropped
    assert 0.15 < sent[0][0] < 0.45
    assert dict(sent[0][1]["headers"])[b"retry-after"] == b"3"
    body = json.loads(sent[1][1]["body"])
    assert "took longer than 0.2 s" in body["problems"][0]["message"]


def test_a_coroutine_past_the_time_limit_is_cancelled() -> None:
    cancelled = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        await _ok(send)

    guard = _guarded(app, 0.2)
    start = time.perf_counter()
    sent = asyncio.run(_call(guard))
    assert time.perf_counter() - start < 1
    assert cancelled == [True] and guard.active == 0
    assert [m["status"] for _, m in sent if m["type"] == "http.response.start"] == [503]


def test_a_cancellation_from_outside_is_not_swallowed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(5)

    guard = _guarded(app, 10)

    async def main() -> bool:
        call = asyncio.ensure_future(_call(guard))
        await asyncio.sleep(0.05)
        call.cancel()
        try:
            await call
        except asyncio.CancelledError:
            return True
        return False

    assert asyncio.run(main()) is True
    assert guard.active == 0
