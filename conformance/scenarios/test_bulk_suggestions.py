"""Bulk program suggestions: successes counts what was stored, bad items fail alone, defaults apply."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios._sugcred_helpers import (
    BULK_SUGGESTIONS,
    SUGGESTIONS,
    UNKNOWN_ID,
    every,
    expect_refused,
    remember,
)
from conformance.scenarios.support import expect_status, need


def _listed(admin: ApiClient, platform: str) -> list[dict[str, Any]]:
    return every(admin, SUGGESTIONS, {"platform_key": platform})


def _one_for(items: list[dict[str, Any]], user: int, program: str) -> list[dict[str, Any]]:
    return [s for s in items if s.get("user_id") == user and s.get("program_key") == program]


def _post(admin: ApiClient, objects: Objects, platform: str, items: Any) -> Exchange:
    """A bulk POST; every suggestion for the items' (user, program) pairs is written into the cleanup ledger."""
    before = {s.get("id") for s in _listed(admin, platform)}
    exchange = admin.post(BULK_SUGGESTIONS, {"platform_key": platform, "suggestion_data": items})
    for suggestion in _listed(admin, platform):
        if suggestion.get("id") not in before:
            remember(objects, "program_suggestion", platform_key=platform, suggestion_id=suggestion["id"])
    return exchange


def _outcome(exchange: Exchange) -> tuple[int, list[Any]]:
    body = expect_status(exchange, 200, why="a bulk suggestion request").json()
    assert isinstance(body, dict) and isinstance(body.get("successes"), int) \
        and isinstance(body.get("error_codes"), list), \
        f"a bulk answer must carry an integer successes and an error_codes list\n{exchange.describe()}"
    return body["successes"], body["error_codes"]


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SUGB-001", "CAT-SUGB-005", "CAT-SUGB-007", "CAT-SUGB-008")
def test_bulk_stores_every_valid_item(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                      settings: Settings) -> None:
    platform = settings.platform_key
    first, second = need(fixtures.user_ids, 2, "user_ids")
    (program,) = need(fixtures.program_keys, 1, "program_keys")
    metadata = {"conformance": objects.ledger.run_id, "via": "bulk"}
    items = [{"program_key": program, "user_id": str(first)},
             {"program_key": program, "user_id": second, "accepted": True, "visible": False, "metadata": metadata}]

    successes, errors = _outcome(_post(admin, objects, platform, items))
    assert (successes, errors) == (2, []), f"two valid items: expected successes 2 and no error_codes, " \
                                           f"got successes {successes}, error_codes {errors}"
    listed = _listed(admin, platform)
    plain, flagged = _one_for(listed, first, program), _one_for(listed, second, program)
    assert len(plain) == 1 and len(flagged) == 1, \
        f"each item must be stored once; found {len(plain)} and {len(flagged)} suggestion(s)"
    assert (plain[0].get("accepted"), plain[0].get("visible")) == (False, True), \
        f"an item without accepted/visible must be stored not accepted and visible; it is {plain[0]}"
    got = (flagged[0].get("accepted"), flagged[0].get("visible"), flagged[0].get("metadata"))
    assert got == (True, False, metadata), f"accepted, visible and metadata of the item must be stored; got {got}"


@pytest.mark.requirement("CAT-SUGB-001", "CAT-SUGB-006")
def test_bulk_bad_items_fail_alone(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                   settings: Settings) -> None:
    platform = settings.platform_key
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    program, other_program = need(fixtures.program_keys, 2, "program_keys")
    bad = [{"user_id": str(user)},
           {"program_key": program},
           {"program_key": program, "user_id": str(UNKNOWN_ID)},
           {"program_key": f"program-v1:conformance+{objects.ledger.run_id}+none", "user_id": str(user)}]
    items = [{"program_key": program, "user_id": str(user)}, *bad, {"program_key": other_program, "user_id": user}]

    successes, errors = _outcome(_post(admin, objects, platform, items))
    assert successes == 2, f"two of {len(items)} items are valid; successes is {successes}"
    assert errors and all(isinstance(code, str) for code in errors), \
        f"the failed items must be reported in error_codes as strings; error_codes is {errors}"
    listed = _listed(admin, platform)
    for good in (program, other_program):
        assert len(_one_for(listed, user, good)) == 1, \
            f"the valid item ({user}, {good}) must be stored despite the bad ones"
    unknown = [s for s in listed if s.get("user_id") == UNKNOWN_ID or "conformance+" in str(s.get("program_key"))]
    assert not unknown, f"bad items were stored: {unknown}"


@pytest.mark.requirement("CAT-SUGB-002", "CAT-SUGB-003", "CAT-SUGB-004")
def test_bulk_refusals(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    platform = settings.platform_key
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    (program,) = need(fixtures.program_keys, 1, "program_keys")
    before = {s.get("id") for s in _listed(admin, platform)}

    cases = [("without platform_key", {"suggestion_data": [{"program_key": program, "user_id": str(user)}]}),
             ("without suggestion_data", {"platform_key": platform}),
             ("with a string as suggestion_data", {"platform_key": platform, "suggestion_data": "not-a-list"}),
             ("with an object as suggestion_data",
              {"platform_key": platform, "suggestion_data": {"program_key": program, "user_id": str(user)}})]
    for label, body in cases:
        exchange = admin.post(BULK_SUGGESTIONS, body)
        expect_refused(exchange, f"a bulk suggestion request {label}")
    after = _listed(admin, platform)
    for suggestion in after:
        if suggestion.get("id") not in before:
            remember(objects, "program_suggestion", platform_key=platform, suggestion_id=suggestion["id"])
    stored = [s.get("id") for s in after if s.get("id") not in before]
    assert not stored, f"refused bulk requests stored suggestions {stored}"
