"""Program licenses: create (values, defaults, refusals) and update (the list: test_program_license_list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import CreationFailed, Objects
from conformance.client.probe import Probe
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_ok, expect_status
from conformance.scenarios.licenses import (
    CREATED,
    NO_SUCH_ID,
    UNKNOWN_IN_BODY,
    UNKNOWN_OBJECT,
    assignments,
    create_license_raw,
    ids,
    instant,
    license_body,
    licenses,
    new_assignment,
    new_program_license,
    probe_of,
    the_license,
)
from conformance.scenarios.paths import PROGRAM_LICENSE_UPDATE, PROGRAM_LICENSES
from conformance.verdicts import need, not_verified


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _program_of(license_: dict[str, Any]) -> set[Any]:
    return {license_.get("program_id"), license_.get("program_key")} - {None}


def _same_values(shown: dict[str, Any], sent: dict[str, Any], where: str) -> None:
    for field in ("name", "count", "active", "metadata", "source", "external_id", "platform_key"):
        if field in sent:
            assert shown.get(field) == sent[field], f"{where}: {field} is {shown.get(field)!r}, sent {sent[field]!r}"
    for field in ("started", "expired"):
        if field in sent:
            assert instant(shown.get(field)) == instant(sent[field]), \
                f"{where}: {field} is {shown.get(field)!r}, sent {sent[field]!r}"


# ---------------------------------------------------------------------------------------------- create
# A create is one more license row for good (licenses cannot be deleted): each create below is the evidence for
# every requirement it can speak for, each in its own check, so a run adds few rows to a long-lived target.

REQUIRED_BY_THE_PUBLISHED_SCHEMA = {"CAT-LICCRE-005": "name", "CAT-LICCRE-006": "count", "CAT-LICCRE-007": "started"}


def _naming_the_platform_by(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """`body` naming the platform by `field` alone (no platform_key)."""
    return {**{k: v for k, v in body.items() if k != "platform_key"}, field: value}


def _on_the_platform(exchange: Exchange, settings: Settings) -> bool:
    """The create answered a license on the platform under test."""
    license_ = exchange.json() if exchange.status in CREATED else None
    return isinstance(license_, dict) and license_.get("platform_key") == settings.platform_key


def _renamed(objects: Objects, body: dict[str, Any]) -> dict[str, Any]:
    """`body` under a new name and external_id (for a second create after one the target took wrongly)."""
    name = objects.name("program-license")
    return {**body, "name": name, "external_id": name}


def _learnt_platform_id(objects: Objects) -> int | None:
    """The platform's integer id as an RBAC policy of it shows it (platform.id); None when none is shown."""
    try:
        policy = objects.rbac_policy()
    except CreationFailed:
        return None
    platform_id = (policy.get("platform") or {}).get("id")
    return platform_id if isinstance(platform_id, int) and not isinstance(platform_id, bool) else None


def _only_create_record(probe: Probe, license_id: Any, transaction: str | None) -> None:
    """CAT-LICCRE-013: the license's history holds one record, the create, carrying `transaction`."""
    records = probe.license_history("program", license_id)
    if not records:  # the vendor documents history records for updates only (CAT-LICCRE-013 is MAY)
        not_verified(f"the server writes no history record on create (license {license_id})")
    assert len(records) == 1, f"a create writes exactly one history record; license {license_id} has {records}"
    assert records[0].get("change_type") == "create", f"the create record's change_type: {records[0]!r}"
    assert records[0].get("transaction_id") == transaction, \
        f"the create record must carry transaction_id {transaction!r}: {records[0]!r}"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICCRE-001", "CAT-LICCRE-002", "CAT-LICCRE-013", "CAT-LICCRE-014", "CAT-LICCRE-015",
                         "CAT-LICLIST-001", "CAT-LICLIST-016", "CAT-ACL-001")
