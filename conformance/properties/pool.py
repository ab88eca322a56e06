"""The objects generated cases point at: created once for the run (recorded in the cleanup ledger) or made for one
destructive case, the ledger records of what generated cases create, and the guard that keeps every generated
suggestion write off (holder, program) pairs holding a suggestion the run did not create."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import assume

from conformance.client.ledger import Ledger, load_leftovers
from conformance.client.objects import CreationFailed, Objects, credential_of
from conformance.config import Settings

LICENSE_CREATES = {"POST /api/catalog/licenses/program/create/": "program_license",
                   "POST /api/catalog/licenses/user/create/": "user_license"}
NO_SUCH_ID = 2**31 - 1  # an id no object has
SUGGESTION_LIST = "/api/catalog/suggestions/program/manage/"
GROUP_SUGGESTION_LIST = "/api/catalog/suggestions/program/manage/group/"
BULK_SUGGESTIONS = f"POST {SUGGESTION_LIST}bulk/"
# The create-or-update suggestion writes: (the list showing who holds what, the field naming the holder, bulk?). On a
# (holder, program) pair holding a suggestion the run did not create, such a POST would change (and the cleanup then
# delete) someone else's suggestion: the guard (Pool.names_only_free_pairs) keeps every generated write off them.
SUGGESTION_WRITES = {
    f"POST {SUGGESTION_LIST}": (SUGGESTION_LIST, "user_id", False),
    f"POST {GROUP_SUGGESTION_LIST}": (GROUP_SUGGESTION_LIST, "group_id", False),
    BULK_SUGGESTIONS: (SUGGESTION_LIST, "user_id", True),
}
SUGGESTION_KINDS = {SUGGESTION_LIST: "program_suggestion", GROUP_SUGGESTION_LIST: "group_suggestion"}
SUGGESTION_PAGES = 200  # a suggestion list longer than this is not read to its end (then every pair counts as held)


@dataclass
class Pool:
    """Objects created once for the run (recorded in the cleanup ledger), plus factories for objects that
    one destructive case consumes."""

    settings: Settings
    objects: Objects
    ledger: Ledger
    program_license: dict[str, Any] = field(default_factory=dict)
    user_license: dict[str, Any] = field(default_factory=dict)
    program_update_license: dict[str, Any] = field(default_factory=dict)
    user_update_license: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    credential: dict[str, Any] = field(default_factory=dict)
    credential_user: str = ""
    set_aside: Counter[str] = field(default_factory=Counter)  # per operation: cases the guard set aside
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _foreign: dict[str, frozenset[tuple[str, str]] | None] = field(default_factory=dict)  # per list: see foreign_pairs
    _handed_out: set[str] = field(default_factory=set)  # generated suggestions given to a DELETE case already

    @classmethod
    def create(cls, settings: Settings, objects: Objects, ledger: Ledger) -> Pool:
        pool = cls(settings, objects, ledger)
        pool.program_license = objects.program_license(count=100_000)
        pool.user_license = objects.user_license(count=100_000)
        pool.program_update_license = objects.program_license(count=100)
        pool.user_update_license = objects.user_license(count=100)
        pool.policy = objects.rbac_policy()
        pool.credential_user = str(settings.fixtures.user_ids[0])
        pool.credential = objects.credential(pool.credential_user)
        return pool

    def unique(self, what: str) -> str:
        """A run-specific unique name (credential ids, external ids)."""
        return self.objects.name(what)

    # ---- fresh objects for destructive cases

    def fresh(self, label: str, rnd: random.Random) -> dict[str, Any]:
        """Create the object a DELETE case removes; returns the identifiers to put in the case."""
        fx = self.settings.fixtures
        user = rnd.choice(fx.user_ids)
        method, path = label.split(" ", 1)
        assert method == "DELETE"
        if path == "/api/catalog/licenses/program/assignment/":
            made = self.objects.assignment("program", self.program_license["id"], user)
            return {"license_id": self.program_license["id"], "assignment_id": made["id"]}
        if path == "/api/catalog/licenses/user/assignment/":
            made = self.objects.assignment("user", self.user_license["id"], user)
            return {"license_id": self.user_license["id"], "assignment_id": made["id"]}
        if path == "/api/catalog/licenses/program/assignment/group/":
            made = self.objects.group_assignment(self.program_license["id"], rnd.choice(fx.group_ids))
            return {"license_id": self.program_license["id"], "assignment_id": made["id"]}
        if path == SUGGESTION_LIST:
            return {"suggestion_id": self._free_pair(path, self.objects.program_suggestion, fx.user_ids, rnd)}
        if path == GROUP_SUGGESTION_LIST:
            return {"suggestion_id": self._free_pair(path, self.objects.group_suggestion, fx.group_ids, rnd)}
        if path == "/api/core/rbac/policies/{id}/":
            return {"id": self.objects.rbac_policy()["id"]}
        if path == "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}":
            made = self.objects.credential(user)
            return {"user_id": str(user), "entity_id": made["credential_id"]}
        raise KeyError(label)

    def _free_pair(self, path: str, make: Callable[..., dict[str, Any]], holders: Any, rnd: random.Random) -> Any:
        """The id of a new suggestion for a (holder, program) pair that holds none yet (the suite never takes over
        a pair someone else's suggestion holds), pairs tried in a seeded order; when every pair is held, one that a
        generated case of the run created (the run's own, so deleting it is fine); else an id that names nothing (the
        case then asks for a documented 404, or, sent without a key, a 401)."""
        pairs = [(holder, program) for holder in holders for program in self.settings.fixtures.program_keys]
        rnd.shuffle(pairs)
        for holder, program in pairs:
            try:
                return make(holder, program)["id"]
            except CreationFailed:
                continue
        return self._generated_suggestion(SUGGESTION_KINDS[path], rnd)

    def _generated_suggestion(self, kind: str, rnd: random.Random) -> Any:
        """A suggestion a generated write of the run created (any worker's; never a scenario's, which a test may still
        be reading) and no DELETE case of this worker was given yet; NO_SUCH_ID when there is none."""
        recorded = [*self.ledger.entries, *(load_leftovers(self.ledger.path) if self.ledger.path else [])]
        ids = sorted({str(e.get("suggestion_id")) for e in recorded
                      if e.get("kind") == kind and e.get("generated") and e.get("run_id") == self.ledger.run_id
                      and e.get("suggestion_id") is not None}
                     - self._handed_out)
        if not ids:
            return NO_SUCH_ID
        chosen = rnd.choice(ids)
        self._handed_out.add(chosen)
        return int(chosen) if chosen.isdigit() else chosen

    def suggestions_held(self) -> dict[tuple[str, str], Any]:
        """(user_id, program_key) -> suggestion id of every program suggestion of the platform, now."""
        held: dict[tuple[str, str], Any] = {}
        params: dict[str, Any] | None = {"platform_key": self.settings.platform_key, "page_size": 100}
        exchange = self.objects.admin.get(SUGGESTION_LIST, params=params)
        for _ in range(SUGGESTION_PAGES):
            body = exchange.json() if exchange.status == 200 else None
            if not isinstance(body, dict):
                break
            for item in body.get("results") or []:
                if isinstance(item, dict):
                    held[(str(item.get("user_id")), str(item.get("program_key")))] = item.get("id")
            link = body.get("next_page", body.get("next"))
            if not link:
                break
            exchange = self.objects.admin.get(link)
        return held

    # ---- the guard: generated suggestion writes only on (holder, program) pairs no one else's suggestion holds

    def foreign_pairs(self, label: str) -> frozenset[tuple[str, str]] | None:
        """(holder, program_key) of every suggestion on the platform that the run did not create (its own are in its
        ledger), for the suggestion write `label`; read once a run: the suggestion list documents no filter by holder
        or program (only a free-text `query`), so the read is the platform's whole list. None when it cannot be read
        whole (every pair then counts as held)."""
        path, holder_key, _ = SUGGESTION_WRITES[label]
        with self._lock:
            if path not in self._foreign:
                self._foreign[path] = self._read_foreign_pairs(path, holder_key)
            return self._foreign[path]

    def _read_foreign_pairs(self, path: str, holder_key: str) -> frozenset[tuple[str, str]] | None:
        kind = SUGGESTION_KINDS[path]
        recorded = [*self.ledger.entries, *(load_leftovers(self.ledger.path) if self.ledger.path else [])]
        own = {str(e.get("suggestion_id")) for e in recorded if e.get("kind") == kind}  # every worker's
        exchange = self.objects.admin.get(path, params={"platform_key": self.settings.platform_key, "page_size": 100})
        held: set[tuple[str, str]] = set()
        for _ in range(SUGGESTION_PAGES):
            body = exchange.json() if exchange.status == 200 else None
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                return None
            held |= {(str(i.get(holder_key)), str(i.get("program_key"))) for i in body["results"]
                     if isinstance(i, dict) and str(i.get("id")) not in own}
            link = body.get("next_page", body.get("next"))
            if not link:
                return frozenset(held)
            exchange = self.objects.admin.get(link)
        return None

    def names_only_free_pairs(self, label: str, body: Any) -> bool:
        """The guard: True unless `label` is a suggestion write whose body names a pair someone else's suggestion
        holds (or the holders cannot be read)."""
        if label not in SUGGESTION_WRITES:
            return True
        foreign = self.foreign_pairs(label)
        _, holder_key, bulk = SUGGESTION_WRITES[label]
        return foreign is not None and not any((str(i.get(holder_key)), str(i.get("program_key"))) in foreign
                                               for i in suggestion_items(body, bulk))

    def move_to_free_pairs(self, label: str, body: Any, rnd: random.Random) -> None:
        """A schema-valid suggestion write's held pairs moved onto free ones (so it is not wasted); left as they are
        when none is free (the guard in before_send then sets the case aside)."""
        if label not in SUGGESTION_WRITES or (foreign := self.foreign_pairs(label)) is None:
            return
        _, holder_key, bulk = SUGGESTION_WRITES[label]
        fx = self.settings.fixtures
        holders = fx.user_ids if holder_key == "user_id" else fx.group_ids
        free = [(h, p) for h in holders for p in fx.program_keys if (str(h), p) not in foreign]
        for item in suggestion_items(body, bulk):
            if free and (str(item.get(holder_key)), str(item.get("program_key"))) in foreign:
                holder, program = rnd.choice(free)
                item[holder_key] = str(holder) if isinstance(item.get(holder_key), str) else holder
                item["program_key"] = program
                if "program_id" in item:
                    item["program_id"] = program

    def before_send(self, label: str, case: Any) -> Any:
        """Called by every generated write path just before it sends: a case naming a suggestion pair someone else's
        suggestion holds is set aside (hypothesis draws another; counted in `set_aside`). Returns what record_created
        needs to know from before the case is sent (the bulk answer names no ids: the suggestions held before it, so
        only the ones it created are recorded)."""
        free, before = self.free_to_send(label, case)
        assume(free)
        return before

    def free_to_send(self, label: str, case: Any) -> tuple[bool, Any]:
        """before_send outside hypothesis: (False, None) for a case to set aside, else (True, what before_send
        returns)."""
        free = self.names_only_free_pairs(label, case.body)
        self.set_aside[label] += not free
        return free, (self.suggestions_held() if free and label == BULK_SUGGESTIONS else None)

    def record_created(self, label: str, case: Any, body: Any, before: Any = None) -> None:
        """Write an object a generated case created into the cleanup ledger."""
        if not isinstance(body, dict):
            return
        path = label.split(" ", 1)[1]
        platform = self.settings.platform_key
        if label in LICENSE_CREATES and "id" in body:
            # only a license with the suite's external_id can join the pool of retired licenses later runs reuse
            reusable = str(body.get("external_id") or "").startswith("conformance-")
            self.ledger.record(LICENSE_CREATES[label], license_id=body["id"], name=str(body.get("name")), reusable=reusable)
        elif label == "POST /api/catalog/licenses/program/assignment/" and "id" in body:
            self.ledger.record("program_assignment", license_id=case.query["license_id"], assignment_id=body["id"])
        elif label == "POST /api/catalog/licenses/user/assignment/" and "id" in body:
            self.ledger.record("user_assignment", license_id=case.query["license_id"], assignment_id=body["id"])
        elif label == "POST /api/catalog/licenses/program/assignment/group/" and "id" in body:
            self.ledger.record("group_assignment", license_id=case.query["license_id"], assignment_id=body["id"])
        elif label in (f"POST {SUGGESTION_LIST}", f"POST {GROUP_SUGGESTION_LIST}") and "id" in body:
            # `generated`: a later DELETE case may take it when no pair is free (see _free_pair)
            self.ledger.record(SUGGESTION_KINDS[path], platform_key=platform, suggestion_id=body["id"], generated=True)
        elif label == BULK_SUGGESTIONS and isinstance(before, dict):
            # the answer names no ids: record the suggestions of the items sent that did not exist before
            sent = {(str(i.get("user_id")), str(i.get("program_key"))) for i in suggestion_items(case.body, True)}
            for pair, suggestion_id in self.suggestions_held().items():
                if pair in sent and pair not in before and suggestion_id is not None:
                    self.ledger.record("program_suggestion", platform_key=platform, suggestion_id=suggestion_id,
                                       generated=True)
        elif label == "POST /api/core/rbac/policies/" and "id" in body:
            self.ledger.record("rbac_policy", policy_id=body["id"], platform_key=platform)
        elif path == "/api/credentials/orgs/{org}/users/{user_id}/" and label.startswith("POST"):
            created = credential_of(body)
            if "credential_id" in created:
                self.ledger.record("credential", org=case.path_parameters["org"],
                                   user_id=case.path_parameters["user_id"], entity_id=created["credential_id"])

    def set_aside_note(self, label: str, before: int) -> str:
        """What the guard set aside in one test (`before`: the operation's count when the test began)."""
        count = self.set_aside[label] - before
        return (f"; {count} case(s) set aside: they named a (holder, program) pair holding a suggestion the run did not "
                "create, and no free pair was left" if count else "")


def suggestion_items(body: Any, bulk: bool) -> list[dict[str, Any]]:
    """The (holder, program) items a suggestion write names: the body, or the objects of a bulk's suggestion_data."""
    if not isinstance(body, dict):
        return []
    if not bulk:
        return [body]
    items = body.get("suggestion_data")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
