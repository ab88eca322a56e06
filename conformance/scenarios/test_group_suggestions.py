"""Program suggestions for groups: create-or-update, user_count, list (query, order, pages), delete."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios._sugcred_helpers import (
    GROUP_SUGGESTIONS,
    RBAC_GROUPS,
    UNKNOWN_ID,
    every,
    expect_refused,
    first_page,
    ids_of,
    remember,
    strictly,
)
from conformance.scenarios.support import expect_status, need, walk_pages


def _listed(admin: ApiClient, platform: str, **params: Any) -> list[dict[str, Any]]:
    return every(admin, GROUP_SUGGESTIONS, {"platform_key": platform, **params})


def _members(admin: ApiClient, platform: str, group_id: int) -> int:
    """How many users the group has, as the RBAC groups list shows them."""
    found = [g for g in walk_pages(admin, RBAC_GROUPS, {"platform_key": platform, "page_size": 100})
             if g.get("id") == group_id]
    assert len(found) == 1, f"group {group_id} must be listed once by {RBAC_GROUPS}; found {len(found)}"
    users = found[0].get("users")
    assert isinstance(users, list), f"the RBAC group {group_id} shows no users list: {found[0]}"
    return len(users)


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SUGG-001", "CAT-SUGG-004", "CAT-SUGG-006", "CAT-SUGG-010", "CAT-SUGG-011",
                         "CAT-SUGG-012", "CAT-SUGG-013")
def test_group_suggestion_lifecycle(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                    settings: Settings) -> None:
    platform = settings.platform_key
    group, other_group = need(fixtures.group_ids, 2, "group_ids")
    (program,) = need(fixtures.program_keys, 1, "program_keys")

    plain = objects.group_suggestion(group, program)
    assert (plain.get("group_id"), plain.get("program_key"), plain.get("platform_key")) == (group, program, platform)
    assert (plain.get("accepted"), plain.get("visible")) == (False, True), \
        f"a group suggestion sent without accepted/visible must be not accepted and visible; it is {plain}"
    metadata = {"conformance": objects.ledger.run_id}
    flagged = objects.group_suggestion(other_group, program, accepted=True, visible=False, metadata=metadata)
    got = (flagged.get("accepted"), flagged.get("visible"), flagged.get("metadata"))
    assert got == (True, False, metadata), f"the group suggestion must carry the values sent; it carries {got}"

    again = objects.group_suggestion(group, program, metadata={"again": True})
    assert again.get("id") == plain["id"], \
        f"suggesting {program} to group {group} again must update {plain['id']}, not add {again.get('id')}"
    listed = _listed(admin, platform)
    mine = [s for s in listed if s.get("group_id") == group and s.get("program_key") == program]
    assert ids_of(mine) == [plain["id"]], f"one group suggestion for ({group}, {program}) must be listed: {mine}"
    assert mine[0].get("metadata") == {"again": True}, f"the update must apply the new metadata: {mine[0]}"
    strangers = [s.get("platform_key") for s in listed if s.get("platform_key") != platform]
    assert not strangers, f"platform_key={platform} listed group suggestions of other platforms: {strangers}"

    order = ids_of(listed)
    strictly("asc", order, "group suggestions without sort")
    _, page = first_page(admin, GROUP_SUGGESTIONS, {"platform_key": platform})
    strictly("asc", ids_of(page), "the first page of group suggestions without sort")
    paged = ids_of(every(admin, GROUP_SUGGESTIONS, {"platform_key": platform, "page_size": 1}))
    assert paged == order, f"walking one group suggestion per page must give the whole list once: {paged} vs {order}"

    for suggestion in (mine[0], next(s for s in listed if s.get("id") == flagged["id"])):
        members = _members(admin, platform, suggestion["group_id"])
        assert suggestion.get("user_count") == members, \
            f"group {suggestion['group_id']} has {members} members; its suggestion says user_count " \
            f"{suggestion.get('user_count')!r}"

    expect_status(admin.delete(GROUP_SUGGESTIONS, params={"platform_key": platform, "suggestion_id": flagged["id"]}),
                  200, why="deleting an existing group suggestion")
    left = ids_of(_listed(admin, platform))
    assert flagged["id"] not in left, f"deleted group suggestion {flagged['id']} is still listed"
    assert plain["id"] in left, f"deleting {flagged['id']} also removed {plain['id']}"


@pytest.mark.requirement("CAT-SUGG-003")
def test_group_suggestion_query(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    platform = settings.platform_key
    group, other_group = need(fixtures.group_ids, 2, "group_ids")
    program, other_program = need(fixtures.program_keys, 2, "program_keys")
    one = objects.group_suggestion(group, program)
    two = objects.group_suggestion(other_group, other_program)

    hits = {}
    for term in (program, one.get("group_name")):
        assert isinstance(term, str) and term, f"the group suggestion shows no group_name: {one}"
        hits[term] = found = ids_of(_listed(admin, platform, query=term))
        fields = " ".join(str(two.get(k, "")) for k in ("program_key", "group_name", "program_name")).lower()
        if term.lower() not in fields:
            assert two["id"] not in found, f"query={term!r} must not return {two['id']}, which it does not match"
    # which fields the term is matched against is not documented: its program key or its group name must do
    assert any(one["id"] in found for found in hits.values()), \
        f"neither its program key nor its group name finds group suggestion {one['id']}: {hits}"
    nothing = f"conformance-{objects.ledger.run_id}-matches-nothing"
    body, results = first_page(admin, GROUP_SUGGESTIONS, {"platform_key": platform, "query": nothing})
    assert results == [] and body["count"] == 0, f"query={nothing!r} must match nothing; it returned {ids_of(results)}"


@pytest.mark.requirement("CAT-SUGG-002", "CAT-SUGG-007", "CAT-SUGG-008", "CAT-SUGG-009", "CAT-SUGG-014",
                         "CAT-SUGG-015", "CAT-SUGG-016", "CAT-SUGG-017")
def test_group_suggestion_refusals(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                   settings: Settings) -> None:
    platform = settings.platform_key
    (group,) = need(fixtures.group_ids, 1, "group_ids")
    (program,) = need(fixtures.program_keys, 1, "program_keys")
    expect_refused(admin.get(GROUP_SUGGESTIONS), "platform_key is required")
    held = objects.group_suggestion(group, program)

    valid = {"platform_key": platform, "program_key": program, "group_id": group}
    cases = [
        ("without platform_key", {k: v for k, v in valid.items() if k != "platform_key"}, {}),
        ("without program_key", {k: v for k, v in valid.items() if k != "program_key"}, {"platform_key": platform}),
        ("without group_id", {k: v for k, v in valid.items() if k != "group_id"}, {"platform_key": platform}),
        ("naming a group that does not exist", {**valid, "group_id": UNKNOWN_ID}, {"platform_key": platform}),
        ("naming a program that does not exist",
         {**valid, "program_key": f"program-v1:conformance+{objects.ledger.run_id}+none"}, {"platform_key": platform}),
    ]
    before = _listed(admin, platform)
    for label, body, params in cases:
        exchange = admin.post(GROUP_SUGGESTIONS, body, params=params)
        if exchange.status in (200, 201) and isinstance(exchange.json(), dict) and "id" in exchange.json():
            if exchange.json()["id"] != held["id"]:
                remember(objects, "group_suggestion", platform_key=platform, suggestion_id=exchange.json()["id"])
        expect_refused(exchange, f"a group suggestion {label}")

    expect_refused(admin.delete(GROUP_SUGGESTIONS, params={"platform_key": platform}), "suggestion_id is required")
    expect_refused(admin.delete(GROUP_SUGGESTIONS, params={"suggestion_id": held["id"]}), "platform_key is required")
    expect_status(admin.delete(GROUP_SUGGESTIONS, params={"platform_key": platform, "suggestion_id": UNKNOWN_ID}),
                  404, why="no such group suggestion")
    assert _listed(admin, platform) == before, "refused requests must leave the group suggestions as they were"
