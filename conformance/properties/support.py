"""The machinery of the property tests: the contract as schemathesis and openapi-core see it, the objects
generated cases point at, filling identifiers in, sending, checking, counting, reproducing."""

from __future__ import annotations

import json
import random
import shlex
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
import yaml
from hypothesis import assume
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import ComponentInfo
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict

from conformance.checks import check
from conformance.client.ledger import Ledger, load_leftovers
from conformance.client.objects import CreationFailed, Objects, credential_of, now_iso
from conformance.client.session import Wire
from conformance.config import Settings
from conformance.generation.profiles import Generation
from conformance.properties.published import resolve, without_additions
from conformance.spec.catalog import load_catalog
from conformance.spec.loader import default_contract_path
from conformance.verdicts import not_verified

POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, negative_data_rejection]
ENTITY_SCHEMAS = tuple(f"GEN-SCHEMA-{n:03d}" for n in range(1, 13))  # the answer schema of each kind of object
NESTED_POLICY_SCHEMA = "GEN-SCHEMA-015"  # a policy's role, platform, users and groups
FORMATS = "GEN-SCHEMA-016"
CONTENT_TYPE = "GEN-SCHEMA-017"
NULL_WHEN_NOT_SENT = {"expired": "GEN-SCHEMA-013", "external_id": "GEN-SCHEMA-014"}
SCHEMA_REQUIREMENTS = (*ENTITY_SCHEMAS, NESTED_POLICY_SCHEMA, FORMATS, CONTENT_TYPE)
SERVER_ERROR = "GEN-STATUS-007"
DOCUMENTED_STATUS = "GEN-STATUS-002"
# an accepted (2xx) request that breaks the published document, by where it breaks it
QUERY_ACCEPTED, RBAC_QUERY_ACCEPTED, BODY_ACCEPTED = "GEN-STATUS-004", "GEN-STATUS-008", "GEN-STATUS-005"
NESTED_POLICY_FIELDS = ("role", "platform", "users", "groups")
RBAC_PREFIX = "/api/core/rbac/"
LICENSE_CREATES = {"POST /api/catalog/licenses/program/create/": "program_license",
                   "POST /api/catalog/licenses/user/create/": "user_license"}
# creates of objects no API call removes (roles, groups): a generated one carries the suite's name prefix
NAMED_CREATES = {"POST /api/core/rbac/roles/": ("name",), "POST /api/core/rbac/groups/": ("unique_id", "name")}
NAME_MAX = 255  # the published maxLength of those names
SUGGESTION_LIST = "/api/catalog/suggestions/program/manage/"
GROUP_SUGGESTION_LIST = "/api/catalog/suggestions/program/manage/group/"
# The create-or-update suggestion writes: (the list showing who holds what, the field naming the holder, bulk?). On a
# (holder, program) pair holding a suggestion the run did not create, such a POST would change (and the cleanup then
# delete) someone else's suggestion: the guard (Pool.names_only_free_pairs) keeps every generated write off them.
SUGGESTION_WRITES = {
    f"POST {SUGGESTION_LIST}": (SUGGESTION_LIST, "user_id", False),
    f"POST {GROUP_SUGGESTION_LIST}": (GROUP_SUGGESTION_LIST, "group_id", False),
    f"POST {SUGGESTION_LIST}bulk/": (SUGGESTION_LIST, "user_id", True),
}
SUGGESTION_PAGES = 200  # a suggestion list longer than this is not read to its end (then every pair counts as held)


# ---- the contract ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def contract_schema() -> Any:
    """The contract as schemathesis reads it."""
    return schemathesis.openapi.from_path(str(default_contract_path()))


@lru_cache(maxsize=1)
def openapi_core_spec() -> OpenAPI:
    """The contract as openapi-core reads it (for response validation with schema paths)."""
    return OpenAPI.from_file_path(str(default_contract_path()))


@lru_cache(maxsize=1)
def operations() -> dict[str, Any]:
    """Every operation of the contract by its label ("METHOD /path")."""
    found = {}
    for result in contract_schema().get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found


def operation_ids() -> list[tuple[str, str]]:
    """(label, operationId) of every operation, in contract order."""
    return [(label, op.definition.raw.get("operationId", label)) for label, op in operations().items()]


def covers(rid: str, label: str) -> bool:
    """True when catalog requirement `rid` names the operation `label`."""
    catalog = load_catalog()
    return rid in catalog.requirements and label in catalog.requirements[rid].operations


