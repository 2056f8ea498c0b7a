"""The service's route class: endpoints that read the request themselves are called directly."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from contraxis.service.routing import DirectRoute, reads_request_only


def _router() -> APIRouter:
    router = APIRouter(route_class=DirectRoute)

    @router.post("/raw")
    async def raw(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    @router.get("/query")
    async def query(request: Request, n: int = Query(1)) -> Response:
        return JSONResponse({"n": n})

    @router.get("/dict")
    async def as_dict(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/failing")
    async def failing(request: Request) -> Response:
        raise ValueError("boom")

    return router


def _routes(router: APIRouter) -> dict[str, DirectRoute]:
    return {route.path: route for route in router.routes if isinstance(route, DirectRoute)}


def test_only_request_reading_endpoints_that_answer_a_response_are_direct() -> None:
    routes = _routes(_router())
    assert reads_request_only(routes["/raw"])
    assert reads_request_only(routes["/failing"])
    assert not reads_request_only(routes["/query"])  # a query parameter for FastAPI to read
    assert not reads_request_only(routes["/dict"])  # an answer for FastAPI to serialise


def test_direct_and_fastapi_handled_routes_answer_the_same_way() -> None:
    app = FastAPI()
    app.include_router(_router())

    @app.exception_handler(ValueError)
    async def handled(request: Request, error: ValueError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=418)

    client = TestClient(app)
    assert client.post("/raw", content=b"abc").content == b"abc"
    assert client.get("/query?n=3").json() == {"n": 3}
    assert client.get("/query?n=x").status_code == 422
    assert client.get("/dict").json() == {"status": "ok"}
    assert client.get("/failing").status_code == 418  # errors reach the app's handlers


def test_the_assess_route_of_the_service_is_direct() -> None:
    from contraxis.service.rest import build_router

    routes = _routes(build_router())
    assert reads_request_only(routes["/assess"])
    assert not reads_request_only(routes["/health"])
