"""RBAC policy helpers shared by the policy scenarios: creating a policy the run owns (its resources under
/conformance/<run id>/), reading it back, and comparing what an answer shows."""

from __future__ import annotations

import uuid
from typing import Any

from conformance.checks import setup, setup_refused
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.scenarios.paths import RBAC_POLICIES, rbac_policy
from conformance.verdicts import need

WRITE_ONLY = ("role_id", "platform_key", "users_to_add", "users_to_remove", "groups_to_add", "groups_to_remove")
GROUPS = "/api/core/rbac/groups/"
ROLES = "/api/core/rbac/roles/"
NO_SUCH_ID = 10_000_000  # added to the largest fixture id: an id that names no user or group


def is_uuid4(value: Any) -> bool:
    try:
        return isinstance(value, str) and uuid.UUID(value).version == 4
    except ValueError:
        return False


def policy_of(exchange: Exchange, *statuses: int, why: str) -> dict[str, Any]:
    """The policy in an answer whose status is one of `statuses`."""
    body = expect_status(exchange, *statuses, why=why).json()
    assert isinstance(body, dict), f"{exchange.operation}: a policy answer must be a JSON object\n{exchange.describe()}"
    return body


def write_only_echoed(answers: list[Exchange]) -> list[str]:
    """'METHOD /path: field' for each write-only field that a successful policy answer (or list page) shows."""
    echoed: list[str] = []
    for exchange in answers:
        if not 200 <= exchange.status < 300 or not exchange.text.strip():
            continue
        body = exchange.json()
        items = body["results"] if isinstance(body, dict) and isinstance(body.get("results"), list) else [body]
        echoed += [f"{exchange.operation}: {name}" for item in items if isinstance(item, dict)
                   for name in WRITE_ONLY if name in item]
    return echoed


def user_ids(policy: dict[str, Any]) -> set[Any]:
    return {u.get("id") for u in policy.get("users") or []}


def group_ids(policy: dict[str, Any]) -> set[Any]:
    return {g.get("id") for g in policy.get("groups") or []}


def essentials(policy: dict[str, Any]) -> dict[str, Any]:
    """What a policy is: name, resources, role, platform, users, groups (is_internal has its own requirement)."""
    return {"name": policy.get("name"), "resources": policy.get("resources"), "role": (policy.get("role") or {}).get("id"),
            "platform": (policy.get("platform") or {}).get("key"), "users": sorted(user_ids(policy), key=str),
            "groups": sorted(group_ids(policy), key=str)}


def retrieve(admin: ApiClient, policy_id: int, answers: list[Exchange] | None = None) -> dict[str, Any]:
    """The policy as GET shows it (the answer joins `answers` when given)."""
    exchange = admin.get(rbac_policy(policy_id))
    if answers is not None:
        answers.append(exchange)
    return policy_of(exchange, 200, why="retrieving an existing policy")


def resources(objects: Objects, what: str) -> list[str]:
    """Resource paths owned by this run: a policy of the suite grants nothing real."""
    return [f"/conformance/{objects.ledger.run_id}/{what}"]


def post(objects: Objects, body: dict[str, Any]) -> Exchange:
    """POST a policy; one the server created goes into the cleanup ledger."""
    exchange = objects.admin.post(RBAC_POLICIES, body)
    if exchange.status in (200, 201) and exchange.text.strip():
        created = exchange.json()
        if isinstance(created, dict) and "id" in created:
            objects.entries.append(objects.ledger.record("rbac_policy", policy_id=created["id"],
                                                         platform_key=body.get("platform_key")))
    return exchange


def made(exchange: Exchange, what: str) -> dict[str, Any]:
    """The policy a setup POST created; a refused setup ends the test as not verified."""
    setup(exchange, what, 200, 201)
    created = exchange.json()
    if not isinstance(created, dict) or "id" not in created:
        setup_refused(exchange, f"{what}: the answer names no policy id")
    return created


def new_policy(objects: Objects, settings: Settings, what: str = "creating a policy", **fields: Any) -> dict[str, Any]:
    """A policy of the platform under test on this run's resources, made as setup."""
    body = {"name": objects.name("policy"), "resources": resources(objects, "policy"),
            "role_id": need(settings.fixtures.role_ids, 1, "role_ids")[0], "platform_key": settings.platform_key,
            **fields}
    return made(post(objects, body), what)


def named(admin: ApiClient, settings: Settings, name: str) -> list[Any]:
    """IDs of the platform's policies whose name contains `name`."""
    return [p.get("id") for p in walk_pages(admin, RBAC_POLICIES, {"platform_key": settings.platform_key, "name": name})]


def gone_id(objects: Objects, settings: Settings) -> int:
    """The id of a policy that existed and was deleted: an id that names no policy."""
    policy = new_policy(objects, settings)
    setup(objects.admin.delete(rbac_policy(policy["id"]), params={"platform_key": settings.platform_key}),
          "deleting a policy", 204)
    return int(policy["id"])


def missing_ids(fixtures: Fixtures) -> tuple[int, int]:
    """A user id and a group id that name nothing: far above the target's own fixture ids."""
    return (max(need(fixtures.user_ids, 1, "user_ids")) + NO_SUCH_ID,
            max(need(fixtures.group_ids, 1, "group_ids")) + NO_SUCH_ID)
