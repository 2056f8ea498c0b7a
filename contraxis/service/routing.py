"""The route class of the service's routers: a route whose endpoint reads the request itself
is called directly, without FastAPI's per-request dependency solving.

Most of the service's endpoints take the ``Request`` alone and answer a ``Response`` they
built (they read and check the body themselves, :mod:`contraxis.service.body`). For those,
FastAPI's request handler only solves an empty set of dependencies and passes the response
through, at a cost of tens of microseconds a request on the hottest routes. Every other route
(query or body parameters, dependencies, an answer to serialise) keeps FastAPI's handler,
and the OpenAPI document is built from the route as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

__all__ = ["DirectRoute", "reads_request_only"]


def reads_request_only(route: APIRoute) -> bool:
    """Whether a route's endpoint is a coroutine taking only the ``Request`` and declared to
    return a ``Response``, with no dependency, parameter or body for FastAPI to solve."""
    dependant = route.dependant
    if not inspect.iscoroutinefunction(route.endpoint) or dependant.request_param_name is None:
        return False
    if any((dependant.path_params, dependant.query_params, dependant.header_params, dependant.cookie_params,
            dependant.body_params, dependant.dependencies)):
        return False
    try:
        signature = inspect.signature(route.endpoint, eval_str=True)
    except (NameError, TypeError, ValueError):
        return False
    answer = signature.return_annotation
    return len(signature.parameters) == 1 and isinstance(answer, type) and issubclass(answer, Response)


class DirectRoute(APIRoute):
    """An ``APIRoute`` that calls an endpoint reading only the ``Request`` directly.

    Errors the endpoint raises reach the app's exception handlers as with FastAPI's handler.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if reads_request_only(self):
            endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
            return endpoint
        return super().get_route_handler()
