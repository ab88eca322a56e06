"""Creating the objects tests need, each written into the cleanup ledger the moment it exists."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.client.ledger import Ledger
from conformance.client.session import ApiClient, Exchange
from conformance.config import Settings
from conformance.verdicts import PREFIX as NOT_VERIFIED_PREFIX
from conformance.verdicts import need

LICENSE_PATHS = {"program": "/api/catalog/licenses/program/", "user": "/api/catalog/licenses/user/"}
ASSIGNMENT_PATHS = {"program": "/api/catalog/licenses/program/assignment/",
                    "user": "/api/catalog/licenses/user/assignment/"}
GROUP_ASSIGNMENTS = "/api/catalog/licenses/program/assignment/group/"
SUGGESTIONS = "/api/catalog/suggestions/program/manage/"
GROUP_SUGGESTIONS = "/api/catalog/suggestions/program/manage/group/"
RBAC_POLICIES = "/api/core/rbac/policies/"
MAX_PAGES = 200  # a list longer than this is not walked to its end


class CreationFailed(pytest.skip.Exception):  # type: ignore[misc]
    """A create the test needed only as setup was refused: its requirements are "not verified", with the answer
    (the tests of the create operation itself send it raw and check it)."""

    def __init__(self, what: str, answer: str) -> None:
        super().__init__(f"{NOT_VERIFIED_PREFIX}the server refused a setup request ({what}): {answer}")
        self.answer = answer

    def __str__(self) -> str:
        return self.answer


def now_iso() -> str:
    """The current time as the API writes it."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def credentials_path(org: str, user_id: Any, entity_id: str | None = None) -> str:
    """Path of the credentials collection, or of one credential."""
    base = f"/api/credentials/orgs/{org}/users/{user_id}/"
    return base if entity_id is None else f"{base}{entity_id}"


