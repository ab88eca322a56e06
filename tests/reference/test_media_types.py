"""Request media types: JSON, form-urlencoded and multipart bodies (the published document declares all three for
every body) do the same thing; any other media type is 415."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx

from .conftest import assert_error, program_license_body

PROGRAM_CREATE = "/api/catalog/licenses/program/create/"
POLICIES = "/api/core/rbac/policies/"
SUGGESTIONS = "/api/catalog/suggestions/program/manage/"
BULK = SUGGESTIONS + "bulk/"
CREDENTIALS = "/api/credentials/orgs/alpha/users/101/"


def as_text(value: Any) -> Any:
    """A JSON value as form text: booleans and numbers as their text, objects as JSON text, arrays item by item."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, list):
        return [as_text(item) for item in value]
    return str(value)


def form(body: dict[str, Any]) -> dict[str, Any]:
    return {name: as_text(value) for name, value in body.items()}


def parts(body: dict[str, Any]) -> list[tuple[str, tuple[None, str]]]:
    """The body as multipart fields: one part per value (an array repeats its name)."""
    fields = []
    for name, text in form(body).items():
        for item in text if isinstance(text, list) else [text]:
            fields.append((name, (None, item)))
    return fields


def send(client: httpx.Client, encoding: str, path: str, body: dict[str, Any], method: str = "POST") -> httpx.Response:
    if encoding == "json":
        return client.request(method, path, json=body)
    if encoding == "form":
        return client.request(method, path, data=form(body))
    return client.request(method, path, files=parts(body))


def without_volatile(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("id", "created", "modified", "external_id", "name")}


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_a_license_create_does_what_the_json_one_does(dm: httpx.Client, encoding: str) -> None:
    body = program_license_body(active=True, metadata={"source": "form"}, enrollment_config={"mode": "open"})
    by_json = send(dm, "json", PROGRAM_CREATE, {**body, "name": "by json"})
    by_form = send(dm, encoding, PROGRAM_CREATE, {**body, "name": f"by {encoding}"})
    assert by_json.status_code == by_form.status_code == 200, by_form.text
    assert without_volatile(by_form.json()) == without_volatile(by_json.json())
    assert by_form.json()["count"] == 3 and by_form.json()["metadata"] == {"source": "form"}


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_arrays_are_repeated_names(dm: httpx.Client, encoding: str) -> None:
    body = {"platform_key": fx.PLATFORM_KEY, "role_id": fx.ROLE_IDS[0], "name": f"{encoding} policy",
            "resources": ["/platforms/1/a", "/platforms/1/b"], "users_to_add": fx.USER_IDS[:2]}
    created = send(dm, encoding, POLICIES, body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["resources"] == body["resources"]
    assert [user["id"] for user in policy["users"]] == fx.USER_IDS[:2]
    one = send(dm, encoding, f"{POLICIES}{policy['id']}/", {"resources": ["/platforms/1/c"]}, "PATCH")
    assert one.status_code == 200 and one.json()["resources"] == ["/platforms/1/c"]


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_booleans_and_digit_strings_are_read_by_the_field_type(dm: httpx.Client, encoding: str) -> None:
    body = {"platform_key": fx.PLATFORM_KEY, "program_key": fx.PROGRAM_KEYS[0], "user_id": str(fx.USER_IDS[0]),
            "visible": False}
    answer = send(dm, encoding, SUGGESTIONS, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["visible"] is False and str(answer.json()["user_id"]) == str(fx.USER_IDS[0])
    credential = {"credential_id": f"c-{encoding}", "credential_url": "https://credentials.example/c", "name": "C",
                  "revoked": True, "issuer": "issuer"}
    created = send(dm, encoding, CREDENTIALS, credential)
    assert created.status_code == 200, created.text
    shown = created.json().get("result", created.json())
    assert shown["revoked"] is True and shown["credential_id"] == f"c-{encoding}"


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_objects_inside_an_array_are_json_text(dm: httpx.Client, encoding: str) -> None:
    item = {"program_key": fx.PROGRAM_KEYS[1], "user_id": str(fx.USER_IDS[1]), "visible": True}
    answer = send(dm, encoding, BULK, {"platform_key": fx.PLATFORM_KEY, "suggestion_data": [item]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["successes"] == 1 and not answer.json()["error_codes"], answer.text


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_wrong_text_is_400_not_500(dm: httpx.Client, encoding: str) -> None:
    for wrong in ({"count": "three"}, {"active": "perhaps"}, {"metadata": "{not json"}):
        assert_error(send(dm, encoding, PROGRAM_CREATE, {**program_license_body(), **wrong}), 400)


def test_an_empty_nullable_value_is_null(dm: httpx.Client) -> None:
    answer = send(dm, "form", PROGRAM_CREATE, {**program_license_body(), "expired": ""})
    assert answer.status_code == 200, answer.text
    assert answer.json()["expired"] is None


def test_application_scim_json_is_json(dm: httpx.Client) -> None:
    answer = dm.post(PROGRAM_CREATE, content=json.dumps(program_license_body()),
                     headers={"Content-Type": "application/scim+json"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("media_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_any_other_media_type_is_415(dm: httpx.Client, media_type: str) -> None:
    answer = dm.post(PROGRAM_CREATE, content=json.dumps(program_license_body()), headers={"Content-Type": media_type})
    assert_error(answer, 415)


def test_a_malformed_multipart_body_is_400(dm: httpx.Client) -> None:
    answer = dm.post(PROGRAM_CREATE, content=b"no parts here", headers={"Content-Type": "multipart/form-data"})
    assert_error(answer, 400)


def test_an_empty_optional_body_is_no_media_type_question(dm: httpx.Client) -> None:
    """An update with no body at all is read as an empty one, whatever its Content-Type says."""
    answer = dm.post("/api/catalog/licenses/program/update/?license_id=999999", content=b"",
                     headers={"Content-Type": "text/plain"})
    assert answer.status_code != 415