def test_created_program_license_carries_the_values_sent(admin: ApiClient, objects: Objects, settings: Settings,
                                                         request: pytest.FixtureRequest, run_id: str) -> None:
    """One create with every value set and a transaction_id, naming the platform by platform_id (the documents
    allow it in place of platform_key): its answer, the list and its history are the evidence for each requirement.
    A target that refuses platform_id (or takes the license elsewhere) is asked again with platform_key."""
    now = datetime.now(UTC).replace(microsecond=0)
    transaction = f"conformance-{run_id}-create-tx"
    body = license_body(objects, count=7, started=_iso(now - timedelta(days=1)), expired=_iso(now + timedelta(days=30)),
                        active=True, metadata={"conformance": "values", "seats": 7}, source="conformance-source",
                        enrollment_config={"conformance": "enrollment"}, transaction_id=transaction)
    platform_id = _learnt_platform_id(objects)
    by_id = None if platform_id is None else create_license_raw(
        objects, _naming_the_platform_by(body, "platform_id", platform_id))
    with check("CAT-LICCRE-015"):
        if by_id is None:
            not_verified("an RBAC policy of the platform shows no integer platform id (platform.id)")
        created_by_id = expect_ok(by_id, "platform_id identifies the platform")
        assert created_by_id.get("platform_key") == settings.platform_key, \
            f"a license created with platform_id {platform_id} must be on {settings.platform_key!r}: {created_by_id!r}"
    created = by_id
    if by_id is None or not _on_the_platform(by_id, settings):
        if by_id is not None and by_id.status in CREATED:
            body = _renamed(objects, body)  # the license made elsewhere holds the external_id
        created = create_license_raw(objects, body)
    license_: dict[str, Any] = {}
    listed: dict[str, Any] = {}
    with check("CAT-LICCRE-001") as made:
        expect_status(created, *CREATED, why="a program license create answers 200 (published) or 201")
        license_ = created.json()
        assert isinstance(license_, dict) and isinstance(license_.get("id"), int), \
            f"the create must answer the new license with an integer id: {license_!r}"
    with check("CAT-LICCRE-001") as listed_once:
        needs(made)
        listed = the_license(admin, settings, license_)
    with check("CAT-ACL-001"):  # the DM admin is served (the access-control matrix leaves this create to this test)
        expect_status(created, *CREATED, why="the DM admin may create program licenses")
    with check("CAT-LICLIST-001"):
        page = expect_status(admin.get(PROGRAM_LICENSES, params={"platform_key": settings.platform_key}), 200,
                             why="the DM admin lists program licenses").json()
        assert isinstance(page, dict) and isinstance(page.get("results"), list), \
            f"the list must be a page with a results list: {str(page)[:300]}"
        assert isinstance(page.get("count"), int), f"the page must carry an integer count: {page.get('count')!r}"
    with check("CAT-LICCRE-002"):
        needs(made, listed_once)
        _same_values(license_, body, "the create answer")
        _same_values(listed, body, "the license list")
        for where, shown in (("the create answer", license_), ("the license list", listed)):
            # enrollment_config is in no published answer schema: its effect shows only where an answer carries it
            if "enrollment_config" in shown:
                assert shown["enrollment_config"] == body["enrollment_config"], \
                    f"{where}: enrollment_config is {shown['enrollment_config']!r}, sent {body['enrollment_config']!r}"
    with check("CAT-LICCRE-014"):
        needs(made, listed_once)
        for where, shown in (("the create answer", license_), ("the license list", listed)):
            assert shown.get("usage_count") == 0, f"{where}: a new license has usage_count 0, not {shown.get('usage_count')!r}"
    with check("CAT-LICLIST-016"):  # SHOULD: program_id or program_key names the program, in the answer and the list
        needs(made, listed_once)
        assert body["program_key"] in _program_of(license_), \
            f"the license must name its program {body['program_key']!r} (program_id or program_key): {license_!r}"
        assert body["program_key"] in _program_of(listed), f"the listed license must name its program: {listed!r}"
    with check("CAT-LICCRE-013"):
        needs(made)
        _only_create_record(probe_of(request), license_["id"], transaction)


def _without(body: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in fields}


@pytest.mark.requirement("CAT-LICCRE-005", "CAT-LICCRE-006", "CAT-LICCRE-007", "CAT-LICCRE-008", "CAT-LICCRE-009",
                         "CAT-LICCRE-013", "CAT-LICCRE-016")
