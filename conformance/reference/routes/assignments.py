"""Program license assignments (single and group) and user license assignments."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..auth import Caller, require_platform, resolve_platform_hint
from ..errors import ApiError, BadRequest, Forbidden, NotFound
from ..store import ASSIGNMENT_SORT, GROUP_ASSIGNMENT_SORT, PROGRAM_ASSIGNMENT_SORT, Store
from ..validation import Body, QueryParams, catalog_page, read_body
from ._common import Endpoint, admin_request, route

# ---------------------------------------------------------------------------- presenters

def _program_license_part(a: dict[str, Any]) -> dict[str, Any]:
    """The fields an assignment (of a user or a group) on a program license is answered with last, in this order."""
    return {
        "metadata": a["metadata"],
        "created": a["created"],
        "modified": a["modified"],
        "license_id": a["license_id"],
        "license_name": a["license_name"],
        "program_key": a["program_key"],
    }


def present_program_assignment(a: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": a["id"],
        "user_id": a["user_id"],
        "username": a["username"],
        "name": a["user_name"],
        "email": a["email"],
        "active": a["active"],
        "fulfilled": a["fulfilled"],
        "direct": a["direct"],
    }
    if a["redirect_to"] is not None:  # not nullable in the published schema: omitted when unset
        body["redirect_to"] = a["redirect_to"]
    return {**body, **_program_license_part(a)}


def present_user_assignment(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "user_id": a["user_id"],
        "username": a["username"],
        "email": a["email"],
        "active": a["active"],
        "fulfilled": a["fulfilled"],
        "redirect_to": a["redirect_to"],
        "metadata": a["metadata"],
        "license_id": a["license_id"],
        "license_name": a["license_name"],
        "platform_key": a["platform_key"],
    }


def present_group_assignment(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "group_id": a["group_id"],
        "group_name": a["group_name"],
        "active": a["active"],
        "fulfilled": a["fulfilled"],
        "redirect_to": a["redirect_to"],
        **_program_license_part(a),
        "program_name": a["program_name"],
        "user_count": a["user_count"],
        "assigned_count": a["assigned_count"],
    }


# ---------------------------------------------------------------------------- helpers

def unknown_forbidden(handler: Callable[[Request], JSONResponse]) -> Callable[[Request], JSONResponse]:
    """Under forbidden-unknown, a license, user, group or assignment the write names that does not exist (404) is
    answered 403, the refusal these operations document."""
    @functools.wraps(handler)
    def answer(request: Request) -> JSONResponse:
        try:
            return handler(request)
        except NotFound as missing:
            if request.app.state.store.readings.on("forbidden-unknown"):
                raise Forbidden(missing.detail) from missing
            raise
    return answer


def license_scope(store: Store, caller: Caller, kind: str, license_id: int, *, platform_key: str | None,
                  platform_org: str | None, missing_status: int) -> dict[str, Any]:
    """The license an assignment operation works on, after the tenant checks.

    A platform hint the caller does not administer is 403; an unknown license is
    ``missing_status`` (400 on list operations, which document no 404; 404 elsewhere); a license
    on a platform the caller does not administer is 403; a hint naming another platform than the
    license's is 400. Under foreign-not-found both 403s are 404: another platform's objects are absent.
    """
    try:
        hint = resolve_platform_hint(store, caller, platform_key=platform_key, platform_org=platform_org)
        license = store.get_license(kind, license_id)
        if license is None:
            missing = NotFound if missing_status == 404 else ApiError
            raise missing(f"No {kind} license with id {license_id}.", missing_status)
        require_platform(store, caller, {"id": license["platform_id"]})
    except Forbidden as refused:
        if store.readings.on("foreign-not-found"):
            raise NotFound(f"No {kind} license with id {license_id} on your platforms.") from refused
        raise
    if hint is not None and hint["id"] != license["platform_id"]:
        raise BadRequest(f"License {license_id} does not belong to platform '{hint['key']}'.")
    return license


def body_license_id(body: Body, q: QueryParams) -> int:
    """``license_id`` from the body and/or the query (the published document requires both)."""
    from_body = body.int("license_id")
    from_query = q.int("license_id")
    if from_body is not None and from_query is not None and from_body != from_query:
        raise BadRequest("license_id in the body and in the query differ.")
    license_id = from_body if from_body is not None else from_query
    if license_id is None:
        raise BadRequest("Field 'license_id' is required.")
    return license_id


def resolve_assignee(store: Store, platform_id: int, *, user_id: int | None, email: str | None,
                     username: str | None) -> dict[str, Any]:
    """The user named by user_id / email / username; 404 when unknown on the license's platform."""
    if user_id is None and email is None and username is None:
        raise BadRequest("One of user_id or email is required.")
    if user_id is not None:  # "If both user_id and email are provided, user_id takes precedence"
        email = username = None
    found: dict[int, dict[str, Any]] = {}
    for label, value, lookup in (("user_id", user_id, store.get_user), ("email", email, store.find_user_by_email),
                                 ("username", username, store.find_user_by_username)):
        if value is None:
            continue
        user = lookup(value)  # type: ignore[operator]
        if user is None or not store.is_platform_member(platform_id, user["id"]):
            raise NotFound(f"No user with {label}={value!r} on this platform.")
        found[user["id"]] = user
    if len(found) > 1:
        raise BadRequest("user_id, email and username name different users.")
    return next(iter(found.values()))


