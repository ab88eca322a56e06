"""User licenses: the list and its filters, create, update (by license_id or external_id), history."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects, now_iso
from conformance.client.probe import Probe
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios._sugcred_helpers import (
    UNKNOWN_ID,
    USER_LICENSE_CREATE,
    USER_LICENSE_UPDATE,
    USER_LICENSES,
    expect_refused,
    first_page,
    ids_of,
    remember,
    strictly,
)
from conformance.scenarios.support import expect_status, need


def _only(admin: ApiClient, external_id: str, **params: Any) -> list[dict[str, Any]]:
    """The user licenses listed for one external_id (plus other filters)."""
    return first_page(admin, USER_LICENSES, {"external_id": external_id, **params})[1]


def _the(admin: ApiClient, license_: dict[str, Any], **params: Any) -> dict[str, Any]:
    found = [item for item in _only(admin, license_["external_id"], **params) if item.get("id") == license_["id"]]
    assert len(found) == 1, f"user license {license_['id']} must be listed once for its external_id, " \
                            f"found {len(found)}"
    return found[0]


@pytest.mark.smoke
@pytest.mark.requirement("CAT-ULIC-001", "CAT-ULIC-003", "CAT-ULIC-004", "CAT-ULIC-005", "CAT-ULIC-006",
                         "CAT-ULIC-007", "CAT-ULIC-008", "CAT-ULIC-009", "CAT-ULIC-011", "CAT-ULIC-013")
def test_user_license_create_then_every_filter_narrows_the_list(admin: ApiClient, objects: Objects,
                                                                settings: Settings) -> None:
    platform = settings.platform_key
    base = objects.name("ulic")
    source_a, source_b = f"{base}-src-a", f"{base}-src-b"
    amber = objects.user_license(count=3, name=f"{base}-Amber", source=source_a, metadata={"conformance": "a"})
    basalt = objects.user_license(count=1, name=f"{base}-Basalt", source=source_b, active=False)

    sent = {"name": f"{base}-Amber", "count": 3, "source": source_a, "active": True, "platform_key": platform}
    wrong = {k: (amber.get(k), v) for k, v in sent.items() if amber.get(k) != v}
    assert not wrong, f"the created user license must carry the values sent; (got, sent): {wrong}"
    assert isinstance(amber.get("id"), int), f"the created user license has no integer id: {amber}"

    body, page = first_page(admin, USER_LICENSES, {"platform_key": platform})
    assert body["count"] >= 2, f"the list counts {body['count']} user licenses after two were created"
    assert all("assignments" not in item for item in page), \
        "without verbose the user licenses must carry no 'assignments' field"
    for label in ("platform_key", "key"):
        _, narrowed = first_page(admin, USER_LICENSES, {label: platform})
        strangers = [item.get("platform_key") for item in narrowed if item.get("platform_key") != platform]
        assert not strangers, f"{label}={platform} listed licenses of other platforms: {strangers}"
        assert ids_of(_only(admin, amber["external_id"], **{label: platform})) == [amber["id"]], \
            f"{label}={platform} must keep the platform's own license {amber['id']}"

    if settings.other_platform_key:
        other = objects.user_license(count=1, platform_key=settings.other_platform_key)
        for label in ("platform_key", "key"):
            assert _only(admin, other["external_id"], **{label: platform}) == [], \
                f"{label}={platform} listed license {other['id']} of platform {settings.other_platform_key}"

    assert ids_of(_only(admin, amber["external_id"])) == [amber["id"]], "external_id must name exactly one license"
    assert ids_of(_only(admin, basalt["external_id"])) == [basalt["id"]], "external_id must name exactly one license"

    _, named = first_page(admin, USER_LICENSES, {"name": amber["name"]})
    assert ids_of(named) == [amber["id"]], f"name={amber['name']!r} (exact) must list only license {amber['id']}, " \
                                           f"listed {ids_of(named)}"
    _, prefix = first_page(admin, USER_LICENSES, {"name": base})
    assert prefix == [], f"name is an exact match: the prefix {base!r} must list nothing, listed {ids_of(prefix)}"

    _, sourced = first_page(admin, USER_LICENSES, {"source": source_a})
    assert ids_of(sourced) == [amber["id"]], f"source={source_a!r} must list only {amber['id']}, " \
                                             f"listed {ids_of(sourced)}"

    for active, holder, other_one in ((True, amber, basalt), (False, basalt, amber)):
        flag = str(active).lower()
        _, page = first_page(admin, USER_LICENSES, {"active": flag, "platform_key": platform})
        wrong_flag = [item.get("id") for item in page if item.get("active") is not active]
        assert not wrong_flag, f"active={flag} listed licenses whose active is not {flag}: {wrong_flag}"
        assert ids_of(_only(admin, holder["external_id"], active=flag)) == [holder["id"]], \
            f"active={flag} must keep license {holder['id']} (active {active})"
        assert _only(admin, other_one["external_id"], active=flag) == [], \
            f"active={flag} must drop license {other_one['id']} (active {not active})"

    term = base[len("conformance-"):]
    _, both = first_page(admin, USER_LICENSES, {"query": term})
    assert sorted(ids_of(both)) == sorted([amber["id"], basalt["id"]]), \
        f"query={term!r} must list the two licenses whose names contain it, listed {ids_of(both)}"
    _, one = first_page(admin, USER_LICENSES, {"query": f"{term}-Amb"})
    assert ids_of(one) == [amber["id"]], f"query={term}-Amb must list only {amber['id']}, listed {ids_of(one)}"


@pytest.mark.requirement("CAT-ULIC-010")
def test_user_licenses_come_newest_first(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    base = objects.name("ulic-sort")
    older = objects.user_license(count=1, name=f"{base}-older")
    newer = objects.user_license(count=1, name=f"{base}-newer")
    _, ours = first_page(admin, USER_LICENSES, {"query": base})
    assert ids_of(ours) == [newer["id"], older["id"]], \
        f"without sort the newer license {newer['id']} must come before {older['id']}; listed {ids_of(ours)}"
    _, page = first_page(admin, USER_LICENSES, {"platform_key": settings.platform_key})
    strictly("desc", ids_of(page), "user licenses without sort")


@pytest.mark.requirement("CAT-ULIC-011", "CAT-ULIC-012")
def test_verbose_user_licenses_carry_assignment_counts(admin: ApiClient, objects: Objects,
                                                        fixtures: Fixtures) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    license_ = objects.user_license(count=2)
    objects.assignment("user", license_["id"], user)

    for params in ({}, {"verbose": "false"}):
        plain = _the(admin, license_, **params)
        assert "assignments" not in plain, f"with {params or 'no verbose'} the license carries 'assignments'"
    detailed = _the(admin, license_, verbose="true")
    counts = detailed.get("assignments")
    assert isinstance(counts, dict) and counts, f"verbose=true must add an 'assignments' object, got {counts!r}"
    not_counts = {k: v for k, v in counts.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0}
    assert not not_counts, f"'assignments' must hold counts (non-negative integers); these are not: {not_counts}"
    assert any(counts.values()), f"the license has one assignment, yet every count is zero: {counts}"
    if "total" in counts:
        assert counts["total"] == detailed.get("usage_count") == 1, \
            f"assignments.total {counts['total']} must equal usage_count {detailed.get('usage_count')} (1)"


@pytest.mark.requirement("CAT-ULIC-014", "CAT-ULIC-015", "CAT-ULIC-017", "CAT-ULIC-026")
def test_user_license_create_defaults_and_refusals(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    name = objects.name("ulic-defaults")
    body = {"platform_key": settings.platform_key, "name": name, "started": now_iso(), "external_id": name}
    created = expect_status(admin.post(USER_LICENSE_CREATE, body), 200, 201, why="a valid user license").json()
    remember(objects, "user_license", license_id=created["id"], name=name)
    listed = _the(admin, created)
    for shown in (created, listed):
        assert shown.get("count") == 0, f"count defaults to 0; the license shows {shown.get('count')!r}"
        assert shown.get("active") is True, f"active defaults to true; the license shows {shown.get('active')!r}"

    duplicate = admin.post(USER_LICENSE_CREATE, {**body, "name": f"{name}-again"})
    if duplicate.status in (200, 201):
        remember(objects, "user_license", license_id=duplicate.json()["id"], name=name)
    expect_refused(duplicate, "external_id must be unique")
    assert ids_of(_only(admin, name)) == [created["id"]], "a refused duplicate must create nothing"

    for label, extra in (("without platform_key", {}),
                         ("naming a platform that does not exist",
                          {"platform_key": f"conformance-{objects.ledger.run_id}-no-such-platform"})):
        lonely = objects.name("ulic-refused")
        refused = admin.post(USER_LICENSE_CREATE, {"name": lonely, "count": 1, "started": now_iso(),
                                                   "external_id": lonely, **extra})
        if refused.status in (200, 201):
            remember(objects, "user_license", license_id=refused.json()["id"], name=lonely)
        expect_refused(refused, f"a user license create {label}")
        assert _only(admin, lonely) == [], f"a refused create {label} must create nothing"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-ULIC-018", "CAT-ULIC-019", "CAT-ULIC-020", "CAT-ULIC-021", "CAT-ULIC-022",
                         "CAT-ULIC-023")
def test_user_license_update_by_either_identifier(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    license_ = objects.user_license(count=3, source="conformance-source", metadata={"step": "created"})
    external = license_["external_id"]

    by_id = expect_status(admin.post(USER_LICENSE_UPDATE, {"license_id": license_["id"], "count": 7,
                                                           "name": f"{license_['name']}-renamed"}), 200).json()
    for shown in (by_id, _the(admin, license_)):
        assert (shown.get("count"), shown.get("name")) == (7, f"{license_['name']}-renamed"), \
            f"the update by license_id must apply count 7 and the new name; the license shows {shown}"
        assert (shown.get("source"), shown.get("metadata"), shown.get("active")) == \
               ("conformance-source", {"step": "created"}, True), \
            f"fields not sent must keep their values; the license shows {shown}"

    by_external = expect_status(admin.post(USER_LICENSE_UPDATE, {"external_id": external,
                                                                 "metadata": {"step": "updated"}}), 200).json()
    for shown in (by_external, _the(admin, license_)):
        assert shown.get("id") == license_["id"] and shown.get("metadata") == {"step": "updated"}, \
            f"the update by external_id must change license {license_['id']}'s metadata; it shows {shown}"
        assert shown.get("count") == 7, f"the earlier count must stay; the license shows {shown.get('count')}"

    elsewhere = settings.other_platform_key or f"conformance-{objects.ledger.run_id}-elsewhere"
    moved = admin.post(USER_LICENSE_UPDATE, {"license_id": license_["id"], "platform_key": elsewhere,
                                             "platform_org": elsewhere})
    expect_status(moved, 200, 400, why="platform is not updatable: ignored or refused")
    kept = _the(admin, license_, platform_key=settings.platform_key)
    assert kept.get("platform_key") == settings.platform_key, \
        f"the license moved to platform {kept.get('platform_key')!r}"

    expect_refused(admin.post(USER_LICENSE_UPDATE, {"count": 9}), "license_id or external_id is required")
    expect_status(admin.post(USER_LICENSE_UPDATE, {"license_id": UNKNOWN_ID, "count": 9}), 404,
                  why="no license has that license_id")
    expect_status(admin.post(USER_LICENSE_UPDATE, {"external_id": f"{external}-nobody", "count": 9}), 404,
                  why="no license has that external_id")
    assert _the(admin, license_).get("count") == 7, "refused updates must change nothing"


def _added(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {record.get("id") for record in before}
    return [record for record in after if record.get("id") not in seen]


def _changes(records: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(change_type, transaction_id) of each history record."""
    return [(r.get("change_type"), r.get("transaction_id")) for r in records]


