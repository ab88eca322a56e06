"""Faults the generated (property-based) tests must catch: broken answers, server errors, undocumented
statuses, a missing authentication check, a wrong content type."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from conformance.reference import fixtures
from conformance.reference.auth import Caller
from conformance.reference.errors import Unauthorized
from conformance.reference.routes import credentials, licenses, rbac
from conformance.reference.store import Store
from conformance.reference.validation import QueryParams
from tests.faults.registry import fault


@fault("program license answers lack the required usage_count", violates="GEN-SCHEMA-001")
def _(mp: pytest.MonkeyPatch) -> None:
    original = licenses.present_license

    def without_usage(store: Store, license: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = original(store, license, **kwargs)
        if license["kind"] == "program":
            out.pop("usage_count", None)
        return out

    mp.setattr(licenses, "present_license", without_usage)


@fault("a page_size that is not a number crashes the server (500)", violates="GEN-STATUS-007")
def _(mp: pytest.MonkeyPatch) -> None:
    original = QueryParams.pagination

    def crashing(self: QueryParams) -> tuple[int, int]:
        for name in ("page", "page_size"):
            raw = self.str(name)
            if raw is not None:
                int(raw)  # ValueError escapes: an unhandled error, answered 500
        return original(self)

    mp.setattr(QueryParams, "pagination", crashing)


@fault("RBAC answers 202 where 200 is documented", violates="GEN-STATUS-002")
def _(mp: pytest.MonkeyPatch) -> None:
    class Accepted(JSONResponse):
        def __init__(self, content: Any, status_code: int = 200, *args: Any, **kwargs: Any) -> None:
            super().__init__(content, 202 if status_code == 200 else status_code, *args, **kwargs)

    mp.setattr(rbac, "JSONResponse", Accepted)


@fault("credentials operations skip the authentication check", violates="GEN-AUTH-001")
def _(mp: pytest.MonkeyPatch) -> None:
    original = credentials.authenticate

    def lenient(request: Request) -> Caller:
        try:
            return original(request)
        except Unauthorized:
            store: Store = request.app.state.store
            user_id = fixtures.KEY_USERS["dm_admin"]
            return Caller(role="dm_admin", user_id=user_id, is_dm_admin=True,
                          admin_platform_ids=store.admin_platform_ids(user_id))

    mp.setattr(credentials, "authenticate", lenient)


@fault("credential answers are declared text/plain", violates="GEN-SCHEMA-017")
def _(mp: pytest.MonkeyPatch) -> None:
    class PlainJson(JSONResponse):
        media_type = "text/plain"

    mp.setattr(credentials, "JSONResponse", PlainJson)
