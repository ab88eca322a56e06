"""What the license, seat and assignment scenarios share: license bodies and raw creates, assignment
lists, group members, seat bookkeeping, setup objects that are "not verified" when refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import pytest

from conformance.client.objects import CreationFailed, Objects
from conformance.client.probe import Probe
from conformance.client.session import ApiClient, Exchange
from conformance.config import Settings
from conformance.scenarios.answers import walk_pages
from conformance.scenarios.paths import (
    GROUP_ASSIGNMENTS,
    PROGRAM_ASSIGNMENTS,
    PROGRAM_LICENSE_CREATE,
    PROGRAM_LICENSES,
    RBAC_GROUPS,
    USER_LICENSES,
)
from conformance.verdicts import need, not_verified

NO_SUCH_ID = 2_000_000_000  # an id no fixture or created object has (within a 32-bit integer)
# Statuses a correct server may give an object it does not have or will not show: 404, or 403 where the
# operation documents "403 Forbidden" (the forbidden-unknown reading).
UNKNOWN_OBJECT = (403, 404)
# ... and where the request names it in its body, "400 Bad Request: missing or invalid parameters" as well.
UNKNOWN_IN_BODY = (400, 403, 404)
CREATED = (200, 201)  # the published 200, or 201 for a create (the bare-shapes reading)
Made = TypeVar("Made")


def instant(value: Any) -> datetime | None:
    """A documented date-time as an aware datetime (None stays None), so formats can differ."""
    if value is None:
        return None
    assert isinstance(value, str), f"a date-time must be a string, got {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ids(items: list[dict[str, Any]]) -> list[Any]:
    """The ids of the items, in order."""
    return [item.get("id") for item in items]


def licenses(admin: ApiClient, **params: Any) -> list[dict[str, Any]]:
    """Every program license of a filtered list (all pages)."""
    return list(walk_pages(admin, PROGRAM_LICENSES, params))


def the_license(admin: ApiClient, settings: Settings, license_: dict[str, Any], *, verbose: bool = False,
                kind: str = "program") -> dict[str, Any]:
    """The license as the list shows it now (found by its external_id on the platform under test)."""
    path = PROGRAM_LICENSES if kind == "program" else USER_LICENSES
    params: dict[str, Any] = {"platform_key": settings.platform_key, "external_id": license_["external_id"]}
    if verbose:
        params["verbose"] = True
    found = [item for item in walk_pages(admin, path, params) if item.get("id") == license_["id"]]
    assert len(found) == 1, (f"{kind} license {license_['id']} must be listed exactly once when filtered by its "
                             f"external_id {license_['external_id']!r}; it was listed {len(found)} time(s)")
    return found[0]


def assignments(admin: ApiClient, license_id: int, **filters: Any) -> list[dict[str, Any]]:
    """Every assignment of a program license (all pages), optionally filtered."""
    return list(walk_pages(admin, PROGRAM_ASSIGNMENTS, {"license_id": license_id, **filters}))


def group_assignments(admin: ApiClient, license_id: int, **filters: Any) -> list[dict[str, Any]]:
    """Every group assignment of a program license (all pages), optionally filtered."""
    return list(walk_pages(admin, GROUP_ASSIGNMENTS, {"license_id": license_id, **filters}))


# (platform, group id) -> the group's name, learnt from the first read of the platform's groups in this process: the
# group list documents no filter by id, but one by name (a case-insensitive part), so later reads are one short page
_GROUP_NAMES: dict[tuple[str, Any], str] = {}


def group_members(admin: ApiClient, settings: Settings, group_id: int) -> set[int]:
    """The user ids of a group's members, as the RBAC group list shows them (filtered by the group's name once it is
    known; the first read of a process walks the platform's groups to learn the names)."""
    platform = settings.platform_key
    name = _GROUP_NAMES.get((platform, group_id))
    group = None
    if name:
        group = _group_in(walk_pages(admin, RBAC_GROUPS, {"platform_key": platform, "name": name}), group_id)
    if group is None:
        group = _group_in(walk_pages(admin, RBAC_GROUPS, {"platform_key": platform}), group_id, learn=platform)
    if group is None:
        not_verified(f"group {group_id} of [fixtures] group_ids is not in the RBAC group list of the platform")
    users = group.get("users")
    assert isinstance(users, list), f"RBAC group {group_id} has no users list: {group!r}"
    return {user["id"] for user in users}


SUITE_GROUP_SIZE = 2  # members of each group the suite makes (a license for a group then needs few seats)


def suite_groups(objects: Objects, count: int) -> list[tuple[int, set[int]]] | None:
    """`count` of the suite's own groups (made once per target, client/objects.py), each of SUITE_GROUP_SIZE fixture
    users and no two sharing a member, with their members; None when the fixtures have too few users or the target
    will not make or show them."""
    users = objects.settings.fixtures.user_ids
    if len(users) < count * SUITE_GROUP_SIZE:
        return None
    found = []
    for first in range(0, count * SUITE_GROUP_SIZE, SUITE_GROUP_SIZE):
        group = objects.suite_group(users[first:first + SUITE_GROUP_SIZE])
        if group is None:
            return None
        found.append((group["id"], {user["id"] for user in group["users"]}))
    return found


def fixture_groups(objects: Objects, count: int) -> list[tuple[int, set[int]]]:
    """The first `count` fixture groups with their members as the target lists them."""
    return [(group, group_members(objects.admin, objects.settings, group))
            for group in need(objects.settings.fixtures.group_ids, count, "group_ids")]


