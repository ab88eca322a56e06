"""A synchronous httpx transport that calls an ASGI app in-process (no socket, no server thread).

``httpx.ASGITransport`` only serves async clients; this wraps it for ``httpx.Client``::

    client = httpx.Client(transport=InProcessTransport(build_app()), base_url="http://reference")

The transport owns one event loop (created on first use, closed with the client) and serves one
request at a time; it must not be used from inside a running event loop.
"""

from __future__ import annotations

import asyncio
import threading

import httpx
from starlette.types import ASGIApp


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: ASGIApp, *, raise_app_exceptions: bool = True) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        self._runner: asyncio.Runner | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            content = request.read()
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._transport.handle_async_request(forwarded)
            body = await response.aread()
            await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

        with self._lock:
            if self._runner is None:
                self._runner = asyncio.Runner()
            return self._runner.run(call())

    def close(self) -> None:
        with self._lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None
