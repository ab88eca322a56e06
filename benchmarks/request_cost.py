"""The cost of one request, client side and reference side (a benchmark, not a test).

    python benchmarks/request_cost.py [--requests N] [--rounds R] [--only TEXT]

One reference runs in a thread of this process, as the embedded target of `conformance run` does, so the
CPU time of this process is the client's and the server's together. Each loop sends N GETs of the program
license list, or N/2 pairs of POST and DELETE of an RBAC policy (N requests), through:

- raw httpx: a plain `httpx.Client`;
- ApiClient: the suite's client (`conformance.client.session`: Wire with its guards, the Exchange record with
  masked headers) built as `Session` builds it (broken-target and rate files in a scratch report dir);
- raw requests / Wire+requests: a `requests.Session`, alone and through `Wire.guarded` (how generated cases go);

and, without any socket:

- reference alone: the ASGI app called directly on an event loop (what the server's routes, auth and SQLite cost);
- ApiClient / raw httpx on a canned answer (`httpx.MockTransport`): the client's own CPU, no server.

Loops alternate round by round; the median of the rounds is printed as microseconds per request (wall and CPU of
this process) and as a ratio to raw httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import requests
from _common import load1, machine

from conformance.client.session import BROKEN_FILE, RATE_FILE, ApiClient, Wire
from conformance.redaction import Secret
from conformance.reference import fixtures
from conformance.reference.server import ReferenceServer

POLICIES = "/api/core/rbac/policies/"
LICENSES = "/api/catalog/licenses/program/"
LISTING = {"platform_key": fixtures.PLATFORM_KEY}
Loop = Callable[[int], None]  # sends n requests


def policy_body(i: int) -> dict[str, Any]:
    """A new RBAC policy (the POST of a pair)."""
    return {"name": f"cost-{i}", "resources": [f"/cost/{i}"], "role_id": fixtures.ROLE_IDS[0],
            "platform_key": fixtures.PLATFORM_KEY}


def raw_httpx(http: httpx.Client, key: str) -> dict[str, Loop]:
    """GET and POST/DELETE loops on a plain httpx client."""
    auth = {"Authorization": f"Api-Token {key}"}

    def gets(n: int) -> None:
        for _ in range(n):
            assert http.get(LICENSES, params=LISTING, headers=auth).status_code == 200

    def pairs(n: int) -> None:
        for i in range(n // 2):
            created = http.post(POLICIES, json=policy_body(i), headers=auth)
            assert created.status_code in (200, 201), created.text
            assert http.delete(f"{POLICIES}{created.json()['id']}/", params=LISTING, headers=auth).status_code in (200, 204)
    return {"GET": gets, "POST+DELETE": pairs}


def suite_client(http: httpx.Client, key: str, scratch: Path) -> dict[str, Loop]:
    """GET and POST/DELETE loops through the suite's ApiClient (wired as Session wires it)."""
    wire = Wire(http, rate_file=scratch / RATE_FILE, broken_file=scratch / BROKEN_FILE)
    seen: list[Any] = []
    wire.observers.append(seen.append)  # as the plugin does: every exchange goes to the test's evidence
    client = ApiClient(wire, "dm_admin", Secret(key), "CONFORMANCE_DM_ADMIN_KEY")

    def gets(n: int) -> None:
        for _ in range(n):
            assert client.get(LICENSES, params=LISTING).status == 200
        seen.clear()

    def pairs(n: int) -> None:
        for i in range(n // 2):
            created = client.post(POLICIES, policy_body(i))
            assert created.status in (200, 201), created.describe()
            assert client.delete(f"{POLICIES}{created.json()['id']}/", params=LISTING).status in (200, 204)
        seen.clear()
    return {"GET": gets, "POST+DELETE": pairs}


def requests_loops(base_url: str, key: str, wire: Wire | None) -> dict[str, Loop]:
    """GET loop on a requests session, alone or through `wire.guarded` (the generated cases' path)."""
    session = requests.Session()
    auth = {"Authorization": f"Api-Token {key}"}
    url = base_url + LICENSES

    def send() -> requests.Response:
        return session.get(url, params=LISTING, headers=auth, timeout=30)

    def gets(n: int) -> None:
        for _ in range(n):
            response = wire.guarded("GET", LICENSES, send) if wire is not None else send()
            assert response.status_code == 200
    return {"GET": gets}


def reference_alone(server: ReferenceServer) -> dict[str, Loop]:
    """GET and POST/DELETE loops calling the ASGI app directly: the reference's own cost, no HTTP, no socket."""
    app, key = server.app, server.keys.dm_admin
    loop = asyncio.new_event_loop()

    async def call(method: str, path: str, query: str = "", body: bytes = b"") -> tuple[int, bytes]:
        headers = [(b"host", b"reference"), (b"authorization", f"Api-Token {key}".encode())]
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
                 "path": path, "raw_path": path.encode(), "query_string": query.encode(), "headers": headers,
                 "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}
        answer: dict[str, Any] = {"status": 0, "body": b""}
        sent = [False]

        async def receive() -> dict[str, Any]:
            if sent[0]:
                return {"type": "http.disconnect"}
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            else:
                answer["body"] += message.get("body", b"")
        await app(scope, receive, send)
        return answer["status"], answer["body"]

    listing = f"platform_key={fixtures.PLATFORM_KEY}"

    async def gets(n: int) -> None:
        for _ in range(n):
            assert (await call("GET", LICENSES, listing))[0] == 200

    async def pairs(n: int) -> None:
        for i in range(n // 2):
            status, body = await call("POST", POLICIES, body=json.dumps(policy_body(i)).encode())
            assert status in (200, 201), body
            assert (await call("DELETE", f"{POLICIES}{json.loads(body)['id']}/", listing))[0] in (200, 204)
    return {"GET": lambda n: loop.run_until_complete(gets(n)),
            "POST+DELETE": lambda n: loop.run_until_complete(pairs(n))}


def canned_answer(request: httpx.Request) -> httpx.Response:
    """A fixed answer (the client's own cost, no server): a page for GET, a created policy for POST."""
    if request.method == "POST":
        return httpx.Response(201, json={"id": 1, **json.loads(request.content)})
    if request.method == "DELETE":
        return httpx.Response(204)
    return httpx.Response(200, json={"count": 1, "results": [{"id": 1, "name": "x"}], "next": None})


def measure(loop: Loop, n: int) -> tuple[float, float]:
    """Wall and CPU microseconds per request over n requests."""
    wall, cpu = time.perf_counter(), time.process_time()
    loop(n)
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def run(loops: dict[str, dict[str, Loop]], n: int, rounds: int) -> dict[tuple[str, str], tuple[float, float]]:
    """Median (wall, CPU) microseconds per request of every loop, alternating loops round by round."""
    for kinds in loops.values():  # warm up: connections, caches, the server's first requests
        for loop in kinds.values():
            loop(10)
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    names = list(loops)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            for kind, loop in loops[name].items():
                samples.setdefault((name, kind), []).append(measure(loop, n))
    return {key: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for key, values in samples.items()}


def report(results: dict[tuple[str, str], tuple[float, float]]) -> list[str]:
    """One line per loop: wall and CPU microseconds per request, requests/s, wall and CPU ratios to raw httpx."""
    lines = [f"{'loop':<30} {'kind':<12} {'wall us':>8} {'cpu us':>8} {'req/s':>7} {'wall x raw':>10} {'cpu x raw':>9}"]
    for (name, kind), (wall, cpu) in results.items():
        base = results.get(("raw httpx (canned)" if "canned" in name else "raw httpx", kind))
        ratios = (f"{wall / base[0]:.2f}", f"{cpu / base[1]:.2f}") if base else ("-", "-")
        lines.append(f"{name:<30} {kind:<12} {wall:8.0f} {cpu:8.0f} {1e6 / wall:7.0f} {ratios[0]:>10} {ratios[1]:>9}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests a loop sends in one round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every loop, alternating")
    parser.add_argument("--only", default="", help="run only the loops whose name contains this text")
    args = parser.parse_args()
    print(f"machine: {machine()}; load before {load1():.2f}")
    with ReferenceServer(host="127.0.0.1", port=0, database=":memory:") as server, \
            tempfile.TemporaryDirectory() as scratch:
        key, base_url = server.keys.dm_admin, server.base_url
        http = httpx.Client(base_url=base_url, timeout=30, max_redirects=10, headers={"User-Agent": "ibl-conformance"})
        raw_http = httpx.Client(base_url=base_url, timeout=30)
        canned = httpx.Client(base_url=base_url, transport=httpx.MockTransport(canned_answer))
        raw_canned = httpx.Client(base_url=base_url, transport=httpx.MockTransport(canned_answer))
        loops = {
            "raw httpx": raw_httpx(raw_http, key),
            "ApiClient": suite_client(http, key, Path(scratch)),
            "raw requests": requests_loops(base_url, key, None),
            "Wire+requests": requests_loops(base_url, key, Wire(httpx.Client(), broken_file=Path(scratch) / BROKEN_FILE)),
            "reference alone (ASGI call)": reference_alone(server),
            "raw httpx (canned)": raw_httpx(raw_canned, key),
            "ApiClient (canned)": suite_client(canned, key, Path(scratch)),
        }
        results = run({name: kinds for name, kinds in loops.items() if args.only in name}, args.requests, args.rounds)
        for client in (http, raw_http, canned, raw_canned):
            client.close()
    for line in report(results):
        print(line)
    print(f"{args.rounds} rounds x {args.requests} requests per loop; medians; load after {load1():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
