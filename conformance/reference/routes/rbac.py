"""RBAC policies (CRUD), roles and groups (lists and create). DRF-style pages ``count, next, previous, results``.

Internal policies are invisible: absent from lists, 404 to retrieve / PUT / PATCH / DELETE for
every caller. A platform admin sees only its own platform's objects: another platform's policy is
404, like a missing one.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..auth import Caller, authenticate, require_admin, resolve_platform_hint
from ..errors import BadRequest, Forbidden, NotFound
from ..readings import SWITCH_NAMES
from ..store import Store
from ..validation import INT_MAX, Body, QueryParams, drf_page, page_window, read_body
from ._common import admin_request, route

MEMBERSHIP_FIELDS = ("users_to_add", "users_to_remove", "groups_to_add", "groups_to_remove")
NAME_MAX = 255  # the published maxLength of a role name and of a group's unique_id and name
# the reading that refuses a read-only is_internal sent on a role or group create (400) instead of ignoring it; a
# switch of readings.py once it is registered there
INTERNAL_FLAG_REFUSED = "internal-flag-refused"


def present_platform(store: Store, platform_id: int) -> dict[str, Any]:
    platform = store.get_platform(platform_id)
    assert platform is not None
    return {"id": platform["id"], "key": platform["key"], "name": platform["name"]}


def present_policy(store: Store, policy: dict[str, Any], *, include_users: bool = True,
                   include_groups: bool = True) -> dict[str, Any]:
    role = store.get_role(policy["role_id"])
    assert role is not None
    return {
        "id": policy["id"],
        "name": policy["name"],
        "role": {"id": role["id"], "name": role["name"], "actions": role["actions"],
                 "data_actions": role["data_actions"]},
        "platform": present_platform(store, policy["platform_id"]),
        "resources": policy["resources"],
        "users": store.policy_users(policy["id"]) if include_users else [],
        "groups": store.policy_groups(policy["id"]) if include_groups else [],
        "is_internal": policy["is_internal"],
    }


def present_role(store: Store, role: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": role["id"],
        "name": role["name"],
        "platform": present_platform(store, role["platform_id"]),
        "actions": role["actions"],
        "data_actions": role["data_actions"],
        "is_internal": role["is_internal"],
    }


def present_group(store: Store, group: dict[str, Any], *, include_users: bool = True) -> dict[str, Any]:
    owner = store.get_user(group["owner_id"]) if group["owner_id"] is not None else None
    return {
        "id": group["id"],
        "unique_id": group["unique_id"],
        "platform": present_platform(store, group["platform_id"]),
        "name": group["name"],
        "description": group["description"],
        "owner": ({"id": owner["id"], "username": owner["username"], "email": owner["email"]}
                  if owner else {"id": 0, "username": None, "email": None}),
        "users": store.group_users(group["id"]) if include_users else [],
        "is_internal": bool(group["is_internal"]),
    }


def _list_scope(store: Store, caller: Caller, platform_key: str | None) -> list[int] | None:
    """Platforms an RBAC list covers: the one named, else all the caller administers.

    Under foreign-list-filtered a platform the caller does not administer gives an empty list instead of 403;
    under platform-key-required a caller other than the DM admin must name its platform (403 otherwise).
    """
    if platform_key is not None:
        platform = store.get_platform_by_key(platform_key)
        if platform is None and caller.is_dm_admin:
            return []
        if platform is None or not store.can_administer(caller, platform["id"]):
            if store.readings.on("foreign-list-filtered"):
                return []
            raise Forbidden(f"You do not have permission to access platform {platform_key!r}.")
        return [platform["id"]]
    if caller.is_dm_admin:
        return None
    if store.readings.on("platform-key-required"):
        raise Forbidden("platform_key is required.")
    return sorted(caller.admin_platform_ids)


def _without_excluded(store: Store, item: dict[str, Any], **included: bool | None) -> dict[str, Any]:
    """Under omit-excluded-members, the fields include_users / include_groups=false exclude are left out."""
    if store.readings.on("omit-excluded-members"):
        for field, include in included.items():
            if include is False:
                item.pop(field, None)
    return item


def _policy_for(request: Request, caller: Caller) -> dict[str, Any]:
    """The visible policy named by the path, on a platform the caller administers; else 404.

    Under forbidden-unknown another platform's policy, and a write on an internal one, are 403.
    """
    store: Store = request.app.state.store
    raw = request.path_params["id"]
    if not re.fullmatch(r"[0-9]{1,19}", raw) or int(raw) > INT_MAX:
        raise NotFound("Policy not found.")
    forbidden_unknown = store.readings.on("forbidden-unknown")
    policy = store.get_visible_policy(int(raw))
    if policy is None:
        hidden = store.get_policy(int(raw))
        if forbidden_unknown and hidden is not None and request.method not in ("GET", "HEAD"):
            raise Forbidden("Internal policies cannot be modified.")
        raise NotFound("Policy not found.")
    if not store.can_administer(caller, policy["platform_id"]):
        if forbidden_unknown:
            raise Forbidden("You do not have permission to access this policy.")
        raise NotFound("Policy not found.")
    return policy


def _same_platform(store: Store, policy: dict[str, Any], platform_key: str | None) -> None:
    """A platform_key sent with a policy write must be the policy's platform (404, or 403 under forbidden-unknown)."""
    if platform_key is None:
        return
    platform = store.get_platform_by_key(platform_key)
    if platform is None or platform["id"] != policy["platform_id"]:
        if store.readings.on("forbidden-unknown"):
            raise Forbidden(f"You do not have permission to change this policy through platform {platform_key!r}.")
        raise NotFound(f"Policy not found on platform {platform_key!r}.")