def test_program_license_created_from_a_minimal_body(objects: Objects, settings: Settings,
                                                     request: pytest.FixtureRequest) -> None:
    """One create naming the platform by platform_org and leaving out name, count, started, active, source and
    transaction_id (the prose defaults each; the published schema requires name, count and started). Each of those
    requirements reads its own part of the answer. A target that refuses it is asked again one left-out required
    field at a time (400 or created, either reading), then with all three fields by platform_org, then by
    platform_key: each requirement keeps evidence of its own, and a prose-reading target gets one row, not five."""
    complete = license_body(objects)
    assert not {"active", "source", "transaction_id"} & set(complete)
    minimal = _without(_naming_the_platform_by(complete, "platform_org", settings.org), "name", "count", "started")
    first = create_license_raw(objects, minimal)
    answers = dict.fromkeys(REQUIRED_BY_THE_PUBLISHED_SCHEMA, first)
    if first.status not in CREATED:
        answers = {requirement: create_license_raw(objects, _without(license_body(objects), field))
                   for requirement, field in REQUIRED_BY_THE_PUBLISHED_SCHEMA.items()}
    for requirement, field in REQUIRED_BY_THE_PUBLISHED_SCHEMA.items():
        with check(requirement):
            answer = answers[requirement]
            expect_status(answer, *CREATED, 400,
                          why=f"without {field!r}: 400 (published reading) or created (prose reading)")
            if answer.status in CREATED and field == "count":
                count = answer.json().get("count")
                assert count == 0, f"a license created without count has count 0 (prose default), not {count!r}"

    by_org = first if first.status in CREATED else create_license_raw(
        objects, _naming_the_platform_by(license_body(objects), "platform_org", settings.org))
    with check("CAT-LICCRE-016"):
        created = expect_ok(by_org, "platform_org identifies the platform")
        assert created.get("platform_key") == settings.platform_key, \
            f"a license created with platform_org {settings.org!r} must be on {settings.platform_key!r}: {created!r}"
    defaults = by_org if _on_the_platform(by_org, settings) else create_license_raw(objects, license_body(objects))
    license_ = dict(setup(defaults, "creating a program license without active or source", *CREATED).json())
    with check("CAT-LICCRE-008"):
        assert license_.get("active") is True, f"active defaults to true; the license has {license_.get('active')!r}"
    with check("CAT-LICCRE-009"):  # SHOULD: the published schema's default source "api" (the prose gives none)
        assert license_.get("source") == "api", f"source defaults to 'api'; the license has {license_.get('source')!r}"
    with check("CAT-LICCRE-013"):
        _only_create_record(probe_of(request), license_["id"], None)


def _expect_refused_create(admin: ApiClient, objects: Objects, body: dict[str, Any], why: str,
                           *statuses: int) -> None:
    """The create is refused with one of `statuses` and leaves no license with the body's external_id."""
    expect_status(create_license_raw(objects, body), *statuses, why=why)
    leaked = licenses(admin, external_id=body["external_id"])
    assert leaked == [], f"a create refused for {why} still created {ids(leaked)}"


@pytest.mark.requirement("CAT-LICCRE-003", "CAT-LICCRE-004", "CAT-LICCRE-011", "CAT-LICCRE-012")
def test_program_license_create_without_a_valid_platform_or_program_is_refused(
    admin: ApiClient, objects: Objects, run_id: str
) -> None:
    with check("CAT-LICCRE-003"):
        body = license_body(objects)
        for field in ("platform_key", "platform_org", "platform_id"):
            body.pop(field, None)
        _expect_refused_create(admin, objects, body, "no platform_key, platform_org or platform_id", 400)
    with check("CAT-LICCRE-004"):
        body = license_body(objects)
        del body["program_key"], body["program_id"]
        _expect_refused_create(admin, objects, body, "neither program_key nor program_id", 400)
    with check("CAT-LICCRE-011"):
        body = license_body(objects, platform_key=f"conformance-{run_id}-no-such-platform")
        _expect_refused_create(admin, objects, body, "a platform that does not exist (400, or 403/404 for an "
                               "unknown platform)", *UNKNOWN_IN_BODY)
    with check("CAT-LICCRE-012"):
        missing_program = f"program-v1:conformance+{run_id}+missing"
        body = license_body(objects, program_key=missing_program, program_id=missing_program)
        _expect_refused_create(admin, objects, body, "a program that does not exist (400, or 403/404 for an "
                               "unknown program)", *UNKNOWN_IN_BODY)


@pytest.mark.requirement("CAT-LICCRE-010")
def test_duplicate_external_id_is_refused(admin: ApiClient, objects: Objects) -> None:
    first = new_program_license(objects, count=1)
    second = license_body(objects, external_id=first["external_id"])
    expect_status(create_license_raw(objects, second), 400, why="external_id must be unique")
    holders = licenses(admin, external_id=first["external_id"])
    assert ids(holders) == [first["id"]], f"only the first license may hold the external_id; listed: {ids(holders)}"
    assert licenses(admin, name=second["name"]) == [], "the refused duplicate was created anyway"


