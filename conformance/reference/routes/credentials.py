"""Credentials of an org: envelope answers ``{"status": {...}, "result": ...}`` (bare ones under bare-shapes)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..auth import authenticate, require_admin, require_platform
from ..errors import BadRequest, Forbidden, NotFound
from ..readings import PROSE_ONLY_FIELDS, Readings, readings_of
from ..store import Store
from ..validation import MAX_PAGE_SIZE, Body, QueryParams, check_page_exists, page_bounds, page_url, read_body
from ._common import route

# the Credential fields the published document requires (credential-fields-required)
PUBLISHED_REQUIRED = ("credential_id", "credential_url", "name", "revoked")
STRING_FIELDS = ("description", "html_template", "css_template", "icon_image", "background_image",
                 "thumbnail_image", "criteria_url", "criteria_text", "issuing_signal", "course", "program",
                 "credential_type", "issuer")


def present_credential(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "credential_id": c["credential_id"],
        "credential_url": c["credential_url"],
        "name": c["name"],
        "credential_type": c["credential_type"],
        "issuer": c["issuer"],
        "issued_on": c["issued_on"],
        "expires_at": c["expires_at"],
        "revoked": c["revoked"],
        "description": c["description"],
        "course": c["course"],
        "program": c["program"],
    }


def envelope(description: str, result: Any) -> dict[str, Any]:
    return {"status": {"success": True, "description": description}, "result": result}


def shown(readings: Readings, credential: dict[str, Any]) -> dict[str, Any]:
    """The credential as answered: without its prose-only fields under no-prose-fields."""
    body = present_credential(credential)
    if readings.on("no-prose-fields"):
        for field in PROSE_ONLY_FIELDS["credential"]:
            body.pop(field, None)
    return body


def answer(request: Request, description: str, result: Any, status_code: int = 200) -> JSONResponse:
    """The envelope (the prose), or under bare-shapes the result alone (the published document)."""
    if readings_of(request).on("bare-shapes"):
        return JSONResponse(result, status_code=status_code)
    return JSONResponse(envelope(description, result), status_code=status_code)


def _org_platform(request: Request, q: QueryParams) -> dict[str, Any]:
    """The platform of the org: ``platform_org`` in the query wins over the path; unknown is 404 (403 under
    forbidden-unknown)."""
    caller = authenticate(request)
    require_admin(caller)
    store: Store = request.app.state.store
    org = q.str("platform_org") or request.path_params["org"]
    platform = store.get_platform_by_org(org)
    if platform is None:
        if store.readings.on("forbidden-unknown"):
            raise Forbidden(f"You do not have permission to access org {org!r}.")
        raise NotFound(f"No platform with org {org!r}.")
    require_platform(store, caller, platform)
    return platform


def _credential_fields(body: Body, readings: Readings, *, creating: bool) -> dict[str, Any]:
    if readings.on("credential-fields-required"):
        missing = [name for name in PUBLISHED_REQUIRED if not body.has(name)]
        if missing:
            raise BadRequest(f"Field(s) {', '.join(missing)} required.")
    fields: dict[str, Any] = {}
    if creating or body.has("name"):
        fields["name"] = body.str("name", required=creating, allow_empty=readings.on("blank-names-accepted"))
    if body.has("credential_id"):
        fields["credential_id"] = body.str("credential_id")
    if body.has("credential_url"):
        fields["credential_url"] = body.str("credential_url", allow_empty=True)
    if body.has("revoked"):
        fields["revoked"] = body.bool("revoked")
    for name in ("issued_on", "expires_at"):
        if body.has(name):
            fields[name] = body.datetime(name, nullable=True)
    for name in STRING_FIELDS:
        if body.has(name):
            fields[name] = body.str(name, nullable=True, allow_empty=True)
    return fields


def credential_list(request: Request) -> JSONResponse:
    q = QueryParams(request)
    platform = _org_platform(request, q)
    readings = readings_of(request)
    asked = q.int("page_size")
    if readings.on("page-size-cap-400") and asked is not None and asked > MAX_PAGE_SIZE:
        raise BadRequest(f"page_size may be at most {MAX_PAGE_SIZE}.")
    page, page_size = q.pagination()
    search, course, program = q.str("search"), q.str("course"), q.str("program")
    store: Store = request.app.state.store
    count, rows = store.list_credentials(platform["id"], search=search, course=course, program=program,
                                         offset=(page - 1) * page_size, limit=page_size)
    check_page_exists(request, count, page, page_size)
    data = [shown(readings, r) for r in rows]
    if readings.on("bare-shapes"):
        return JSONResponse(data)
    _, has_next, previous = page_bounds(count, page, page_size)
    return JSONResponse(envelope("Ok", {
        "next": page_url(request, page + 1) if has_next else None,
        "previous": page_url(request, previous) if previous else None,
        "count": count,
        "data": data,
        "num_pages": max(1, math.ceil(count / page_size)),
        "page_number": page,
        "max_page_size": MAX_PAGE_SIZE,
    }))


def _credential_write(request: Request, *, creating: bool) -> tuple[Store, dict[str, Any], Readings, dict[str, Any]]:
    """The store, the org's platform, the readings and the credential fields the body of a create or update sends."""
    q = QueryParams(request)
    platform = _org_platform(request, q)
    body = read_body(request)
    readings = readings_of(request)
    return request.app.state.store, platform, readings, _credential_fields(body, readings, creating=creating)


