"""Program suggestions for users: create-or-update, defaults, list (query, order, pages), delete.

Every suggestion a test creates is for a (user, program) pair that holds no suggestion on the target yet
(`fresh_pairs`): a pair that already holds one would be updated, not created, and the target's own
suggestions are never touched.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
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
from conformance.scenarios.paths import RBAC_GROUPS, SUGGESTIONS
from conformance.scenarios.suggestions import UNKNOWN_ID, fresh_user_pairs, suggest, suggestion_of, suggestions_for

PAGED_WALK = 20  # how many one-item pages the page walk compares (bounded on targets with many suggestions)


def _listed(admin: ApiClient, platform: str, **params: Any) -> list[dict[str, Any]]:
    return every(admin, SUGGESTIONS, {"platform_key": platform, **params})


def _suggest(admin: ApiClient, objects: Objects, platform: str, user: Any, program: str,
             params: dict[str, Any] | None = None, **fields: Any) -> Exchange:
    body = {"platform_key": platform, "program_key": program, "user_id": str(user), **fields}
    return suggest(admin, objects, SUGGESTIONS, "program_suggestion", body, params)


def _identity(admin: ApiClient, settings: Settings, user: Any, made: dict[str, Any]) -> dict[str, Any]:
    """The user's username (as the suggestion shows it) and email (as an RBAC group of the platform lists it), to be
    sent with user_id; what the target does not show is not sent."""
    username = made.get("username")
    fields: dict[str, Any] = {"username": username} if isinstance(username, str) and username else {}
    try:
        for group in walk_pages(admin, RBAC_GROUPS, {"platform_key": settings.platform_key, "include_users": "true"}):
            for member in [m for m in group.get("users") or [] if isinstance(m, dict)]:
                email = member.get("email")
                if str(member.get("id")) == str(user) and isinstance(email, str) and email:
                    return {**fields, "email": email}
    except AssertionError:
        pass  # the group list is another requirement's evidence: without it the email is not sent
    return fields


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SUG-001", "CAT-SUG-004", "CAT-SUG-006", "CAT-SUG-010", "CAT-SUG-012", "CAT-SUG-013")
def test_suggestion_is_created_once_then_updated(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                                 settings: Settings) -> None:
    platform = settings.platform_key
    (first, program), (second, other_program) = fresh_user_pairs(admin, settings, fixtures, 2)

    answer = _suggest(admin, objects, platform, first, program)
    with check("CAT-SUG-006"):
        made = suggestion_of(expect_status(answer, 200, 201, why="suggesting a program to a user"))
        shown = (made.get("platform_key"), made.get("program_key"), str(made.get("user_id")))
        assert shown == (platform, program, str(first)), \
            f"the suggestion must be for ({platform}, {program}, user {first}); it is for {shown}"
    made = suggestion_of(setup(answer, "suggesting a program to a user", 200, 201))
    with check("CAT-SUG-010"):
        assert (made.get("accepted"), made.get("visible")) == (False, True), \
            f"a suggestion sent without accepted/visible must be not accepted and visible; it is {made}"

    metadata = {"conformance": objects.ledger.run_id, "reason": "update"}
    # the same user named by user_id, username and email, the platform by platform_key and platform_org, direct and
    # department_mode their published defaults, suggested_by a user's name: none changes which suggestion is updated
    identity = _identity(admin, settings, first, made)
    extra = {"direct": True, "department_mode": False, "platform_org": settings.org, **identity,
             **({"suggested_by": identity["username"]} if "username" in identity else {})}
    query = {"platform_key": platform, "platform_org": settings.org, "department_mode": "false"}
    again_answer = _suggest(admin, objects, platform, first, program, query, accepted=True, visible=False,
                            metadata=metadata, **extra)
    listed: list[dict[str, Any]] = []
    with check("CAT-SUG-001") as listing:
        listed = _listed(admin, platform)
        strangers = [s.get("platform_key") for s in listed if s.get("platform_key") != platform]
        assert not strangers, f"platform_key={platform} listed suggestions of other platforms: {strangers}"
        by_org = ids_of(_listed(admin, platform, platform_org=settings.org))
        assert by_org == ids_of(listed), f"platform_org={settings.org} names the same platform: {by_org} vs {ids_of(listed)}"
    mine = suggestions_for(listed, first, program)
    with check("CAT-SUG-012") as updated:
        again = suggestion_of(expect_status(again_answer, 200, 201, why="suggesting the same program again"))
        assert again.get("id") == made.get("id"), \
            f"suggesting {program} to user {first} again must update suggestion {made.get('id')}, " \
            f"not add {again.get('id')}"
        needs(listing)
        assert ids_of(mine) == [made.get("id")], \
            f"the list must hold one suggestion for (user {first}, {program}): {mine}"
    with check("CAT-SUG-013"):
        needs(updated)
        for shown_item in (suggestion_of(again_answer), mine[0]):
            assert (shown_item.get("accepted"), shown_item.get("visible"), shown_item.get("metadata")) == \
                   (True, False, metadata), f"accepted, visible and metadata sent must be stored; got {shown_item}"
            assert shown_item.get("direct", True) is True, f"direct sent as true must be stored; got {shown_item}"

    newer = suggestion_of(setup(_suggest(admin, objects, platform, second, other_program),
                                "suggesting a second program", 200, 201))
    with check("CAT-SUG-004"):
        _, page = first_page(admin, SUGGESTIONS, {"platform_key": platform})
        strictly("desc", ids_of(page), "the first page of program suggestions without sort")
        order = ids_of(_listed(admin, platform))
        strictly("desc", order, "program suggestions without sort")
        absent = [i for i in (made.get("id"), newer.get("id")) if i not in order]
        assert not absent, f"the suggestions {absent} made by the test are not listed: {order}"


@pytest.mark.requirement("CAT-SUG-001", "CAT-SUG-003")
def test_suggestion_query_and_pages(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                    settings: Settings) -> None:
    platform = settings.platform_key
    (first, program), (second, other_program) = fresh_user_pairs(admin, settings, fixtures, 2)
    one = suggestion_of(setup(_suggest(admin, objects, platform, first, program), "suggesting a program", 200, 201))
    two = suggestion_of(setup(_suggest(admin, objects, platform, second, other_program), "suggesting a program",
                              200, 201))

    with check("CAT-SUG-003"):
        hits = {}
        # which fields the term is matched against is not documented: its program key or its username must do
        for term in (t for t in (program, one.get("username")) if isinstance(t, str) and t):
            hits[term] = found = ids_of(_listed(admin, platform, query=term))
            if term.lower() not in " ".join(str(two.get(k, "")) for k in ("program_key", "username", "name")).lower():
                assert two.get("id") not in found, \
                    f"query={term!r} must not return {two.get('id')}, which it does not match"
        assert any(one.get("id") in found for found in hits.values()), \
            f"neither its program key nor its username finds suggestion {one.get('id')}: {hits}"
        nothing = f"conformance-{objects.ledger.run_id}-matches-nothing"
        body, results = first_page(admin, SUGGESTIONS, {"platform_key": platform, "query": nothing})
        assert results == [] and body["count"] == 0, \
            f"query={nothing!r} must match nothing; it returned {ids_of(results)}"

    with check("CAT-SUG-001"):
        whole = ids_of(_listed(admin, platform))
        paged = ids_of(first_items(admin, SUGGESTIONS, {"platform_key": platform, "page_size": 1}, PAGED_WALK))
        assert paged == whole[:PAGED_WALK], \
            f"walking one suggestion per page must give the list in the same order, each once: {paged} vs {whole}"


@pytest.mark.requirement("CAT-SUG-014", "CAT-SUG-015", "CAT-SUG-016")
def test_suggestion_delete(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    platform = settings.platform_key
    (first, program), (second, other_program) = fresh_user_pairs(admin, settings, fixtures, 2)
    gone = suggestion_of(setup(_suggest(admin, objects, platform, first, program), "suggesting a program", 200, 201))
    kept = suggestion_of(setup(_suggest(admin, objects, platform, second, other_program), "suggesting a program",
                               200, 201))

    with check("CAT-SUG-015"):
        expect_refused(admin.delete(SUGGESTIONS, params={"platform_key": platform}), "suggestion_id is required")
    with check("CAT-SUG-014") as deleted:
        # platform_org (the same platform) and department_mode (its published default) are parameters of the DELETE
        expect_status(admin.delete(SUGGESTIONS, params={"platform_key": platform, "platform_org": settings.org,
                                                        "department_mode": "false", "suggestion_id": gone.get("id")}),
                      200, why="deleting an existing suggestion")
        left = ids_of(_listed(admin, platform))
        assert gone.get("id") not in left, f"deleted suggestion {gone.get('id')} is still listed"
        assert kept.get("id") in left, f"deleting {gone.get('id')} also removed {kept.get('id')}"
    with check("CAT-SUG-016"):
        expect_status(admin.delete(SUGGESTIONS, params={"platform_key": platform, "suggestion_id": UNKNOWN_ID}), 404,
                      why=f"suggestion {UNKNOWN_ID} does not exist")
    with check("CAT-SUG-016"):
        needs(deleted)
        expect_status(admin.delete(SUGGESTIONS, params={"platform_key": platform, "suggestion_id": gone.get("id")}),
                      404, why=f"suggestion {gone.get('id')} was deleted")


@pytest.mark.requirement("CAT-SUG-002", "CAT-SUG-007", "CAT-SUG-008", "CAT-SUG-009", "CAT-SUG-017")
def test_suggestion_refusals(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    platform = settings.platform_key
    with check("CAT-SUG-002"):
        expect_refused(admin.get(SUGGESTIONS), "platform_key is required")

    # a free pair: a body wrongly accepted creates a suggestion of the test's own, never updates the target's
    ((user, program),) = fresh_user_pairs(admin, settings, fixtures, 1)
    valid = {"platform_key": platform, "program_key": program, "user_id": str(user)}
    cases = [
        ("CAT-SUG-007", "without platform_key", {k: v for k, v in valid.items() if k != "platform_key"}, {}),
        ("CAT-SUG-008", "without program_key", {k: v for k, v in valid.items() if k != "program_key"}, None),
        ("CAT-SUG-009", "without any user", {k: v for k, v in valid.items() if k != "user_id"}, None),
        ("CAT-SUG-017", "naming a user that does not exist", {**valid, "user_id": str(UNKNOWN_ID)}, None),
        ("CAT-SUG-017", "naming a program that does not exist",
         {**valid, "program_key": f"program-v1:conformance+{objects.ledger.run_id}+none"}, None),
    ]
    for requirement, label, body, params in cases:
        with check(requirement):
            before = ids_of(_listed(admin, platform))
            exchange = suggest(admin, objects, SUGGESTIONS, "program_suggestion", body,
                               params if params is not None else {"platform_key": platform})
            expect_refused(exchange, f"a program suggestion {label}")
            assert ids_of(_listed(admin, platform)) == before, f"a refused suggestion {label} must store nothing"
