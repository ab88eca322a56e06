"""Run the reference app with uvicorn: in a background thread (:class:`ReferenceServer`) or in the
foreground (:func:`serve`)."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn

from .app import ReferenceKeys, build_app
from .fixtures import PROBE_PATH
from .readings import Readings


def _config(app: object, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=2,
    )


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the reference received it, with the status it answered."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    status: int


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class RequestLog:
    """Opt-in ASGI wrapper: every HTTP request the app answers is appended to `requests` (for the project's own
    tests, e.g. which request fields a run sent; never on in `conformance serve` or the embedded target)."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []

    def wrap(self, app: Any) -> Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]:
        """`app` with each HTTP exchange recorded here."""
        async def logged(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            body, status = bytearray(), [0]

            async def receiving() -> MutableMapping[str, Any]:
                message = await receive()
                body.extend(message.get("body", b""))
                return message

            async def sending(message: MutableMapping[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status[0] = int(message["status"])
                await send(message)

            try:
                await app(scope, receiving, sending)
            finally:
                self.requests.append(ReceivedRequest(
                    method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
                    headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])},
                    body=bytes(body), status=status[0]))
        return logged


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 picks a free port, race-free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto TCP: asyncio sets TCP_NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class ReferenceServer:
    """The reference server on a loopback port, in a background thread.

    ``port=0`` picks a free port: the socket is bound here and handed to uvicorn, so there is no
    window in which another process can take the port. ``start()`` returns once the server
    answers HTTP. ``readings`` are the alternate readings it follows (see :mod:`.readings`); ``request_log``
    (off by default) records every request it receives.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, database: str = ":memory:",
                 keys: ReferenceKeys | None = None, readings: Readings | None = None,
                 request_log: RequestLog | None = None) -> None:
        self.host = host
        self.port = port
        self.database = database
        self.keys = keys or ReferenceKeys.generate()
        self.readings = readings or Readings()
        self.request_log = request_log
        self.app = build_app(database, self.keys, self.readings)
        self._app_closed = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def probe_url(self) -> str:
        return self.base_url + PROBE_PATH

    def start(self, timeout: float = 10.0) -> ReferenceServer:
        if self._thread is not None:
            return self
        if self._app_closed:  # restarted after stop(): a file database keeps its data
            self.app = build_app(self.database, self.keys, self.readings)
            self._app_closed = False
        sock = _bind(self.host, self.port)
        self._socket = sock
        self.port = sock.getsockname()[1]
        served = self.request_log.wrap(self.app) if self.request_log is not None else self.app
        self._server = uvicorn.Server(_config(served, self.host, self.port))
        self._thread = threading.Thread(target=self._run, name=f"reference-server-{self.port}", daemon=True)
        self._thread.start()
        self._wait_until_ready(timeout)
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # pragma: no cover - surfaced by start()
            self._error = exc

    def _wait_until_ready(self, timeout: float) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"the reference server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the reference server did not start in time")
            time.sleep(0.005)
        while not self._answers():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the reference server does not answer")
            time.sleep(0.01)

    def _answers(self) -> bool:
        """True once the server answers an HTTP request (the standard library's client: an httpx client would load a
        CA bundle for nothing)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2.0)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return True
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        if not self._app_closed:
            self.app.state.store.close()
            self._app_closed = True

    def stop_soon(self) -> None:
        """Tell the server to exit and return at once, its thread ending on its own a moment later: for a reference
        whose process ends with it, where a graceful stop (uvicorn's shutdown takes ~0.2 s) only delays the exit."""
        if self._server is not None:
            self._server.force_exit = True
            self._server.should_exit = True

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ReferenceServer(base_url={self.base_url!r}, database={self.database!r}, readings={str(self.readings)!r})"


# environment variables the suite's own config reads the keys from (conformance.config)
KEY_VARIABLES = {
    "dm_admin": "CONFORMANCE_DM_ADMIN_KEY",
    "platform_admin": "CONFORMANCE_PLATFORM_ADMIN_KEY",
    "other_platform_admin": "CONFORMANCE_OTHER_ADMIN_KEY",
    "learner": "CONFORMANCE_LEARNER_KEY",
    "department_admin": "CONFORMANCE_DEPARTMENT_ADMIN_KEY",
}


def keys_from_environment(environ: Mapping[str, str] | None = None) -> tuple[ReferenceKeys, list[str]]:
    """Keys from the CONFORMANCE_*_KEY variables; a missing one is generated.

    Returns the keys and the roles whose key was generated.
    """
    environ = os.environ if environ is None else environ
    generated = ReferenceKeys.generate().as_mapping()
    values, made = {}, []
    for role, variable in KEY_VARIABLES.items():
        value = environ.get(variable, "").strip()
        if value:
            values[role] = value
        else:
            values[role] = generated[role]
            made.append(role)
    return ReferenceKeys(**values), made


def write_keys_file(path: str, keys: ReferenceKeys, roles: list[str]) -> None:
    """Write generated keys as export lines to a file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        for role in roles:
            handle.write(f"export {KEY_VARIABLES[role]}={getattr(keys, role)}\n")
    os.chmod(path, 0o600)


def serve(host: str = "127.0.0.1", port: int = 8000, database: str = ":memory:",
          keys: ReferenceKeys | None = None, keys_file: str = "reference-keys.env",
          readings: Readings | None = None) -> None:
    """Run the reference server in the foreground until Ctrl-C, following ``readings`` (none by default).

    Without ``keys``, the keys come from the CONFORMANCE_*_KEY environment variables; those not
    set are generated and written to ``keys_file`` (mode 0600, as ``export`` lines a shell can
    source). No key is ever printed.
    """
    if keys is None:
        keys, generated = keys_from_environment()
        if generated:
            write_keys_file(keys_file, keys, generated)
            names = ", ".join(KEY_VARIABLES[role] for role in generated)
            print(f"generated {names}; they are in {keys_file} (load them with: set -a; . {keys_file}; set +a)",
                  flush=True)
    readings = readings or Readings()
    app = build_app(database, keys, readings)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"reference ibl-data-manager on http://{shown}:{port} (probe at {PROBE_PATH}, readings: {readings}); "
          "Ctrl-C stops it", flush=True)
    try:
        uvicorn.Server(_config(app, host, port)).run(sockets=[sock])
    finally:
        sock.close()
        app.state.store.close()
