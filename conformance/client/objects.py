"""Creating the objects tests need, each written into the cleanup ledger the moment it exists."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from conformance.client.ledger import RETIRED_NAMES, Ledger
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
RBAC_GROUPS = "/api/core/rbac/groups/"
SUITE_GROUP_PREFIX = "conformance-group-"  # + the platform and the sorted member ids: the same name on every run
MAX_PAGES = 200  # a list longer than this is not walked to its end
# What the documented license update sets (the update cannot change the platform, program or external_id): a
# factory license asked for with other fields (transaction_id, change_type, external_id) is always a new one.
RESETTABLE = ("name", "count", "started", "expired", "active", "metadata", "enrollment_config", "source")
SHOWN = ("name", "count", "active")  # fields every license answer carries
DEFAULT_SOURCE = "api"  # the published default of a create without source
CLAIM_ATTEMPTS = 2  # retired licenses tried (one the target will not reset leaves the pool) before creating
CANDIDATE_PAGE = 20


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


def _same(shown: Any, wanted: Any) -> bool:
    """A field as the target shows it equals the value sent (date-times compared as instants)."""
    if isinstance(wanted, str) and isinstance(shown, str) and wanted.endswith("Z"):
        try:
            return datetime.fromisoformat(shown.replace("Z", "+00:00")) == datetime.fromisoformat(
                wanted.replace("Z", "+00:00"))
        except ValueError:
            return False
    return bool(shown == wanted)


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
        self._highest: dict[tuple[str, str | None], int] = {}  # per kind and program, the highest license id got

    def name(self, what: str) -> str:
        """A name that says which run created the object."""
        worker = "" if self.ledger.worker == "main" else f"{self.ledger.worker}-"  # unique across parallel workers
        return f"conformance-{self.ledger.run_id}-{worker}{what}-{next(self._serial)}"

    def _created(self, exchange: Exchange, what: str, *statuses: int) -> Any:
        if exchange.status not in (statuses or (200, 201)):
            raise CreationFailed(f"creating a {what}", f"{exchange.operation} answered {exchange.status} "
                                                         f"{exchange.text[:200]!r}")
        return exchange.json()

    def _record(self, kind: str, **identifiers: Any) -> dict[str, Any]:
        entry = self.ledger.record(kind, **identifiers)
        self.entries.append(entry)
        return entry

    def program_license(self, count: int = 5, *, client: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """A program license on the platform under test, held by the DM admin: a retired one of the suite's claimed
        and reset (see _reuse), else a new one."""
        program = fields.pop("program_key", None) or need(self.settings.fixtures.program_keys, 1, "program_keys")[0]
        if fields.get("program_id") == program:
            del fields["program_id"]  # sent with program_key anyway
        return self._license("program", count, client, fields, program)

    def user_license(self, count: int = 5, *, client: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """A user license on the platform under test: a retired one of the suite's claimed and reset, else a new one."""
        return self._license("user", count, client, fields, None)

    def _license(self, kind: str, count: int, client: ApiClient | None, fields: dict[str, Any],
                 program: str | None) -> dict[str, Any]:
        name = self.name(f"{kind}-license")
        platform = fields.get("platform_key") or self.settings.platform_key
        wanted = {"name": name, "count": count, "started": now_iso(), "expired": None, "active": True,
                  "metadata": {}, "enrollment_config": {}, "source": DEFAULT_SOURCE,
                  **{k: v for k, v in fields.items() if k != "platform_key"}}
        if (client is None or client is self.admin) and set(wanted) <= set(RESETTABLE):
            reused = self._reuse(kind, platform, program, name, wanted)
            if reused is not None:
                return reused
        body = {"platform_key": self.settings.platform_key, "name": name, "count": count, "started": wanted["started"],
                "external_id": name, "active": True, **fields}
        if program is not None:
            body.update(program_key=program, program_id=program)
        label = f"{kind} license"
        license_ = self._created((client or self.admin).post(LICENSE_PATHS[kind] + "create/", body), label)
        self._record(f"{kind}_license", license_id=license_["id"], name=name, reusable=True)
        self._got(kind, program, license_["id"])
        return dict(license_)

    def _got(self, kind: str, program: str | None, license_id: Any) -> None:
        key = (kind, program)
        self._highest[key] = max(self._highest.get(key, 0), int(license_id))

    # ---- the license pool: licenses cannot be deleted, so a run reuses the ones earlier runs (and earlier tests)
    # retired (client/ledger.py gives them RETIRED_NAMES) before it creates any

    def _reuse(self, kind: str, platform: str, program: str | None, name: str,
               wanted: dict[str, Any]) -> dict[str, Any] | None:
        """A retired license of the suite, claimed and reset through the documented update to exactly `wanted`
        (usage_count 0), recorded as this scope's; None when there is none or the target will not reset one."""
        for _ in range(CLAIM_ATTEMPTS):
            with self.ledger.claiming():  # no other thread or worker of the run lists or claims meanwhile
                candidate = self._candidate(kind, platform, program)
                if candidate is None:
                    return None
                answer = self.admin.post(LICENSE_PATHS[kind] + "update/",
                                         {"license_id": candidate["id"], **wanted, "transaction_id": f"{name}-reused"})
            if answer.status not in (200, 201):
                continue  # refused, so unchanged: it keeps the pool's name, and the next attempt takes another one
            # renamed, and so out of the pool: the run's from now on, retired again when the scope ends
            entry = self._record(f"{kind}_license", license_id=candidate["id"], name=name, reusable=True)
            shown = self._reset_as_asked(kind, platform, candidate, program, wanted, answer)
            if shown is not None:
                self._got(kind, program, candidate["id"])
                return shown
            self.entries = [e for e in self.entries if e is not entry]
            entry["reusable"] = False  # the target does not reset it: retire it for good, out of the pool
            self.ledger.undo(self.admin, [entry])
        return None

    def _candidate(self, kind: str, platform: str, program: str | None) -> dict[str, Any] | None:
        """The retired license of the suite to claim: found with documented filters only (its exact name, inactive,
        the platform and program), one short page; each item is checked here too, so a server that ignores a
        filter never hands over a license the suite did not create. Within one scope the ids of one kind and
        program only grow, as new licenses' would (tests compare the order of what they made)."""
        params: dict[str, Any] = {"platform_key": platform, "name": RETIRED_NAMES[kind], "active": "false",
                                  "page_size": CANDIDATE_PAGE}
        if program is not None:
            params["program_id"] = program
        exchange = self.admin.get(LICENSE_PATHS[kind], params=params)
        body = exchange.json() if exchange.status == 200 else None
        items = body.get("results") if isinstance(body, dict) else None
        floor = self._highest.get((kind, program), 0)
        mine = [item for item in items or [] if isinstance(item, dict) and self._is_retired(item, kind, program)
                and isinstance(item.get("id"), int) and item["id"] > floor]
        return min(mine, key=lambda item: item["id"]) if mine else None

    @staticmethod
    def _is_retired(item: dict[str, Any], kind: str, program: str | None) -> bool:
        """The item is a retired license of the suite's (its name, inactive, the suite's external_id, the program)."""
        return (item.get("name") == RETIRED_NAMES[kind] and item.get("active") is False
                and str(item.get("external_id") or "").startswith("conformance-")
                and (program is None or item.get("program_key", program) == program))

    def _reset_as_asked(self, kind: str, platform: str, candidate: dict[str, Any], program: str | None,
                        wanted: dict[str, Any], answer: Exchange) -> dict[str, Any] | None:
        """The claimed license as the list shows it when both the update's answer and the list show exactly `wanted`,
        its platform and program, and no seat in use; None otherwise."""
        listed = self.admin.get(LICENSE_PATHS[kind], params={"platform_key": platform, "verbose": "true",
                                                            "external_id": candidate["external_id"]})
        body = listed.json() if listed.status == 200 else None
        found = [item for item in (body.get("results") or [] if isinstance(body, dict) else [])
                 if isinstance(item, dict) and item.get("id") == candidate["id"]]
        updated = answer.json()
        if len(found) != 1 or not isinstance(updated, dict):
            return None
        shown = found[0]
        for state in (updated, shown):  # a field the answer leaves out (enrollment_config is not in the published
            # answer schemas) cannot be compared; the ones every answer carries must be there
            if any(field not in state for field in SHOWN) or any(
                    field in state and not _same(state[field], value) for field, value in wanted.items()):
                return None
            if program is not None and state.get("program_key", program) != program:
                return None
        if shown.get("platform_key", platform) != platform or shown.get("usage_count", 0) != 0:
            return None
        for path in (ASSIGNMENT_PATHS[kind], *((GROUP_ASSIGNMENTS,) if kind == "program" else ())):
            seats = self.admin.get(path, params={"license_id": candidate["id"], "page_size": 1})
            seats_body = seats.json() if seats.status == 200 else None
            if not isinstance(seats_body, dict) or seats_body.get("results"):
                return None  # an assignment it still holds would be taken for this test's
        return {k: v for k, v in shown.items() if k != "assignments"}  # as a create answers: no verbose counts

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

    # ---- the suite's groups: the API can neither delete nor change a group, so the suite makes each group it needs
    # once per target under a fixed name and every later run finds and reuses it (never in the ledger: it stays)

    _suite_groups: ClassVar[dict[tuple[str, ...] | tuple[Any, ...], dict[str, Any] | None]] = {}  # run, target, members

    def suite_group(self, members: Iterable[int]) -> dict[str, Any] | None:
        """The suite's group on the platform under test with exactly `members`, as the group list shows it: found by
        its fixed name, else created with users_to_add; None when it has other members or the target refuses it."""
        wanted = tuple(sorted(set(members)))
        key = (self.ledger.run_id, self.settings.base_url, self.settings.platform_key, wanted)
        if key not in self._suite_groups:
            with self.ledger.claiming():  # one process of the run looks and creates at a time: one group, not two
                self._suite_groups[key] = self._find_or_make_group(wanted)
        group = self._suite_groups[key]
        return dict(group) if group is not None else None

    def suite_group_name(self, members: tuple[int, ...]) -> str:
        """The fixed name (and unique_id) of the suite's group of `members` on the platform under test."""
        return f"{SUITE_GROUP_PREFIX}{self.settings.platform_key}-{'-'.join(str(m) for m in members)}"

    def _find_or_make_group(self, members: tuple[int, ...]) -> dict[str, Any] | None:
        name = self.suite_group_name(members)
        found = self._listed_groups(name)
        if not found:
            body = {"unique_id": name, "name": name, "platform_key": self.settings.platform_key,
                    "description": "Made once by ibl-conformance and reused by its later runs (groups have no delete)",
                    "users_to_add": list(members)}
            answer = self.admin.post(RBAC_GROUPS, body)
            if answer.status not in (200, 201):
                return None  # e.g. a caller without group creation: the scenarios use the fixture groups
            made = answer.json()
            found = self._listed_groups(name) or ([made] if isinstance(made, dict) else [])
        fitting = [group for group in found if self._is_suite_group(group, name, members)]
        return min(fitting, key=lambda group: group["id"]) if fitting else None  # another member list: not ours to use

    def _listed_groups(self, name: str) -> list[dict[str, Any]]:
        """The platform's groups named exactly `name` (the documented filters: name, a partial match, and platform_key)."""
        exchange = self.admin.get(RBAC_GROUPS, params={"platform_key": self.settings.platform_key, "name": name,
                                                       "include_users": "true", "page_size": CANDIDATE_PAGE})
        body = exchange.json() if exchange.status == 200 else None
        items = body.get("results") if isinstance(body, dict) else body
        return [item for item in items or [] if isinstance(item, dict) and item.get("name") == name]

    def _is_suite_group(self, group: dict[str, Any], name: str, members: tuple[int, ...]) -> bool:
        """The group is the suite's (its name and unique_id, the platform, not internal) with exactly `members`."""
        users = group.get("users")
        shown = {user.get("id") for user in users if isinstance(user, dict)} if isinstance(users, list) else None
        platform = group.get("platform")
        platform_key = platform.get("key", self.settings.platform_key) if isinstance(platform, dict) else None
        return (isinstance(group.get("id"), int) and str(group.get("unique_id", name)).startswith("conformance-")
                and group.get("name") == name and platform_key in (None, self.settings.platform_key)
                and group.get("is_internal") is not True and shown == set(members))

    def cleanup(self) -> None:
        """Undo what this scope created."""
        self.ledger.undo(self.admin, self.entries)
        self.entries.clear()