def requirements_for(label: str, kind: str) -> tuple[str, ...]:
    """The catalog entries a generated test of this operation verifies."""
    if kind == "positive":
        ids = [DOCUMENTED_STATUS, SERVER_ERROR]  # not GEN-AUTH-004 (MAY): a 401 makes the case not verified
        ids += [rid for rid in SCHEMA_REQUIREMENTS if covers(rid, label)]
        if label.endswith("/create/"):
            ids += [rid for rid in NULL_WHEN_NOT_SENT.values() if covers(rid, label)]
        return tuple(ids)
    if kind == "negative":
        return (SERVER_ERROR, DOCUMENTED_STATUS,
                *(rid for rid in (QUERY_ACCEPTED, RBAC_QUERY_ACCEPTED, BODY_ACCEPTED) if covers(rid, label)))
    if kind == "auth":
        if is_rbac(label):  # not GEN-AUTH-007 (SHOULD): the 401 body has its own scenario test
            return ("GEN-AUTH-006",)
        return ("GEN-AUTH-001", "GEN-AUTH-002")
    raise ValueError(kind)


def is_rbac(label: str) -> bool:
    """True for the RBAC operations (they document 403, not 401, for a refused caller)."""
    return label.split(" ", 1)[1].startswith(RBAC_PREFIX)


def documents_2xx(label: str) -> bool:
    """True when the operation documents a success status."""
    return any(str(code).startswith("2") for code in operations()[label].definition.raw.get("responses", {}))


# ---- objects generated cases point at ----------------------------------------------------------

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
    _serial: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _foreign: dict[str, frozenset[tuple[str, str]] | None] = field(default_factory=dict)  # per list: see foreign_pairs

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

    # fresh objects for destructive cases
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
        if path == "/api/catalog/suggestions/program/manage/":
            return {"suggestion_id": self._free_pair(self.objects.program_suggestion, fx.user_ids, rnd)}
        if path == "/api/catalog/suggestions/program/manage/group/":
            return {"suggestion_id": self._free_pair(self.objects.group_suggestion, fx.group_ids, rnd)}
        if path == "/api/core/rbac/policies/{id}/":
            return {"id": self.objects.rbac_policy()["id"]}
        if path == "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}":
            made = self.objects.credential(user)
            return {"user_id": str(user), "entity_id": made["credential_id"]}
        raise KeyError(label)

    def _free_pair(self, make: Callable[..., dict[str, Any]], holders: Any, rnd: random.Random) -> Any:
        """The id of a new suggestion for a (holder, program) pair that holds none yet (the suite never takes over
        a pair someone else's suggestion holds), pairs tried in a seeded order; when every pair is held, an id
        that names nothing (the case then asks for a documented 404, or, sent without a key, a 401)."""
        pairs = [(holder, program) for holder in holders for program in self.settings.fixtures.program_keys]
        rnd.shuffle(pairs)
        for holder, program in pairs:
            try:
                return make(holder, program)["id"]
            except CreationFailed:
                continue
        return NO_SUCH_ID

    def suggestions_held(self) -> dict[tuple[str, str], Any]:
        """(user_id, program_key) -> suggestion id of every program suggestion of the platform, now."""
        held: dict[tuple[str, str], Any] = {}
        path = "/api/catalog/suggestions/program/manage/"
        params: dict[str, Any] | None = {"platform_key": self.settings.platform_key, "page_size": 100}
        exchange = self.objects.admin.get(path, params=params)
        for _ in range(200):
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
        kind = "program_suggestion" if holder_key == "user_id" else "group_suggestion"
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
                                               for i in _suggestion_items(body, bulk))

    def move_to_free_pairs(self, label: str, body: Any, rnd: random.Random) -> None:
        """A schema-valid suggestion write's held pairs moved onto free ones (so it is not wasted); left as they are
        when none is free (the guard in before_send then sets the case aside)."""
        if label not in SUGGESTION_WRITES or (foreign := self.foreign_pairs(label)) is None:
            return
        _, holder_key, bulk = SUGGESTION_WRITES[label]
        fx = self.settings.fixtures
        holders = fx.user_ids if holder_key == "user_id" else fx.group_ids
        free = [(h, p) for h in holders for p in fx.program_keys if (str(h), p) not in foreign]
        for item in _suggestion_items(body, bulk):
            if free and (str(item.get(holder_key)), str(item.get("program_key"))) in foreign:
                holder, program = rnd.choice(free)
                item[holder_key] = str(holder) if isinstance(item.get(holder_key), str) else holder
                item["program_key"] = program
                if "program_id" in item:
                    item["program_id"] = program

    def before_send(self, label: str, case: Any) -> Any:
        """Called by every generated write path just before it sends: a case naming a suggestion pair someone else's
        suggestion holds is set aside (hypothesis draws another). Returns what record_created needs to know from
        before the case is sent (the bulk answer names no ids: the suggestions held before it, so only the ones it
        created are recorded)."""
        assume(self.names_only_free_pairs(label, case.body))
        return self.suggestions_held() if label == "POST /api/catalog/suggestions/program/manage/bulk/" else None

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
        elif label == "POST /api/catalog/suggestions/program/manage/" and "id" in body:
            self.ledger.record("program_suggestion", platform_key=platform, suggestion_id=body["id"])
        elif label == "POST /api/catalog/suggestions/program/manage/group/" and "id" in body:
            self.ledger.record("group_suggestion", platform_key=platform, suggestion_id=body["id"])
        elif label == "POST /api/catalog/suggestions/program/manage/bulk/" and isinstance(before, dict):
            # the answer names no ids: record the suggestions of the items sent that did not exist before
            sent = {(str(i.get("user_id")), str(i.get("program_key")))
                    for i in (case.body or {}).get("suggestion_data", []) if isinstance(i, dict)}
            for pair, suggestion_id in self.suggestions_held().items():
                if pair in sent and pair not in before and suggestion_id is not None:
                    self.ledger.record("program_suggestion", platform_key=platform, suggestion_id=suggestion_id)
        elif label == "POST /api/core/rbac/policies/" and "id" in body:
            self.ledger.record("rbac_policy", policy_id=body["id"], platform_key=platform)
        elif path == "/api/credentials/orgs/{org}/users/{user_id}/" and label.startswith("POST"):
            created = credential_of(body)
            if "credential_id" in created:
                self.ledger.record("credential", org=case.path_parameters["org"],
                                   user_id=case.path_parameters["user_id"], entity_id=created["credential_id"])


