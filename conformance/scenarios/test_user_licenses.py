"""User licenses: the list and its filters, create, update (by license_id or external_id), history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects, now_iso
from conformance.client.probe import Probe
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_refused, expect_status, first_page, ids_of, strictly
from conformance.scenarios.licenses import (
    CREATED,
    UNKNOWN_IN_BODY,
    UNKNOWN_OBJECT,
    instant,
    new_assignment,
    new_user_license,
    probe_of,
)
from conformance.scenarios.paths import USER_LICENSE_CREATE, USER_LICENSE_UPDATE, USER_LICENSES
from conformance.scenarios.suggestions import UNKNOWN_ID, remember
from conformance.verdicts import need, not_verified


def _only(admin: ApiClient, external_id: str, **params: Any) -> list[dict[str, Any]]:
    """The user licenses listed for one external_id (plus other filters)."""
    return first_page(admin, USER_LICENSES, {"external_id": external_id, **params})[1]


def _the(admin: ApiClient, license_: dict[str, Any], **params: Any) -> dict[str, Any]:
    found = [item for item in _only(admin, license_["external_id"], **params) if item.get("id") == license_["id"]]
    assert len(found) == 1, f"user license {license_['id']} must be listed once for its external_id, " \
                            f"found {len(found)}"
    return found[0]


def _create(admin: ApiClient, objects: Objects, body: dict[str, Any]) -> Exchange:
    """POST a user license create as given; a license the target creates is recorded for cleanup."""
    answer = admin.post(USER_LICENSE_CREATE, body)
    if answer.status in CREATED and isinstance(answer.json(), dict) and "id" in answer.json():
        remember(objects, "user_license", license_id=answer.json()["id"], name=str(body.get("name")))
    return answer


def _create_with(admin: ApiClient, objects: Objects, body: dict[str, Any],
                 **history: Any) -> tuple[Exchange | None, Exchange]:
    """Create `body` with the history fields `history` (transaction_id, change_type): (that answer, or None when the
    target refused it, and the answer of the license made). A target that refuses the history fields is asked again
    without them, so the checks of the license itself keep their evidence."""
    tracked = _create(admin, objects, {**body, **history})
    if tracked.status in CREATED:
        return tracked, tracked
    return None, _create(admin, objects, body)


def _expect_one_create_record(probe: Probe, tracked: Exchange | None, license_: dict[str, Any],
                              expected: tuple[Any, Any]) -> None:
    """CAT-ULIC-016: the license created with history fields has one record, (change_type, transaction_id)."""
    if tracked is None:
        not_verified("the server refused a user license create carrying the history fields (transaction_id, "
                     "change_type)")
    records = probe.license_history("user", license_["id"])
    assert _changes(records) == [expected], \
        f"a create must write one record with (change_type, transaction_id) {expected}; got {records}"


def _expect_only(admin: ApiClient, license_: dict[str, Any], params: dict[str, Any], why: str) -> None:
    """The license filtered by its external_id and `params` is listed alone."""
    listed = ids_of(_only(admin, license_["external_id"], **params))
    assert listed == [license_["id"]], f"{why}: must list license {license_['id']} alone, listed {listed}"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-ULIC-001", "CAT-ULIC-003", "CAT-ULIC-004", "CAT-ULIC-005", "CAT-ULIC-006",
                         "CAT-ULIC-007", "CAT-ULIC-008", "CAT-ULIC-009", "CAT-ULIC-011", "CAT-ULIC-013", "CAT-ULIC-016",
                         "CAT-ACL-003")
def test_user_license_create_then_every_filter_narrows_the_list(admin: ApiClient, objects: Objects,
                                                                settings: Settings,
                                                                request: pytest.FixtureRequest) -> None:
    """The create (with a transaction_id: its history record is CAT-ULIC-016's evidence) and every filter."""
    platform = settings.platform_key
    base = objects.name("ulic")
    source_a, source_b = f"{base}-src-a", f"{base}-src-b"
    transaction = f"{base}-create-tx"
    expires = (datetime.now(UTC) + timedelta(days=365)).isoformat(timespec="seconds").replace("+00:00", "Z")
    # platform_org names the same platform as platform_key; enrollment_config is in no published answer schema
    sent = {"platform_key": platform, "platform_org": settings.org, "name": f"{base}-Amber", "count": 3,
            "started": now_iso(), "expired": expires, "active": True, "external_id": f"{base}-Amber", "source": source_a,
            "metadata": {"conformance": "a"}, "enrollment_config": {"conformance": "a"}}
    tracked, answer = _create_with(admin, objects, sent, transaction_id=transaction)
    amber: dict[str, Any] = {}
    with check("CAT-ULIC-013") as made:
        amber = expect_status(answer, *CREATED, why="the DM admin creates a user license").json()
        assert isinstance(amber, dict) and isinstance(amber.get("id"), int), \
            f"the created user license has no integer id: {amber!r}"
    with check("CAT-ACL-003"):  # the DM admin is served (the access-control matrix leaves this create to this test)
        expect_status(answer, *CREATED, why="the DM admin may create user licenses")
    with check("CAT-ULIC-016"):  # SHOULD: one record, change_type "create" when none is sent, the transaction_id
        needs(made)
        _expect_one_create_record(probe_of(request), tracked, amber, ("create", transaction))
    # every later check reads the license created here: needs(made)
    basalt = new_user_license(objects, count=1, name=f"{base}-Basalt", source=source_b, active=False)

    with check("CAT-ULIC-013"):
        needs(made)
        wanted = {k: sent[k] for k in ("name", "count", "source", "active", "platform_key")}
        wrong = {k: (amber.get(k), v) for k, v in wanted.items() if amber.get(k) != v}
        if instant(amber.get("expired")) != instant(expires):
            wrong["expired"] = (amber.get("expired"), expires)
        if "enrollment_config" in amber and amber["enrollment_config"] != sent["enrollment_config"]:
            wrong["enrollment_config"] = (amber["enrollment_config"], sent["enrollment_config"])
        assert not wrong, f"the created user license must carry the values sent; (got, sent): {wrong}"
        assert amber["id"] in ids_of(_only(admin, sent["external_id"])), \
            f"the new user license {amber['id']} must appear in the user license list"

    with check("CAT-ULIC-001"):
        body, _ = first_page(admin, USER_LICENSES, {"platform_key": platform})
        assert body["count"] >= 1, f"the list counts {body['count']} user licenses after one was created"
    with check("CAT-ULIC-011"):
        _, page = first_page(admin, USER_LICENSES, {"platform_key": platform})
        carrying = [item.get("id") for item in page if "assignments" in item]
        assert not carrying, f"without verbose the user licenses must carry no 'assignments' field: {carrying}"

    other = new_user_license(objects, count=1, platform_key=settings.other_platform_key) \
        if settings.other_platform_key else None
    for label, requirement in (("platform_key", "CAT-ULIC-003"), ("key", "CAT-ULIC-004")):
        with check(requirement):
            needs(made)
            _, narrowed = first_page(admin, USER_LICENSES, {label: platform})
            strangers = [item.get("platform_key") for item in narrowed if item.get("platform_key") != platform]
            assert not strangers, f"{label}={platform} listed licenses of other platforms: {strangers}"
            _expect_only(admin, amber, {label: platform}, f"{label}={platform} keeps the platform's own license")
            if other is not None:
                assert _only(admin, other["external_id"], **{label: platform}) == [], \
                    f"{label}={platform} listed license {other['id']} of platform {settings.other_platform_key}"

    with check("CAT-ULIC-008") as by_external_id:
        needs(made)
        _expect_only(admin, amber, {}, "external_id names exactly one license")
        _expect_only(admin, basalt, {}, "external_id names exactly one license")

    with check("CAT-ULIC-005"):
        needs(made)
        _, named = first_page(admin, USER_LICENSES, {"name": amber["name"]})
        assert ids_of(named) == [amber["id"]], \
            f"name={amber['name']!r} (exact) must list only license {amber['id']}, listed {ids_of(named)}"
        _, prefix = first_page(admin, USER_LICENSES, {"name": base})
        assert prefix == [], f"name is an exact match: the prefix {base!r} must list nothing, listed {ids_of(prefix)}"

    with check("CAT-ULIC-006"):
        needs(made)
        _, sourced = first_page(admin, USER_LICENSES, {"source": source_a})
        assert ids_of(sourced) == [amber["id"]], \
            f"source={source_a!r} must list only {amber['id']}, listed {ids_of(sourced)}"

    with check("CAT-ULIC-007"):
        needs(made, by_external_id)
        for active, holder, other_one in ((True, amber, basalt), (False, basalt, amber)):
            flag = str(active).lower()
            _, page = first_page(admin, USER_LICENSES, {"active": flag, "platform_key": platform})
            wrong_flag = [item.get("id") for item in page if item.get("active") is not active]
            assert not wrong_flag, f"active={flag} listed licenses whose active is not {flag}: {wrong_flag}"
            _expect_only(admin, holder, {"active": flag}, f"active={flag} keeps license {holder['id']}")
            assert _only(admin, other_one["external_id"], active=flag) == [], \
                f"active={flag} must drop license {other_one['id']} (active {not active})"

    with check("CAT-ULIC-009"):
        needs(made)
        term = base[len("conformance-"):]
        _, both = first_page(admin, USER_LICENSES, {"query": term})
        assert sorted(ids_of(both)) == sorted([amber["id"], basalt["id"]]), \
            f"query={term!r} must list the two licenses whose names contain it, listed {ids_of(both)}"
        _, one = first_page(admin, USER_LICENSES, {"query": f"{term}-Amb"})
        assert ids_of(one) == [amber["id"]], f"query={term}-Amb must list only {amber['id']}, listed {ids_of(one)}"


@pytest.mark.requirement("CAT-ULIC-010")
def test_user_licenses_come_newest_first(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    base = objects.name("ulic-sort")
    older = new_user_license(objects, count=1, name=f"{base}-older")
    newer = new_user_license(objects, count=1, name=f"{base}-newer")
    _, ours = first_page(admin, USER_LICENSES, {"query": base})
    assert ids_of(ours) == [newer["id"], older["id"]], \
        f"without sort the newer license {newer['id']} must come before {older['id']}; listed {ids_of(ours)}"
    _, page = first_page(admin, USER_LICENSES, {"platform_key": settings.platform_key})
    strictly("desc", ids_of(page), "user licenses without sort")


@pytest.mark.requirement("CAT-ULIC-011", "CAT-ULIC-012")
def test_verbose_user_licenses_carry_assignment_counts(admin: ApiClient, objects: Objects,
                                                        fixtures: Fixtures) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    license_ = new_user_license(objects, count=2)
    new_assignment(objects, "user", license_["id"], user)

    with check("CAT-ULIC-011"):
        for params in ({}, {"verbose": "false"}):
            plain = _the(admin, license_, **params)
            assert "assignments" not in plain, f"with {params or 'no verbose'} the license carries 'assignments'"
    with check("CAT-ULIC-012"):
        detailed = _the(admin, license_, verbose="true")
        counts = detailed.get("assignments")
        assert isinstance(counts, dict) and counts, f"verbose=true must add an 'assignments' object, got {counts!r}"
        not_counts = {k: v for k, v in counts.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0}
        assert not not_counts, f"'assignments' must hold counts (non-negative integers); these are not: {not_counts}"
        assert any(counts.values()), f"the license has one assignment, yet every count is zero: {counts}"
        if "total" in counts:
            assert counts["total"] == 1, f"assignments.total {counts['total']} must count the one assignment"
            usage = detailed.get("usage_count")  # optional in UserLicenseDetail
            assert usage is None or usage == counts["total"], \
                f"assignments.total {counts['total']} must equal usage_count {usage}"


@pytest.mark.requirement("CAT-ULIC-014", "CAT-ULIC-015", "CAT-ULIC-016", "CAT-ULIC-017", "CAT-ULIC-026")
def test_user_license_create_defaults_and_refusals(admin: ApiClient, objects: Objects, settings: Settings,
                                                   request: pytest.FixtureRequest) -> None:
    """The defaults of a create without count or active, whose change_type "import" (and no transaction_id) its
    history record must carry (CAT-ULIC-016); then the refusals."""
    name = objects.name("ulic-defaults")
    body = {"platform_key": settings.platform_key, "name": name, "started": now_iso(), "external_id": name}
    tracked, answer = _create_with(admin, objects, body, change_type="import")
    created: dict[str, Any] = {}
    with check("CAT-ULIC-015") as made:
        created = expect_status(answer, *CREATED, why="a user license without count or active (both optional)").json()
        for shown in (created, _the(admin, created)):
            assert shown.get("count") == 0, f"count defaults to 0; the license shows {shown.get('count')!r}"
            assert shown.get("active") is True, f"active defaults to true; the license shows {shown.get('active')!r}"
    with check("CAT-ULIC-016"):
        needs(made)
        _expect_one_create_record(probe_of(request), tracked, created, ("import", None))

    with check("CAT-ULIC-017"):
        held = new_user_license(objects, count=1)
        duplicate = _create(admin, objects, {"platform_key": settings.platform_key, "name": f"{held['name']}-again",
                                             "count": 1, "started": now_iso(), "external_id": held["external_id"]})
        expect_refused(duplicate, "external_id must be unique")
        assert ids_of(_only(admin, held["external_id"])) == [held["id"]], "a refused duplicate must create nothing"

    unknown_platform = {"platform_key": f"conformance-{objects.ledger.run_id}-no-such-platform"}
    for requirement, label, extra, statuses in (
            ("CAT-ULIC-014", "without platform_key", {}, (400,)),
            ("CAT-ULIC-026", "naming a platform that does not exist (400, or 403/404 for an unknown platform)",
             unknown_platform, UNKNOWN_IN_BODY)):
        with check(requirement):
            lonely = objects.name("ulic-refused")
            refused = _create(admin, objects, {"name": lonely, "count": 1, "started": now_iso(),
                                               "external_id": lonely, **extra})
            expect_refused(refused, f"a user license create {label}", *statuses)
            assert _only(admin, lonely) == [], f"a refused create {label} must create nothing"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-ULIC-018", "CAT-ULIC-019", "CAT-ULIC-020", "CAT-ULIC-021", "CAT-ULIC-022",
                         "CAT-ULIC-023")
def test_user_license_update_by_either_identifier(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    license_ = new_user_license(objects, count=3, source="conformance-source", metadata={"step": "created"})
    external, renamed = license_["external_id"], f"{license_['name']}-renamed"

    by_id: dict[str, Any] = {}
    with check("CAT-ULIC-018") as updated_by_id:
        by_id = expect_status(admin.post(USER_LICENSE_UPDATE, {"license_id": license_["id"], "count": 7,
                                                               "name": renamed}), *CREATED).json()
        for shown in (by_id, _the(admin, license_)):
            assert (shown.get("count"), shown.get("name")) == (7, renamed), \
                f"the update by license_id must apply count 7 and the new name; the license shows {shown}"
    with check("CAT-ULIC-022"):
        needs(updated_by_id)
        for shown in (by_id, _the(admin, license_)):
            assert (shown.get("source"), shown.get("metadata"), shown.get("active")) == \
                   ("conformance-source", {"step": "created"}, True), \
                f"fields not sent must keep their values; the license shows {shown}"

    by_external: dict[str, Any] = {}
    with check("CAT-ULIC-019") as updated_by_external:
        by_external = expect_status(admin.post(USER_LICENSE_UPDATE, {"external_id": external,
                                                                     "metadata": {"step": "updated"}}),
                                    *CREATED).json()
        for shown in (by_external, _the(admin, license_)):
            assert shown.get("id") == license_["id"] and shown.get("metadata") == {"step": "updated"}, \
                f"the update by external_id must change license {license_['id']}'s metadata; it shows {shown}"
    with check("CAT-ULIC-022"):
        needs(updated_by_id, updated_by_external)
        for shown in (by_external, _the(admin, license_)):
            assert shown.get("count") == 7, f"the earlier count must stay; the license shows {shown.get('count')}"

    count = _the(admin, license_).get("count")
    with check("CAT-ULIC-020"):
        expect_refused(admin.post(USER_LICENSE_UPDATE, {"count": 9}), "license_id or external_id is required")
        assert _the(admin, license_).get("count") == count, "a refused update must change nothing"
    with check("CAT-ULIC-021"):
        expect_status(admin.post(USER_LICENSE_UPDATE, {"license_id": UNKNOWN_ID, "count": 9}), *UNKNOWN_OBJECT,
                      why="no license has that license_id (404, or 403 for an unknown object)")
        expect_status(admin.post(USER_LICENSE_UPDATE, {"external_id": f"{external}-nobody", "count": 9}),
                      *UNKNOWN_OBJECT, why="no license has that external_id (404, or 403 for an unknown object)")
        assert _the(admin, license_).get("count") == count, "a refused update must change nothing"

    with check("CAT-ULIC-023"):  # last: a server that moves the license would hide it from the checks above
        elsewhere = settings.other_platform_key or f"conformance-{objects.ledger.run_id}-elsewhere"
        moved = admin.post(USER_LICENSE_UPDATE, {"license_id": license_["id"], "platform_key": elsewhere,
                                                 "platform_org": elsewhere})
        expect_status(moved, *CREATED, *UNKNOWN_IN_BODY,
                      why="platform is not updatable: ignored (200) or refused (400, or 403/404 for the platform)")
        kept = _the(admin, license_, platform_key=settings.platform_key)
        assert kept.get("platform_key") == settings.platform_key, \
            f"the license moved to platform {kept.get('platform_key')!r}"


def _added(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {record.get("id") for record in before}
    return [record for record in after if record.get("id") not in seen]


def _changes(records: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(change_type, transaction_id) of each history record."""
    return [(r.get("change_type"), r.get("transaction_id")) for r in records]


@pytest.mark.requirement("CAT-ULIC-024", "CAT-ULIC-025")
def test_user_license_history_records(probe: Probe, admin: ApiClient, objects: Objects, run_id: str) -> None:
    """MUST: each successful update adds exactly one record carrying its change_type ("update" when none) and
    transaction_id. Records are compared before and after each request, so whatever the create wrote
    (CAT-ULIC-016, SHOULD) does not count here."""
    plain = new_user_license(objects, count=1)
    steps = [({"license_id": plain["id"], "count": 2, "transaction_id": f"conformance-{run_id}-ulic-tx"},
              ("update", f"conformance-{run_id}-ulic-tx")),
             ({"external_id": plain["external_id"], "count": 3, "change_type": "renewal"}, ("renewal", None))]
    for body, expected in steps:
        before = probe.license_history("user", plain["id"])
        setup(admin.post(USER_LICENSE_UPDATE, body), "updating a user license", *CREATED)
        added = _added(before, probe.license_history("user", plain["id"]))
        with check("CAT-ULIC-024") as one_record:
            assert len(added) == 1, f"one update must add exactly one history record, it added {len(added)}: {body}"
        with check("CAT-ULIC-025"):
            needs(one_record)
            (got,) = _changes(added)
            assert got == expected, f"the record must carry (change_type, transaction_id) {expected}, it has {got}"


@pytest.mark.requirement("CAT-ULIC-027")
def test_refused_user_license_update_writes_no_history(probe: Probe, admin: ApiClient, objects: Objects) -> None:
    """SHOULD: records are written for each update; a refused request is no update and writes none."""
    plain = new_user_license(objects, count=1)
    before = probe.license_history("user", plain["id"])
    setup(admin.post(USER_LICENSE_UPDATE, {"license_id": plain["id"], "count": "many"}),
          "an update whose count is not an integer (to be refused)", 400, 422)
    assert _added(before, probe.license_history("user", plain["id"])) == [], \
        "a refused update must write no history record"


@pytest.mark.requirement("CAT-ULIC-001", "CAT-ULIC-002")
def test_user_license_list_refuses_invalid_parameters(admin: ApiClient, settings: Settings) -> None:
    with check("CAT-ULIC-001"):
        first_page(admin, USER_LICENSES, {"platform_key": settings.platform_key})
    with check("CAT-ULIC-002"):
        for params in ({"active": "maybe"}, {"page": "x"}, {"page_size": "x"}, {"verbose": "maybe"}):
            expect_refused(admin.get(USER_LICENSES, params={"platform_key": settings.platform_key, **params}),
                           f"invalid parameter {params}")
