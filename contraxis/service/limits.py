"""How much work one request, one connection and one client may cost the service.

:class:`LimitSettings` is the ``limits`` block of
:class:`~contraxis.service.settings.ServiceSettings` (environment variables
``CONTRAXIS_LIMITS__<NAME>``, e.g. ``CONTRAXIS_LIMITS__RATE_LIMIT_PER_MINUTE=600``). Each
limit is enforced where it can be, every answer in the service's JSON error shape:

=========================  ==============================================  ===================================
limit                      enforced by                                     answer
=========================  ==============================================  ===================================
header size and time       :mod:`contraxis.service.protocol` (uvicorn)     431, 408, or the connection closed
body time (slow client)    :mod:`contraxis.service.protocol`               408 and the connection closed
body size per route        :class:`~contraxis.service.middleware.ServiceMiddleware`   413
rate per client            :class:`~contraxis.service.middleware.GuardMiddleware`     429 + ``Retry-After``
requests at once           :class:`~contraxis.service.middleware.GuardMiddleware`     503 + ``Retry-After``
time per request           :class:`~contraxis.service.middleware.GuardMiddleware`     503 + ``Retry-After``
nesting, YAML aliases      :mod:`contraxis.documents`                      400
=========================  ==============================================  ===================================

Limits are per worker process: with two workers, twice as many requests run at once and a
client's rate is counted by each worker it reaches.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KiB", "LimitSettings", "MiB", "THREAD_SWITCH_SECONDS"]

KiB = 1024
MiB = 1024 * KiB

THREAD_SWITCH_SECONDS = 0.001
"""How often a computing worker thread hands the interpreter back to the event loop
(``sys.setswitchinterval``; Python's default, 5 ms, lets one ranking of 500 findings delay
``GET /health`` by a tenth of a second)."""


class LimitSettings(BaseModel):
    """The service's limits (the defaults suit one hospital's EHR beside it).

    Parameters
    ----------
    cds_body_bytes : int
        Largest body of a CDS Hooks service call: a patient's prefetched record (8 MiB). Other
        routes keep ``max_body_bytes`` (1 MiB).
    request_timeout : float
        Seconds a request may take once its headers are in (body, reading, assessment); past
        it the answer is 503 with ``Retry-After``.
    max_concurrent_requests : int
        Requests a worker handles at once; one more gets 503 with ``Retry-After`` at once
        (``GET /health`` is never counted or refused).
    retry_after_seconds : int
        The ``Retry-After`` of a 503.
    compute_threads : int
        Worker threads a worker process computes in at once (a differential, a large record,
        CDS cards); more requests wait their turn. One suits CPython, which runs one thread at
        a time (:mod:`contraxis.service.compute`).
    rate_limit_per_minute : int
        Requests one client (its address, as the trusted proxy gives it) may send a minute to a
        worker; 0 (the default) switches the rate limit off. Past it: 429 with ``Retry-After``.
    rate_limit_burst : int, optional
        Requests a client may send at once before the rate applies (a token bucket's size);
        a quarter of the minute's rate when omitted.
    max_header_bytes : int
        Largest request line and headers (32 KiB); larger gets 431 and the connection closed.
    header_timeout : float
        Seconds a client has to send its request line and headers once it connects or starts a
        request; an idle new connection is closed after it.
    body_timeout : float
        Seconds a client has to send its body, plus one second per ``body_min_bytes_per_second``
        of the declared ``Content-Length``; a slower body gets 408 and the connection closed.
    body_min_bytes_per_second : int
        The slowest upload accepted for a long body (64 KiB/s: an 8 MiB prefetch has 138 s).
    keep_alive_timeout : float
        Seconds an idle keep-alive connection stays open between requests.
    max_connections : int
        Open connections a worker keeps; a new one past it is closed at once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cds_body_bytes: int = Field(8 * MiB, ge=KiB, le=256 * MiB)
    request_timeout: float = Field(30.0, gt=0, le=3600)
    max_concurrent_requests: int = Field(64, ge=1, le=10_000)
    retry_after_seconds: int = Field(2, ge=1, le=3600)
    compute_threads: int = Field(1, ge=1, le=64)
    rate_limit_per_minute: int = Field(0, ge=0)
    rate_limit_burst: int | None = Field(None, ge=1)
    max_header_bytes: int = Field(32 * KiB, ge=KiB, le=16 * MiB)
    header_timeout: float = Field(10.0, gt=0, le=600)
    body_timeout: float = Field(10.0, gt=0, le=3600)
    body_min_bytes_per_second: int = Field(64 * KiB, ge=1)
    keep_alive_timeout: float = Field(30.0, gt=0, le=3600)
    max_connections: int = Field(2048, ge=1, le=1_000_000)

    @property
    def burst(self) -> int:
        """The rate limit's bucket size."""
        return self.rate_limit_burst or max(1, self.rate_limit_per_minute // 4)

    def body_seconds(self, content_length: int | None) -> float:
        """Seconds allowed to receive a body of ``content_length`` bytes (None: not declared)."""
        return self.body_timeout + (content_length or 0) / self.body_min_bytes_per_second
