"""Program suggestions: single (per user), bulk, and group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..auth import Caller, authenticate, require_admin, require_platform, resolve_platform_hint
from ..errors import ApiError, BadRequest, Forbidden, NotFound
from ..store import GROUP_SUGGESTION_SORT, SUGGESTION_SORT, Store, parse_user_id
from ..validation import Body, catalog_page, read_body
from ._common import admin_request, route


def _present(s: dict[str, Any], recipient: dict[str, Any], tail: dict[str, Any]) -> dict[str, Any]:
    """A suggestion's body: its id, whom it suggests to (`recipient`), the fields every suggestion has, `tail`."""
    return {
        "id": s["id"],
        **recipient,
        "platform_key": s["platform_key"],
        "accepted": s["accepted"],
        "visible": s["visible"],
        "created": s["created"],
        "modified": s["modified"],
        "metadata": s["metadata"],
        "program_key": s["program_key"],
        "program_name": s["program_name"],
        **tail,
    }


def present_suggestion(s: dict[str, Any]) -> dict[str, Any]:
    return _present(s, {"user_id": s["user_id"], "username": s["username"], "name": s["user_name"]}, {})


def present_group_suggestion(s: dict[str, Any]) -> dict[str, Any]:
    return _present(s, {"group_id": s["group_id"], "group_name": s["group_name"]}, {"user_count": s["user_count"]})


def _pick(label: str, from_body: str | None, from_query: str | None) -> str | None:
    if from_body is not None and from_query is not None and from_body != from_query:
        raise BadRequest(f"{label} in the body and in the query differ.")
    return from_body if from_body is not None else from_query


def required_platform(store: Store, caller: Caller, platform_key: str | None,
                      platform_org: str | None) -> dict[str, Any]:
    platform = resolve_platform_hint(store, caller, platform_key=platform_key, platform_org=platform_org)
    if platform is None:
        raise BadRequest("Parameter 'platform_key' is required.")
    return platform


def _program(store: Store, platform: dict[str, Any], program_key: str) -> dict[str, Any]:
    program = store.program_on_platform(platform["id"], program_key)
    if program is None:
        raise BadRequest(f"No program '{program_key}' on platform '{platform['key']}'.")
    return program


@dataclass
class SuggestionWrite:
    """A suggestion create: its caller, store and body, the platform hints (of the body, else the query), the program."""

    caller: Caller
    store: Store
    body: Body
    platform_key: str | None
    platform_org: str | None
    program_key: str

    @classmethod
    def read(cls, request: Request) -> SuggestionWrite:
        caller, store, q = admin_request(request)
        body = read_body(request)
        return cls(caller, store, body, _pick("platform_key", body.str("platform_key"), q.str("platform_key")),
                   _pick("platform_org", body.str("platform_org"), q.str("platform_org")),
                   body.str("program_key", required=True) or "")

    def platform(self) -> dict[str, Any]:
        """The platform the hints name (400 without one), once the program is known to be one of its programs."""
        platform = required_platform(self.store, self.caller, self.platform_key, self.platform_org)
        _program(self.store, platform, self.program_key)
        return platform


def foreign_suggestion(store: Store, detail: str) -> ApiError:
    """Another platform's suggestion: absent (404), or forbidden (403) under forbidden-unknown."""
    return Forbidden(detail) if store.readings.on("forbidden-unknown") else NotFound(detail)


def _suggestion_flags(body: Body) -> dict[str, Any]:
    return {
        "accepted": body.bool("accepted"),
        "visible": body.bool("visible"),
        "metadata": body.dict("metadata"),
    }


# ---------------------------------------------------------------------------- single

def suggestion_page(request: Request, sort_fields: Any, default_sort: str,
                    fetch: Callable[..., tuple[int, list[dict[str, Any]]]],
                    present: Callable[[dict[str, Any]], dict[str, Any]]) -> JSONResponse:
    """One page of a platform's (single or group) suggestions: `fetch(store, platform id, query=, sort=, offset=,
    limit=)` gives the count and the rows, `present` shapes each."""
    caller, store, q = admin_request(request)
    page, page_size = q.pagination()
    sort = q.sort(sort_fields, default_sort)
    query = q.str("query")
    q.bool("department_mode")
    platform = required_platform(store, caller, q.str("platform_key"), q.str("platform_org"))
    count, rows = fetch(store, platform["id"], query=query, sort=sort, offset=(page - 1) * page_size, limit=page_size)
    return JSONResponse(catalog_page(request, count, page, page_size, [present(r) for r in rows]))


def suggestion_list(request: Request) -> JSONResponse:
    return suggestion_page(request, SUGGESTION_SORT, "-id", Store.list_program_suggestions, present_suggestion)


