"""Credentials of an org: create, retrieve, update, delete; the list, its pages and filters.

Every answer is accepted in both documented shapes: the prose envelope {"status", "result"} and the
bare shape of the published document (see `credential_of`). Only fields of the published Credential
schema are asserted on; `description` (prose only) is compared only where the target shows it, and a
PUT is only checked for the fields it sent (a PUT may replace the whole credential).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects, credential_of, credentials_path
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_refused, expect_status
from conformance.scenarios.licenses import instant
from conformance.scenarios.suggestions import remember
from conformance.verdicts import need, not_verified


def _user(fixtures: Fixtures) -> Any:
    return need(fixtures.user_ids, 1, "user_ids")[0]


def _answer(exchange: Exchange, description: str, *statuses: int) -> dict[str, Any]:
    """The credential of a success answer; in the envelope, status must be {success: true, description}."""
    body = expect_status(exchange, *(statuses or (200,))).json()
    if isinstance(body, dict) and "status" in body and "result" in body:
        status = body["status"]
        assert isinstance(status, dict) and status.get("success") is True \
            and status.get("description") == description, \
            f"{exchange.operation}: the envelope status must be {{success: true, description: {description!r}}}, " \
            f"it is {status!r}"
    credential = credential_of(body)
    assert isinstance(credential.get("credential_id"), str) and credential["credential_id"], \
        f"{exchange.operation}: the answer carries no credential_id\n{exchange.describe()}"
    return credential


def _page(exchange: Exchange) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the envelope's result, or None for a bare answer; the credentials listed)."""
    body = expect_status(exchange, 200, why="listing credentials").json()
    if isinstance(body, dict) and "status" in body and "result" in body:
        status, result = body["status"], body["result"]
        assert isinstance(status, dict) and status.get("success") is True and status.get("description") == "Ok", \
            f"the list envelope's status must be {{success: true, description: 'Ok'}}, it is {status!r}"
        assert isinstance(result, dict) and isinstance(result.get("data"), list), \
            f"the list envelope's result must carry a data array\n{exchange.describe()}"
        return result, result["data"]
    if isinstance(body, list):
        return None, body
    return None, [credential_of(body)]


def _ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item.get("credential_id") for item in items]


def _create(admin: ApiClient, objects: Objects, org: str, user: Any, body: dict[str, Any]) -> Exchange:
    """POST a credential body as given; whatever it creates is written into the cleanup ledger."""
    exchange = admin.post(credentials_path(org, user), body)
    if exchange.status in (200, 201):
        created = credential_of(exchange.json()).get("credential_id") or body.get("credential_id")
        if created:
            remember(objects, "credential", org=org, user_id=user, entity_id=created)
    return exchange


def _full_body(objects: Objects, **fields: Any) -> dict[str, Any]:
    name = objects.name("credential")
    return {"credential_id": name, "credential_url": f"https://credentials.example/{name}", "name": name,
            "revoked": False, "issuer": "conformance-issuer", **fields}


