"""The ASGI app: Starlette in front of `WireProtocol`, and uvicorn to serve it.

Starlette only carries bytes: every request (any path, any method) goes to the protocol
handler, which answers as AWS would -- except ``GET``/``HEAD`` of `HEALTH_PATH`, which
answers 200 for probes, ``GET`` of `METRICS_PATH`, which answers Prometheus's scrape, and
the web console's routes (``GET /``, ``/console/...``; SDKs only ``POST /``), when
``stepline serve`` adds them. Operations run in Starlette's thread pool, since the client
blocks on its store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine._wire.protocol import WireProtocol

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8083  # Step Functions Local's
HEALTH_PATH = "/health"
"""Answers ``GET`` with 200 while the server serves (liveness and readiness probes).

It asks nothing of the store: a database that is briefly away must not get the server
restarted (``stepline health store`` checks the store). SDKs only ``POST /``, and a
``POST`` here still goes to the protocol."""

METRICS_PATH = "/metrics"
"""Answers ``GET`` with the Prometheus exposition (ADR 0044), unauthenticated like
`HEALTH_PATH`: it shows names and counts, never a payload. Other methods go to the protocol."""

Scrape = Callable[[], tuple[bytes, str]]
"""Renders a scrape: the exposition's body and its content type."""


def create_app(
    protocol: WireProtocol,
    metrics: Scrape | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """An ASGI app answering every request with ``protocol``, scrapes and the console first.

    ``metrics`` renders `METRICS_PATH`; ``extra_routes`` (the console) come before the protocol.
    """

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        headers = [
            (key.decode("latin-1"), value.decode("latin-1")) for key, value in request.headers.raw
        ]
        answer = await run_in_threadpool(
            protocol.handle, request.method, str(request.url), headers, body
        )
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    async def scrape(_: Request) -> Response:
        assert metrics is not None
        body, content_type = await run_in_threadpool(metrics)  # the gauges read the store
        return Response(body, headers={"Content-Type": content_type})

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
    scrapes = [Route(METRICS_PATH, scrape, methods=["GET"])] if metrics is not None else []
    return Starlette(
        routes=[
            Route(HEALTH_PATH, _health, methods=["GET", "HEAD"]),
            *scrapes,
            *extra_routes,
            Route("/", endpoint, methods=methods),
            Route("/{path:path}", endpoint, methods=methods),
        ]
    )


async def _health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def serve(
    protocol: WireProtocol,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    metrics: Scrape | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> None:
    """Serve ``protocol``, ``metrics`` at `METRICS_PATH` and ``extra_routes`` (the console)."""
    import uvicorn

    uvicorn.run(create_app(protocol, metrics, extra_routes), host=host, port=port, log_level="info")
