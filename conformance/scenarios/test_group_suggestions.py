"""Program suggestions for groups: create-or-update, user_count, list (query, order, pages), delete.

Every group suggestion a test creates is for a (group, program) pair that holds no group suggestion on the
target yet (`fresh_pairs`), the suite's own groups first (made once per target, conformance/client/objects.py);
a group's member count is read from the RBAC groups list, never assumed.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Settings
from conformance.scenarios.answers import (
    every,
    expect_refused,
    expect_status,
    first_items,
    first_page,
    ids_of,
    strictly,
    walk_pages,
)
from conformance.scenarios.licenses import suite_groups
from conformance.scenarios.paths import GROUP_SUGGESTIONS, RBAC_GROUPS
from conformance.scenarios.suggestions import UNKNOWN_ID, fresh_pairs, suggest, suggestion_of
from conformance.verdicts import need, not_verified

SUITE_GROUPS = 2  # the suite's groups the tests suggest to (the group assignment tests use the same two)
PAGED_WALK = 20  # how many one-item pages the page walk compares (bounded on targets with many suggestions)


def _listed(admin: ApiClient, platform: str, **params: Any) -> list[dict[str, Any]]:
    return every(admin, GROUP_SUGGESTIONS, {"platform_key": platform, **params})


def _pairs(objects: Objects, count: int) -> list[tuple[Any, str]]:
    """`count` (group, program) pairs without a group suggestion: the suite's own groups first (made once per target;
    no one else suggests to them), then the fixture groups."""
    settings = objects.settings
    fixtures = settings.fixtures
    need(fixtures.program_keys, 1, "program_keys")
    own = [group for group, _ in suite_groups(objects, SUITE_GROUPS) or []]
    holders = tuple(dict.fromkeys([*own, *fixtures.group_ids]))
    if not holders:
        need(fixtures.group_ids, 1, "group_ids")
    return fresh_pairs(objects.admin, GROUP_SUGGESTIONS, settings.platform_key, "group_id", holders,
                       fixtures.program_keys, count)


def _suggest(admin: ApiClient, objects: Objects, platform: str, group: Any, program: str,
             params: dict[str, Any] | None = None, **fields: Any) -> Exchange:
    body = {"platform_key": platform, "program_key": program, "group_id": group, **fields}
    return suggest(admin, objects, GROUP_SUGGESTIONS, "group_suggestion", body, params)


def _made(exchange: Exchange) -> dict[str, Any]:
    return suggestion_of(setup(exchange, "suggesting a program to a group", 200, 201))


def _members(admin: ApiClient, platform: str, group_id: Any) -> int:
    """How many users the group has, as the RBAC groups list shows them (not verified when it does not)."""
    try:
        found = [g for g in walk_pages(admin, RBAC_GROUPS, {"platform_key": platform, "page_size": 100,
                                                            "include_users": "true"})
                 if str(g.get("id")) == str(group_id)]
    except AssertionError as exc:
        not_verified(f"the RBAC groups list could not be read: {str(exc).splitlines()[0]}")
    if len(found) != 1 or not isinstance(found[0].get("users"), list):
        not_verified(f"the RBAC groups list does not show group {group_id} once with its users: {found}")
    return len(found[0]["users"])


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SUGG-001", "CAT-SUGG-004", "CAT-SUGG-006", "CAT-SUGG-010", "CAT-SUGG-011",
                         "CAT-SUGG-012", "CAT-SUGG-013")
def test_group_suggestion_lifecycle(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    platform = settings.platform_key
    (group, program), (other_group, other_program) = _pairs(objects, 2)

    plain_answer = _suggest(admin, objects, platform, group, program)
    metadata = {"conformance": objects.ledger.run_id}
    flagged_answer = _suggest(admin, objects, platform, other_group, other_program, accepted=True, visible=False,
                              metadata=metadata, platform_org=settings.org, department_mode=False,  # (same platform)
                              params={"platform_key": platform, "platform_org": settings.org, "department_mode": "false"})
    with check("CAT-SUGG-006"):
        shown = suggestion_of(expect_status(plain_answer, 200, 201, why="suggesting a program to a group"))
        got = (str(shown.get("group_id")), shown.get("program_key"), shown.get("platform_key"))
        assert got == (str(group), program, platform), f"the group suggestion must be for {(group, program, platform)}: {got}"
        flagged = suggestion_of(expect_status(flagged_answer, 200, 201, why="suggesting a program to a group"))
        got = (flagged.get("accepted"), flagged.get("visible"), flagged.get("metadata"))
        assert got == (True, False, metadata), f"the group suggestion must carry the values sent; it carries {got}"
    plain, flagged = _made(plain_answer), _made(flagged_answer)
    with check("CAT-SUGG-010"):
        assert (plain.get("accepted"), plain.get("visible")) == (False, True), \
            f"a group suggestion sent without accepted/visible must be not accepted and visible; it is {plain}"

    again_answer = _suggest(admin, objects, platform, group, program, metadata={"again": True})
    listed: list[dict[str, Any]] = []
    with check("CAT-SUGG-001") as listing:
        listed = _listed(admin, platform)
        strangers = [s.get("platform_key") for s in listed if s.get("platform_key") != platform]
        assert not strangers, f"platform_key={platform} listed group suggestions of other platforms: {strangers}"
        by_org = ids_of(_listed(admin, platform, platform_org=settings.org))
        assert by_org == ids_of(listed), f"platform_org={settings.org} names the same platform: {by_org} vs {ids_of(listed)}"
        order = ids_of(listed)
        paged = ids_of(first_items(admin, GROUP_SUGGESTIONS, {"platform_key": platform, "page_size": 1}, PAGED_WALK))
        assert paged == order[:PAGED_WALK], \
            f"walking one group suggestion per page must give the list in the same order, each once: {paged} vs {order}"
    mine = [s for s in listed if str(s.get("group_id")) == str(group) and s.get("program_key") == program]
    with check("CAT-SUGG-011"):
        again = suggestion_of(expect_status(again_answer, 200, 201, why="suggesting the same program to the group"))
        assert again.get("id") == plain.get("id"), \
            f"suggesting {program} to group {group} again must update {plain.get('id')}, not add {again.get('id')}"
        needs(listing)
        assert ids_of(mine) == [plain.get("id")], f"one group suggestion for ({group}, {program}) must be listed: {mine}"
        assert mine[0].get("metadata") == {"again": True}, f"the update must apply the new metadata: {mine[0]}"

    with check("CAT-SUGG-004"):
        strictly("asc", ids_of(_listed(admin, platform)), "group suggestions without sort")
        _, page = first_page(admin, GROUP_SUGGESTIONS, {"platform_key": platform})
        strictly("asc", ids_of(page), "the first page of group suggestions without sort")

    for made in (plain, flagged):
        with check("CAT-SUGG-012"):
            needs(listing)
            shown = next((s for s in listed if s.get("id") == made.get("id")), None)
            assert shown is not None, f"the group suggestion {made.get('id')} is not listed"
            members = _members(admin, platform, shown.get("group_id"))
            assert shown.get("user_count") == members, \
                f"group {shown.get('group_id')} has {members} members; its suggestion says user_count " \
                f"{shown.get('user_count')!r}"

    with check("CAT-SUGG-013"):
        # platform_org (the same platform) and department_mode (its published default) are parameters of the DELETE
        expect_status(admin.delete(GROUP_SUGGESTIONS, params={"platform_key": platform, "platform_org": settings.org,
                                                              "department_mode": "false",
                                                              "suggestion_id": flagged.get("id")}),
                      200, why="deleting an existing group suggestion")
        left = ids_of(_listed(admin, platform))
        assert flagged.get("id") not in left, f"deleted group suggestion {flagged.get('id')} is still listed"
        assert plain.get("id") in left, f"deleting {flagged.get('id')} also removed {plain.get('id')}"


@pytest.mark.requirement("CAT-SUGG-003")
def test_group_suggestion_query(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    platform = settings.platform_key
    (group, program), (other_group, other_program) = _pairs(objects, 2)
    one = _made(_suggest(admin, objects, platform, group, program))
    two = _made(_suggest(admin, objects, platform, other_group, other_program))

    hits = {}
    # which fields the term is matched against is not documented: its program key or its group name must do
    for term in (t for t in (program, one.get("group_name")) if isinstance(t, str) and t):
        hits[term] = found = ids_of(_listed(admin, platform, query=term))
        fields = " ".join(str(two.get(k, "")) for k in ("program_key", "group_name", "program_name")).lower()
        if term.lower() not in fields:
            assert two.get("id") not in found, f"query={term!r} must not return {two.get('id')}, which it does not match"
    assert any(one.get("id") in found for found in hits.values()), \
        f"neither its program key nor its group name finds group suggestion {one.get('id')}: {hits}"
    nothing = f"conformance-{objects.ledger.run_id}-matches-nothing"
    body, results = first_page(admin, GROUP_SUGGESTIONS, {"platform_key": platform, "query": nothing})
    assert results == [] and body["count"] == 0, f"query={nothing!r} must match nothing; it returned {ids_of(results)}"


@pytest.mark.requirement("CAT-SUGG-002", "CAT-SUGG-007", "CAT-SUGG-008", "CAT-SUGG-009", "CAT-SUGG-014",
                         "CAT-SUGG-015", "CAT-SUGG-016", "CAT-SUGG-017")
def test_group_suggestion_refusals(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    platform = settings.platform_key
    with check("CAT-SUGG-002"):
        expect_refused(admin.get(GROUP_SUGGESTIONS), "platform_key is required")
    ((group, program),) = _pairs(objects, 1)
    held = _made(_suggest(admin, objects, platform, group, program))

    valid = {"platform_key": platform, "program_key": program, "group_id": group}
    cases = [
        ("CAT-SUGG-007", "without platform_key", {k: v for k, v in valid.items() if k != "platform_key"}, {}),
        ("CAT-SUGG-008", "without program_key", {k: v for k, v in valid.items() if k != "program_key"}, None),
        ("CAT-SUGG-009", "without group_id", {k: v for k, v in valid.items() if k != "group_id"}, None),
        ("CAT-SUGG-017", "naming a group that does not exist", {**valid, "group_id": UNKNOWN_ID}, None),
        ("CAT-SUGG-017", "naming a program that does not exist",
         {**valid, "program_key": f"program-v1:conformance+{objects.ledger.run_id}+none"}, None),
    ]
    for requirement, label, body, params in cases:
        with check(requirement):
            before = _listed(admin, platform)
            exchange = suggest(admin, objects, GROUP_SUGGESTIONS, "group_suggestion", body,
                               params if params is not None else {"platform_key": platform})
            expect_refused(exchange, f"a group suggestion {label}")
            assert _listed(admin, platform) == before, f"a refused group suggestion {label} must change nothing"

    with check("CAT-SUGG-014"):
        expect_refused(admin.delete(GROUP_SUGGESTIONS, params={"platform_key": platform}), "suggestion_id is required")
    with check("CAT-SUGG-015"):
        expect_refused(admin.delete(GROUP_SUGGESTIONS, params={"suggestion_id": held.get("id")}),
                       "platform_key is required")
        assert held.get("id") in ids_of(_listed(admin, platform)), \
            f"a refused DELETE removed group suggestion {held.get('id')}"
    with check("CAT-SUGG-016"):
        expect_status(admin.delete(GROUP_SUGGESTIONS, params={"platform_key": platform, "suggestion_id": UNKNOWN_ID}),
                      404, why="no such group suggestion")
