"""Program and user licenses: list, create, update."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..auth import Caller, authenticate, require_dm_admin, require_platform, resolve_platform_hint
from ..errors import BadRequest, Forbidden, NotFound
from ..store import LICENSE_SORT, PROGRAM_LICENSE_SORT, Store
from ..validation import Body, QueryParams, catalog_page, read_body
from ._common import admin_request, route


def present_license(store: Store, license: dict[str, Any], *, verbose: bool = False) -> dict[str, Any]:
    kind = license["kind"]
    body: dict[str, Any] = {
        "id": license["id"],
        "created": license["created"],
        "started": license["started"],
        "expired": license["expired"],
        "name": license["name"],
        "count": license["count"],
        "active": license["active"],
        "metadata": license["metadata"],
        "source": license["source"],
        "external_id": license["external_id"],
        "platform_key": license["platform_key"],
    }
    if kind == "program":
        body["program_id"] = license["program_key"]
        body["program_key"] = license["program_key"]
        body["program_name"] = license["program_name"]
    body["usage_count"] = store.usage_count(kind, license["id"])
    if verbose:
        body["assignments"] = store.assignment_breakdown(kind, license["id"])
    return body


def _list_platform_ids(store: Store, caller: Caller, q: QueryParams) -> list[int] | None:
    """Platforms a license list covers: the ones named (AND), else all the caller administers."""
    named: set[int] = set()
    unknown = False
    for label, lookup in (("platform_key", store.get_platform_by_key), ("key", store.get_platform_by_key),
                          ("platform_org", store.get_platform_by_org), ("org", store.get_platform_by_org)):
        value = q.str(label)
        if value is None:
            continue
        platform = lookup(value)
        if platform is None:
            if not caller.is_dm_admin or store.readings.on("forbidden-unknown"):
                raise Forbidden(f"You do not have permission to access platform {label}={value!r}.")
            unknown = True
            continue
        require_platform(store, caller, platform)
        named.add(platform["id"])
    if unknown or len(named) > 1:
        return []
    if named:
        return sorted(named)
    return None if caller.is_dm_admin else sorted(caller.admin_platform_ids)


def _list(request: Request, kind: str) -> JSONResponse:
    caller, store, q = admin_request(request)
    page, page_size = q.pagination()
    sort = q.sort(PROGRAM_LICENSE_SORT if kind == "program" else LICENSE_SORT, "-id")
    verbose = q.bool("verbose", default=False)
    filters = {
        "name": q.str("name"),
        "source": q.str("source"),
        "external_id": q.str("external_id"),
        "active": q.bool("active"),
        "query": q.str("query"),
    }
    if kind == "program":
        filters["program_key"] = q.str("program_id")
    platform_ids = _list_platform_ids(store, caller, q)
    count, rows = store.list_licenses(kind, platform_ids=platform_ids, filters=filters, sort=sort,
                                      offset=(page - 1) * page_size, limit=page_size)
    results = [present_license(store, row, verbose=bool(verbose)) for row in rows]
    return JSONResponse(catalog_page(request, count, page, page_size, results))


def _license_fields(body: Body, *, creating: bool) -> dict[str, Any]:
    """Typed license fields present in the body (create adds defaults in the store)."""
    fields: dict[str, Any] = {}
    if body.has("name"):
        fields["name"] = body.str("name", allow_empty=True)
    if body.has("count"):
        fields["count"] = body.int("count", minimum=0)
    if body.has("started"):
        fields["started"] = body.datetime("started", nullable=creating)
    if body.has("expired"):
        fields["expired"] = body.datetime("expired", nullable=True)
    if body.has("active"):
        fields["active"] = body.bool("active")
    if body.has("metadata"):
        fields["metadata"] = body.dict("metadata")
    if body.has("enrollment_config"):
        fields["enrollment_config"] = body.dict("enrollment_config")
    if body.has("source"):
        fields["source"] = body.str("source", allow_empty=True)
    return fields


# what the published ProgramLicenseCreateDetail requires besides the platform and program (license-fields-required)
PUBLISHED_REQUIRED = ("name", "count", "started")


def _create(request: Request, kind: str) -> JSONResponse:
    caller = authenticate(request)
    require_dm_admin(caller)
    store: Store = request.app.state.store
    body = read_body(request)
    if kind == "program" and store.readings.on("license-fields-required"):
        missing = [name for name in PUBLISHED_REQUIRED if body.raw(name) is None]
        if missing:
            raise BadRequest(f"Field(s) {', '.join(missing)} required.")
    fields = _license_fields(body, creating=True)
    if body.has("external_id"):
        fields["external_id"] = body.str("external_id", nullable=True)
    transaction_id = body.str("transaction_id", nullable=True, allow_empty=True)
    change_type = body.str("change_type", default="create")
    platform_key = body.str("platform_key")
    platform_org = body.str("platform_org")
    platform_id = body.int("platform_id")
    program_key = body.str("program_key") if kind == "program" else None
    program_id = body.str("program_id") if kind == "program" else None
    platform = resolve_platform_hint(store, caller, platform_key=platform_key, platform_org=platform_org,
                                     platform_id=platform_id, unknown_status=400)
    if platform is None:
        raise BadRequest("One of platform_key, platform_org or platform_id is required.")
    key = None
    if kind == "program":
        if program_key is not None and program_id is not None and program_key != program_id:
            raise BadRequest("program_key and program_id name different programs.")
        key = program_key or program_id
        if key is None:
            raise BadRequest("Field 'program_key' (or 'program_id') is required.")
        if store.program_on_platform(platform["id"], key) is None:
            unknown = Forbidden if store.readings.on("forbidden-unknown") else BadRequest
            raise unknown(f"No program '{key}' on platform '{platform['key']}'.")
    license = store.create_license(kind, platform["id"], fields, program_key=key, change_type=change_type,
                                   transaction_id=transaction_id)
    return JSONResponse(present_license(store, license))


def _update(request: Request, kind: str) -> JSONResponse:
    caller = authenticate(request)
    require_dm_admin(caller)
    store: Store = request.app.state.store
    body = read_body(request, required=False)
    license_id = body.int("license_id")
    external_id = body.str("external_id")
    changes = _license_fields(body, creating=False)
    transaction_id = body.str("transaction_id", nullable=True, allow_empty=True)
    change_type = body.str("change_type", default="update")
    named = {name: body.str(name, allow_empty=True) for name in ("platform_key", "platform_org", "program_id",
                                                                 "program_key")}
    named["platform_id"] = body.int("platform_id")  # type-checked, never applied: platform/program are immutable
    if license_id is None and external_id is None:
        raise BadRequest("One of license_id or external_id is required.")
    missing = Forbidden if store.readings.on("forbidden-unknown") else NotFound  # the operation documents 403
    if license_id is not None:
        license = store.get_license(kind, license_id)
        if license is None or (external_id is not None and license["external_id"] != external_id):
            raise missing(f"No {kind} license with license_id={license_id}"
                          + (f" and external_id={external_id!r}." if external_id is not None else "."))
    else:
        assert external_id is not None
        license = store.find_license_by_external_id(kind, external_id)
        if license is None:
            raise missing(f"No {kind} license with external_id={external_id!r}.")
    if store.readings.on("forbidden-unknown"):
        refuse_unknown_platforms(store, named)
    if store.readings.on("immutable-fields-refused"):
        refuse_moves(store, license, named)
    updated = store.update_license(kind, license["id"], changes, change_type=change_type,
                                   transaction_id=transaction_id)
    return JSONResponse(present_license(store, updated))


def refuse_unknown_platforms(store: Store, named: dict[str, Any]) -> None:
    """forbidden-unknown: an update naming a platform that does not exist is 403."""
    for label, lookup in (("platform_key", store.get_platform_by_key), ("platform_org", store.get_platform_by_org),
                          ("platform_id", store.get_platform)):
        if named[label] is not None and lookup(named[label]) is None:
            raise Forbidden(f"You do not have permission to access platform {label}={named[label]!r}.")


def refuse_moves(store: Store, license: dict[str, Any], named: dict[str, Any]) -> None:
    """immutable-fields-refused: an update naming another platform or program than the license's is 400."""
    platform = store.get_platform(license["platform_id"])
    assert platform is not None
    own = {"platform_key": platform["key"], "platform_org": platform["org"], "platform_id": platform["id"],
           "program_id": license.get("program_key"), "program_key": license.get("program_key")}
    moved = [name for name, value in named.items() if value is not None and value != own[name]]
    if moved:
        raise BadRequest(f"A license's platform and program cannot be changed ({', '.join(moved)}).")


def program_license_list(request: Request) -> JSONResponse:
    return _list(request, "program")


def program_license_create(request: Request) -> JSONResponse:
    return _create(request, "program")


def program_license_update(request: Request) -> JSONResponse:
    return _update(request, "program")


def user_license_list(request: Request) -> JSONResponse:
    return _list(request, "user")


def user_license_create(request: Request) -> JSONResponse:
    return _create(request, "user")


def user_license_update(request: Request) -> JSONResponse:
    return _update(request, "user")


routes = [
    route("/api/catalog/licenses/program/", get=program_license_list),
    route("/api/catalog/licenses/program/create/", post=program_license_create),
    route("/api/catalog/licenses/program/update/", post=program_license_update),
    route("/api/catalog/licenses/user/", get=user_license_list),
    route("/api/catalog/licenses/user/create/", post=user_license_create),
    route("/api/catalog/licenses/user/update/", post=user_license_update),
]
