"""The cleanup ledger: every object a run creates, written down before the run ends, undone after.

Each entry is a plain record (kind + identifiers) appended to `<report dir>/ledger.jsonl` the moment
the object exists, so a run that is killed leaves a ledger the next run can clean up first. Undoing
an entry is a request chosen by its kind (UNDO below); an object already gone counts as undone.
"""

from __future__ import annotations

import fcntl
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.client.session import ApiClient, Exchange

LEDGER_NAME = "ledger.jsonl"
GONE = (200, 202, 204, 404)  # answers that mean the object no longer exists
# The name a retired license of the suite carries until a later run claims it again (client/objects.py): one exact
# name per kind, so the documented `name` filter finds the pool in one short list, whatever the platform holds.
RETIRED_NAMES = {"program": "conformance-retired-program-license", "user": "conformance-retired-user-license"}


def _delete(path: str, *params: str, **extra: Any) -> Callable[[ApiClient, dict[str, Any]], Exchange]:
    def undo(client: ApiClient, entry: dict[str, Any]) -> Exchange:
        return client.delete(path.format(**entry), params={**{p: entry[p] for p in params}, **extra})
    return undo


def _retire_license(kind: str) -> Callable[[ApiClient, dict[str, Any]], Exchange]:
    """Licenses have no delete operation: the closest undo is to free every seat the run's license holds (all
    its assignments are the run's own) and deactivate it. It also takes the pool's name, under which a later claim
    finds it (client/objects.py), unless its entry says it is not `reusable` (no external_id of the suite's, or the
    target would not reset it): such a license goes back to the name the run gave it, out of any test's filter."""
    def undo(client: ApiClient, entry: dict[str, Any]) -> Exchange:
        license_id = entry["license_id"]
        lists = [(f"/api/catalog/licenses/{kind}/assignment/", {})]
        if kind == "program":
            lists.insert(0, ("/api/catalog/licenses/program/assignment/group/", {"remove_user_assignments": "true"}))
        for path, extra in lists:
            for assignment_id in _all_ids(client, path, license_id):
                client.delete(path, params={"license_id": license_id, "assignment_id": assignment_id, **extra})
        body = {"license_id": license_id, "active": False, "transaction_id": f"{entry['name']}-retired"}
        named_by_the_suite = str(entry.get("name")).startswith("conformance-")
        if entry.get("reusable", named_by_the_suite):  # (an entry of an older version says nothing: judge by its name)
            body["name"] = RETIRED_NAMES[kind]
        elif named_by_the_suite:
            body["name"] = entry["name"]  # the run's own name, not the one a test gave the license
        return client.post(f"/api/catalog/licenses/{kind}/update/", body)
    return undo


def _all_ids(client: ApiClient, path: str, license_id: int) -> list[Any]:
    """IDs of every item of a license's list, across pages (bounded)."""
    ids: list[Any] = []
    exchange = client.get(path, params={"license_id": license_id, "page_size": 100})
    for _ in range(100):
        if exchange.status != 200:
            break
        body = exchange.json()
        ids += [item.get("id") for item in body.get("results", []) if isinstance(item, dict)]
        link = body.get("next_page", body.get("next"))
        if not link:
            break
        exchange = client.get(link)
    return ids


UNDO: dict[str, Callable[[ApiClient, dict[str, Any]], Exchange]] = {
    "program_license": _retire_license("program"),
    "user_license": _retire_license("user"),
    "program_assignment": _delete("/api/catalog/licenses/program/assignment/", "license_id", "assignment_id"),
    # a group assignment also gave its members assignments: remove those with it
    "group_assignment": _delete("/api/catalog/licenses/program/assignment/group/", "license_id", "assignment_id",
                                remove_user_assignments="true"),
    "user_assignment": _delete("/api/catalog/licenses/user/assignment/", "license_id", "assignment_id"),
    "program_suggestion": _delete("/api/catalog/suggestions/program/manage/", "platform_key", "suggestion_id"),
    "group_suggestion": _delete("/api/catalog/suggestions/program/manage/group/", "platform_key", "suggestion_id"),
    "credential": _delete("/api/credentials/orgs/{org}/users/{user_id}/{entity_id}"),
    "rbac_policy": _delete("/api/core/rbac/policies/{policy_id}/", "platform_key"),
}
# Order of undoing a whole ledger: dependants before what they depend on.
UNDO_ORDER = ("program_assignment", "user_assignment", "group_assignment", "program_suggestion", "group_suggestion",
              "credential", "rbac_policy", "program_license", "user_license")