def _suggestion_items(body: Any, bulk: bool) -> list[dict[str, Any]]:
    """The (holder, program) items a suggestion write names: the body, or the objects of a bulk's suggestion_data."""
    if not isinstance(body, dict):
        return []
    if not bulk:
        return [body]
    items = body.get("suggestion_data")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# ---- filling identifiers in ------------------------------------------------------------------

ASSIGNMENT_LICENSE = {
    "/api/catalog/licenses/program/assignment/": "program",
    "/api/catalog/licenses/program/assignment/group/": "program",
    "/api/catalog/licenses/user/assignment/": "user",
}
PAGE_CAP = 2
NO_SUCH_ID = 2**31 - 1  # an id no object has
FILTERS_TO_DROP_ON_DELETE = ("active", "fulfilled", "email", "user_id", "group_id", "page", "page_size", "sort",
                             "query", "department_mode")


def fill_positive(case: Any, pool: Pool, rnd: random.Random) -> None:
    """Point a schema-valid case at existing objects (and objects made for it when it destroys one)."""
    label = case.operation.label
    method, path = label.split(" ", 1)
    settings, fx = pool.settings, pool.settings.fixtures
    fresh = pool.fresh(label, rnd) if method == "DELETE" else {}
    query = case.query if isinstance(case.query, dict) else None
    if query is not None:
        _fill_query(query, label, pool, rnd, fresh)
    if case.path_parameters:
        params = case.path_parameters
        if "id" in params:
            params["id"] = fresh.get("id", pool.policy["id"])
        if "org" in params:
            params["org"] = settings.org
        if "user_id" in params:
            if "entity_id" in params:
                params["user_id"] = fresh.get("user_id", pool.credential_user)
                params["entity_id"] = fresh.get("entity_id", pool.credential["credential_id"])
            else:
                params["user_id"] = str(rnd.choice(fx.user_ids))
    if isinstance(case.body, dict):
        _fill_body(case.body, label, pool, rnd, query or {})


