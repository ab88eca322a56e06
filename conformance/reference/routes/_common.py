"""Small helpers shared by the route modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import Caller, authenticate, require_admin
from ..validation import BODY_STATE, QueryParams

if TYPE_CHECKING:
    from ..store import Store

Endpoint = Callable[[Request], Response]


def route(path: str, **handlers: Endpoint) -> Route:
    """One route per path, dispatching on the method, so a wrong method is a 405 whose ``Allow``
    header lists every method the path serves.

    Handlers are plain functions. Writes run in the worker thread pool (after the body has been
    read), so concurrent writes really run in parallel and the store's transactions are what keep
    them apart; reads run on the event loop (cheaper, and they only take the store's lock briefly).
    """
    table = {method.upper(): handler for method, handler in handlers.items()}

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        if method == "GET":
            return table[method](request)
        setattr(request.state, BODY_STATE, await request.body())
        return await run_in_threadpool(table[method], request)

    endpoint.__name__ = "_".join(handler.__name__ for handler in table.values())
    return Route(path, endpoint, methods=list(table))


def admin_request(request: Request) -> tuple[Caller, Store, QueryParams]:
    """The caller (an admin, or 401/403), the store and the query of a request to an admin-only operation."""
    caller = authenticate(request)
    require_admin(caller)
    return caller, request.app.state.store, QueryParams(request)