@pytest.mark.requirement("CAT-ACL-001")
def test_only_the_dm_admin_creates_program_licenses(
    platform_admin: ApiClient, learner: ApiClient, admin: ApiClient, objects: Objects
) -> None:
    for caller in (platform_admin, learner):
        body = license_body(objects)
        expect_status(create_license_raw(objects, body, client=caller), 403,
                      why=f"{caller.role} may not create program licenses")
        assert licenses(admin, external_id=body["external_id"]) == [], f"{caller.role}'s refused create left a license"


# ---------------------------------------------------------------------------------------------- update


def _update(admin: ApiClient, body: dict[str, Any], why: str = "a valid update") -> dict[str, Any]:
    return dict(expect_status(admin.post(PROGRAM_LICENSE_UPDATE, body), *CREATED, why=why).json())


def _same_program(shown: dict[str, Any], original: dict[str, Any], where: str) -> None:
    """Each program identifier both show is the same."""
    for field in ("program_id", "program_key"):
        if shown.get(field) is not None and original.get(field) is not None:
            assert shown[field] == original[field], f"{where}: {field} changed {original[field]!r} -> {shown[field]!r}"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICUPD-001", "CAT-LICUPD-006", "CAT-LICUPD-009")
def test_update_by_license_id_applies_what_is_sent_and_keeps_the_rest(admin: ApiClient, objects: Objects,
                                                                      settings: Settings) -> None:
    license_ = new_program_license(objects, count=3, metadata={"kept": True}, source="conformance-before")
    changes = {"name": f"{license_['name']}-renamed", "count": 6, "active": False, "source": "conformance-after"}
    updated: dict[str, Any] = {}
    with check("CAT-LICUPD-001") as answered:
        updated = _update(admin, {"license_id": license_["id"], **changes})
        assert updated.get("id") == license_["id"], f"the update answered another license: {updated!r}"
    with check("CAT-LICUPD-006"):
        needs(answered)
        _same_values(updated, changes, "the update answer")
        _same_values(the_license(admin, settings, license_), changes, "the list after the update")
    with check("CAT-LICUPD-009"):
        needs(answered)
        listed = the_license(admin, settings, license_)
        kept = {k: license_[k] for k in ("metadata", "external_id", "platform_key", "started", "expired")}
        _same_values(listed, kept, "fields the update did not send")
        _same_program(listed, license_, "the list after the update")


@pytest.mark.requirement("CAT-LICUPD-007", "CAT-LICUPD-008")
def test_update_dates_metadata_and_enrollment_config(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    license_ = new_program_license(objects, count=2)
    now = datetime.now(UTC).replace(microsecond=0)
    with check("CAT-LICUPD-007"):
        dates = {"started": _iso(now - timedelta(days=3)), "expired": _iso(now + timedelta(days=60))}
        _same_values(_update(admin, {"license_id": license_["id"], **dates}), dates, "the update answer")
        _same_values(the_license(admin, settings, license_), dates, "the list after the update")
        cleared = _update(admin, {"license_id": license_["id"], "expired": None})
        assert cleared.get("expired") is None, \
            f"expired null removes the expiry; the answer has {cleared.get('expired')!r}"
        assert the_license(admin, settings, license_).get("expired") is None, "the list still shows an expiry"
    with check("CAT-LICUPD-008"):
        metadata = {"conformance": {"nested": [1, 2]}, "note": "updated"}
        updated = _update(admin, {"license_id": license_["id"], "metadata": metadata,
                                  "enrollment_config": {"auto_enroll": True}}, why="metadata and enrollment_config")
        assert updated.get("metadata") == metadata, f"metadata must be stored as sent: {updated.get('metadata')!r}"
        assert the_license(admin, settings, license_).get("metadata") == metadata


def _count_of(admin: ApiClient, settings: Settings, license_: dict[str, Any]) -> Any:
    return the_license(admin, settings, license_).get("count")


def _expect_unchanged(admin: ApiClient, settings: Settings, license_: dict[str, Any], count: Any, why: str) -> None:
    now = _count_of(admin, settings, license_)
    assert now == count, f"{why} changed the license's count: {count!r} -> {now!r}"


@pytest.mark.requirement("CAT-LICUPD-002", "CAT-LICUPD-003", "CAT-LICUPD-004", "CAT-LICUPD-005")
def test_update_names_the_license_by_license_id_or_external_id(admin: ApiClient, objects: Objects,
                                                               settings: Settings, run_id: str) -> None:
    license_ = new_program_license(objects, count=2)
    with check("CAT-LICUPD-002"):
        updated = _update(admin, {"external_id": license_["external_id"], "count": 4}, why="update by external_id")
        assert updated.get("id") == license_["id"] and updated.get("count") == 4, f"update by external_id: {updated!r}"
        assert _count_of(admin, settings, license_) == 4, "the update by external_id did not change the listed count"

    count = _count_of(admin, settings, license_)
    with check("CAT-LICUPD-003"):
        expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"count": 9}), 400, why="neither license_id nor external_id")
        _expect_unchanged(admin, settings, license_, count, "an update naming no license")
    with check("CAT-LICUPD-004"):
        expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": NO_SUCH_ID, "count": 9}), *UNKNOWN_OBJECT,
                      why="a license_id that names no license (404, or 403 for an unknown object)")
        _expect_unchanged(admin, settings, license_, count, "an update of an unknown license_id")
    with check("CAT-LICUPD-005"):
        missing = {"external_id": f"conformance-{run_id}-no-such", "count": 9}
        expect_status(admin.post(PROGRAM_LICENSE_UPDATE, missing), *UNKNOWN_OBJECT,
                      why="an external_id that names no license (404, or 403 for an unknown object)")
        _expect_unchanged(admin, settings, license_, count, "an update of an unknown external_id")


