"""One minimal valid request per operation of the contract (the 37 covered operations).

`Requests.prepare(operation)` creates, through the `objects` fixture, what the request needs (a
license, an assignment, a policy, ...) and returns a `Prepared` request: the exact method, path,
query and body the suite sends, a `state()` reader that shows (as the DM admin) everything the
request could change, and a `record()` hook that writes down in the cleanup ledger any object a
successful request created. The authentication and access-control scenarios share it: they send
the same valid request as different callers and compare `state()` before and after.

Given the module's `Shared` objects, the cases of a module share what no case of theirs changes: the
licenses that are only listed or hold a case's own assignments, and the policies and credentials a
read names. What a request changes itself (an updated license, a deleted assignment, policy or
credential, a suggestion) is still made fresh for its case.

Every body satisfies every documented reading (docs/behaviour.md): license creates carry both
`program_key` and `program_id`, credential creates carry the fields of both documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.checks import check
from conformance.client.objects import (
    ASSIGNMENT_PATHS,
    GROUP_ASSIGNMENTS,
    LICENSE_PATHS,
    RBAC_POLICIES,
    SUGGESTIONS,
    Objects,
    credential_of,
    credentials_path,
    now_iso,
)
from conformance.client.session import ApiClient, Exchange
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.spec.loader import load_contract
from conformance.verdicts import need, not_verified

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"
BULK_SUGGESTIONS = SUGGESTIONS + "bulk/"
CREDENTIALS = "/api/credentials/orgs/{org}/users/{user_id}/"
CREDENTIAL = "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}"

# The operations of the contract, in its order.
OPERATIONS: tuple[str, ...] = tuple(load_contract().operations())

LICENSE_WRITES = {
    "POST /api/catalog/licenses/program/create/": "CAT-ACL-001",
    "POST /api/catalog/licenses/program/update/": "CAT-ACL-002",
    "POST /api/catalog/licenses/user/create/": "CAT-ACL-003",
    "POST /api/catalog/licenses/user/update/": "CAT-ACL-004",
}
PROGRAM_LICENSE_LIST = "GET /api/catalog/licenses/program/"
ASSIGNMENT_OPS = tuple(op for op in OPERATIONS if "/assignment/" in op) + ("GET /api/catalog/licenses/user/",)
SUGGESTION_OPS = tuple(op for op in OPERATIONS if "/suggestions/" in op)
CREDENTIAL_OPS = tuple(op for op in OPERATIONS if "/credentials/" in op)
RBAC_OPS = tuple(op for op in OPERATIONS if "/core/rbac/" in op)
RBAC_LISTS = ("GET /api/core/rbac/policies/", "GET /api/core/rbac/roles/", "GET /api/core/rbac/groups/")
# role and group creates: (another platform's admin refused, a non-admin user refused)
RBAC_CREATES = {"POST /api/core/rbac/roles/": ("CORE-ROLE-009", "CORE-ROLE-010"),
                "POST /api/core/rbac/groups/": ("CORE-GRP-016", "CORE-GRP-017")}


HIDDEN = (403, 404)  # a foreign object reported as forbidden or as absent (the catalog accepts both)
FILTERED = 200  # another platform's list answered without this platform's objects (checked: nothing leaks)


# ---------------------------------------------------------------------------- the access table (docs/behaviour.md)


def refusal(caller: str, op: str) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """(accepted statuses, requirement IDs) when `caller` must be refused on this platform's `op`; else None."""
    if caller == "dm_admin":
        return None
    if op in LICENSE_WRITES:
        return (403,), (LICENSE_WRITES[op],)
    if caller == "platform_admin":
        return None
    if caller == "learner":
        if op in RBAC_CREATES:
            return (403,), (RBAC_CREATES[op][1],)
        for ops, rid in ((ASSIGNMENT_OPS, "CAT-ACL-011"), (SUGGESTION_OPS, "CAT-ACL-015"),
                         (CREDENTIAL_OPS, "CRED-ACL-004"), (RBAC_OPS, "CORE-ACL-006")):
            if op in ops:
                return (403,), (rid,)
        assert op == PROGRAM_LICENSE_LIST
        return (403,), ("CAT-ACL-008",)
    # another platform's admin: forbidden, or (403 and 404 are both documented) reported as absent; a list may
    # also be answered without this platform's objects
    read = (FILTERED,) if op.startswith("GET ") else ()
    if op == PROGRAM_LICENSE_LIST:
        return (*HIDDEN, *read), ("CAT-ACL-007",)
    if op in ASSIGNMENT_OPS:
        return (*HIDDEN, *read), ("CAT-ACL-010", "CAT-ACL-017")
    if op in SUGGESTION_OPS:  # (CAT-ACL-017 has its own test: this one is CAT-ACL-014)
        return (*HIDDEN, *read), ("CAT-ACL-014",)
    if op in CREDENTIAL_OPS:
        return HIDDEN, ("CRED-ACL-003",)
    if op in RBAC_LISTS:
        return (403, FILTERED), ("CORE-ACL-004",)
    if op == "POST /api/core/rbac/policies/":  # a role or platform the caller cannot see may also be a 400
        return (400, *HIDDEN), ("CORE-ACL-005",)
    if op in RBAC_CREATES:  # a platform_key the caller may not name may also be a 400
        return (400, *HIDDEN), (RBAC_CREATES[op][0],)
    return HIDDEN, ("CORE-ACL-003",)