def assignment_fields(body: Body, *, with_direct: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "active": body.bool("active"),
        "fulfilled": body.bool("fulfilled"),
        "metadata": body.dict("metadata"),
    }
    if with_direct:
        fields["direct"] = body.bool("direct")
    if body.has("redirect_to"):
        fields["redirect_to"] = body.uri("redirect_to", nullable=True)  # answered as format uri
    return fields


def deleted(message: str, **ids: int) -> JSONResponse:
    return JSONResponse({"success": True, "message": message, **ids})


def body_license(store: Store, caller: Caller, q: QueryParams, body: Body, kind: str, license_id: int) -> dict[str, Any]:
    """The license a create names, with the platform hints of the body or else of the query."""
    return license_scope(store, caller, kind, license_id, platform_key=body.str("platform_key") or q.str("platform_key"),
                         platform_org=body.str("platform_org") or q.str("platform_org"), missing_status=404)


def assign_one_user(request: Request, kind: str) -> dict[str, Any]:
    """Create-or-update the assignment of the user the body names on a program or user license."""
    caller, store, q = admin_request(request)
    body = read_body(request)
    license_id = body_license_id(body, q)
    user_id, email, username = body.int("user_id"), body.email("email"), body.str("username")
    fields = assignment_fields(body, with_direct=kind == "program")
    license = body_license(store, caller, q, body, kind, license_id)
    if kind == "user" and user_id is None and email is None and username is None \
            and store.readings.on("missing-user-404"):
        raise ApiError("No user named: 'user_id' or 'email' names the user to assign.", 404)  # not made 403
    if user_id is None and email is None and username is not None and store.readings.on("username-refused"):
        raise BadRequest("Either user_id or email must be provided.")
    user = resolve_assignee(store, license["platform_id"], user_id=user_id, email=email, username=username)
    assign = store.assign_program_license if kind == "program" else store.assign_user_license
    return assign(license["id"], user["id"], fields)


def unassign(request: Request, kind: str, what: str, delete: Callable[[Store, int, int, QueryParams], bool],
             ignored: Callable[[QueryParams], object] = lambda q: None) -> JSONResponse:
    """DELETE of one assignment: the query's `ignored` filters are still checked; `delete(store, license id,
    assignment id, query)` is False when the license holds no such assignment (404)."""
    caller, store, q = admin_request(request)
    assignment_id = q.int("assignment_id", required=True)
    license_id = q.int("license_id", required=True)
    ignored(q)
    q.pagination()
    assert assignment_id is not None and license_id is not None
    license = license_scope(store, caller, kind, license_id, platform_key=q.str("platform_key"),
                            platform_org=q.str("platform_org"), missing_status=404)
    if not delete(store, license["id"], assignment_id, q):
        raise NotFound(f"No {what} {assignment_id} on {kind} license {license_id}.")
    return deleted(f"{what.capitalize()} deleted.", assignment_id=assignment_id, license_id=license_id)


def assignment_page(request: Request, kind: str, sort_fields: dict[str, str], fetch: Callable[..., tuple[int, list[Any]]],
                    present: Callable[[dict[str, Any]], dict[str, Any]],
                    read_filters: Callable[[QueryParams], dict[str, Any]] = lambda q: {}) -> JSONResponse:
    """One page of a license's assignments: `fetch(store, license id, filters=, sort=, offset=, limit=)` gives the
    count and the rows of the filters `read_filters` takes from the query, `present` shapes each."""
    caller, store, q = admin_request(request)
    license_id = q.int("license_id", required=True)
    page, page_size = q.pagination()
    sort = q.sort(sort_fields, "id")
    filters = read_filters(q)
    assert license_id is not None
    license = license_scope(store, caller, kind, license_id, platform_key=q.str("platform_key"),
                            platform_org=q.str("platform_org"), missing_status=400)
    count, rows = fetch(store, license["id"], filters=filters, sort=sort, offset=(page - 1) * page_size, limit=page_size)
    return JSONResponse(catalog_page(request, count, page, page_size, [present(r) for r in rows]))