@pytest.mark.requirement("CAT-ULIC-016")
def test_user_license_create_history_records(probe: Probe, objects: Objects, run_id: str) -> None:
    """SHOULD: a create writes one record with the change_type sent ("create" when none) and the transaction_id."""
    plain = objects.user_license(count=1, transaction_id=f"conformance-{run_id}-ulic-create")
    records = probe.license_history("user", plain["id"])
    assert _changes(records) == [("create", f"conformance-{run_id}-ulic-create")], \
        f"a create must write one record with change_type 'create' and the transaction_id sent; got {records}"
    imported = objects.user_license(count=1, change_type="import")
    records = probe.license_history("user", imported["id"])
    assert _changes(records) == [("import", None)], \
        f"a create must record the change_type sent ('import') and a null transaction_id; got {records}"


@pytest.mark.requirement("CAT-ULIC-024", "CAT-ULIC-025")
def test_user_license_history_records(probe: Probe, admin: ApiClient, objects: Objects, run_id: str) -> None:
    """MUST: each successful update adds exactly one record carrying its change_type ("update" when none) and
    transaction_id; a refused update adds none. Records are compared before and after each request, so whatever
    the create wrote (CAT-ULIC-016, SHOULD) does not count here."""
    plain = objects.user_license(count=1)
    steps = [({"license_id": plain["id"], "count": 2, "transaction_id": f"conformance-{run_id}-ulic-tx"},
              ("update", f"conformance-{run_id}-ulic-tx")),
             ({"external_id": plain["external_id"], "count": 3, "change_type": "renewal"}, ("renewal", None))]
    for body, expected in steps:
        before = probe.license_history("user", plain["id"])
        expect_status(admin.post(USER_LICENSE_UPDATE, body), 200)
        added = _added(before, probe.license_history("user", plain["id"]))
        assert len(added) == 1, f"one update must add exactly one history record, it added {len(added)}: {body}"
        (got,) = _changes(added)
        assert got == expected, f"the record must carry (change_type, transaction_id) {expected}, it has {got}"

    before = probe.license_history("user", plain["id"])
    expect_refused(admin.post(USER_LICENSE_UPDATE, {"count": 4}), "neither license_id nor external_id")
    assert _added(before, probe.license_history("user", plain["id"])) == [], \
        "a refused update must write no history record"


@pytest.mark.requirement("CAT-ULIC-001", "CAT-ULIC-002")
def test_user_license_list_refuses_invalid_parameters(admin: ApiClient, settings: Settings) -> None:
    first_page(admin, USER_LICENSES, {"platform_key": settings.platform_key})
    for params in ({"active": "maybe"}, {"page": "x"}, {"page_size": "x"}, {"verbose": "maybe"}):
        expect_refused(admin.get(USER_LICENSES, params={"platform_key": settings.platform_key, **params}),
                       f"invalid parameter {params}")
