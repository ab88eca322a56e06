"""Authentication on every operation: no key, an unknown key or another scheme is refused and changes
nothing. (The DM admin's key sent as 'Api-Token <key>' being served everywhere, GEN-AUTH-004, is
test_access_control's test_the_dm_admin_is_served.)"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from conformance.checks import check, setup
from conformance.client.objects import Objects
from conformance.client.session import ApiClient
from conformance.config import Settings
from conformance.scenarios.answers import expect_status
from conformance.scenarios.operation_requests import (
    OPERATIONS,
    RBAC_OPS,
    Prepared,
    Requests,
    Shared,
    is_write,
    operation_id,
)
from conformance.verdicts import not_verified


def _refusals(operation: str) -> tuple[int, ...]:
    # The RBAC operations document only 403 for a refused caller (GEN-AUTH-006); the others document 401.
    return (401, 403) if operation in RBAC_OPS else (401,)


def _key(settings: Settings, role: str) -> str:
    secret = settings.keys.get(role)
    if secret is None:
        not_verified(f"needs the {role} key")
    return secret.reveal()


def _auth_requirements(operation: str) -> tuple[str, ...]:
    return ("GEN-AUTH-006",) if operation in RBAC_OPS else ("GEN-AUTH-001", "GEN-AUTH-002")


def _params(ids: object) -> list[object]:
    return [pytest.param(op, id=operation_id(op), marks=pytest.mark.requirement(*ids(op))) for op in OPERATIONS]


@pytest.mark.parametrize("operation", _params(_auth_requirements))
def test_requests_without_a_valid_key_are_refused_and_change_nothing(
    operation: str, objects: Objects, shared_objects: Shared, anonymous: ApiClient, admin: ApiClient, settings: Settings
) -> None:
    prepared: Prepared = Requests(objects, shared_objects).prepare(operation)
    rbac = operation in RBAC_OPS
    attempts = (  # (what is sent, its headers, the requirement it is evidence for)
        ("no Authorization header", {}, "GEN-AUTH-006" if rbac else "GEN-AUTH-001"),
        ("an unknown key", {"Authorization": f"Api-Token conformance-unknown-{secrets.token_hex(12)}"},
         "GEN-AUTH-006" if rbac else "GEN-AUTH-002"),
    )
    after = prepared.state() if is_write(operation) else None
    for what, headers, requirement in attempts:
        before = after  # what the previous attempt left (read just after it), or the state before the first
        exchange = prepared.send(anonymous, headers=headers)
        prepared.succeeded(exchange)  # a wrongly accepted create must still be cleaned up
        after = prepared.state() if is_write(operation) else None
        with check(requirement):
            expect_status(exchange, *_refusals(operation), why=f"a request with {what} is not authenticated")
            assert after == before, (f"{operation}: a refused request with {what} changed the data\n"
                                     f"  before: {before}\n  after:  {after}")


def _placeholder(operation: str, settings: Settings) -> tuple[str, str, dict[str, Any] | None]:
    """Method, path and body of an operation with placeholder ids (the request is refused before it is read)."""
    method, _, path = operation.partition(" ")
    path = path.replace("{org}", settings.org).replace("{user_id}", "1").replace("{entity_id}", "x").replace("{id}", "1")
    return method, path, ({} if is_write(operation) else None)


@pytest.mark.requirement("GEN-AUTH-003")
def test_a_valid_key_under_another_scheme_is_refused(anonymous: ApiClient, settings: Settings) -> None:
    """SHOULD: 'Bearer <valid key>' is refused with 401 (the vendor gives only the 'Api-Key <key>' example).

    Placeholder requests with empty bodies: a server that wrongly accepts the scheme refuses them for their
    content (400/404) or serves a read, and nothing can be created or changed.
    """
    valid = _key(settings, "dm_admin")
    for operation in OPERATIONS:
        if operation in RBAC_OPS:  # GEN-AUTH-003 covers the catalog and credentials operations
            continue
        method, path, body = _placeholder(operation, settings)
        exchange = anonymous.request(method, path, json_body=body, headers={"Authorization": f"Bearer {valid}"},
                                     params={"platform_key": settings.platform_key})
        expect_status(exchange, 401, why="a valid key under another scheme (Bearer) is not authenticated")


@pytest.mark.requirement("GEN-AUTH-007")
def test_a_401_answer_is_json_with_a_string_detail(anonymous: ApiClient, settings: Settings) -> None:
    seen = 0
    for operation in OPERATIONS:
        method, path, body = _placeholder(operation, settings)
        for headers in ({}, {"Authorization": f"Api-Token conformance-unknown-{secrets.token_hex(12)}"}):
            exchange = anonymous.request(method, path, json_body=body, headers=headers,
                                         params={"platform_key": settings.platform_key})
            if exchange.status != 401:
                continue
            seen += 1
            answer = exchange.json()
            assert isinstance(answer, dict) and isinstance(answer.get("detail"), str), \
                f"{exchange.operation}: a 401 answer should be a JSON object with a string 'detail'\n{exchange.describe()}"
    if not seen:
        not_verified("no operation answered 401 to a request without a valid key")


# The reads: the same caller must get the same answer under either prefix.
API_KEY_OPERATIONS = [op for op in OPERATIONS if not is_write(op)]


@pytest.mark.requirement("GEN-AUTH-005")
@pytest.mark.parametrize("operation", [pytest.param(op, id=operation_id(op)) for op in API_KEY_OPERATIONS])
def test_the_api_key_prefix_of_the_published_example(
    operation: str, objects: Objects, shared_objects: Shared, admin: ApiClient, anonymous: ApiClient,
    settings: Settings
) -> None:
    """Optional (MAY): if the server takes 'Api-Key <key>', it must identify the same caller as 'Api-Token <key>'."""
    prepared = Requests(objects, shared_objects).prepare(operation)
    expected = setup(prepared.send(admin), "the DM admin reads with 'Api-Token <key>'", 200)
    exchange = prepared.send(anonymous, headers={"Authorization": f"Api-Key {_key(settings, 'dm_admin')}"})
    if exchange.status == 401:
        not_verified("the server does not take the 'Api-Key' prefix (optional: only 'Api-Token' is required)")
    expect_status(exchange, expected.status, why="the same caller as with 'Api-Token <key>'")
    assert exchange.json() == expected.json(), \
        f"{exchange.operation}: 'Api-Key <key>' must answer as 'Api-Token <key>' does\n{exchange.describe()}"