def _name(store: Store, body: Body) -> str | None:
    """The policy name sent; blank is 400 unless blank-names-accepted (the published schema has no minLength)."""
    return body.str("name", max_length=255, allow_empty=store.readings.on("blank-names-accepted"))


def _membership(body: Body) -> dict[str, list[int]]:
    return {name: body.int_list(name, default=[]) for name in MEMBERSHIP_FIELDS}


def _membership_kwargs(m: dict[str, list[int]]) -> dict[str, list[int]]:
    return {"users_add": m["users_to_add"], "users_remove": m["users_to_remove"],
            "groups_add": m["groups_to_add"], "groups_remove": m["groups_to_remove"]}


# ---------------------------------------------------------------------------- policies

def _policy_request(request: Request, *, query_checked: bool = False) -> tuple[Store, dict[str, Any]]:
    """The store and the policy the path names, for an admin caller (401/403 first); with `query_checked` a
    malformed query string is refused (400) before the policy is looked up."""
    caller = authenticate(request)
    require_admin(caller)
    if query_checked:
        QueryParams(request)
    return request.app.state.store, _policy_for(request, caller)


def _policy_updated(store: Store, policy: dict[str, Any], body: Body, platform_key: str | None,
                    changes: dict[str, Any]) -> JSONResponse:
    """The answer to a policy update: `changes` and the membership the body names, applied once the platform
    the body names is the policy's."""
    membership = _membership(body)
    _same_platform(store, policy, platform_key)
    updated = store.update_policy(policy["id"], changes, **_membership_kwargs(membership))
    return JSONResponse(present_policy(store, updated))


def policy_list(request: Request) -> JSONResponse:
    caller, store, q = admin_request(request)
    page, page_size = q.pagination()
    filters = {"role_id": q.int("role_id"), "name": q.str("name"), "username": q.str("username"),
               "email": q.str("email"), "group": q.str("group")}
    include_users = q.bool("include_users", default=True)
    include_groups = q.bool("include_groups", default=True)
    platform_ids = _list_scope(store, caller, q.str("platform_key"))
    offset, limit = page_window(page, page_size)
    count, rows = store.visible_policies(platform_ids=platform_ids, filters=filters, offset=offset, limit=limit)
    results = [_without_excluded(store, present_policy(store, p, include_users=bool(include_users),
                                                       include_groups=bool(include_groups)),
                                 users=include_users, groups=include_groups)
               for p in rows]
    return JSONResponse(drf_page(request, count, page, page_size, results))


def policy_create(request: Request) -> JSONResponse:
    caller = authenticate(request)
    require_admin(caller)
    store: Store = request.app.state.store
    body = read_body(request)
    platform_key = body.str("platform_key", required=True)
    role_id = body.int("role_id", required=True)
    resources = body.str_list("resources", required=True)
    name = _name(store, body)
    membership = _membership(body)
    platform = resolve_platform_hint(store, caller, platform_key=platform_key)
    assert platform is not None
    policy = store.create_policy(platform["id"], role_id, name, resources, **_membership_kwargs(membership))
    return JSONResponse(present_policy(store, policy), status_code=201)


def policy_retrieve(request: Request) -> JSONResponse:
    store, policy = _policy_request(request, query_checked=True)
    return JSONResponse(present_policy(store, policy))


def policy_update(request: Request) -> JSONResponse:
    store, policy = _policy_request(request)
    body = read_body(request)
    resources = body.str_list("resources", required=True)
    role_id = body.int("role_id", required=True)
    platform_key = body.str("platform_key", required=True)
    name = _name(store, body)
    changes = {"name": name, "resources": resources, "role_id": role_id}  # name None: a new UUID4
    if name is None and store.readings.on("put-keeps-name"):
        del changes["name"]
    return _policy_updated(store, policy, body, platform_key, changes)


def policy_partial_update(request: Request) -> JSONResponse:
    store, policy = _policy_request(request)
    body = read_body(request, required=False)
    changes: dict[str, Any] = {}
    if body.has("name"):
        changes["name"] = _name(store, body)
    if body.has("resources"):
        changes["resources"] = body.str_list("resources")
    if body.has("role_id"):
        changes["role_id"] = body.int("role_id")
    return _policy_updated(store, policy, body, body.str("platform_key"), changes)