def credential_create(request: Request) -> JSONResponse:
    store, platform, readings, fields = _credential_write(request, creating=True)
    credential = store.create_credential(platform["id"], fields, lambda credential_id: url_for(request, credential_id))
    return answer(request, "Created", shown(readings, credential), 201 if readings.on("bare-shapes") else 200)


def url_for(request: Request, credential_id: str) -> str:
    """The default credential_url: the credential's own address."""
    base = str(request.base_url).rstrip("/")
    org, user_id = request.path_params["org"], request.path_params["user_id"]
    return f"{base}/api/credentials/orgs/{quote(org, safe='')}/users/{quote(user_id, safe='')}/" \
           f"{quote(credential_id, safe='')}"


def replacing(request: Request, fields: dict[str, Any]) -> dict[str, Any]:
    """credential-put-replaces: every field not sent takes its default (null; revoked false; the own URL)."""
    if "name" not in fields:
        raise BadRequest("Field 'name' is required: a PUT replaces the whole credential.")
    every = {name: None for name in (*Store.CREDENTIAL_COLUMNS, *Store.CREDENTIAL_EXTRA)}
    every.update({"revoked": False, "credential_url": url_for(request, request.path_params["entity_id"])})
    return {**every, **fields}


def credential_retrieve(request: Request) -> JSONResponse:
    q = QueryParams(request)
    platform = _org_platform(request, q)
    store: Store = request.app.state.store
    credential = store.get_credential(platform["id"], request.path_params["entity_id"])
    if credential is None:
        raise NotFound("Credential not found.")
    return answer(request, "Ok", shown(readings_of(request), credential))


def credential_update(request: Request) -> JSONResponse:
    store, platform, readings, fields = _credential_write(request, creating=False)
    fields.pop("credential_id", None)  # the entity is named by the path; its id never changes
    if readings.on("credential-put-replaces") and store.get_credential(platform["id"], request.path_params["entity_id"]):
        fields = replacing(request, fields)
    credential = store.update_credential(platform["id"], request.path_params["entity_id"], fields)
    if credential is None:
        raise NotFound("Credential not found.")
    return answer(request, "Updated", shown(readings, credential))


def credential_delete(request: Request) -> Response:
    q = QueryParams(request)
    platform = _org_platform(request, q)
    store: Store = request.app.state.store
    if not store.delete_credential(platform["id"], request.path_params["entity_id"]):
        raise NotFound("Credential not found.")
    return Response(status_code=204)


routes = [
    route("/api/credentials/orgs/{org}/users/{user_id}/", get=credential_list, post=credential_create),
    route("/api/credentials/orgs/{org}/users/{user_id}/{entity_id}", get=credential_retrieve,
          put=credential_update, delete=credential_delete),
]
