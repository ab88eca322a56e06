"""The published request media types: every body the published document defines may be sent as
application/x-www-form-urlencoded or multipart/form-data as well as JSON.

For each operation with a body, the valid request of conformance/scenarios/operation_requests.py is sent as
JSON, then (on fresh objects of its own, or on the same license with what the previous request created
already removed) as a form and as a multipart body, encoded as the published schema gives
each field: an array as its name repeated, an object as JSON text, a boolean as true/false, a number as its
text. A 415 for a declared media type breaks GEN-MEDIA-001 (MUST); a form or multipart request that does not
do what the JSON one does (its status, the values its answer shows back, whether it changes what the DM admin
reads) breaks GEN-MEDIA-002 (SHOULD). How nested values are encoded in a form is documented nowhere: a
request whose body nests objects (the bulk suggestions' items) refused with 400 leaves GEN-MEDIA-002 not
verified (catalog: the ambiguity of GEN-MEDIA-002).

Role and group creation also take bodies, but the API cannot delete roles or groups: sending their creates
twice more per run would leave objects behind, so they are left out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.checks import check, setup
from conformance.client.objects import Objects, credential_of
from conformance.client.session import ApiClient, Exchange
from conformance.scenarios.operation_requests import OPERATIONS, Prepared, Requests, Shared, operation_id
from conformance.spec.loader import load_contract
from conformance.verdicts import not_verified

ENCODINGS = ("form-urlencoded", "multipart")
UNDELETABLE = ("POST /api/core/rbac/roles/", "POST /api/core/rbac/groups/")  # the API cannot remove what they create
# A license create is one more license row for good: these are not sent as JSON again here (the create scenarios
# show what the JSON create does: a license with the values sent); the encoded creates are compared with that.
LICENSE_CREATES = ("POST /api/catalog/licenses/program/create/", "POST /api/catalog/licenses/user/create/")
LICENSE_FIELDS = ("name", "count", "external_id")  # what every reading answers and lists with the value sent


def _has_body(operation: str) -> bool:
    method, _, path = operation.partition(" ")
    return "requestBody" in load_contract().document["paths"][path][method.lower()]


BODY_OPERATIONS = tuple(op for op in OPERATIONS if _has_body(op) and op not in UNDELETABLE)


# ---- the published encoding of a JSON body as form fields ------------------------------------------

def _as_text(value: Any) -> str:
    """One scalar or object as form text: booleans true/false, objects JSON text, numbers and strings as they read."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def form_fields(body: dict[str, Any]) -> dict[str, list[str]]:
    """The body as form fields: an array is its name once per item; a null has no form text and is left out."""
    fields: dict[str, list[str]] = {}
    for name, value in body.items():
        if value is None:
            continue
        fields[name] = [_as_text(item) for item in value] if isinstance(value, list) else [_as_text(value)]
    return fields


def nests_objects(body: dict[str, Any]) -> bool:
    """True when a field holds an object or an array of objects (their form encoding is documented nowhere)."""
    return any(isinstance(value, dict) or (isinstance(value, list) and any(isinstance(i, dict) for i in value))
               for value in body.values())


def send_encoded(client: ApiClient, prepared: Prepared, encoding: str) -> Exchange:
    """Send the prepared request with its body form-urlencoded or multipart (httpx's own encodings)."""
    fields = form_fields(prepared.body or {})
    if encoding == "form-urlencoded":
        return client.request(prepared.method, prepared.path, params=prepared.params, form=fields)
    parts = [(name, (None, text)) for name, texts in fields.items() for text in texts]
    return client.request(prepared.method, prepared.path, params=prepared.params, files=parts)


# ---- what a request did ---------------------------------------------------------------------------

class Outcome:
    """A request's status, the fields its answer shows back with the value sent, and whether it changed the state."""

    def __init__(self, prepared: Prepared, exchange: Exchange, before: Any) -> None:
        self.status = exchange.status
        self.exchange = exchange
        answer = _answer(prepared, exchange)
        sent = prepared.body or {}
        self.echoed = sorted(name for name, value in sent.items() if isinstance(answer, dict)
                             and name in answer and answer[name] == value)
        self.after = prepared.state()
        self.changed = self.after != before


