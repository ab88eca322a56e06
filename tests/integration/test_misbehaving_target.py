"""A target that misbehaves is reported as a broken target (exit 3) with a clear line, quickly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.conftest import KEY_VARIABLES, clean_env, run_cli

MODES = {
    "502 page": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "truncated json": (200, "application/json", b'{"count": 3, "next_page": null, "results": [{"id": 1,'),
    "always 429": (429, "application/json", b'{"detail": "slow down"}'),
}


class Handler(BaseHTTPRequestHandler):
    mode = "502 page"

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def _answer(self) -> None:
        if self.mode == "slow":
            time.sleep(3)
            status, kind, body = 200, "application/json", b"{}"
        elif self.mode == "reset":
            self.connection.close()
            return
        else:
            status, kind, body = MODES[self.mode]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


@pytest.fixture
def bad_server(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("ModeHandler", (Handler,), {"mode": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def config_for(tmp_path: Path, base_url: str) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "target.toml"
    keys = "\n".join(f'{role} = "{var}"' for role, var in KEY_VARIABLES.items())
    path.write_text(f'[target]\nbase_url = "{base_url}"\n[keys]\n{keys}\n'
                    '[fixtures]\nuser_ids = [1, 2, 3]\nprogram_keys = ["p"]\nrole_ids = [1]\ninternal_policy_ids = [9]\n')
    return path, clean_env({var: f"fake-key-{role}" for role, var in KEY_VARIABLES.items()})


def last_line(text: str) -> str:
    return [line for line in text.strip().splitlines() if line.strip()][-1]


@pytest.mark.parametrize(
    ("bad_server", "expected"),
    [("502 page", "502"), ("truncated json", "not JSON"), ("always 429", "429"), ("slow", "in time"),
     ("reset", "could not be reached")],
    indirect=["bad_server"],
)
def test_misbehaving_target_exits_3_with_its_reason(bad_server: str, expected: str, tmp_path: Path) -> None:
    config, env = config_for(tmp_path, bad_server)
    started = time.monotonic()
    done = run_cli("run", "--config", str(config), "--timeout", "1", "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env, timeout=120)
    assert done.code == 3, done.stdout + done.stderr
    assert expected in last_line(done.stderr)
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
    for var_value in (v for k, v in env.items() if k in KEY_VARIABLES.values()):
        assert var_value not in done.stdout + done.stderr


@pytest.mark.parametrize("url", ["http://no-such-host.invalid", "https://127.0.0.1:{port}"])
def test_unresolvable_or_tls_broken_target_exits_3(url: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a plain TCP listener: a TLS handshake with it fails
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        done = run_cli("run", "--base-url", url.format(port=sock.getsockname()[1]), "--timeout", "2",
                       report_dir=tmp_path / "r", timeout=60)
    assert done.code == 3, done.stdout + done.stderr
    assert "unreachable or broken" in last_line(done.stderr)


def test_a_target_that_dies_mid_run_ends_the_run_with_exit_3_within_30_seconds(tmp_path: Path) -> None:
    """After the first failure a retry does not clear, no test (and no shrinking of a generated case) waits on the
    dead target again: every remaining test ends at once as stopped by the target."""
    from typing import Any

    from conformance.reference.server import ReferenceServer
    from tests.integration.conftest import write_target_config

    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    seen = threading.Event()
    count = [0]

    class Counting:  # an ASGI middleware: lets the test kill the server once the run is well under way
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                count[0] += 1
                if count[0] == 150:
                    seen.set()
            await self.app(scope, receive, send)

    server.app.add_middleware(Counting)
    server.start()
    env = write_target_config(tmp_path / "t.toml", server)
    died: list[float] = []

    def kill() -> None:
        if seen.wait(120):
            server.stop()
            died.append(time.monotonic())

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--timeout", "5", "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env, timeout=300)
    ended = time.monotonic()
    killer.join(5)
    assert died, "the run never sent 150 requests"
    assert done.code == 3, done.stdout + done.stderr
    assert "target broke" in last_line(done.stderr), last_line(done.stderr)
    assert ended - died[0] < 30 + 10, f"the run went on for {ended - died[0]:.0f} s after the target died"
