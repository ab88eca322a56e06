"""Filling generated cases in: identifiers pointed at the run's own objects (schema-valid and schema-violating
cases), so a case tests the operation and changes nothing the run did not create."""

from __future__ import annotations

import random
import re
from typing import Any

from schemathesis import GenerationMode

from conformance.client.objects import now_iso
from conformance.properties.contract import RBAC_PREFIX
from conformance.properties.pool import NO_SUCH_ID, Pool

ASSIGNMENT_LICENSE = {
    "/api/catalog/licenses/program/assignment/": "program",
    "/api/catalog/licenses/program/assignment/group/": "program",
    "/api/catalog/licenses/user/assignment/": "user",
}
PAGE_CAP = 2
FILTERS_TO_DROP_ON_DELETE = ("active", "fulfilled", "email", "user_id", "group_id", "page", "page_size", "sort",
                             "query", "department_mode")
# creates of objects no API call removes (roles, groups): a generated one carries the suite's name prefix
NAMED_CREATES = {"POST /api/core/rbac/roles/": ("name",), "POST /api/core/rbac/groups/": ("unique_id", "name")}
NAME_MAX = 255  # the published maxLength of those names
POLICY_WRITES = ("POST /api/core/rbac/policies/", "PUT /api/core/rbac/policies/{id}/", "PATCH /api/core/rbac/policies/{id}/")
SENT_PARTS = ("path", "query", "body")  # what a negative case may break that the server sees as generated


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
    if label in POLICY_WRITES:
        run_owned_resources(case.body, pool.ledger.run_id)


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
            query[name] = own_license(pool, path)
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


def own_license(pool: Pool, path: str) -> Any:
    """The id of the run's license an assignment operation at `path` points at."""
    return (pool.program_license if ASSIGNMENT_LICENSE[path] == "program" else pool.user_license)["id"]


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
    _fill_holder(body, path, pool, rnd, query, user)
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
        _full_credential(body, pool)


def _fill_holder(body: dict[str, Any], path: str, pool: Pool, rnd: random.Random, query: dict[str, Any],
                 user: Any) -> None:
    """The license, user or suggestion items an assignment or suggestion write names: fixtures the run may use."""
    settings, fx = pool.settings, pool.settings.fixtures
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


def _full_credential(body: dict[str, Any], pool: Pool) -> None:
    """A full body naming the path's credential: one reading refuses a partial PUT (credential-fields-required),
    another replaces the whole object; no document says a blank name or URL is accepted."""
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


def negative_parts(case: Any) -> set[str] | None:
    """Where schemathesis generated a case in negative mode ("path", "query", "header", "body", ...), from the public
    `case.meta.components`; None when the case carries no metadata."""
    meta = case.meta
    if meta is None:
        return None
    return {str(getattr(location, "value", location)) for location, info in meta.components.items()
            if info.mode == GenerationMode.NEGATIVE}


def fill_negative(case: Any, pool: Pool, rnd: random.Random) -> bool:
    """Point the parts of a schema-violating case that are still valid at existing objects, so the
    server has to look at the violation itself (the violated part is left as generated).

    False when nothing the server sees violates the contract: the Authorization header is always
    replaced by the caller's, so a case whose only violation is in its headers is not sent."""
    negative = negative_parts(case)
    if negative is None or not negative & set(SENT_PARTS):
        return False
    label = case.operation.label
    settings = pool.settings
    if case.path_parameters and "path" not in negative:
        params = case.path_parameters
        if "id" in params:
            params["id"] = pool.policy["id"]
        if "org" in params:
            params["org"] = settings.org
        if "user_id" in params:
            params["user_id"] = pool.credential_user
        if "entity_id" in params:
            params["entity_id"] = pool.credential["credential_id"]
    if isinstance(case.query, dict) and "query" not in negative:
        path = label.split(" ", 1)[1]
        query = case.query
        if "platform_key" in query:
            query["platform_key"] = settings.platform_key
        if "license_id" in query and path in ASSIGNMENT_LICENSE:
            query["license_id"] = own_license(pool, path)
        if "sort" in query:
            query["sort"] = "id"
        query.pop("platform_org", None)
        query.pop("org", None)
    point_ids_at_own_objects(case, pool)
    if label in POLICY_WRITES:
        run_owned_resources(case.body, pool.ledger.run_id)
    return True  # a held suggestion pair is not moved (that could mend the violation): before_send sets it aside


def run_owned_resources(body: Any, run_id: str) -> None:
    """The resources of a generated policy write, moved under the run's own prefix (/conformance/<run id>/...): a
    policy the run creates or changes grants its users (real ones: the fixtures) nothing on the platform's real
    resources. Items that are not strings (a schema-violating case's violation) stay as generated."""
    if not isinstance(body, dict) or not isinstance(body.get("resources"), list):
        return
    body["resources"] = [f"/conformance/{run_id}/generated/{n}-{re.sub(r'[^A-Za-z0-9_.-]', '', item)[:40]}"
                         if isinstance(item, str) else item for n, item in enumerate(body["resources"])]


def _an_id(value: Any) -> bool:
    """True for a value a server may read as an object id (an integer, or a string of digits)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())


def _same_kind(value: Any, own: int) -> Any:
    return str(own) if isinstance(value, str) else own


def point_ids_at_own_objects(case: Any, pool: Pool) -> None:
    """A schema-violating case may still be served (a server may ignore what it does not check): each identifier in
    it that a server may read as one names the run's own license, or, on a DELETE, no object at all, so even a
    served case changes nothing the run did not create. Its type is kept, so the case stays as malformed."""
    method, path = case.operation.label.split(" ", 1)
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body if isinstance(case.body, dict) else {}
    license_id = None
    if path in ASSIGNMENT_LICENSE:
        license_id = own_license(pool, path)
    elif path.endswith("/update/"):
        license_id = (pool.program_update_license if "/program/" in path else pool.user_update_license)["id"]
    for part in (query, body):
        if license_id is not None and _an_id(part.get("license_id")):
            part["license_id"] = _same_kind(part["license_id"], license_id)
    if path.endswith("/update/") and isinstance(body.get("external_id"), str):
        body["external_id"] = pool.unique("external")  # the other way to name a license: one that names none
    if method == "DELETE":
        for name in ("assignment_id", "suggestion_id"):
            if _an_id(query.get(name)):
                query[name] = _same_kind(query[name], NO_SUCH_ID)
