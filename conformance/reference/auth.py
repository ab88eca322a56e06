"""Caller resolution and the access table.

``Authorization: Api-Token <key>`` (or ``Api-Key <key>``, the published document's example). No
header, another scheme or an unknown key is 401. The five keys of :class:`ReferenceKeys` map to
the five kinds of caller (see :mod:`.fixtures`). Keys live only in memory: never in the store,
the logs or a response. A department admin administers its department's platform only in a
suggestion request with ``department_mode`` true (IsDepartmentModeAdminInPlatform); otherwise it is
a plain user.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from . import fixtures
from .errors import ApiError, BadRequest, Forbidden, NotFound, Unauthorized
from .validation import read_body

if TYPE_CHECKING:
    from .store import Store

SCHEMES = ("api-token", "api-key")
RBAC_PATH = "/api/core/rbac/"
SUGGESTIONS_PATH = "/api/catalog/suggestions/"  # the operations IsDepartmentModeAdminInPlatform opens
TRUE_TEXT = {"true", "1", "yes", "on"}


def _new_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ReferenceKeys:
    """The five API keys the reference accepts (the department admin's is made when not given). ``repr`` never
    shows them."""

    dm_admin: str = field(repr=False)
    platform_admin: str = field(repr=False)
    other_platform_admin: str = field(repr=False)
    learner: str = field(repr=False)
    department_admin: str = field(default_factory=_new_key, repr=False)

    @classmethod
    def generate(cls) -> ReferenceKeys:
        return cls(**{f.name: _new_key() for f in fields(cls)})

    def __repr__(self) -> str:
        return ("ReferenceKeys(dm_admin=***, platform_admin=***, other_platform_admin=***, learner=***, "
                "department_admin=***)")

    __str__ = __repr__

    def as_mapping(self) -> dict[str, str]:
        """Role name -> key (for the CLI / tests; do not log it)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Caller:
    role: str  # dm_admin | platform_admin | other_platform_admin | learner | department_admin
    user_id: int
    is_dm_admin: bool
    admin_platform_ids: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return self.is_dm_admin or bool(self.admin_platform_ids)


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() not in SCHEMES:
        return None
    key = key.strip()
    return key or None


def _refused(request: Request, detail: str) -> ApiError:
    """401, or 403 on RBAC under rbac-unauth-403 (the only refusal the RBAC operations document)."""
    store: Store = request.app.state.store
    if store.readings.on("rbac-unauth-403") and request.url.path.startswith(RBAC_PATH):
        return Forbidden(detail)
    return Unauthorized(detail)


def authenticate(request: Request) -> Caller:
    """Resolve the caller from the Authorization header, or raise 401."""
    key = _presented_key(request)
    if key is None:
        raise _refused(request, "Authentication credentials were not provided or use an unsupported scheme.")
    keys: ReferenceKeys = request.app.state.keys
    store: Store = request.app.state.store
    role = None
    presented = key.encode("utf-8", "surrogatepass")
    for name, expected in keys.as_mapping().items():
        if secrets.compare_digest(presented, expected.encode("utf-8")):
            role = name
    if role is None:
        raise _refused(request, "Invalid API key.")
    user_id = fixtures.KEY_USERS[role]
    user = store.get_user(user_id)
    admin_platform_ids = store.admin_platform_ids(user_id)
    departments = fixtures.department_platform_ids(user_id)
    if departments and in_department_mode(request):
        admin_platform_ids |= departments
    return Caller(
        role=role,
        user_id=user_id,
        is_dm_admin=bool(user and user["is_dm_admin"]),
        admin_platform_ids=admin_platform_ids,
    )


def in_department_mode(request: Request) -> bool:
    """A suggestion request with department_mode true (in the query, or in the body of a write)."""
    if not request.url.path.startswith(SUGGESTIONS_PATH):
        return False
    if str(request.query_params.get("department_mode", "")).strip().lower() in TRUE_TEXT:
        return True
    if request.method in ("GET", "HEAD", "DELETE"):
        return False
    try:
        flag = read_body(request, required=False).raw("department_mode")
    except ApiError:  # a body that does not parse: the handler answers it (400 or 415) for every caller
        return False
    return flag is True or str(flag).strip().lower() in TRUE_TEXT


def require_dm_admin(caller: Caller) -> None:
    if not caller.is_dm_admin:
        raise Forbidden("Only DM administrators may perform this operation.")


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("You do not have permission to perform this action.")


def require_platform(store: Store, caller: Caller, platform: dict[str, Any]) -> None:
    """Tenant isolation for catalog and credentials operations: 403 outside the caller's platforms."""
    if not store.can_administer(caller, platform["id"]):
        raise Forbidden("You do not have permission to access this platform.")


def resolve_platform_hint(store: Store, caller: Caller, *, platform_key: str | None = None,
                          platform_org: str | None = None, platform_id: int | None = None,
                          unknown_status: int = 400) -> dict[str, Any] | None:
    """Resolve the platform named by key / org / id (None when none is given).

    Every identifier given must name the same platform (400 otherwise). A platform the caller does
    not administer is 403; an unknown one is 403 for a platform admin (it is not theirs) and
    ``unknown_status`` for a DM admin (403 too under forbidden-unknown).
    """
    found: dict[int, dict[str, Any]] = {}
    for label, value, lookup in (
        ("platform_key", platform_key, store.get_platform_by_key),
        ("platform_org", platform_org, store.get_platform_by_org),
        ("platform_id", platform_id, store.get_platform),
    ):
        if value is None:
            continue
        platform = lookup(value)  # type: ignore[operator]
        if platform is None:
            if not caller.is_dm_admin or store.readings.on("forbidden-unknown"):
                raise Forbidden(f"You do not have permission to access platform {label}={value!r}.")
            if unknown_status == 404:
                raise NotFound(f"No platform with {label}={value!r}.")
            raise BadRequest(f"No platform with {label}={value!r}.")
        require_platform(store, caller, platform)
        found[platform["id"]] = platform
    if len(found) > 1:
        raise BadRequest("platform_key, platform_org and platform_id name different platforms.")
    return next(iter(found.values()), None)