def allowance(caller: str, op: str) -> tuple[str, ...] | None:
    """Requirement IDs saying `caller` may perform `op` on this platform; None when it may not."""
    if caller == "platform_admin":
        if op in LICENSE_WRITES:
            return None
        for ops, rid in (((PROGRAM_LICENSE_LIST,), "CAT-ACL-006"), (ASSIGNMENT_OPS, "CAT-ACL-009"),
                         (SUGGESTION_OPS, "CAT-ACL-013"), (CREDENTIAL_OPS, "CRED-ACL-002"), (RBAC_OPS, "CORE-ACL-002")):
            if op in ops:
                return (rid,)
        raise AssertionError(op)
    ids: list[str] = []
    for ops, rid in (((PROGRAM_LICENSE_LIST,), "CAT-ACL-005"), (SUGGESTION_OPS, "CAT-ACL-012"),
                     (CREDENTIAL_OPS, "CRED-ACL-001"), (RBAC_OPS, "CORE-ACL-001")):
        if op in ops:
            ids.append(rid)
    if op in LICENSE_WRITES:
        ids.append(LICENSE_WRITES[op])
    # GEN-AUTH-004 (MAY: the 'Api-Token' prefix) only where no other requirement's verdict rides on the case
    return tuple(ids) or ("GEN-AUTH-004",)


def is_write(operation: str) -> bool:
    """True for POST, PUT, PATCH and DELETE."""
    return not operation.startswith("GET ")


def _nothing() -> Any:
    return None


def _no_record(exchange: Exchange) -> None:
    return None


@dataclass
class Prepared:
    """A valid request for one operation, and how to see what it changes."""

    operation: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None
    state: Callable[[], Any] = _nothing
    record: Callable[[Exchange], None] = _no_record
    platform_objects: dict[str, Any] = field(default_factory=dict)  # ids of this platform's objects it names

    def send(self, client: ApiClient, *, headers: dict[str, str] | None = None) -> Exchange:
        """Send the request as `client` (optionally with explicit headers, e.g. another Authorization)."""
        return client.request(self.method, self.path, params=self.params, json_body=self.body, headers=headers)

    def succeeded(self, exchange: Exchange) -> None:
        """Record what a successful request created (so the ledger removes it)."""
        if 200 <= exchange.status < 300:
            self.record(exchange)


# Reads whose whole prepared request the cases of a module share: what they name is only read.
SHARED_READS = ("GET /api/core/rbac/policies/", "GET /api/core/rbac/policies/{id}/", "GET " + CREDENTIALS,
                "GET " + CREDENTIAL)