def credential_of(body: Any) -> dict[str, Any]:
    """The credential in an answer, bare or in the documented {status, result} envelope."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict) and "status" in body:
        return body["result"]
    assert isinstance(body, dict), f"a credential answer must be a JSON object, got {type(body).__name__}"
    return body


class Objects:
    """Factories for one scope (a test, or the whole session); `entries` are what this scope created."""

    _serial = itertools.count(1)

    def __init__(self, admin: ApiClient, settings: Settings, ledger: Ledger) -> None:
        self.admin = admin
        self.settings = settings
        self.ledger = ledger
        self.entries: list[dict[str, Any]] = []

    def name(self, what: str) -> str:
        """A name that says which run created the object."""
        worker = "" if self.ledger.worker == "main" else f"{self.ledger.worker}-"  # unique across parallel workers
        return f"conformance-{self.ledger.run_id}-{worker}{what}-{next(self._serial)}"

    def _created(self, exchange: Exchange, what: str, *statuses: int) -> Any:
        if exchange.status not in (statuses or (200, 201)):
            raise CreationFailed(f"creating a {what}", f"{exchange.operation} answered {exchange.status} "
                                                         f"{exchange.text[:200]!r}")
        return exchange.json()

    def _record(self, kind: str, **identifiers: Any) -> None:
        self.entries.append(self.ledger.record(kind, **identifiers))

    def program_license(self, count: int = 5, *, client: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """A new program license on the platform under test (created by the DM admin)."""
        program = fields.pop("program_key", None) or need(self.settings.fixtures.program_keys, 1, "program_keys")[0]
        name = self.name("program-license")
        body = {"platform_key": self.settings.platform_key, "program_key": program, "program_id": program,
                "name": name, "count": count, "started": now_iso(), "external_id": name, "active": True, **fields}
        license_ = self._created((client or self.admin).post(LICENSE_PATHS["program"] + "create/", body),
                                 "program license")
        self._record("program_license", license_id=license_["id"], name=name)
        return dict(license_)

    def user_license(self, count: int = 5, *, client: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """A new user license on the platform under test."""
        name = self.name("user-license")
        body = {"platform_key": self.settings.platform_key, "name": name, "count": count, "started": now_iso(),
                "external_id": name, "active": True, **fields}
        license_ = self._created((client or self.admin).post(LICENSE_PATHS["user"] + "create/", body), "user license")
        self._record("user_license", license_id=license_["id"], name=name)
        return dict(license_)

    def assign(self, kind: str, license_id: int, user_id: int, *, client: ApiClient | None = None,
               **fields: Any) -> Exchange:
        """POST an assignment (program or user license); records it when the target accepts it."""
        body = {"license_id": license_id, "user_id": user_id, "platform_key": self.settings.platform_key, **fields}
        exchange = (client or self.admin).post(ASSIGNMENT_PATHS[kind], body, params={"license_id": license_id})
        if exchange.status in (200, 201):
            self._record(f"{kind}_assignment", license_id=license_id, assignment_id=exchange.json()["id"])
        return exchange

    def assignment(self, kind: str, license_id: int, user_id: int, **fields: Any) -> dict[str, Any]:
        """An assignment that must succeed."""
        return dict(self._created(self.assign(kind, license_id, user_id, **fields), f"{kind} license assignment"))

    def group_assignment(self, license_id: int, group_id: int, *, client: ApiClient | None = None,
                         **fields: Any) -> dict[str, Any]:
        """A program license group assignment."""
        body = {"license_id": license_id, "group_id": group_id, "platform_key": self.settings.platform_key, **fields}
        created = self._created((client or self.admin).post(GROUP_ASSIGNMENTS, body, params={"license_id": license_id}),
                                "group assignment")
        self._record("group_assignment", license_id=license_id, assignment_id=created["id"])
        return dict(created)

    def program_suggestion(self, user_id: int, program_key: str | None = None, *, client: ApiClient | None = None,
                           **fields: Any) -> dict[str, Any]:
        """A program suggestion for one user."""
        platform = self.settings.platform_key
        program = program_key or need(self.settings.fixtures.program_keys, 1, "program_keys")[0]
        self._refuse_taken(SUGGESTIONS, "user_id", user_id, program, "program suggestion")
        body = {"platform_key": platform, "program_key": program, "user_id": str(user_id), **fields}
        created = self._created((client or self.admin).post(SUGGESTIONS, body, params={"platform_key": platform}),
                                "program suggestion")
        self._record("program_suggestion", platform_key=platform, suggestion_id=created["id"])
        return dict(created)

    def group_suggestion(self, group_id: int, program_key: str | None = None, *, client: ApiClient | None = None,
                         **fields: Any) -> dict[str, Any]:
        """A program suggestion for a group."""
        platform = self.settings.platform_key
        program = program_key or need(self.settings.fixtures.program_keys, 1, "program_keys")[0]
        self._refuse_taken(GROUP_SUGGESTIONS, "group_id", group_id, program, "group suggestion")
        body = {"platform_key": platform, "program_key": program, "group_id": group_id, **fields}
        created = self._created((client or self.admin).post(GROUP_SUGGESTIONS, body,
                                                            params={"platform_key": platform}), "group suggestion")
        self._record("group_suggestion", platform_key=platform, suggestion_id=created["id"])
        return dict(created)

    def _refuse_taken(self, path: str, holder_key: str, holder: Any, program: str, what: str) -> None:
        """A suggestion POST is create-or-update: for a pair that already holds a suggestion it would change (and the
        cleanup would delete) an object the run did not create. Such a pair is left alone: not verified."""
        platform = self.settings.platform_key
        exchange = self.admin.get(path, params={"platform_key": platform, "page_size": 100})
        for _ in range(MAX_PAGES):
            if exchange.status != 200:
                raise CreationFailed(f"reading the {what}s first", f"{exchange.operation} answered {exchange.status}")
            body = exchange.json()
            items = body.get("results", []) if isinstance(body, dict) else []
            if any(str(i.get(holder_key)) == str(holder) and i.get("program_key") == program
                   for i in items if isinstance(i, dict)):
                raise CreationFailed(f"creating a {what}", f"{holder_key} {holder} already holds a suggestion of "
                                     f"{program} on {platform}; the suite leaves it untouched")
            link = body.get("next_page", body.get("next")) if isinstance(body, dict) else None
            if not link:
                return
            exchange = self.admin.get(link)

    def credential(self, user_id: Any = None, *, client: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """A credential in the org under test (the body satisfies every documented reading)."""
        org = self.settings.org
        user = user_id if user_id is not None else need(self.settings.fixtures.user_ids, 1, "user_ids")[0]
        name = self.name("credential")
        body = {"credential_id": name, "credential_url": f"https://credentials.example/{name}", "name": name,
                "revoked": False, "issuer": "conformance-issuer", **fields}
        created = credential_of(self._created((client or self.admin).post(credentials_path(org, user), body),
                                              "credential"))
        self._record("credential", org=org, user_id=user, entity_id=created["credential_id"])
        return dict(created)

    def rbac_policy(self, *, client: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """An RBAC policy on the platform under test."""
        platform = self.settings.platform_key
        body = {"name": self.name("policy"), "resources": [f"/conformance/{self.ledger.run_id}"],
                "role_id": need(self.settings.fixtures.role_ids, 1, "role_ids")[0], "platform_key": platform, **fields}
        created = self._created((client or self.admin).post(RBAC_POLICIES, body), "RBAC policy", 201, 200)
        self._record("rbac_policy", policy_id=created["id"], platform_key=body["platform_key"])
        return dict(created)

    def cleanup(self) -> None:
        """Undo what this scope created."""
        self.ledger.undo(self.admin, self.entries)
        self.entries.clear()