def groups_with_members(objects: Objects, count: int) -> list[tuple[int, set[int]]]:
    """`count` groups with members and their members: the suite's own, else the fixture groups (none may be empty)."""
    found = suite_groups(objects, count) or fixture_groups(objects, count)
    if any(not members for _, members in found):
        not_verified(f"needs {count} fixture groups with members; members: {found}")
    return found


def _group_in(groups: Iterator[dict[str, Any]], group_id: int, learn: str | None = None) -> dict[str, Any] | None:
    """The group `group_id` among `groups`; when `learn` (a platform) is given, every name seen is remembered."""
    for group in groups:
        if learn is not None and isinstance(group.get("name"), str) and group["name"]:
            _GROUP_NAMES[(learn, group.get("id"))] = group["name"]
        if group.get("id") == group_id:
            return group
    return None


def create_license_raw(objects: Objects, body: dict[str, Any], client: ApiClient | None = None) -> Exchange:
    """POST a program license create exactly as given; a license the target creates is recorded for cleanup."""
    exchange = (client or objects.admin).post(PROGRAM_LICENSE_CREATE, body)
    if exchange.status in (200, 201):
        created = exchange.json()
        if isinstance(created, dict) and "id" in created:
            objects._record("program_license", license_id=created["id"], name=str(body.get("name", created["id"])),
                            reusable=str(created.get("external_id") or "").startswith("conformance-"))
    return exchange


def license_body(objects: Objects, **fields: Any) -> dict[str, Any]:
    """A full program license create body (every documented reading's required fields) for the platform under test."""
    from conformance.client.objects import now_iso

    program = need(objects.settings.fixtures.program_keys, 1, "program_keys")[0]
    name = objects.name("program-license")
    body: dict[str, Any] = {"platform_key": objects.settings.platform_key, "program_key": program,
                            "program_id": program, "name": name, "count": 2, "started": now_iso(),
                            "external_id": name}
    body.update(fields)
    return body


def assign_raw(objects: Objects, license_id: int | None, body: dict[str, Any],
               client: ApiClient | None = None) -> Exchange:
    """POST a program assignment exactly as given; an assignment the target creates is recorded for cleanup."""
    params = {"license_id": license_id} if license_id is not None else None
    exchange = (client or objects.admin).post(PROGRAM_ASSIGNMENTS, body, params=params)
    if exchange.status in (200, 201) and license_id is not None:
        created = exchange.json()
        if isinstance(created, dict) and "id" in created:
            objects._record("program_assignment", license_id=license_id, assignment_id=created["id"])
    return exchange


def unassign(admin: ApiClient, license_id: int, assignment_id: int) -> Exchange:
    """DELETE one program assignment."""
    return admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": license_id, "assignment_id": assignment_id})


def check_usage(admin: ApiClient, settings: Settings, license_: dict[str, Any], step: str) -> dict[str, Any]:
    """usage_count, verbose 'assignments' and the assignment list agree; returns the verbose license."""
    listed = assignments(admin, license_["id"])
    shown = the_license(admin, settings, license_, verbose=True)
    usage = shown.get("usage_count")
    assert usage == len(listed), f"{step}: usage_count is {usage!r} but the assignment list holds {len(listed)}"
    counts = shown.get("assignments")
    assert isinstance(counts, dict), f"{step}: verbose=true must add an 'assignments' object; got {counts!r}"
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in counts.values()), \
        f"{step}: the verbose assignment counts must be integers: {counts!r}"
    assert counts.get("total") == usage, f"{step}: assignments.total {counts.get('total')!r} != usage_count {usage!r}"
    active = sum(1 for a in listed if a.get("active") is True)
    pending = sum(1 for a in listed if a.get("fulfilled") is False)
    if "active" in counts:
        assert counts["active"] == active, f"{step}: assignments.active is {counts['active']}, the list has {active}"
    if "pending" in counts:
        assert counts["pending"] == pending, f"{step}: assignments.pending is {counts['pending']}, the list has {pending}"
    count = shown.get("count")
    assert isinstance(count, int) and usage <= count, f"{step}: usage_count {usage} exceeds count {count}"
    return shown


def prepared(what: str, make: Callable[..., Made], *args: Any, **kwargs: Any) -> Made:
    """What a setup factory of `Objects` makes; a create the server refused ends the test not verified, never failed."""
    try:
        return make(*args, **kwargs)
    except CreationFailed as refused:
        not_verified(f"the server refused a setup request ({what}): {str(refused).splitlines()[0]}")


def new_program_license(objects: Objects, count: int = 5, **fields: Any) -> dict[str, Any]:
    """A program license a test needs as setup (not verified when the server refuses it)."""
    return prepared("creating a program license", objects.program_license, count, **fields)


def new_user_license(objects: Objects, count: int = 5, **fields: Any) -> dict[str, Any]:
    """A user license a test needs as setup (not verified when the server refuses it)."""
    return prepared("creating a user license", objects.user_license, count, **fields)


def new_assignment(objects: Objects, kind: str, license_id: int, user_id: int, **fields: Any) -> dict[str, Any]:
    """A program or user assignment a test needs as setup (not verified when the server refuses it)."""
    return prepared(f"assigning a {kind} license", objects.assignment, kind, license_id, user_id, **fields)


def probe_of(request: pytest.FixtureRequest) -> Probe:
    """The hidden-state probe, asked for inside a check: a target without one leaves that check not verified, not
    the whole test."""
    probe: Probe = request.getfixturevalue("probe")
    return probe