def _fill_query(query: dict[str, Any], label: str, pool: Pool, rnd: random.Random, fresh: dict[str, Any]) -> None:
    method, path = label.split(" ", 1)
    settings, fx = pool.settings, pool.settings.fixtures
    if method == "DELETE" and not path.startswith(RBAC_PREFIX):
        for name in FILTERS_TO_DROP_ON_DELETE:
            query.pop(name, None)
    for name in list(query):
        value = query[name]
        if name == "platform_key":
            query[name] = settings.platform_key
        elif name in ("platform_org", "org"):
            query[name] = settings.org
        elif name == "key":
            query[name] = settings.platform_key
        elif name == "license_id" and path in ASSIGNMENT_LICENSE:
            kind = ASSIGNMENT_LICENSE[path]
            query[name] = (pool.program_license if kind == "program" else pool.user_license)["id"]
        elif name == "group_id":
            query[name] = rnd.choice(fx.group_ids)
        elif name == "user_id":
            query[name] = rnd.choice(fx.user_ids)
        elif name == "role_id":
            query[name] = rnd.choice(fx.role_ids)
        elif name == "sort":
            query[name] = rnd.choice(("id", "-id"))
        elif name == "page" and isinstance(value, int):
            query[name] = min(value, PAGE_CAP)
        elif name == "program_id":
            query[name] = rnd.choice(fx.program_keys)
    for name, value in fresh.items():
        if name in ("license_id", "assignment_id", "suggestion_id"):
            query[name] = value


def _fill_body(body: dict[str, Any], label: str, pool: Pool, rnd: random.Random, query: dict[str, Any]) -> None:
    path = label.split(" ", 1)[1]
    settings, fx = pool.settings, pool.settings.fixtures
    program = rnd.choice(fx.program_keys)
    user = rnd.choice(fx.user_ids)
    is_update = path.endswith("/update/")
    is_license_create = path.endswith("/create/")
    for name in list(body):
        if name == "platform_key":
            body[name] = settings.platform_key
        elif name == "platform_org":
            body[name] = settings.org
        elif name == "platform_id":
            body.pop(name)
        elif name in ("program_key", "program_id"):
            body[name] = program
        elif name == "group_id":
            body[name] = rnd.choice(fx.group_ids)
        elif name == "role_id":
            body[name] = rnd.choice(fx.role_ids)
        elif name in ("users_to_add", "users_to_remove"):
            body[name] = rnd.sample(list(fx.user_ids), k=min(len(fx.user_ids), len(body[name] or []), 2))
        elif name in ("groups_to_add", "groups_to_remove"):
            body[name] = rnd.sample(list(fx.group_ids), k=min(len(fx.group_ids), len(body[name] or []), 2))
        elif name == "count" and isinstance(body[name], int):
            body[name] = abs(body[name]) % 1000 + 1 if is_license_create else abs(body[name]) % 1000 + 10
    if "program_key" in body or "program_id" in body:
        body["program_key"] = body["program_id"] = program
    if body.get("redirect_to") is not None:
        # the request schemas take any string, the answer schemas a uri: send a uri (see the report)
        body["redirect_to"] = f"https://example.com/after/{rnd.randrange(1000)}"
    if path in ASSIGNMENT_LICENSE:
        body["license_id"] = query.get("license_id", body.get("license_id"))
        body.pop("username", None)
        body.pop("email", None)
        if "user_id" in body or path != "/api/catalog/licenses/program/assignment/group/":
            body["user_id"] = user
    if path == "/api/catalog/suggestions/program/manage/":
        body["user_id"] = str(user)
        body.pop("username", None)
        body.pop("email", None)
    if path == "/api/catalog/suggestions/program/manage/bulk/":
        items = [i for i in body.get("suggestion_data") or [] if isinstance(i, dict)][:3]
        for item in items:
            item["program_key"] = rnd.choice(fx.program_keys)
            item["user_id"] = str(rnd.choice(fx.user_ids))
            for name in ("platform_key", "platform_org"):
                if name in item:
                    item[name] = settings.platform_key if name == "platform_key" else settings.org
            item.pop("username", None)
            item.pop("email", None)
        body["suggestion_data"] = items
    pool.move_to_free_pairs(label, body, rnd)
    if is_update:
        kind = "program" if "/program/" in path else "user"
        body["license_id"] = (pool.program_update_license if kind == "program" else pool.user_update_license)["id"]
        body.pop("external_id", None)
    if is_license_create and body.get("external_id") is not None:
        body["external_id"] = pool.unique("external")
    if is_license_create or is_update:
        _dates_in_order(body)
    if path == "/api/credentials/orgs/{org}/users/{user_id}/":
        body["credential_id"] = pool.unique("credential")
    for name in NAMED_CREATES.get(label, ()):
        if isinstance(body.get(name), str):  # the run's name first, then what was generated, within maxLength
            body[name] = f"{pool.unique(name)}-{body[name]}"[:NAME_MAX]
    if path == "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}":
        # a full body naming the path's credential: one reading refuses a partial PUT (credential-fields-required),
        # another replaces the whole object; no document says a blank name or URL is accepted
        body["credential_id"] = pool.credential["credential_id"]
        for name in ("credential_url", "name", "revoked"):
            value = body.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                body[name] = pool.credential.get(name, False if name == "revoked" else pool.unique(name))


