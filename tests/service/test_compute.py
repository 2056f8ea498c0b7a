"""Processor-bound work runs in worker threads, at most ``limits.compute_threads`` at once."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from contraxis.service.compute import compute
from contraxis.service.limits import LimitSettings


def _request(threads: int) -> Any:
    settings = SimpleNamespace(limits=LimitSettings(compute_threads=threads))
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=settings)))


def _most_at_once(threads: int, calls: int) -> tuple[int, set[int]]:
    lock = threading.Lock()
    state = {"now": 0, "most": 0}
    idents: set[int] = set()

    def work(i: int) -> int:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            idents.add(threading.get_ident())
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return i * 2

    async def main() -> list[int]:
        request = _request(threads)
        return await asyncio.gather(*(compute(request, work, i) for i in range(calls)))

    assert asyncio.run(main()) == [i * 2 for i in range(calls)]
    return state["most"], idents


def test_one_thread_at_a_time_by_default() -> None:
    most, idents = _most_at_once(1, 6)
    assert most == 1
    assert threading.get_ident() not in idents  # never on the event loop's thread


def test_an_operator_may_allow_more_threads() -> None:
    most, _ = _most_at_once(3, 9)
    assert most == 3


def test_the_work_s_exception_is_raised_and_the_loop_keeps_answering() -> None:
    def fail() -> None:
        raise ValueError("bad record")

    async def main() -> float:
        request = _request(1)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        await compute(request, time.sleep, 0.1)
        task.cancel()
        with pytest.raises(ValueError, match="bad record"):
            await compute(request, fail)
        return ticks

    assert asyncio.run(main()) >= 5


def test_the_setting_is_bounded() -> None:
    with pytest.raises(ValueError):
        LimitSettings(compute_threads=0)