@pytest.mark.requirement("CAT-LICUPD-012")
def test_update_never_moves_a_license(admin: ApiClient, objects: Objects, settings: Settings, fixtures: Fixtures,
                                      run_id: str) -> None:
    license_ = new_program_license(objects, count=2)
    programs = [p for p in fixtures.program_keys if p not in _program_of(license_)]
    other_program = programs[0] if programs else f"program-v1:conformance+{run_id}+elsewhere"
    other_platform = settings.other_platform_key or f"conformance-{run_id}-elsewhere"
    body = {"license_id": license_["id"], "platform_key": other_platform, "platform_org": other_platform,
            "program_key": other_program, "program_id": other_program, "name": f"{license_['name']}-moved"}
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, body), *CREATED, *UNKNOWN_IN_BODY,
                  why="platform and program fields are ignored (200) or refused (400, or 403/404 for the platform)")
    listed = the_license(admin, settings, license_)
    assert listed.get("platform_key") == settings.platform_key, f"the license moved to {listed.get('platform_key')!r}"
    _same_program(listed, license_, "the license after an update naming another program")


@pytest.mark.requirement("CAT-LICUPD-013")
def test_deactivating_a_license_keeps_its_assignments_active(admin: ApiClient, objects: Objects,
                                                             fixtures: Fixtures) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    license_ = new_program_license(objects, count=2)
    for user in (first, second):
        new_assignment(objects, "program", license_["id"], user)
    setup(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "active": False}),
          "deactivating the license", *CREATED)
    listed = assignments(admin, license_["id"])
    assert sorted(a.get("user_id") for a in listed) == sorted([first, second]), "the assignments must remain"
    inactive = [a.get("id") for a in listed if a.get("active") is not True]
    assert not inactive, f"deactivating the license deactivated assignments {inactive}"


def _refused(exchange: Exchange, why: str) -> None:
    """The request must have been refused for the test to mean anything; otherwise it is not verified."""
    if not 400 <= exchange.status < 500:
        not_verified(f"the server did not refuse {why} ({exchange.status}); its history says nothing about refusals")


@pytest.mark.requirement("CAT-LICUPD-014")
def test_refused_updates_write_no_history(probe: Probe, admin: ApiClient, objects: Objects) -> None:
    license_ = new_program_license(objects, count=1)
    before = probe.license_history("program", license_["id"])
    _refused(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "count": "many"}),
             "an update whose count is not an integer")
    _refused(admin.post(PROGRAM_LICENSE_UPDATE, {"count": 3}), "an update naming no license")
    after = probe.license_history("program", license_["id"])
    assert [r.get("id") for r in after] == [r.get("id") for r in before], \
        f"refused updates wrote history records: {before} -> {after}"