def _dates_in_order(body: dict[str, Any]) -> None:
    """A license's expiry is after its start (the documents do not say what else means)."""
    if body.get("expired") is not None:
        body["expired"] = "2999-12-31T00:00:00Z"
    if "started" in body and body.get("started") is not None:
        body["started"] = now_iso()


def fill_negative(case: Any, pool: Pool, rnd: random.Random) -> bool:
    """Point the parts of a schema-violating case that are still valid at existing objects, so the
    server has to look at the violation itself (the violated part is left as generated).

    False when nothing the server sees violates the contract: the Authorization header is always
    replaced by the caller's, so a case whose only violation is in its headers is not sent."""
    meta = case.meta
    if meta is None:
        return False
    if meta.is_negative_at(ParameterLocation.HEADER):
        meta.components[ParameterLocation.HEADER] = ComponentInfo(mode=GenerationMode.POSITIVE)
    if not any(meta.is_negative_at(loc) for loc in (ParameterLocation.PATH, ParameterLocation.QUERY,
                                                     ParameterLocation.BODY)):
        return False
    label = case.operation.label
    settings = pool.settings
    if case.path_parameters and not meta.is_negative_at(ParameterLocation.PATH):
        params = case.path_parameters
        if "id" in params:
            params["id"] = pool.policy["id"]
        if "org" in params:
            params["org"] = settings.org
        if "user_id" in params:
            params["user_id"] = pool.credential_user
        if "entity_id" in params:
            params["entity_id"] = pool.credential["credential_id"]
    if isinstance(case.query, dict) and not meta.is_negative_at(ParameterLocation.QUERY):
        path = label.split(" ", 1)[1]
        query = case.query
        if "platform_key" in query:
            query["platform_key"] = settings.platform_key
        if "license_id" in query and path in ASSIGNMENT_LICENSE:
            kind = ASSIGNMENT_LICENSE[path]
            query["license_id"] = (pool.program_license if kind == "program" else pool.user_license)["id"]
        if "sort" in query:
            query["sort"] = "id"
        query.pop("platform_org", None)
        query.pop("org", None)
    return pool.names_only_free_pairs(label, case.body)  # a held pair is not moved: that could mend the violation


# ---- sending, checking, reproducing ---------------------------------------------------------

class Caller:
    """Sends generated cases to the target with one key (or none, or a wrong one)."""

    def __init__(self, settings: Settings, role: str | None, *, wire: Wire, wrong_key: str | None = None) -> None:
        self.base_url = settings.base_url
        self.timeout = settings.timeout
        self.wire = wire  # pacing, 429 retries, read-only guard, target failures: as for every other request
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "ibl-conformance (generated)"
        key = settings.keys.get(role) if role else None
        self.variable = settings.keys.variables.get(role) if role else None
        self.header: str | None = None
        scheme = settings.auth_scheme
        if key is not None:
            self.header = f"{scheme} {key.reveal()}"
        elif wrong_key is not None:
            self.header, self.variable = f"{scheme} {wrong_key}", None
        self.shown = (f"{scheme} ${self.variable}" if self.variable else
                      (f"{scheme} {wrong_key}" if wrong_key else None))

    def send(self, case: Any) -> Any:
        headers = {"Authorization": self.header} if self.header else {}
        return self.wire.guarded(case.method, case.operation.path, lambda: case.call(
            base_url=self.base_url, session=self.http, headers=headers, timeout=self.timeout))

    def curl(self, response: Any) -> str:
        """A curl command that repeats the request; the key is read from its environment variable."""
        request = response.request
        parts = ["curl", "-i", "-X", request.method, shlex.quote(request.url)]
        if self.shown:
            parts += ["-H", f'"Authorization: {self.shown}"']
        content_type = request.headers.get("Content-Type")
        if content_type:
            parts += ["-H", shlex.quote(f"Content-Type: {content_type}")]
        body = request.body
        if body is not None:
            text = body.decode("utf-8", "backslashreplace") if isinstance(body, bytes) else str(body)
            parts += ["--data-binary", shlex.quote(text)]
        return " ".join(parts)

    def close(self) -> None:
        self.http.close()


