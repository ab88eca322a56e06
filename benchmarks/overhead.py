"""Client overhead (a benchmark, not a test): the suite's ApiClient against a plain httpx loop.

    python benchmarks/overhead.py [--iterations N] [--rounds R]

One reference server runs in a child process (so it does not share this process's interpreter lock).
The same fixed mix of requests -- list RBAC policies, create a policy, read it, delete it, list program
licenses -- goes through `conformance.client.session.ApiClient` (the suite's client: Wire with pacing and
429 retries, redacted Exchange records) and through a raw `httpx.Client`. The two alternate for R rounds
of N iterations each (5 requests an iteration); the median requests per second of each and their ratio
(ApiClient / raw) are printed. Both loops check every status, so neither counts failed requests.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from _common import load1, machine, wait_for_quiet

from conformance.client.session import ApiClient, Wire
from conformance.redaction import Secret
from conformance.reference import fixtures
from conformance.reference.auth import ReferenceKeys

POLICIES = "/api/core/rbac/policies/"
PROGRAM_LICENSES = "/api/catalog/licenses/program/"
REQUESTS_PER_ITERATION = 5


def _serve(keys: ReferenceKeys, ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    from conformance.reference.server import ReferenceServer

    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:", keys=keys).start()
    ports.put(server.port)
    stop.wait()
    server.stop()


def _body(i: int) -> dict:
    return {"name": f"bench-{i}", "resources": [f"/bench/{i}"], "role_id": fixtures.ROLE_IDS[0],
            "platform_key": fixtures.PLATFORM_KEY}


def suite_loop(base_url: str, key: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    http = httpx.Client(base_url=base_url, timeout=30, max_redirects=10, headers={"User-Agent": "ibl-conformance"})
    client = ApiClient(Wire(http), "dm_admin", Secret(key), "CONFORMANCE_DM_ADMIN_KEY")
    listing = {"platform_key": fixtures.PLATFORM_KEY}

    def iteration(i: int) -> None:
        assert client.get(POLICIES, params=listing).status == 200
        created = client.post(POLICIES, _body(i))
        assert created.status in (200, 201), created.describe()
        path = f"{POLICIES}{created.json()['id']}/"
        assert client.get(path, params=listing).status == 200
        assert client.delete(path, params=listing).status in (200, 204)
        assert client.get(PROGRAM_LICENSES, params=listing).status == 200
    return iteration, http.close


def raw_loop(base_url: str, key: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    http = httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Api-Token {key}"})
    listing = {"platform_key": fixtures.PLATFORM_KEY}

    def iteration(i: int) -> None:
        assert http.get(POLICIES, params=listing).status_code == 200
        created = http.post(POLICIES, json=_body(i))
        assert created.status_code in (200, 201), created.text
        path = f"{POLICIES}{created.json()['id']}/"
        assert http.get(path, params=listing).status_code == 200
        assert http.delete(path, params=listing).status_code in (200, 204)
        assert http.get(PROGRAM_LICENSES, params=listing).status_code == 200
    return iteration, http.close


def measure(loop: Callable[[int], None], iterations: int, offset: int) -> float:
    """Requests per second over `iterations` iterations."""
    started = time.perf_counter()
    for i in range(iterations):
        loop(offset + i)
    return iterations * REQUESTS_PER_ITERATION / (time.perf_counter() - started)


@dataclass
class Overhead:
    """Requests per second of each client, round by round, and the ratio of the medians."""

    rates: dict[str, list[float]]
    iterations: int
    rounds: int

    @property
    def medians(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.rates.items()}

    @property
    def ratio(self) -> float:
        return self.medians["ApiClient"] / self.medians["raw httpx"]

    def lines(self) -> list[str]:
        out = [f"{name:<10} median {self.medians[name]:7.1f} req/s  rounds: {', '.join(f'{v:.0f}' for v in values)}"
               for name, values in self.rates.items()]
        out.append(f"ratio ApiClient / raw httpx: {self.ratio:.2f} (requests per second through the suite's client: "
                   f"{(self.ratio - 1) * 100:+.0f}%); {self.rounds} x {self.iterations} x {REQUESTS_PER_ITERATION} "
                   "requests each")
        return out


def measure_overhead(iterations: int = 200, rounds: int = 5, max_wait: float | None = None) -> Overhead:
    """Both clients against one reference in a child process, alternating round by round (after waiting up to
    `max_wait` seconds for a quiet machine, when given)."""
    keys = ReferenceKeys.generate()
    context = multiprocessing.get_context("spawn")
    ports, stop = context.Queue(), context.Event()
    child = context.Process(target=_serve, args=(keys, ports, stop), daemon=True)
    child.start()
    try:
        base_url = f"http://127.0.0.1:{ports.get(timeout=60)}"
        suite, close_suite = suite_loop(base_url, keys.dm_admin)
        raw, close_raw = raw_loop(base_url, keys.dm_admin)
        suite(0), raw(1)  # warm up both connections and the server
        if max_wait is not None:
            wait_for_quiet(max_wait=max_wait)
        rates: dict[str, list[float]] = {"ApiClient": [], "raw httpx": []}
        offset = 10
        for r in range(rounds):
            order = [("ApiClient", suite), ("raw httpx", raw)] if r % 2 == 0 else [("raw httpx", raw), ("ApiClient", suite)]
            for name, loop in order:
                rates[name].append(measure(loop, iterations, offset))
                offset += iterations
        close_suite(), close_raw()
    finally:
        stop.set()
        child.join(timeout=10)
    return Overhead(rates, iterations, rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="iterations a round (5 requests each)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each client, alternating")
    parser.add_argument("--max-wait", type=float, default=1200.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load = load1()
    result = measure_overhead(args.iterations, args.rounds, args.max_wait)
    for line in result.lines():
        print(line)
    print(f"load before {load:.2f}, after {load1():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