def suggestion_create(request: Request) -> JSONResponse:
    write = SuggestionWrite.read(request)
    store, body = write.store, write.body
    raw_user_id = body.raw("user_id")
    username = body.str("username")
    email = body.email("email")
    suggested_by = body.str("suggested_by", allow_empty=True)
    fields = {**_suggestion_flags(body), "direct": body.bool("direct"), "suggested_by": suggested_by}
    body.bool("department_mode")
    user_id = None
    if raw_user_id is not None:
        user_id = parse_user_id(raw_user_id)
        if user_id is None:
            raise BadRequest("Field 'user_id' must be an integer (or a string of digits).")
    elif username is None and email is None:
        raise BadRequest("Field 'user_id' is required.")
    platform = write.platform()
    user = None
    for label, value, lookup in (("user_id", user_id, store.get_user), ("username", username, store.find_user_by_username),
                                 ("email", email, store.find_user_by_email)):
        if value is None:
            continue
        found = lookup(value)  # type: ignore[operator]
        if found is None or not store.is_platform_member(platform["id"], found["id"]):
            raise BadRequest(f"No user with {label}={value!r} on platform '{platform['key']}'.")
        if user is not None and user["id"] != found["id"]:
            raise BadRequest("user_id, username and email name different users.")
        user = found
    assert user is not None
    suggestion = store.upsert_program_suggestion(platform["id"], write.program_key, user["id"], fields)
    return JSONResponse(present_suggestion(suggestion))


def suggestion_delete(request: Request) -> JSONResponse:
    caller, store, q = admin_request(request)
    suggestion_id = q.int("suggestion_id", required=True)
    q.pagination(), q.bool("department_mode"), q.str("query"), q.str("sort")
    assert suggestion_id is not None
    hint = resolve_platform_hint(store, caller, platform_key=q.str("platform_key"), platform_org=q.str("platform_org"))
    suggestion = store.get_program_suggestion(suggestion_id)
    if suggestion is None:
        raise NotFound(f"No suggestion {suggestion_id} on this platform.")
    if hint is not None and suggestion["platform_id"] != hint["id"]:
        raise foreign_suggestion(store, f"No suggestion {suggestion_id} on this platform.")
    require_platform(store, caller, {"id": suggestion["platform_id"]})
    store.delete_program_suggestion(suggestion_id)
    return JSONResponse({"success": True, "message": "Suggestion deleted.", "suggestion_id": suggestion_id})


# ---------------------------------------------------------------------------- bulk

def suggestion_bulk(request: Request) -> JSONResponse:
    caller = authenticate(request)
    require_admin(caller)
    store: Store = request.app.state.store
    body = read_body(request)
    platform_key = body.str("platform_key")
    platform_org = body.str("platform_org")
    body.bool("department_mode")
    items = body.raw("suggestion_data")
    if items is None:
        raise BadRequest("Field 'suggestion_data' is required.")
    if not isinstance(items, list):
        raise BadRequest("Field 'suggestion_data' must be a list of objects.")
    if store.readings.on("bulk-items-strict") and not all(isinstance(item, dict) for item in items):
        raise BadRequest("Every item of 'suggestion_data' must be an object.")
    platform = required_platform(store, caller, platform_key, platform_org)
    successes, error_codes = store.bulk_upsert_program_suggestions(platform["id"], items)
    return JSONResponse({"successes": successes, "error_codes": error_codes})


# ---------------------------------------------------------------------------- group

def group_suggestion_list(request: Request) -> JSONResponse:
    return suggestion_page(request, GROUP_SUGGESTION_SORT, "id", Store.list_group_suggestions, present_group_suggestion)


def group_suggestion_create(request: Request) -> JSONResponse:
    write = SuggestionWrite.read(request)
    store, body = write.store, write.body
    raw_group_id = body.raw("group_id")
    if raw_group_id is None:
        raise BadRequest("Field 'group_id' is required.")
    group_id = parse_user_id(raw_group_id)
    if group_id is None:
        raise BadRequest("Field 'group_id' must be an integer.")
    fields = _suggestion_flags(body)
    body.bool("department_mode")
    platform = write.platform()
    group = store.get_group(group_id)
    if group is None or group["platform_id"] != platform["id"] or store.is_hidden_group(group):
        raise BadRequest(f"No group {group_id} on platform '{platform['key']}'.")
    suggestion = store.upsert_group_suggestion(platform["id"], write.program_key, group_id, fields)
    return JSONResponse(present_group_suggestion(suggestion))


def group_suggestion_delete(request: Request) -> JSONResponse:
    caller, store, q = admin_request(request)
    suggestion_id = q.int("suggestion_id", required=True)
    q.pagination(), q.bool("department_mode"), q.str("query"), q.str("sort")
    assert suggestion_id is not None
    platform = required_platform(store, caller, q.str("platform_key"), q.str("platform_org"))
    suggestion = store.get_group_suggestion(suggestion_id)
    if suggestion is None:
        raise NotFound(f"No group suggestion {suggestion_id} on platform '{platform['key']}'.")
    if suggestion["platform_id"] != platform["id"]:
        raise foreign_suggestion(store, f"No group suggestion {suggestion_id} on platform '{platform['key']}'.")
    store.delete_group_suggestion(suggestion_id)
    return JSONResponse({"success": True, "message": "Group suggestion deleted.", "suggestion_id": suggestion_id})


routes = [
    route("/api/catalog/suggestions/program/manage/", get=suggestion_list, post=suggestion_create,
          delete=suggestion_delete),
    route("/api/catalog/suggestions/program/manage/bulk/", post=suggestion_bulk),
    route("/api/catalog/suggestions/program/manage/group/", get=group_suggestion_list, post=group_suggestion_create,
          delete=group_suggestion_delete),
]