def run_checks(case: Any, response: Any, checks: list[Callable[..., Any]]) -> list[str]:
    """Schemathesis' checks; each failure as one message."""
    try:
        case.validate_response(response, checks=checks)
    except BaseException as exc:  # FailureGroup (an ExceptionGroup) or a single check failure
        inner = getattr(exc, "exceptions", None) or [exc]
        return [_first_lines(str(e)) for e in inner]
    return []


def _first_lines(text: str, limit: int = 12) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[:limit])


class _CoreRequest:
    def __init__(self, response: Any, path_pattern: str, path_parameters: dict[str, Any]) -> None:
        request = response.request
        parts = urlsplit(request.url)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.method = request.method.lower()
        self.body = request.body if isinstance(request.body, bytes) or request.body is None else \
            str(request.body).encode()
        self.content_type = str(request.headers.get("Content-Type", "application/json")).lower()
        from urllib.parse import parse_qsl
        self.parameters = RequestParameters(query=ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True)),
                                            header=Headers(dict(request.headers)), path=dict(path_parameters))
        self.path_pattern = path_pattern


class _CoreResponse:
    def __init__(self, response: Any) -> None:
        self.status_code = response.status_code
        self.data = response.content
        self.headers = Headers({k: ", ".join(v) for k, v in response.headers.items()})
        self.content_type = self.headers.get("content-type", "")


REQUEST_FIELDS = ("method", "url", "headers", "files", "data", "params", "cookies", "json")
# Bodies the contract requires the union of two documented readings for (see docs/behaviour.md): a body that
# has every field one reading requires may rightly be accepted by a server that follows that reading.
READINGS: dict[str, tuple[frozenset[str], ...]] = {
    "POST /api/credentials/orgs/{org}/users/{user_id}/": (
        frozenset({"credential_id", "credential_url", "name", "revoked"}), frozenset({"name", "issuer"})),
    "POST /api/catalog/licenses/program/create/": (
        frozenset({"program_key", "name", "count", "started"}), frozenset({"platform_key", "program_id"})),
}


def one_reading_accepts(label: str, body: Any) -> bool:
    """True when a 'negative' body still has every field that one documented reading requires."""
    readings = READINGS.get(label)
    return bool(readings) and isinstance(body, dict) and any(reading <= body.keys() for reading in readings)