def _differing(shown: dict[str, Any], sent: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """credential_type, issued_on and expires_at as shown against as sent (shown, sent), where the answer shows them
    (none is required in the published Credential); the dates are compared as instants, so formats can differ."""
    differing: dict[str, tuple[Any, Any]] = {}
    for field in ("credential_type", "issued_on", "expires_at"):
        if field in shown and field in sent:
            same = instant(shown[field]) == instant(sent[field]) if field != "credential_type" else shown[field] == sent[field]
            if not same:
                differing[field] = (shown[field], sent[field])
    return differing


@pytest.mark.smoke
@pytest.mark.requirement("CRED-CRUD-001", "CRED-CRUD-004", "CRED-CRUD-008", "CRED-CRUD-009", "CRED-CRUD-010",
                         "CRED-CRUD-012", "CRED-CRUD-014", "CRED-CRUD-015", "CRED-LIST-001")
def test_credential_lifecycle(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    org, user = settings.org, _user(fixtures)
    # every field of the published Credential: credential_type, issued_on and expires_at are compared where shown
    body = _full_body(objects, description="made by the conformance suite", credential_type="certificate",
                      issued_on="2026-01-01T00:00:00Z", expires_at="2036-01-01T00:00:00Z")
    with check("CRED-CRUD-009"):
        expect_status(admin.get(credentials_path(org, user, f"{objects.name('credential')}-never-made")), 404,
                      why="no such credential")
    created_answer = _create(admin, objects, org, user, body)
    with check("CRED-CRUD-001"):
        created = _answer(created_answer, "Created", 200, 201)
        wrong = {k: (created.get(k), body[k]) for k in ("credential_id", "name") if created.get(k) != body[k]}
        wrong.update(_differing(created, body))
        assert not wrong, f"the created credential must carry the values sent; (got, sent): {wrong}"
    setup(created_answer, "creating a credential", 200, 201)  # a refused create fails CRED-CRUD-001 and ends the test
    entity = credential_of(created_answer.json()).get("credential_id") or body["credential_id"]
    path = credentials_path(org, user, entity)

    with check("CRED-LIST-001"):
        _, listed = _page(admin.get(credentials_path(org, user), params={"page_size": 100, "search": body["name"]}))
    with check("CRED-CRUD-004"):
        _, listed = _page(admin.get(credentials_path(org, user), params={"page_size": 100, "search": body["name"]}))
        assert entity in _ids(listed), f"the new credential {entity} is not in the org's list: {_ids(listed)}"
    with check("CRED-CRUD-008"):
        retrieved = _answer(admin.get(path), "Ok")
        assert retrieved.get("credential_id") == entity, f"retrieving {entity} answered another credential: {retrieved}"

    update = {**body, "name": f"{body['name']}-renamed", "description": "updated by the suite", "revoked": True,
              "credential_type": "badge", "expires_at": "2037-01-01T00:00:00Z"}
    with check("CRED-CRUD-010"):
        updated = _answer(admin.put(path, update), "Updated", 200, 201)
        for shown in (updated, _answer(admin.get(path), "Ok")):
            got = (shown.get("name"), shown.get("revoked"))
            assert got == (update["name"], True), \
                f"the update must apply the name and revoked sent; the credential shows {got}"
            wrong = _differing(shown, update)
            assert not wrong, f"the update must apply the values sent; (shown, sent): {wrong}"

    with check("CRED-CRUD-014") as deleted:
        answer = expect_status(admin.delete(path), 204, why="deleting an existing credential")
        assert answer.text.strip() == "", f"DELETE must answer no content; it answered {answer.text[:100]!r}"
        expect_status(admin.get(path), 404, why="the credential was deleted")
    with check("CRED-CRUD-015"):
        needs(deleted)
        expect_status(admin.delete(path), 404, why="the credential is already gone")
    with check("CRED-CRUD-012"):
        needs(deleted)
        expect_status(admin.put(path, update), 404, why="updating a deleted credential")


@pytest.mark.requirement("CRED-CRUD-005")
def test_a_duplicate_credential_id_is_refused(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                              settings: Settings) -> None:
    """SHOULD: a credential_id already in the org is refused (implied by retrieval by entity_id; not stated)."""
    org, user = settings.org, _user(fixtures)
    held = _made(admin, objects, org, user, _full_body(objects))
    expect_refused(_create(admin, objects, org, user, {**_full_body(objects), "credential_id": held["credential_id"]}),
                   "the credential_id already exists in the org")


def _made(admin: ApiClient, objects: Objects, org: str, user: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The credential a setup POST created (the test is not verified when the server refuses it)."""
    created = credential_of(setup(_create(admin, objects, org, user, body), "creating a credential", 200, 201).json())
    return {**created, "credential_id": created.get("credential_id") or body.get("credential_id")}


# the fields a credential shows in the published schema; `description` is compared only where the target shows it
SHOWN_FIELDS = ("credential_id", "credential_url", "name", "revoked", "credential_type", "issuer", "issued_on",
                "expires_at", "description")


def _shown(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: credential[k] for k in SHOWN_FIELDS if k in credential}


def _held(admin: ApiClient, objects: Objects, settings: Settings, fixtures: Fixtures) \
        -> tuple[dict[str, Any], str, Any]:
    """A credential made for the test: (the body sent, its path, the user)."""
    org, user = settings.org, _user(fixtures)
    body = _full_body(objects, description="kept as it is")
    held = _made(admin, objects, org, user, body)
    return body, credentials_path(org, user, held["credential_id"]), user


def _current(admin: ApiClient, path: str) -> dict[str, Any]:
    """The credential at `path` as a setup read (not verified when the server does not show it)."""
    return credential_of(setup(admin.get(path), "retrieving the credential", 200).json())


# an unknown org: 404 is documented ("If the platform doesn't exist"), and so is 403 (reading forbidden-unknown)
UNKNOWN_ORG = (404, 403)


@pytest.mark.requirement("CRED-CRUD-002", "CRED-CRUD-006", "CRED-CRUD-007", "CRED-CRUD-013", "CRED-LIST-010")
def test_credential_refusals(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    """MUST: refused creates and updates (no name, wrong types, unknown org) change nothing."""
    held_body, path, user = _held(admin, objects, settings, fixtures)
    org = settings.org

    with check("CRED-CRUD-002"):
        expect_refused(_create(admin, objects, org, user, {k: v for k, v in _full_body(objects).items() if k != "name"}),
                       "a credential needs a name")
    # only fields of the published Credential schema: a server may ignore prose-only fields such as description
    for label, wrong in (("a number as name", {"name": 12345}), ("a string as revoked", {"revoked": "perhaps"})):
        with check("CRED-CRUD-006"):
            expect_refused(_create(admin, objects, org, user, {**_full_body(objects), **wrong}), f"invalid data: {label}")

    nowhere = f"conformance-{objects.ledger.run_id}-no-such-org"
    with check("CRED-CRUD-007"):
        expect_status(_create(admin, objects, nowhere, user, _full_body(objects)), *UNKNOWN_ORG,
                      why="the org does not exist")
    with check("CRED-LIST-010"):
        expect_status(admin.get(credentials_path(nowhere, user)), *UNKNOWN_ORG, why="the org does not exist")

    before = _shown(_current(admin, path))
    with check("CRED-CRUD-013"):
        for wrong in ({"name": 12345}, {"revoked": "perhaps"}):
            expect_refused(admin.put(path, {**held_body, **wrong}), f"invalid data in an update: {wrong}")
        after = _shown(credential_of(expect_status(admin.get(path), 200, why="retrieving the credential").json()))
        changed = {k: (before[k], after.get(k)) for k in before if after.get(k) != before[k]}
        assert not changed, f"refused updates changed the credential; (before, after): {changed}"


@pytest.mark.requirement("CRED-CRUD-003", "CRED-CRUD-011")
def test_credential_bodies_lacking_fields(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                          settings: Settings) -> None:
    """MAY: a body lacking the published required fields (or issuer), and a partial PUT, are accepted or refused;
    kept apart from the MUST refusals so a failure here is a warning."""
    held_body, path, user = _held(admin, objects, settings, fixtures)
    for label, dropped in (("credential_id, credential_url and revoked", ("credential_id", "credential_url", "revoked")),
                           ("issuer", ("issuer",))):
        with check("CRED-CRUD-003"):
            lacking = {k: v for k, v in _full_body(objects).items() if k not in dropped}
            exchange = _create(admin, objects, settings.org, user, lacking)
            expect_status(exchange, 200, 201, 400, why=f"a body lacking {label}: accepted or refused")
            if exchange.status != 400:
                assert credential_of(exchange.json()).get("name") == lacking["name"], \
                    f"an accepted body lacking {label} must create the credential named in it"

    with check("CRED-CRUD-011"):
        # only what was sent is asserted: a PUT may also replace the fields it does not send (credential-put-replaces)
        renamed = f"{held_body['name']}-partly"
        partial = admin.put(path, {"name": renamed})
        expect_status(partial, 200, 201, 400, why="a PUT of the name only: applied, or refused")
        after = credential_of(expect_status(admin.get(path), 200, why="retrieving the credential").json())
        expected = renamed if partial.status != 400 else held_body["name"]
        assert after.get("name") == expected, \
            f"a PUT of the name only must apply it (or change nothing when refused); the credential shows {after}"


def _token_credentials(admin: ApiClient, objects: Objects, org: str, user: Any, token: str, count: int) -> list[Any]:
    """`count` credentials named with `token`, made as setup."""
    return [_made(admin, objects, org, user, _full_body(objects, name=f"{token}-{n:02d}"))["credential_id"]
            for n in range(count)]


def _envelope(page: dict[str, Any] | None) -> dict[str, Any]:
    """Inside a check: the envelope's result, or not verified for the bare list shape (it carries no page fields)."""
    if page is None:
        not_verified("the target answers the bare credential list shape, which carries no page fields")
    return page


@pytest.mark.requirement("CRED-LIST-002", "CRED-LIST-003", "CRED-LIST-004", "CRED-LIST-005", "CRED-LIST-011",
                         "CRED-LIST-012")
def test_credential_list_pages(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    org, user = settings.org, _user(fixtures)
    token = objects.name("paged")
    made = _token_credentials(admin, objects, org, user, token, 11)
    collection = credentials_path(org, user)
    first, items = _page(setup(admin.get(collection, params={"search": token}), "listing credentials", 200))

    with check("CRED-LIST-004"):
        assert len(items) == 10, f"11 credentials match and no page_size is sent: expected 10, got {len(items)}"
    with check("CRED-LIST-003"):
        assert first is None or first.get("page_number") == 1, f"without page the first page is served; got {first}"
        _, again = _page(admin.get(collection, params={"search": token, "page": 1}))
        assert _ids(items) == _ids(again), "without page the list must serve page 1"
    with check("CRED-LIST-002"):
        result = _envelope(first)
        missing = [k for k in ("next", "previous", "count", "data", "num_pages", "page_number", "max_page_size")
                   if k not in result]
        assert not missing, f"the list envelope's result lacks {missing}: {sorted(result)}"
    with check("CRED-LIST-011"):
        result = _envelope(first)
        got = (result.get("count"), result.get("page_number"), result.get("num_pages"))
        assert got == (11, 1, 2), f"11 credentials, 10 a page: expected count 11, page_number 1, num_pages 2; got {got}"
        small, few = _page(admin.get(collection, params={"search": token, "page_size": 4, "page": 3}))
        got = (_envelope(small).get("num_pages"), small.get("page_number"), len(few))
        assert got == (3, 3, 3), f"page 3 of size 4 over 11 credentials: expected num_pages 3, page_number 3 and " \
                                 f"3 credentials; got {got}"
    with check("CRED-LIST-012"):
        _links_lead_to_adjacent_pages(admin, _envelope(first), items, made)
    with check("CRED-LIST-005"):
        if first is not None:
            assert first.get("max_page_size") == 100, f"max_page_size must be 100, it is {first.get('max_page_size')!r}"
        big = admin.get(collection, params={"page_size": 101})
        expect_status(big, 200, 400, why="page_size above the documented maximum 100: capped or refused")
        if big.status == 200:
            listed = _page(big)[1]
            assert len(listed) <= 100, f"page_size 101 served {len(listed)} credentials; the maximum is 100"


def _links_lead_to_adjacent_pages(admin: ApiClient, first: dict[str, Any], items: list[dict[str, Any]],
                                  made: list[Any]) -> None:
    """Assert page 1 of 2 links to page 2 and back, and the two pages list the credentials made once."""
    assert first.get("previous") is None and isinstance(first.get("next"), str), \
        f"page 1 of 2 must have no previous and a next link; got {first}"
    second, rest = _page(admin.get(first["next"]))
    assert second is not None and second.get("page_number") == 2 and second.get("next") is None \
        and isinstance(second.get("previous"), str), f"the next link must lead to the last page 2; got {second}"
    assert sorted(_ids(items) + _ids(rest)) == sorted(made), "the two pages together must list the 11 credentials once"
    back, again = _page(admin.get(second["previous"]))
    assert back is not None and back.get("page_number") == 1 and _ids(again) == _ids(items), \
        "the previous link of page 2 must lead back to page 1"


def _listed(admin: ApiClient, path: str, **params: Any) -> list[Any]:
    """The credential_ids of one page of up to 100 credentials at `path` with `params`."""
    return _ids(_page(admin.get(path, params={"page_size": 100, **params}))[1])


@pytest.mark.requirement("CRED-LIST-001", "CRED-LIST-006", "CRED-LIST-009")
def test_credential_list_filters(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    org, user = settings.org, _user(fixtures)
    token = objects.name("search")
    by_name = _made(admin, objects, org, user, _full_body(objects, name=f"{token}-Named"))["credential_id"]
    described = _made(admin, objects, org, user, _full_body(objects, description=f"described as {token}-Told"))
    by_text = described["credential_id"]
    # description is prose-only: a target that does not show it may not keep it, so its match is asserted only
    # where the target shows the description it was sent
    keeps_description = described.get("description") == f"described as {token}-Told"
    neither = _made(admin, objects, org, user, _full_body(objects))["credential_id"]
    collection = credentials_path(org, user)

    with check("CRED-LIST-001"):
        whole = _listed(admin, collection)
        if len(whole) < 100:  # the whole org fits on the page
            assert neither in whole, f"without search the org's credential {neither} must be listed"
    found: list[Any] = []
    with check("CRED-LIST-006") as searched:
        found = _listed(admin, collection, search=token)
        assert by_name in found and neither not in found, \
            f"search={token!r} must find the credential named with it ({by_name}) and not {neither}: {found}"
        assert _listed(admin, collection, search=f"{token}-Named") == [by_name], "search must match the name"
        if keeps_description:
            assert by_text in found, f"search={token!r} must find the credential described with it ({by_text})"
            assert _listed(admin, collection, search=f"{token}-Told") == [by_text], "search must match the description"

    nowhere = f"conformance-{objects.ledger.run_id}-no-such-org"
    with check("CRED-LIST-009"):
        needs(searched)
        assert sorted(_listed(admin, credentials_path(nowhere, user), platform_org=org, search=token)) == \
            sorted(found), "platform_org must take precedence over an unknown org in the path"
        expect_status(admin.get(collection, params={"platform_org": nowhere}), *UNKNOWN_ORG,
                      why="platform_org names an org that does not exist and takes precedence over the path")


@pytest.mark.requirement("CRED-LIST-007", "CRED-LIST-008")
def test_credential_list_course_and_program_filters(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                                    settings: Settings) -> None:
    """SHOULD: no documented field ties a credential to a course or program, so only the empty case is checked
    (with a credential in the org, so an ignored filter shows); refusing the unknown course or program (400)
    is the other reading."""
    user = _user(fixtures)
    made = _made(admin, objects, settings.org, user, _full_body(objects))["credential_id"]
    collection = credentials_path(settings.org, user)
    for requirement, label in (("CRED-LIST-007", "course"), ("CRED-LIST-008", "program")):
        with check(requirement):
            exchange = admin.get(collection, params={"page_size": 100,
                                                     label: f"conformance-{objects.ledger.run_id}-no-such-{label}"})
            expect_status(exchange, 200, 400, why=f"a {label} no credential belongs to: nothing listed, or refused")
            if exchange.status == 200:
                nothing = _ids(_page(exchange)[1])
                assert nothing == [], f"{label} that no credential belongs to must list nothing (the org holds " \
                                      f"{made}); it listed {nothing}"