class Shared:
    """Objects the requests of one scope share (the cases of a module, or the requests of one test), made on first
    use by the scope's own `objects` and undone when it ends: licenses no request changes (listed, or holding a
    request's own assignments, undone before the next request uses the license) and the prepared reads of
    SHARED_READS."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self._made: dict[Any, Any] = {}

    def once(self, key: Any, make: Callable[[], Any]) -> Any:
        """What `make` returns, made the first time `key` is asked for (a failed make is tried again next time)."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def license(self, kind: str, count: int) -> dict[str, Any]:
        """A license of `kind` with `count` seats that the module's cases only list or assign on."""
        return dict(self.once(("license", kind, count), lambda: new_license(self.objects, kind, count)))

    def read(self, operation: str) -> Prepared:
        """The prepared request of one of SHARED_READS, on objects of the module."""
        return self.once(("read", operation), lambda: Requests(self.objects).prepare(operation))


def new_license(objects: Objects, kind: str, count: int) -> dict[str, Any]:
    """A license of `kind` with `count` seats (from the pool or created)."""
    return objects.program_license(count=count) if kind == "program" else objects.user_license(count)


def _ids(items: list[dict[str, Any]]) -> list[Any]:
    return sorted(item.get("id") for item in items)


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item.get("id")))


class Requests:
    """Builds the prepared request of each operation on objects of the platform under test."""

    def __init__(self, objects: Objects, shared: Shared | None = None) -> None:
        self.objects = objects
        self.shared = shared
        self.admin = objects.admin
        self.settings = objects.settings
        self.platform = objects.settings.platform_key
        fixtures = objects.settings.fixtures
        self.user = need(fixtures.user_ids, 1, "user_ids")[0]
        self.group = need(fixtures.group_ids, 1, "group_ids")[0]
        self.program = need(fixtures.program_keys, 1, "program_keys")[0]
        self.role = need(fixtures.role_ids, 1, "role_ids")[0]

    # ------------------------------------------------------------------ ledger and reads
    def _record(self, kind: str, **identifiers: Any) -> None:
        self.objects.entries.append(self.objects.ledger.record(kind, **identifiers))

    def _list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(walk_pages(self.admin, path, params))

    def _licenses_named(self, kind: str, external_id: str) -> list[dict[str, Any]]:
        items = self._list(LICENSE_PATHS[kind], {"platform_key": self.platform, "external_id": external_id})
        return _sorted([item for item in items if item.get("external_id") == external_id])

    def _assignments(self, kind: str, license_id: int) -> list[dict[str, Any]]:
        return _sorted(self._list(ASSIGNMENT_PATHS[kind], {"license_id": license_id}))

    def _suggestions(self, path: str, key: str, value: Any, program: str) -> list[dict[str, Any]]:
        items = self._list(path, {"platform_key": self.platform})
        return _sorted([i for i in items if str(i.get(key)) == str(value) and i.get("program_key") == program])

    def free_pair(self, path: str, key: str) -> tuple[Any, str]:
        """A (user or group, program) pair that holds no suggestion yet: a POST on a held pair would update, and the
        cleanup would delete, a suggestion the run did not create. None free: the test is not verified."""
        fixtures = self.settings.fixtures
        holders = fixtures.user_ids if key == "user_id" else fixtures.group_ids
        held = {(str(i.get(key)), i.get("program_key")) for i in self._list(path, {"platform_key": self.platform})}
        for holder in holders:
            for program in fixtures.program_keys:
                if (str(holder), program) not in held:
                    return holder, program
        not_verified(f"every ({key}, program_key) pair of the fixtures already holds a suggestion on {self.platform}; "
                     "the suite leaves them untouched")

    def _retrieve(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        exchange = self.admin.get(path, params=params)
        return exchange.status, (exchange.json() if exchange.status == 200 else None)

    def _record_new_suggestions(self, path: str, key: str, value: Any, program: str, kind: str,
                                held: dict[str, Any]) -> Callable[[Exchange], None]:
        """Records the pair's suggestions other than `held`: the pair held none before (the factory checked it just
        before creating `held`), so any other one is the request's."""
        known = {held.get("id")}

        def record(exchange: Exchange) -> None:
            for item in self._suggestions(path, key, value, program):
                if item.get("id") not in known:
                    self._record(kind, platform_key=self.platform, suggestion_id=item["id"])
        return record

    # ------------------------------------------------------------------ the table
    def prepare(self, operation: str) -> Prepared:
        """The prepared request of `operation` (one of OPERATIONS)."""
        if self.shared is not None and operation in SHARED_READS:
            return self.shared.read(operation)
        method, _, path = operation.partition(" ")
        builder = {
            "/api/catalog/licenses/program/": self._license_list,
            "/api/catalog/licenses/user/": self._license_list,
            "/api/catalog/licenses/program/create/": self._license_create,
            "/api/catalog/licenses/user/create/": self._license_create,
            "/api/catalog/licenses/program/update/": self._license_update,
            "/api/catalog/licenses/user/update/": self._license_update,
            "/api/catalog/licenses/program/assignment/": self._assignment,
            "/api/catalog/licenses/user/assignment/": self._assignment,
            "/api/catalog/licenses/program/assignment/group/": self._group_assignment,
            "/api/catalog/suggestions/program/manage/": self._suggestion,
            "/api/catalog/suggestions/program/manage/bulk/": self._bulk,
            "/api/catalog/suggestions/program/manage/group/": self._suggestion,
            "/api/core/rbac/policies/": self._policies,
            "/api/core/rbac/policies/{id}/": self._policy,
            "/api/core/rbac/roles/": self._rbac_list,
            "/api/core/rbac/groups/": self._rbac_list,
            CREDENTIALS: self._credentials,
            CREDENTIAL: self._credential,
        }[path]
        return builder(operation, method, path)

    @staticmethod
    def _kind(path: str) -> str:
        return "user" if "/licenses/user/" in path else "program"

    def _license_list(self, op: str, method: str, path: str) -> Prepared:
        held = self._held_license(self._kind(path), 1)
        return Prepared(op, method, path, params={"platform_key": self.platform},
                        platform_objects={"license_id": held["id"]})

    def _license_create(self, op: str, method: str, path: str) -> Prepared:
        kind = self._kind(path)
        name = self.objects.name(f"{kind}-license")
        body: dict[str, Any] = {"platform_key": self.platform, "name": name, "count": 3, "started": now_iso(),
                                "external_id": name, "active": True}
        if kind == "program":
            body.update(program_key=self.program, program_id=self.program)

        def record(exchange: Exchange) -> None:
            self._record(f"{kind}_license", license_id=exchange.json()["id"], name=name)
        return Prepared(op, method, path, body=body, state=lambda: self._licenses_named(kind, name), record=record)

    def _new_license(self, kind: str, count: int = 5) -> dict[str, Any]:
        return new_license(self.objects, kind, count)

    def _held_license(self, kind: str, count: int = 5) -> dict[str, Any]:
        """A license the request only lists or assigns on: the module's shared one when there is one."""
        return self.shared.license(kind, count) if self.shared is not None else self._new_license(kind, count)

    def _license_update(self, op: str, method: str, path: str) -> Prepared:
        kind = self._kind(path)
        license_ = self._new_license(kind, 3)
        body = {"license_id": license_["id"], "count": 4, "name": f"{license_['name']}-renamed"}
        return Prepared(op, method, path, body=body, state=lambda: self._licenses_named(kind, license_["external_id"]),
                        platform_objects={"license_id": license_["id"]})

    def _assignment(self, op: str, method: str, path: str) -> Prepared:
        kind = self._kind(path)
        license_ = self._held_license(kind)
        lid = license_["id"]
        state = lambda: self._assignments(kind, lid)  # noqa: E731
        objects = {"license_id": lid}
        if method == "GET":
            return Prepared(op, method, path, params={"license_id": lid}, state=state, platform_objects=objects)
        if method == "POST":
            def record(exchange: Exchange) -> None:
                self._record(f"{kind}_assignment", license_id=lid, assignment_id=exchange.json()["id"])
            body = {"license_id": lid, "user_id": self.user, "platform_key": self.platform}
            return Prepared(op, method, path, params={"license_id": lid}, body=body, state=state, record=record,
                            platform_objects=objects)
        held = self.objects.assignment(kind, lid, self.user)
        return Prepared(op, method, path, params={"license_id": lid, "assignment_id": held["id"]}, state=state,
                        platform_objects={**objects, "assignment_id": held["id"]})

    def _group_assignment(self, op: str, method: str, path: str) -> Prepared:
        license_ = self._held_license("program", 10)
        lid = license_["id"]

        def state() -> Any:
            return {"groups": _sorted(self._list(GROUP_ASSIGNMENTS, {"license_id": lid})),
                    "users": self._assignments("program", lid)}
        objects = {"license_id": lid}
        if method == "GET":
            return Prepared(op, method, path, params={"license_id": lid}, state=state, platform_objects=objects)
        if method == "POST":
            def record(exchange: Exchange) -> None:
                self._record("group_assignment", license_id=lid, assignment_id=exchange.json()["id"])
                for item in self._assignments("program", lid):
                    self._record("program_assignment", license_id=lid, assignment_id=item["id"])
            body = {"license_id": lid, "group_id": self.group, "platform_key": self.platform}
            return Prepared(op, method, path, params={"license_id": lid}, body=body, state=state, record=record,
                            platform_objects=objects)
        held = self.objects.group_assignment(lid, self.group)
        return Prepared(op, method, path, params={"license_id": lid, "assignment_id": held["id"]}, state=state,
                        platform_objects={**objects, "assignment_id": held["id"]})

    def _suggestion(self, op: str, method: str, path: str) -> Prepared:
        """A program or group suggestion operation, on a suggestion the run made for a free (holder, program) pair."""
        holder_key, kind = ("user_id", "program_suggestion") if path == SUGGESTIONS else ("group_id", "group_suggestion")
        params = {"platform_key": self.platform}
        holder, program = self.free_pair(path, holder_key)
        make = self.objects.program_suggestion if path == SUGGESTIONS else self.objects.group_suggestion
        held = make(holder, program)
        if method == "GET":
            return Prepared(op, method, path, params=params, platform_objects={"suggestion_id": held["id"]})
        state = lambda: self._suggestions(path, holder_key, holder, program)  # noqa: E731
        if method == "DELETE":
            return Prepared(op, method, path, params={**params, "suggestion_id": held["id"]}, state=state,
                            platform_objects={"suggestion_id": held["id"]})
        body = {"platform_key": self.platform, "program_key": program,
                holder_key: str(holder) if path == SUGGESTIONS else holder, "visible": not held.get("visible", True)}
        return Prepared(op, method, path, params=params, body=body, state=state,
                        record=self._record_new_suggestions(path, holder_key, holder, program, kind, held),
                        platform_objects={"suggestion_id": held["id"]})

    def _bulk(self, op: str, method: str, path: str) -> Prepared:
        user, program = self.free_pair(SUGGESTIONS, "user_id")
        held = self.objects.program_suggestion(user, program)
        item = {"program_key": program, "user_id": str(user), "visible": not held.get("visible", True)}
        body = {"platform_key": self.platform, "suggestion_data": [item]}
        return Prepared(op, method, path, params={"platform_key": self.platform}, body=body,
                        state=lambda: self._suggestions(SUGGESTIONS, "user_id", user, program),
                        record=self._record_new_suggestions(SUGGESTIONS, "user_id", user, program, "program_suggestion",
                                                            held))

    def _policies(self, op: str, method: str, path: str) -> Prepared:
        params = {"platform_key": self.platform}
        if method == "GET":
            held = self.objects.rbac_policy()
            return Prepared(op, method, path, params=params, platform_objects={"policy_id": held["id"]})
        name = self.objects.name("policy")
        body = {"name": name, "resources": [f"/conformance/{self.objects.ledger.run_id}"], "role_id": self.role,
                "platform_key": self.platform}

        def state() -> Any:
            return _ids([p for p in self._list(RBAC_POLICIES, {**params, "name": name}) if p.get("name") == name])

        def record(exchange: Exchange) -> None:
            self._record("rbac_policy", policy_id=exchange.json()["id"], platform_key=self.platform)
        return Prepared(op, method, path, body=body, state=state, record=record)

    def _policy(self, op: str, method: str, path: str) -> Prepared:
        held = self.objects.rbac_policy()
        concrete = f"{RBAC_POLICIES}{held['id']}/"
        state = lambda: self._retrieve(concrete)  # noqa: E731
        objects = {"policy_id": held["id"]}
        if method == "GET":
            return Prepared(op, method, concrete, state=state, platform_objects=objects)
        if method == "DELETE":
            return Prepared(op, method, concrete, params={"platform_key": self.platform}, state=state,
                            platform_objects=objects)
        body: dict[str, Any] = {"name": f"{held['name']}-changed"}
        if method == "PUT":
            body.update(resources=[f"/conformance/{self.objects.ledger.run_id}/changed"], role_id=self.role,
                        platform_key=self.platform)
        return Prepared(op, method, concrete, body=body, state=state, platform_objects=objects)

    def _rbac_list(self, op: str, method: str, path: str) -> Prepared:
        if method == "POST":
            return self._rbac_create(op, method, path)
        return Prepared(op, method, path, params={"platform_key": self.platform})

    def _rbac_create(self, op: str, method: str, path: str) -> Prepared:
        """A role or group create. Neither can be deleted through the API: one a caller is served stays on the
        target, named by the run (nothing to record in the ledger)."""
        name = self.objects.name("role" if path == ROLES else "group")
        body: dict[str, Any] = {"name": name, "platform_key": self.platform}
        if path == GROUPS:
            body.update(unique_id=name, users_to_add=[self.user])

        def state() -> Any:
            return _ids([i for i in self._list(path, {"platform_key": self.platform, "name": name}) if i.get("name") == name])
        return Prepared(op, method, path, body=body, state=state)

    def _credentials(self, op: str, method: str, path: str) -> Prepared:
        org = self.settings.org
        concrete = credentials_path(org, self.user)
        if method == "GET":
            held = self.objects.credential(self.user)
            return Prepared(op, method, concrete, platform_objects={"credential_id": held["credential_id"]})
        name = self.objects.name("credential")
        body = {"credential_id": name, "credential_url": f"https://credentials.example/{name}", "name": name,
                "revoked": False, "issuer": "conformance-issuer"}

        def record(exchange: Exchange) -> None:
            created = credential_of(exchange.json())
            self._record("credential", org=org, user_id=self.user, entity_id=created.get("credential_id", name))
        return Prepared(op, method, concrete, body=body, state=lambda: self._retrieve(credentials_path(org, self.user,
                                                                                                       name)),
                        record=record)

    def _credential(self, op: str, method: str, path: str) -> Prepared:
        org = self.settings.org
        held = self.objects.credential(self.user)
        concrete = credentials_path(org, self.user, held["credential_id"])
        objects = {"credential_id": held["credential_id"]}
        state = lambda: self._retrieve(concrete)  # noqa: E731
        body = None
        if method == "PUT":
            body = {"credential_id": held["credential_id"], "credential_url": held.get("credential_url")
                    or f"https://credentials.example/{held['credential_id']}", "name": f"{held['name']}-changed",
                    "revoked": True, "issuer": "conformance-issuer"}
        return Prepared(op, method, concrete, body=body, state=state, platform_objects=objects)


def operation_id(operation: str) -> str:
    """A short, readable test id for an operation."""
    method, _, path = operation.partition(" ")
    short = path.removeprefix("/api/").strip("/").replace("{", "").replace("}", "")
    return f"{method} {short}"


def served(client: ApiClient, caller: str, prepared: Prepared, requirements: tuple[str, ...]) -> None:
    """`caller` sends the prepared request and is served (2xx); a deleted object is gone afterwards. The same
    evidence speaks for each of `requirements` (each gets its own check)."""
    exchange = prepared.send(client)
    prepared.succeeded(exchange)
    if exchange.status == 401:  # GEN-AUTH-004 is MAY: the vendor documents never name the 'Api-Token' prefix
        not_verified(f"{exchange.operation}: the target refused the {caller}'s key sent as 'Api-Token <key>'")
    gone = prepared.state() if prepared.operation.startswith("DELETE") and 200 <= exchange.status < 300 else None
    for requirement in requirements:
        with check(requirement):
            if not 200 <= exchange.status < 300:
                expect_status(exchange, 200, 201, 204, why=f"the {caller} may perform this operation on its own platform")
            if isinstance(gone, tuple):  # a retrieve after a delete
                assert gone[0] in HIDDEN, \
                    f"{prepared.operation}: the deleted object can still be retrieved ({gone[0]})"
