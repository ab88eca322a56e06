"""The reference ibl-data-manager server: a Starlette app over the SQLite store.

``build_app(database=":memory:", keys=None, readings=None)`` returns the app; ``app.state.store`` is the
:class:`~.store.Store`, ``app.state.keys`` the :class:`ReferenceKeys` it accepts and ``app.state.readings``
the alternate :class:`~.readings.Readings` it follows (none by default). A file
database that already holds data keeps it (restart without losing data); an empty one is seeded
with :mod:`.fixtures`.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import ReferenceKeys
from .errors import EXCEPTION_HANDLERS
from .fixtures import PROBE_PATH
from .readings import Readings
from .routes import all_routes
from .store import Store

__all__ = ["ReferenceKeys", "Readings", "build_app"]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteCounter:
    """Counts every write request the API receives (refused ones too), for the probe's ``writes``."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope["method"] in READ_METHODS
                or path == PROBE_PATH or path.startswith(PROBE_PATH + "/")):
            await self.app(scope, receive, send)
            return
        self.store.count_write()  # every write request received, refused or not
        await self.app(scope, receive, send)


def build_app(database: str = ":memory:", keys: ReferenceKeys | None = None,
              readings: Readings | None = None) -> Starlette:
    """Build the reference app over ``database`` (a path or ``:memory:``), following ``readings``."""
    store = Store(database, readings=readings)
    keys = keys or ReferenceKeys.generate()
    app = Starlette(
        routes=all_routes(),
        middleware=[Middleware(WriteCounter, store=store)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )
    app.router.redirect_slashes = False
    app.state.store = store
    app.state.keys = keys
    app.state.readings = store.readings
    return app
