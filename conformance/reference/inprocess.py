"""A synchronous httpx transport that calls an ASGI app in-process (no socket, no server).

``httpx.ASGITransport`` only serves async clients; this wraps it for ``httpx.Client``::

    with httpx.Client(transport=InProcessTransport(build_app()), base_url="http://reference") as client:
        client.get("/api/core/rbac/roles/", headers=...)

The transport runs one event loop in a helper thread (started on first use, stopped when the
client closes) and hands each request to it, so the app's worker threads are reused across
requests like under a real server.
"""

from __future__ import annotations

import asyncio
import threading

import httpx
from starlette.types import ASGIApp


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: ASGIApp, *, raise_app_exceptions: bool = True) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                async def main() -> None:  # the root task: it lives as long as the transport
                    self._stop = asyncio.Event()
                    ready.set()
                    await self._stop.wait()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    try:
                        loop.run_until_complete(main())
                    finally:
                        loop.run_until_complete(loop.shutdown_default_executor())
                        loop.close()

                self._thread = threading.Thread(target=run, name="in-process-asgi", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            content = request.read()
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._transport.handle_async_request(forwarded)
            body = await response.aread()
            await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

        loop = self._start()
        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    def close(self) -> None:
        with self._lock:
            loop, thread, stop = self._loop, self._thread, self._stop
            self._loop = self._thread = self._stop = None
        if loop is not None and stop is not None and thread is not None:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