@lru_cache(maxsize=1)
def _published_document() -> dict[str, Any]:
    """The contract without what it adds to the published document (conformance/properties/published.py)."""
    return without_additions(yaml.safe_load(default_contract_path().read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def published_request_spec() -> OpenAPI:
    """The contract without its additions, as openapi-core reads it: a generated request is malformed only when
    it breaks this."""
    return OpenAPI.from_dict(_published_document())


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request breaks the published document: where (query, path, header, body) and which part."""

    location: str
    name: str = ""
    required: bool = False  # a required parameter (a write's optional query parameters are list filters)


def _required_parameter(label: str, location: str, name: str) -> bool:
    document = _published_document()
    method, path = label.split(" ", 1)
    item = document["paths"][path]
    for param in [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]:
        param = resolve(document, param)
        if param.get("in") == location and param.get("name") == name:
            return bool(param.get("required"))
    return location == "path"


def request_violations(case: Any, caller: Caller) -> list[Violation]:
    """How the request as it will be sent (the caller's key included) breaks the published document: a generated
    'negative' case whose only violation was dropped on the way (a missing Authorization header the caller fills
    in), or that breaks only what the contract adds (x-conformance-added), breaks nothing and proves nothing."""
    headers = {"Authorization": caller.header} if caller.header else {}
    data = case.as_transport_kwargs(base_url=caller.base_url, headers=headers)
    prepared = requests.Request(**{k: v for k, v in data.items() if k in REQUEST_FIELDS}).prepare()
    request = _CoreRequest(SimpleNamespace(request=prepared), case.operation.path, case.path_parameters or {})
    label = case.operation.label
    found: list[Violation] = []
    for error in published_request_spec().iter_request_errors(request):
        inner = list(getattr(error, "errors", None) or [error])
        for item in inner:
            location, name = getattr(item, "location", None), getattr(item, "name", None)
            if location and name:
                found.append(Violation(str(location), str(name), _required_parameter(label, str(location), str(name))))
            elif "Body" in type(item).__name__:
                found.append(Violation("body"))
            else:
                found.append(Violation("other", type(item).__name__))
    return found


CONSTRAINTS = ("minLength", "maxLength", "pattern", "enum", "format", "minimum", "maximum", "minItems", "maxItems")


def can_be_malformed(label: str) -> bool:
    """True when the published document gives a request of this operation something to break: a body, a
    required query parameter, or a parameter with a type or constraint beyond a free-form string."""
    document = _published_document()
    method, path = label.split(" ", 1)
    item = document["paths"][path]
    operation = item[method.lower()]
    if operation.get("requestBody"):
        return True
    for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
        param = resolve(document, param)
        schema = resolve(document, param.get("schema", {}))
        if param.get("in") == "query" and param.get("required"):
            return True
        if param.get("in") in ("query", "path") and (schema.get("type", "string") != "string"
                                                     or any(k in schema for k in CONSTRAINTS)):
            return True
    return False


def violates_contract(case: Any, caller: Caller) -> bool:
    """Does the request as it will be sent break the published document (see request_violations)?"""
    return bool(request_violations(case, caller))


def acceptance_requirement(label: str, violation: Violation) -> str | None:
    """The requirement an accepted (2xx) request with this violation breaks; None where no document says it
    must be refused (a path value, an optional filter of a write, an operation no such requirement names)."""
    if violation.location == "query":
        if covers(RBAC_QUERY_ACCEPTED, label):
            return RBAC_QUERY_ACCEPTED
        if covers(QUERY_ACCEPTED, label) and (label.startswith("GET ") or violation.required):
            return QUERY_ACCEPTED
    if violation.location == "body" and covers(BODY_ACCEPTED, label):
        return BODY_ACCEPTED
    return None


def openapi_core_errors(case: Any, response: Any) -> list[str]:
    """openapi-core's verdict on the response, with the schema path of each failure."""
    return [message for _, message in openapi_core_findings(case, response)]


def openapi_core_findings(case: Any, response: Any) -> list[tuple[str, str]]:
    """openapi-core's verdict on a 2xx answer: (the requirement each failure breaks, its description)."""
    label = case.operation.label
    request = _CoreRequest(response, case.operation.path, case.path_parameters or {})
    try:
        openapi_core_spec().validate_response(request, _CoreResponse(response))
    except Exception as exc:
        cause = exc.__cause__ or exc.__context__
        errors = getattr(exc, "schema_errors", None) or getattr(cause, "schema_errors", None) or []
        if errors:
            rid = schema_requirement(label, list(getattr(errors[0], "absolute_path", []) or []),
                                     str(getattr(errors[0], "validator", "")))
        elif "MediaType" in type(exc).__name__ or "MediaType" in type(cause).__name__:
            rid = CONTENT_TYPE
        else:
            rid = schema_requirement(label, [], "")
        return [(rid, _describe_core_error(exc))]
    return []


def schema_requirement(label: str, instance_path: list[Any], keyword: str) -> str:
    """The requirement an answer that breaks its schema at `instance_path` (by `keyword`) violates: a format
    (GEN-SCHEMA-016), a policy's nested objects (GEN-SCHEMA-015), or the schema of the operation's objects."""
    if keyword == "format" and covers(FORMATS, label):
        return FORMATS
    names = [str(p) for p in instance_path]
    nested = [i for i, name in enumerate(names) if name in NESTED_POLICY_FIELDS]
    if nested and nested[0] < len(names) - 1 and covers(NESTED_POLICY_SCHEMA, label):
        return NESTED_POLICY_SCHEMA
    own = [rid for rid in ENTITY_SCHEMAS if covers(rid, label)]
    if own:
        return own[0]
    return next((rid for rid in SCHEMA_REQUIREMENTS if covers(rid, label)), DOCUMENTED_STATUS)


def check_findings(case_failures: Any, label: str, caller: Caller, response: Any) -> list[tuple[str, str]]:
    """Schemathesis' check failures of one answer, each with the requirement it breaks."""
    out: list[tuple[str, str]] = []
    for failure in case_failures:
        name = type(failure).__name__
        if name == "JsonSchemaError":
            path = list(getattr(failure, "instance_path", []) or [])
            schema_path = list(getattr(failure, "schema_path", []) or [])
            rid = schema_requirement(label, path, str(schema_path[-1]) if schema_path else "")
        elif name in ("ServerError",):
            rid = SERVER_ERROR
        elif "ContentType" in name or "MalformedMediaType" in name or "MissingContentType" in name:
            rid = CONTENT_TYPE
        elif "Status" in name:
            rid = DOCUMENTED_STATUS
        elif name in ("MalformedJson", "ContentDeserializationError"):
            rid = schema_requirement(label, [], "")
        else:
            rid = DOCUMENTED_STATUS
        out.append((rid, _first_lines(str(failure))))
    return out


def check_failures(case: Any, response: Any, checks: list[Callable[..., Any]]) -> list[Any]:
    """Schemathesis' checks: the failure objects (empty when every check held)."""
    try:
        case.validate_response(response, checks=checks)
    except BaseException as exc:  # FailureGroup (an ExceptionGroup) or a single check failure
        return list(getattr(exc, "exceptions", None) or [exc])
    return []


class Findings:
    """What the generated cases of one test showed, rule by rule: how many cases each requirement's rule judged,
    and the cases that broke it. Nothing is raised while cases are sent, so every case is judged on every rule
    (a broken rule never stops the others) and the ci profile draws the same cases whatever the target answers."""

    def __init__(self, requirements: tuple[str, ...]) -> None:
        self.requirements = requirements
        self.judged: Counter[str] = Counter()
        self.failures: dict[str, list[str]] = {}

    def judge(self, requirement: str, problem: str | None) -> None:
        """One case judged on `requirement`'s rule; `problem` when it broke it."""
        if requirement not in self.requirements:
            return
        self.judged[requirement] += 1
        if problem:
            self.failures.setdefault(requirement, []).append(problem)

    def report(self, unjudged: str) -> None:
        """One check per requirement of the test: failed with its first broken case, passed when cases were
        judged and none broke it, not verified (`unjudged`) when no case came to its rule."""
        for requirement in self.requirements:
            with check(requirement):
                broken = self.failures.get(requirement)
                if broken:
                    more = f"\n  ({len(broken) - 1} more case(s) broke it)" if len(broken) > 1 else ""
                    raise AssertionError(broken[0] + more)
                if not self.judged[requirement]:
                    not_verified(unjudged)


def _describe_core_error(exc: Exception) -> str:
    messages = [f"openapi-core: {exc.__class__.__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    errors = getattr(exc, "schema_errors", None) or getattr(cause, "schema_errors", None) or []
    for error in list(errors)[:5]:
        where = "/".join(str(p) for p in getattr(error, "absolute_path", []) or [])
        schema_path = "/".join(str(p) for p in getattr(error, "absolute_schema_path", []) or [])
        messages.append(f"  body at /{where}: {getattr(error, 'message', error)} (schema path {schema_path})")
    if not errors and cause is not None:
        messages.append(f"  {cause.__class__.__name__}: {cause}")
    return "\n    ".join(messages)


# ---- counting --------------------------------------------------------------------------------

@dataclass
class Stats:
    """What one generated test sent and got back."""

    operation: str
    kind: str
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, status: int) -> None:
        self.statuses[status] += 1

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())

    @property
    def share_2xx(self) -> float | None:
        if not self.cases:
            return None
        return round(sum(n for s, n in self.statuses.items() if 200 <= s < 300) / self.cases, 4)

    def as_json(self, generation: Generation) -> str:
        return json.dumps({"operation": self.operation, "kind": self.kind, "cases": self.cases,
                           "share_2xx": self.share_2xx, "documents_2xx": documents_2xx(self.operation),
                           "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                           "profile": generation.profile.name, "seed": generation.seed})


def reproduction(caller: Caller, response: Any, generation: Generation, nodeid: str) -> str:
    """The lines that let a vendor repeat a failing case."""
    return (f"  reproduce: {caller.curl(response)}\n"
            f"  generated with {generation.describe()}; replay the run with: "
            f"conformance run --profile {generation.profile.name} --seed {generation.seed}\n"
            f"  test: {nodeid}")


def body_excerpt(response: Any, limit: int = 600) -> str:
    text = response.content.decode("utf-8", "replace") if response.content else ""
    return text if len(text) <= limit else text[:limit] + "..."
