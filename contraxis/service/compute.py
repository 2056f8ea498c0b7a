"""The processor-bound work of a request (ranking a differential, reading a large record,
building CDS cards): in a worker thread, off the event loop, at most
``limits.compute_threads`` at once in a worker process.

Python runs one thread at a time (the interpreter lock): a second thread computing beside
the first makes neither faster, but makes both slower and their answers' times uneven (at 32
connections, ``POST /assess?differential=true`` had a p99 latency about twice as long with
16 threads as with one). Requests past the limit wait for a thread, within their time limit
(:class:`~contraxis.service.middleware.GuardMiddleware`), while the event loop keeps
answering the others.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

__all__ = ["compute"]

_T = TypeVar("_T")

_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter(threads: int) -> anyio.CapacityLimiter:
    """The limiter of the running event loop (one per loop: a worker process has one)."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(threads)
    elif limiter.total_tokens != threads:
        limiter.total_tokens = threads
    return limiter


async def compute(request: Request, function: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """Run ``function(*args, **kwargs)`` in a worker thread, at most the app's
    ``settings.limits.compute_threads`` at once, and return its result (its exception is raised).

    Parameters
    ----------
    request : fastapi.Request
        The request (its app's settings give the number of threads).
    function : callable
        The work; it must not touch the event loop.

    Returns
    -------
    Any
        What ``function`` returns.
    """
    limits = getattr(request.app.state.settings, "limits", None)
    threads = int(getattr(limits, "compute_threads", 1))
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=_limiter(threads))