@dataclass(slots=True)
class Ledger:
    """Objects created by this run (one worker of it), in creation order, mirrored to the run's ledger file.

    Every worker of a parallel run appends to the same file under an exclusive file lock and rewrites only its
    own entries; an entry that could not be undone stays in the file with the server's answer (`problem`), so
    the run reports it and the next run tries again.
    """

    path: Path | None
    run_id: str
    worker: str = "main"
    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _claims: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, **identifiers: Any) -> dict[str, Any]:
        """Write down one created object; returns its entry."""
        if kind not in UNDO:
            raise ValueError(f"no undo is known for {kind!r}")
        entry = {"kind": kind, "run_id": self.run_id, "worker": self.worker, "entry": uuid.uuid4().hex, **identifiers}
        with self._lock, _locked(self.path):
            self.entries.append(entry)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry) + "\n")
        return entry

    @contextmanager
    def claiming(self) -> Iterator[None]:
        """Held while a retired license is found and claimed: one claim at a time in every thread and every worker
        of the run (the ledger file's lock), so no two of them take the same license. Record nothing inside it."""
        with self._claims, _locked(self.path):
            yield

    def forget(self, entry: dict[str, Any]) -> None:
        """The test removed the object itself."""
        with self._lock:
            if entry in self.entries:
                self.entries.remove(entry)
                self._rewrite(removed=[entry])

    def undo_all(self, client: ApiClient) -> None:
        """Undo every entry, dependants first; what could not be undone stays in the file and in problems."""
        self.undo(client, list(self.entries))

    def undo(self, client: ApiClient, entries: list[dict[str, Any]]) -> None:
        """Undo some entries (one test's objects), dependants first."""
        with self._lock:
            position = {id(e): i for i, e in enumerate(self.entries)}
            ordered = sorted(entries, key=lambda e: (UNDO_ORDER.index(e["kind"]), -position.get(id(e), 0)))
            undone = [e for e in ordered if self._undo(client, e)]
            self.entries = [e for e in self.entries if not any(e is u for u in undone)]
            self._rewrite(removed=undone, kept=[e for e in ordered if not any(e is u for u in undone)])

    def _undo(self, client: ApiClient, entry: dict[str, Any]) -> bool:
        try:
            exchange = UNDO[entry["kind"]](client, entry)
        except Exception as exc:  # cleanup must go on whatever one object does
            problem = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        else:
            if exchange.status in GONE or (exchange.status == 403 and client.role == "dm_admin"):
                return True  # the DM admin may delete anything: a 403 to it means "no such object" (a documented reading)
            problem = f"{exchange.operation} answered {exchange.status} {exchange.text[:120]!r}"
        entry["problem"] = problem
        self.problems.append(f"{entry['kind']} {_ids(entry)}: {problem}")
        return False

    def _rewrite(self, removed: list[dict[str, Any]], kept: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
        """Drop `removed` from the file and update `kept` (their problem), leaving other workers' entries as they are."""
        if self.path is None or not (removed or kept):  # nothing changed: the file stays as it is
            return
        gone = {e.get("entry") for e in removed}
        updated = {e.get("entry"): e for e in kept}
        with _locked(self.path):
            current = load_leftovers(self.path)
            entries = [updated.get(e.get("entry"), e) for e in current if e.get("entry") not in gone or not e.get("entry")]
            if entries:
                self.path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
            elif self.path.exists():
                self.path.unlink()


def drain(path: Path, client: ApiClient, *, keep: Callable[[dict[str, Any]], bool] = lambda entry: False) -> list[str]:
    """Undo every entry of a ledger file but those to `keep` (a killed run's leftovers at the start; at the end,
    what the workers of this run left); what could not be undone stays in the file with the server's answer.
    Returns the problems."""
    with _locked(path):
        entries = load_leftovers(path)
        targets = [e for e in entries if not keep(e)]
        if not targets:
            return []
        ledger = Ledger(None, "drain", worker="drain", entries=list(targets))
        ledger.undo_all(client)
        remaining = [e for e in entries if keep(e)] + ledger.entries
        if remaining:
            path.write_text("".join(json.dumps(e) + "\n" for e in remaining), encoding="utf-8")
        else:
            path.unlink()
    return ledger.problems


@contextmanager
def _locked(path: Path | None) -> Iterator[None]:
    """An exclusive lock on the ledger file (a sidecar .lock file), shared by every process of the run."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_leftovers(path: Path) -> list[dict[str, Any]]:
    """Entries a previous, interrupted run left behind."""
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("kind") in UNDO:
            entries.append(entry)
    return entries


def _ids(entry: dict[str, Any]) -> str:
    hidden = {"kind", "run_id", "worker", "entry", "problem", "reusable"}
    return ", ".join(f"{k}={v}" for k, v in entry.items() if k not in hidden)
