"""Bulk program suggestions: successes counts what was stored, bad items fail alone, defaults apply.

Valid items name (user, program) pairs that hold no suggestion on the target yet (`fresh_pairs`), so every
valid item creates a suggestion of the test's own.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import every, expect_refused, expect_status
from conformance.scenarios.paths import BULK_SUGGESTIONS, SUGGESTIONS
from conformance.scenarios.suggestions import UNKNOWN_ID, fresh_user_pairs, remember, suggestions_for


def _listed(admin: ApiClient, platform: str) -> list[dict[str, Any]]:
    return every(admin, SUGGESTIONS, {"platform_key": platform})


def _post(admin: ApiClient, objects: Objects, platform: str, body: dict[str, Any]) -> tuple[Exchange, list[Any]]:
    """A bulk POST, and the ids of the suggestions it added (written into the cleanup ledger)."""
    before = {s.get("id") for s in _listed(admin, platform)}
    exchange = admin.post(BULK_SUGGESTIONS, body)
    added = [s.get("id") for s in _listed(admin, platform) if s.get("id") not in before]
    for suggestion_id in added:
        remember(objects, "program_suggestion", platform_key=platform, suggestion_id=suggestion_id)
    return exchange, added


def _outcome(exchange: Exchange) -> tuple[int, list[Any]]:
    """(successes, error_codes) of a bulk answer (200 published; 201 also accepted for a POST)."""
    body = expect_status(exchange, 200, 201, why="a bulk suggestion request").json()
    assert isinstance(body, dict) and isinstance(body.get("successes"), int) \
        and isinstance(body.get("error_codes"), list), \
        f"a bulk answer must carry an integer successes and an error_codes list\n{exchange.describe()}"
    return body["successes"], body["error_codes"]


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SUGB-001", "CAT-SUGB-005", "CAT-SUGB-007", "CAT-SUGB-008")
def test_bulk_stores_every_valid_item(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                      settings: Settings) -> None:
    platform = settings.platform_key
    (first, program), (second, other_program) = fresh_user_pairs(admin, settings, fixtures, 2)
    metadata = {"conformance": objects.ledger.run_id, "via": "bulk"}
    items = [{"program_key": program, "user_id": str(first)},
             {"program_key": other_program, "user_id": second, "accepted": True, "visible": False,
              "metadata": metadata}]

    # platform_org names the platform of platform_key; department_mode is its published default
    body = {"platform_key": platform, "platform_org": settings.org, "department_mode": False, "suggestion_data": items}
    exchange, _ = _post(admin, objects, platform, body)
    with check("CAT-SUGB-001") as answered:
        successes, errors = _outcome(exchange)
    with check("CAT-SUGB-005"):
        needs(answered)
        assert (successes, errors) == (2, []), f"two valid items: expected successes 2 and no error_codes, " \
                                               f"got successes {successes}, error_codes {errors}"
    listed = _listed(admin, platform)
    plain, flagged = suggestions_for(listed, first, program), suggestions_for(listed, second, other_program)
    with check("CAT-SUGB-007"):
        assert len(plain) == 1, f"the item ({first}, {program}) must be stored once; found {plain}"
        assert (plain[0].get("accepted"), plain[0].get("visible")) == (False, True), \
            f"an item without accepted/visible must be stored not accepted and visible; it is {plain[0]}"
    with check("CAT-SUGB-008"):
        assert len(flagged) == 1, f"the item ({second}, {other_program}) must be stored once; found {flagged}"
        got = (flagged[0].get("accepted"), flagged[0].get("visible"), flagged[0].get("metadata"))
        assert got == (True, False, metadata), f"accepted, visible and metadata of the item must be stored; got {got}"


def _bad_items(user: Any, program: str, run_id: str) -> list[dict[str, Any]]:
    """Items that cannot be stored: no user, no program, an unknown user, an unknown program."""
    return [{"user_id": str(user)},
            {"program_key": program},
            {"program_key": program, "user_id": str(UNKNOWN_ID)},
            {"program_key": f"program-v1:conformance+{run_id}+none", "user_id": str(user)}]


@pytest.mark.requirement("CAT-SUGB-001", "CAT-SUGB-006")
def test_bulk_bad_items_fail_alone(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                   settings: Settings) -> None:
    """Readings: the bad items are reported in error_codes while the valid ones are stored (200), or the whole
    request is refused (400: 'required parameters missing or invalid') and nothing is stored."""
    platform = settings.platform_key
    (user, program), (other_user, other_program) = fresh_user_pairs(admin, settings, fixtures, 2)
    valid = [{"program_key": program, "user_id": str(user)}, {"program_key": other_program, "user_id": other_user}]
    items = [valid[0], *_bad_items(user, program, objects.ledger.run_id), valid[1]]

    exchange, added = _post(admin, objects, platform, {"platform_key": platform, "suggestion_data": items})
    with check("CAT-SUGB-001"):
        expect_status(exchange, 200, 201, 400, why="a bulk request with bad items: partly stored, or refused")
        if exchange.status != 400:
            _outcome(exchange)
    with check("CAT-SUGB-006"):
        if exchange.status == 400:
            assert not added, f"a bulk request refused with 400 stored suggestions {added}"
        else:
            _valid_items_stored_alone(admin, platform, exchange, valid, len(items))


def _valid_items_stored_alone(admin: ApiClient, platform: str, exchange: Exchange, valid: list[dict[str, Any]],
                              sent: int) -> None:
    """Assert the valid items were stored and counted, the bad ones reported in error_codes and not stored."""
    successes, errors = _outcome(exchange)
    assert successes == len(valid), f"{len(valid)} of {sent} items are valid; successes is {successes}"
    assert errors and all(isinstance(code, str) for code in errors), \
        f"the failed items must be reported in error_codes as strings; error_codes is {errors}"
    listed = _listed(admin, platform)
    for item in valid:
        assert len(suggestions_for(listed, item["user_id"], item["program_key"])) == 1, \
            f"the valid item {item} must be stored despite the bad ones"
    unknown = [s for s in listed if str(s.get("user_id")) == str(UNKNOWN_ID) or "conformance+" in str(s.get("program_key"))]
    assert not unknown, f"bad items were stored: {unknown}"


@pytest.mark.requirement("CAT-SUGB-002", "CAT-SUGB-003", "CAT-SUGB-004")
def test_bulk_refusals(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    platform = settings.platform_key
    # a free pair: a request wrongly accepted creates a suggestion of the test's own, never updates the target's
    ((user, program),) = fresh_user_pairs(admin, settings, fixtures, 1)
    item = {"program_key": program, "user_id": str(user)}
    cases = [("CAT-SUGB-002", "without platform_key", {"suggestion_data": [item]}),
             ("CAT-SUGB-003", "without suggestion_data", {"platform_key": platform}),
             ("CAT-SUGB-004", "with a string as suggestion_data", {"platform_key": platform,
                                                                   "suggestion_data": "not-a-list"}),
             ("CAT-SUGB-004", "with an object as suggestion_data", {"platform_key": platform, "suggestion_data": item})]
    for requirement, label, body in cases:
        with check(requirement):
            exchange, added = _post(admin, objects, platform, body)
            expect_refused(exchange, f"a bulk suggestion request {label}")
            assert not added, f"a refused bulk request {label} stored suggestions {added}"
