"""Small helpers shared by the route modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def route(path: str, **handlers: Endpoint) -> Route:
    """One route per path, dispatching on the method, so a wrong method is a 405 whose ``Allow``
    header lists every method the path serves."""
    table = {method.upper(): handler for method, handler in handlers.items()}

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await table[method](request)

    endpoint.__name__ = "_".join(handler.__name__ for handler in table.values())
    return Route(path, endpoint, methods=list(table))
