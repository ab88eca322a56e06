"""HTTP routes of the reference implementation, one module per area. Routes stay thin: parse and
validate input, check the caller, call one store method, present the result."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import assignments, credentials, licenses, probe, rbac, suggestions


def all_routes() -> list[BaseRoute]:
    return [
        *licenses.routes,
        *assignments.routes,
        *suggestions.routes,
        *credentials.routes,
        *rbac.routes,
        *probe.routes,
    ]