# ---------------------------------------------------------------------------- a user's assignments (program or user license)

def program_assignment_filters(q: QueryParams) -> dict[str, Any]:
    return {"active": q.bool("active"), "fulfilled": q.bool("fulfilled"), "user_id": q.int("user_id"),
            "email": q.email("email")}


# the store's list and unassign methods and the presenter of a user's assignments, per kind of license
USER_ASSIGNMENTS = {"program": ("list_program_assignments", "delete_program_assignment", present_program_assignment),
                    "user": ("list_user_assignments", "delete_user_assignment", present_user_assignment)}


def user_assignment_handlers(kind: str, sort_fields: dict[str, str],
                             read_filters: Callable[[QueryParams], dict[str, Any]] = lambda q: {}) -> list[Endpoint]:
    """The list, create and delete handlers of the users' assignments on a program or user license (`kind`); the
    delete checks the list's filters too."""
    list_method, delete_method, present = USER_ASSIGNMENTS[kind]

    def assignment_list(request: Request) -> JSONResponse:
        return assignment_page(request, kind, sort_fields, getattr(Store, list_method), present, read_filters)

    def assignment_create(request: Request) -> JSONResponse:
        return JSONResponse(present(assign_one_user(request, kind)))

    def assignment_delete(request: Request) -> JSONResponse:
        return unassign(request, kind, "assignment",
                        lambda store, license_id, assignment_id, q: getattr(store, delete_method)(license_id, assignment_id),
                        ignored=read_filters)

    handlers = [assignment_list, unknown_forbidden(assignment_create), unknown_forbidden(assignment_delete)]
    for handler in handlers:
        handler.__name__ = f"{kind}_{handler.__name__}"
    return handlers


program_assignment_list, program_assignment_create, program_assignment_delete = user_assignment_handlers(
    "program", PROGRAM_ASSIGNMENT_SORT, program_assignment_filters)


# ---------------------------------------------------------------------------- group assignments

def group_assignment_filters(q: QueryParams) -> dict[str, Any]:
    return {"active": q.bool("active"), "fulfilled": q.bool("fulfilled"), "group_id": q.int("group_id")}


def group_assignment_list(request: Request) -> JSONResponse:
    return assignment_page(request, "program", GROUP_ASSIGNMENT_SORT, Store.list_group_assignments,
                           present_group_assignment, group_assignment_filters)


@unknown_forbidden
def group_assignment_create(request: Request) -> JSONResponse:
    caller, store, q = admin_request(request)
    body = read_body(request)
    license_id = body_license_id(body, q)
    group_id = body.int("group_id", required=True)
    fields = assignment_fields(body, with_direct=False)
    license = body_license(store, caller, q, body, "program", license_id)
    group = store.get_group(group_id)
    if group is None or group["platform_id"] != license["platform_id"] or store.is_hidden_group(group):
        raise NotFound(f"No group {group_id} on this platform.")
    assignment = store.assign_group(license["id"], group["id"], fields)
    return JSONResponse(present_group_assignment(assignment))


@unknown_forbidden
def group_assignment_delete(request: Request) -> JSONResponse:
    def delete(store: Store, license_id: int, assignment_id: int, q: QueryParams) -> bool:
        default = not store.readings.on("keep-members-on-group-delete")  # the published default is true
        remove_user_assignments = bool(q.bool("remove_user_assignments", default=default))
        return store.delete_group_assignment(license_id, assignment_id, remove_user_assignments)

    return unassign(request, "program", "group assignment", delete,
                    ignored=lambda q: (q.bool("remove_user_assignments", default=True), group_assignment_filters(q)))


# ---------------------------------------------------------------------------- user license assignments

user_assignment_list, user_assignment_create, user_assignment_delete = user_assignment_handlers("user", ASSIGNMENT_SORT)


routes = [
    route("/api/catalog/licenses/program/assignment/", get=program_assignment_list,
          post=program_assignment_create, delete=program_assignment_delete),
    route("/api/catalog/licenses/program/assignment/group/", get=group_assignment_list,
          post=group_assignment_create, delete=group_assignment_delete),
    route("/api/catalog/licenses/user/assignment/", get=user_assignment_list,
          post=user_assignment_create, delete=user_assignment_delete),
]