def policy_delete(request: Request) -> Response:
    caller, store, q = admin_request(request)
    platform_key = q.str("platform_key")
    if platform_key is None:
        raise BadRequest("Query parameter 'platform_key' is required.")
    policy = _policy_for(request, caller)
    _same_platform(store, policy, platform_key)
    if not store.delete_policy(policy["id"]):
        raise NotFound("Policy not found.")
    return Response(status_code=204)


# ---------------------------------------------------------------------------- roles and groups

def role_list(request: Request) -> JSONResponse:
    caller, store, q = admin_request(request)
    page, page_size = q.pagination()
    name = q.str("name")
    platform_ids = _list_scope(store, caller, q.str("platform_key"))
    offset, limit = page_window(page, page_size)
    count, rows = store.list_roles(platform_ids=platform_ids, name=name, offset=offset, limit=limit)
    return JSONResponse(drf_page(request, count, page, page_size, [present_role(store, r) for r in rows]))


def group_list(request: Request) -> JSONResponse:
    caller, store, q = admin_request(request)
    page, page_size = q.pagination()
    filters = {"name": q.str("name"), "owner": q.str("owner"), "username": q.str("username"),
               "email": q.str("email")}
    include_users = q.bool("include_users", default=True)
    platform_ids = _list_scope(store, caller, q.str("platform_key"))
    offset, limit = page_window(page, page_size)
    count, rows = store.list_groups(platform_ids=platform_ids, filters=filters, offset=offset, limit=limit)
    results = [_without_excluded(store, present_group(store, g, include_users=bool(include_users)), users=include_users)
               for g in rows]
    return JSONResponse(drf_page(request, count, page, page_size, results))


def _refuse_internal_flag(store: Store, body: Body) -> None:
    """is_internal is read-only: ignored (Django REST framework's rule), or 400 under internal-flag-refused."""
    if body.has("is_internal") and INTERNAL_FLAG_REFUSED in SWITCH_NAMES and store.readings.on(INTERNAL_FLAG_REFUSED):
        raise BadRequest("Field 'is_internal' is read-only.")


def _role_fields(store: Store, body: Body) -> dict[str, Any]:
    """name (required, at most 255 characters), actions and data_actions (lists of strings, default empty)."""
    return {"name": body.str("name", required=True, max_length=NAME_MAX,
                             allow_empty=store.readings.on("blank-names-accepted")),
            "actions": body.str_list("actions", default=[]),
            "data_actions": body.str_list("data_actions", default=[])}


def _group_fields(store: Store, body: Body) -> dict[str, Any]:
    """unique_id (required), the optional name (both at most 255 characters) and description."""
    return {"unique_id": body.str("unique_id", required=True, max_length=NAME_MAX,
                                  allow_empty=store.readings.on("blank-names-accepted")),
            "name": body.str("name", max_length=NAME_MAX, allow_empty=True, default=""),
            "description": body.str("description", allow_empty=True, default="")}


def _platform_to_create_on(store: Store, caller: Caller, body: Body) -> dict[str, Any]:
    """The platform named by the required platform_key, which the caller administers (403 otherwise)."""
    platform = resolve_platform_hint(store, caller, platform_key=body.str("platform_key", required=True))
    assert platform is not None
    return platform


def _create_request(request: Request) -> tuple[Caller, Store, Body]:
    """The caller (an admin, or 401/403), the store and the JSON body of a role or group create."""
    caller = authenticate(request)
    require_admin(caller)
    return caller, request.app.state.store, read_body(request)


def role_create(request: Request) -> JSONResponse:
    caller, store, body = _create_request(request)
    fields = _role_fields(store, body)
    _refuse_internal_flag(store, body)
    platform = _platform_to_create_on(store, caller, body)
    role = store.create_role(platform["id"], **fields)
    return JSONResponse(present_role(store, role), status_code=201)


def group_create(request: Request) -> JSONResponse:
    caller, store, body = _create_request(request)
    fields = _group_fields(store, body)
    users_add = body.int_list("users_to_add", default=[])
    users_remove = body.int_list("users_to_remove", default=[])
    _refuse_internal_flag(store, body)
    platform = _platform_to_create_on(store, caller, body)
    group = store.create_group(platform["id"], fields, caller.user_id, users_add, users_remove)
    return JSONResponse(present_group(store, group), status_code=201)


routes = [
    route("/api/core/rbac/policies/", get=policy_list, post=policy_create),
    route("/api/core/rbac/policies/{id}/", get=policy_retrieve, put=policy_update, patch=policy_partial_update,
          delete=policy_delete),
    route("/api/core/rbac/roles/", get=role_list, post=role_create),
    route("/api/core/rbac/groups/", get=group_list, post=group_create),
]
