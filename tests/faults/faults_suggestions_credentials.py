"""Faults for user licenses, user assignments, suggestions (single, bulk, group) and credentials."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.reference import validation
from conformance.reference.errors import NotFound
from conformance.reference.routes import credentials as credential_routes
from conformance.reference.store import Store
from tests.faults.registry import fault


@fault("user license list ignores the source filter", violates="CAT-ULIC-006")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.list_licenses

    def list_licenses(self: Store, kind: str, *, filters: dict[str, Any], **kwargs: Any) -> Any:
        if kind == "user":
            filters = {**filters, "source": None}
        return original(self, kind, filters=filters, **kwargs)

    mp.setattr(Store, "list_licenses", list_licenses)


@fault("user license update moves the license to the platform named in the body", violates="CAT-ULIC-023")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.update_license

    def update_license(self: Store, kind: str, license_id: int, changes: dict[str, Any], **kwargs: Any) -> Any:
        updated = original(self, kind, license_id, changes, **kwargs)
        other = self._one("SELECT id FROM platforms WHERE id != ? ORDER BY id LIMIT 1", (updated["platform_id"],))
        if kind == "user" and changes.get("count") is None and changes.get("metadata") is None and other:
            with self.transaction():
                self._update("user_licenses", license_id, {"platform_id": other["id"]})
            return self.get_license(kind, license_id)
        return updated

    mp.setattr(Store, "update_license", update_license)


@fault("assigning a user license again adds a second assignment", violates="CAT-UASG-010")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "find_user_assignment", lambda self, license_id, user_id: None)


@fault("suggesting a program to a user again adds a duplicate suggestion", violates="CAT-SUG-012")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "find_program_suggestion", lambda self, platform_id, program_key, user_id: None)


@fault("bulk suggestions stop at the first bad item", violates="CAT-SUGB-006")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.bulk_upsert_program_suggestions

    def bulk(self: Store, platform_id: int, items: list[Any]) -> tuple[int, list[str]]:
        for index, item in enumerate(items):
            if self.bulk_item_error(platform_id, item) is not None:
                successes, codes = original(self, platform_id, items[:index])
                return successes, [*codes, *["aborted"] * (len(items) - index)]
        return original(self, platform_id, items)

    mp.setattr(Store, "bulk_upsert_program_suggestions", bulk)


@fault("deleting one group suggestion removes every group suggestion of the platform", violates="CAT-SUGG-013")
def _(mp: pytest.MonkeyPatch) -> None:
    def delete(self: Store, suggestion_id: int) -> bool:
        suggestion = self.get_group_suggestion(suggestion_id)
        if suggestion is None:
            return False
        with self.transaction():
            self._execute("DELETE FROM program_group_suggestions WHERE platform_id = ?", (suggestion["platform_id"],))
        return True

    mp.setattr(Store, "delete_group_suggestion", delete)


@fault("group suggestions default to not visible", violates="CAT-SUGG-010")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.upsert_group_suggestion

    def upsert(self: Store, platform_id: int, program_key: str, group_id: int, fields: dict[str, Any]) -> Any:
        if fields.get("visible") is None:
            fields = {**fields, "visible": False}
        return original(self, platform_id, program_key, group_id, fields)

    mp.setattr(Store, "upsert_group_suggestion", upsert)


@fault("credential delete answers 204 but keeps the credential", violates="CRED-CRUD-014")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "delete_credential", lambda self, platform_id, credential_id: True)


@fault("credentials list ignores platform_org in the query", violates="CRED-LIST-009")
def _(mp: pytest.MonkeyPatch) -> None:
    def path_org_only(request: Any, q: Any) -> dict[str, Any]:
        from conformance.reference.auth import authenticate, require_admin, require_platform

        caller = authenticate(request)
        require_admin(caller)
        store: Store = request.app.state.store
        platform = store.get_platform_by_org(request.path_params["org"])
        if platform is None:
            raise NotFound("No platform with that org.")
        require_platform(store, caller, platform)
        return platform

    mp.setattr(credential_routes, "_org_platform", path_org_only)


@fault("credentials list serves 20 per page by default", violates="CRED-LIST-004")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(validation, "DEFAULT_PAGE_SIZE", 20)