def _answer(prepared: Prepared, exchange: Exchange) -> Any:
    if not 200 <= exchange.status < 300 or not exchange.text.strip():
        return None
    try:
        body = exchange.json()
    except ValueError:
        return None
    return credential_of(body) if "/credentials/" in prepared.operation and isinstance(body, dict) else body


def send_and_see(client: ApiClient, objects: Objects, prepared: Prepared, encoding: str | None) -> Outcome:
    """Send the prepared request (JSON when `encoding` is None), record what it created, see what it did, then
    remove what it created: the next request of the test finds a shared license as this one found it."""
    before = prepared.state()
    made = len(objects.entries)
    exchange = prepared.send(client) if encoding is None else send_encoded(client, prepared, encoding)
    prepared.succeeded(exchange)
    outcome = Outcome(prepared, exchange, before)
    undo_since(objects, made)
    return outcome


def undo_since(objects: Objects, made: int) -> None:
    """Undo the objects recorded since `objects` held `made` entries (a failed undo stays in the ledger)."""
    created = objects.entries[made:]
    del objects.entries[made:]
    objects.ledger.undo(objects.admin, created)


def created_as_sent(prepared: Prepared, encoded: Outcome, encoding: str) -> None:
    """An encoded license create did what a JSON create does: a new license, listed with the values sent."""
    assert encoded.status in (200, 201), (
        f"{prepared.operation}: the {encoding} create answered {encoded.status}, a JSON create 200 (or 201)\n"
        f"{encoded.exchange.describe()}")
    listed = encoded.after  # the licenses named as sent, read just after the create
    sent = prepared.body or {}
    assert len(listed) == 1, f"{prepared.operation}: the {encoding} create must list one license, not {listed}"
    wrong = {name: (listed[0].get(name), sent[name]) for name in LICENSE_FIELDS if listed[0].get(name) != sent[name]}
    assert not wrong, f"{prepared.operation}: the {encoding} create's license differs from what was sent (got, sent): {wrong}"


# ---- the scenario ---------------------------------------------------------------------------------

@pytest.mark.requirement("GEN-MEDIA-001", "GEN-MEDIA-002")
@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_a_form_or_multipart_body_does_what_the_json_body_does(operation: str, objects: Objects,
                                                              admin: ApiClient) -> None:
    """The JSON request, then the same request form-urlencoded and multipart (each on objects of its own; an
    assignment's license is the test's one, holding none of the earlier requests' assignments)."""
    requests = Requests(objects, Shared(objects))
    by_json = None if operation in LICENSE_CREATES else send_and_see(admin, objects, requests.prepare(operation), None)
    if by_json is not None:
        setup(by_json.exchange, "the valid JSON request of the operation")
    for encoding in ENCODINGS:
        prepared = requests.prepare(operation)
        encoded = send_and_see(admin, objects, prepared, encoding)
        with check("GEN-MEDIA-001"):
            assert encoded.status != 415, (
                f"{operation}: a {encoding} body (a media type the published document declares) was refused as "
                f"unsupported\n{encoded.exchange.describe()}")
        with check("GEN-MEDIA-002"):
            if encoded.status == 400 and nests_objects(prepared.body or {}):
                not_verified(f"{operation}: the {encoding} body nests objects (sent as JSON text); the server "
                             "refused that encoding with 400, which no document rules out")
            if by_json is None:
                created_as_sent(prepared, encoded, encoding)
                continue
            assert encoded.status == by_json.status, (
                f"{operation}: the {encoding} request answered {encoded.status}, the same JSON request "
                f"{by_json.status}\n{encoded.exchange.describe()}")
            missing = sorted(set(by_json.echoed) - set(encoded.echoed))
            assert not missing, (
                f"{operation}: the answer to the {encoding} request does not show {missing} with the value sent "
                f"(the JSON request's answer does)\n{encoded.exchange.describe()}")
            assert encoded.changed == by_json.changed, (
                f"{operation}: the JSON request {'changed' if by_json.changed else 'did not change'} what the DM "
                f"admin reads, the {encoding} one {'did' if encoded.changed else 'did not'}")
