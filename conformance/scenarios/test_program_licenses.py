"""Program licenses: create (values, defaults, refusals), list (every filter, sort, verbose, pages), update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.probe import Probe
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios._licenses import (
    NO_SUCH_ID,
    assignments,
    create_license_raw,
    expect_ok,
    ids,
    instant,
    license_body,
    licenses,
    the_license,
)
from conformance.scenarios.support import (
    PROGRAM_LICENSE_UPDATE,
    PROGRAM_LICENSES,
    expect_status,
    need,
    walk_pages,
)
from conformance.verdicts import not_verified


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


def _created_with_values(objects: Objects) -> tuple[dict[str, Any], Exchange]:
    """POST a program license with every value set: (the body sent, the create exchange)."""
    now = datetime.now(UTC).replace(microsecond=0)
    body = license_body(objects, count=7, started=_iso(now - timedelta(days=1)), expired=_iso(now + timedelta(days=30)),
                        active=True, metadata={"conformance": "values", "seats": 7}, source="conformance-source")
    return body, create_license_raw(objects, body)


def _created_with_defaults(objects: Objects) -> dict[str, Any]:
    """A program license created from a complete body without 'active' or 'source' (the create answer)."""
    body = license_body(objects)
    assert "active" not in body and "source" not in body
    return expect_ok(create_license_raw(objects, body), "a complete create body")


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICCRE-001", "CAT-LICCRE-002", "CAT-LICCRE-014", "CAT-LICLIST-001")
def test_created_program_license_carries_the_values_sent(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    body, created = _created_with_values(objects)
    expect_status(created, 200, why="the published document answers 200 to a program license create")
    license_ = created.json()
    _same_values(license_, body, "the create answer")
    assert license_.get("usage_count") == 0, f"a new license has usage_count 0, not {license_.get('usage_count')!r}"

    listed = the_license(admin, settings, license_)
    _same_values(listed, body, "the license list")
    assert listed.get("usage_count") == 0


@pytest.mark.requirement("CAT-LICLIST-016")
def test_created_program_license_names_its_program(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    """SHOULD: program_id or program_key names the program, in the create answer and in the list."""
    body, created = _created_with_values(objects)
    license_ = expect_ok(created, "a program license create")
    assert body["program_key"] in _program_of(license_), \
        f"the license must name its program {body['program_key']!r} (program_id or program_key): {license_!r}"
    listed = the_license(admin, settings, license_)
    assert body["program_key"] in _program_of(listed), f"the listed license must name its program: {listed!r}"


@pytest.mark.requirement("CAT-LICCRE-008")
def test_program_license_created_without_active_is_active(objects: Objects) -> None:
    license_ = _created_with_defaults(objects)
    assert license_.get("active") is True, f"active defaults to true; the license has {license_.get('active')!r}"


@pytest.mark.requirement("CAT-LICCRE-009")
def test_program_license_created_without_source_is_from_api(objects: Objects) -> None:
    """SHOULD: the published schema's default source "api" (the prose gives none)."""
    license_ = _created_with_defaults(objects)
    assert license_.get("source") == "api", f"source defaults to 'api'; the license has {license_.get('source')!r}"


@pytest.mark.requirement("CAT-LICCRE-003", "CAT-LICCRE-004", "CAT-LICCRE-011", "CAT-LICCRE-012")
def test_program_license_create_without_a_valid_platform_or_program_is_refused(
    admin: ApiClient, objects: Objects, run_id: str
) -> None:
    cases: list[tuple[str, dict[str, Any]]] = []
    body = license_body(objects)
    for field in ("platform_key", "platform_org", "platform_id"):
        body.pop(field, None)
    cases.append(("no platform_key, platform_org or platform_id", body))
    body = license_body(objects)
    del body["program_key"], body["program_id"]
    cases.append(("neither program_key nor program_id", body))
    cases.append(("a platform that does not exist",
                  license_body(objects, platform_key=f"conformance-{run_id}-no-such-platform")))
    missing_program = f"program-v1:conformance+{run_id}+missing"
    cases.append(("a program that does not exist",
                  license_body(objects, program_key=missing_program, program_id=missing_program)))
    for why, body in cases:
        expect_status(create_license_raw(objects, body), 400, why=why)
        leaked = licenses(admin, external_id=body["external_id"])
        assert leaked == [], f"a create refused for {why} still created {ids(leaked)}"


@pytest.mark.requirement("CAT-LICCRE-005", "CAT-LICCRE-006", "CAT-LICCRE-007")
def test_program_license_create_without_a_published_required_field_follows_one_reading(objects: Objects) -> None:
    for field in ("name", "count", "started"):
        body = license_body(objects)
        del body[field]
        answer = create_license_raw(objects, body)
        expect_status(answer, 200, 400, why=f"without {field!r}: 400 (published reading) or created (prose reading)")
        if answer.status == 200 and field == "count":
            count = answer.json().get("count")
            assert count == 0, f"a license created without count has count 0 (prose default), not {count!r}"


@pytest.mark.requirement("CAT-LICCRE-010")
def test_duplicate_external_id_is_refused(admin: ApiClient, objects: Objects) -> None:
    first = objects.program_license(count=1)
    second = license_body(objects, external_id=first["external_id"])
    expect_status(create_license_raw(objects, second), 400, why="external_id must be unique")
    holders = licenses(admin, external_id=first["external_id"])
    assert ids(holders) == [first["id"]], f"only the first license may hold the external_id; listed: {ids(holders)}"
    assert licenses(admin, name=second["name"]) == [], "the refused duplicate was created anyway"


@pytest.mark.requirement("CAT-LICCRE-013")
def test_program_license_create_writes_one_history_record(probe: Probe, objects: Objects, run_id: str) -> None:
    transaction = f"conformance-{run_id}-create-tx"
    with_tx = expect_ok(create_license_raw(objects, license_body(objects, transaction_id=transaction)), "create")
    without_tx = expect_ok(create_license_raw(objects, license_body(objects)), "create")
    for license_, expected in ((with_tx, transaction), (without_tx, None)):
        records = probe.license_history("program", license_["id"])
        if not records:  # the vendor documents history records for updates only (CAT-LICCRE-013 is MAY)
            not_verified(f"the server writes no history record on create (license {license_['id']})")
        assert len(records) == 1, f"a create writes exactly one history record; license {license_['id']} has {records}"
        assert records[0].get("change_type") == "create", f"the create record's change_type: {records[0]!r}"
        assert records[0].get("transaction_id") == expected, \
            f"the create record must carry transaction_id {expected!r}: {records[0]!r}"


@pytest.mark.requirement("CAT-LICCRE-015", "CAT-LICCRE-016")
def test_program_license_create_by_platform_id_or_platform_org(objects: Objects, settings: Settings) -> None:
    by_org = license_body(objects, platform_org=settings.org)
    del by_org["platform_key"]
    created = expect_ok(create_license_raw(objects, by_org), "platform_org identifies the platform")
    assert created.get("platform_key") == settings.platform_key, \
        f"a license created with platform_org {settings.org!r} must be on {settings.platform_key!r}: {created!r}"

    policy = objects.rbac_policy()
    platform_id = (policy.get("platform") or {}).get("id")
    if not isinstance(platform_id, int):
        pytest.fail(f"an RBAC policy must show its platform's id (platform.id); got {policy.get('platform')!r}")
    by_id = license_body(objects, platform_id=platform_id)
    del by_id["platform_key"]
    created = expect_ok(create_license_raw(objects, by_id), "platform_id identifies the platform")
    assert created.get("platform_key") == settings.platform_key, \
        f"a license created with platform_id {platform_id} must be on {settings.platform_key!r}: {created!r}"


@pytest.mark.requirement("CAT-ACL-001")
def test_only_the_dm_admin_creates_program_licenses(
    platform_admin: ApiClient, learner: ApiClient, admin: ApiClient, objects: Objects
) -> None:
    for caller in (platform_admin, learner):
        body = license_body(objects)
        expect_status(create_license_raw(objects, body, client=caller), 403,
                      why=f"{caller.role} may not create program licenses")
        assert licenses(admin, external_id=body["external_id"]) == [], f"{caller.role}'s refused create left a license"


# ---------------------------------------------------------------------------------------------- list


@pytest.fixture
def tagged(objects: Objects, fixtures: Fixtures) -> dict[str, Any]:
    """Three licenses whose names share a unique tag: a (active), ab (inactive, name extends a's), c (active)."""
    need(fixtures.program_keys, 1, "program_keys")
    second = fixtures.program_keys[1] if len(fixtures.program_keys) > 1 else fixtures.program_keys[0]
    tag = objects.name("tag")
    made = {
        "a": objects.program_license(count=1, name=f"{tag}-a", source=f"{tag}-src-1"),
        "ab": objects.program_license(count=1, name=f"{tag}-a-b", source=f"{tag}-src-2", active=False,
                                      program_key=second, program_id=second),
        "c": objects.program_license(count=1, name=f"{tag}-c", source=f"{tag}-src-1"),
    }
    return {"tag": tag, "second_program": second, **made}


def _listed(admin: ApiClient, **params: Any) -> set[Any]:
    return set(ids(licenses(admin, **params)))


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICLIST-007", "CAT-LICLIST-008", "CAT-LICLIST-009", "CAT-LICLIST-011", "CAT-LICLIST-012")
def test_license_list_filters_by_name_source_active_external_id_and_query(admin: ApiClient,
                                                                          tagged: dict[str, Any]) -> None:
    tag, a, ab, c = tagged["tag"], tagged["a"]["id"], tagged["ab"]["id"], tagged["c"]["id"]
    assert _listed(admin, query=tag) == {a, ab, c}, "query=<tag> must list exactly the three tagged licenses"
    assert _listed(admin, query=f"{tag}-a") == {a, ab}, "query matches names containing the text"
    assert _listed(admin, name=f"{tag}-a") == {a}, "name matches exactly: a longer name containing it is not listed"
    assert _listed(admin, source=f"{tag}-src-1") == {a, c}, "source narrows to that source"
    assert _listed(admin, query=tag, active=False) == {ab}, "active=false lists only the inactive license"
    assert _listed(admin, query=tag, active=True) == {a, c}, "active=true lists only the active licenses"
    for item in licenses(admin, query=tag, active=True):
        assert item.get("active") is True
    assert _listed(admin, external_id=tagged["c"]["external_id"]) == {c}, "external_id names exactly one license"


@pytest.mark.requirement("CAT-LICLIST-010")
def test_license_list_filters_by_program_id(admin: ApiClient, tagged: dict[str, Any], fixtures: Fixtures) -> None:
    first, second = need(fixtures.program_keys, 2, "program_keys")
    tag, a, ab, c = tagged["tag"], tagged["a"]["id"], tagged["ab"]["id"], tagged["c"]["id"]
    assert _listed(admin, query=tag, program_id=first) == {a, c}, f"program_id={first} lists that program's licenses"
    assert _listed(admin, query=tag, program_id=second) == {ab}, f"program_id={second} lists that program's licenses"


@pytest.mark.requirement("CAT-LICLIST-003", "CAT-LICLIST-004", "CAT-LICLIST-005", "CAT-LICLIST-006")
def test_license_list_filters_by_platform(admin: ApiClient, tagged: dict[str, Any], settings: Settings,
                                          run_id: str) -> None:
    tag = tagged["tag"]
    mine = {tagged["a"]["id"], tagged["ab"]["id"], tagged["c"]["id"]}
    for name, value in (("platform_key", settings.platform_key), ("key", settings.platform_key),
                        ("org", settings.org), ("platform_org", settings.org)):
        found = licenses(admin, query=tag, **{name: value})
        assert set(ids(found)) == mine, f"{name}={value} must list the platform's tagged licenses; got {ids(found)}"
        elsewhere = [item.get("id") for item in licenses(admin, **{name: value}, page_size=50)
                     if item.get("platform_key") != settings.platform_key]
        assert not elsewhere, f"{name}={value} listed licenses of other platforms: {elsewhere}"
    if settings.other_platform_key:
        for name in ("platform_key", "key"):
            found = licenses(admin, query=tag, **{name: settings.other_platform_key})
            assert not mine & set(ids(found)), \
                f"{name}={settings.other_platform_key} listed licenses of {settings.platform_key}: {ids(found)}"
    for name in ("org", "platform_org"):
        answer = admin.get(PROGRAM_LICENSES, params={"query": tag, name: f"conformance-{run_id}-no-such-org"})
        expect_status(answer, 200, 400, 404, why="an organization no platform has")
        if answer.status == 200:
            leaked = mine & set(ids(answer.json().get("results", [])))
            assert not leaked, f"{name} naming no platform's organization still listed {sorted(leaked)}"


@pytest.mark.requirement("CAT-LICLIST-013", "GEN-PAGE-012", "CAT-LICLIST-001")
def test_license_list_sort_and_pages(admin: ApiClient, tagged: dict[str, Any]) -> None:
    tag = tagged["tag"]
    default = ids(licenses(admin, query=tag))
    assert default == sorted(default, reverse=True), f"without sort licenses come newest first (-id): {default}"
    assert ids(licenses(admin, query=tag, sort="id")) == sorted(default), "sort=id is ascending id"
    assert ids(licenses(admin, query=tag, sort="-id")) == sorted(default, reverse=True), "sort=-id is descending id"
    by_name = [item.get("name") for item in licenses(admin, query=tag, sort="name")]
    assert by_name == sorted(by_name), f"sort=name is ascending name: {by_name}"
    by_name_desc = [item.get("name") for item in licenses(admin, query=tag, sort="-name")]
    assert by_name_desc == sorted(by_name_desc, reverse=True), f"sort=-name is descending name: {by_name_desc}"

    first = expect_status(admin.get(PROGRAM_LICENSES, params={"query": tag, "page_size": 2}), 200).json()
    assert first.get("count") == 3, f"count is the number of matching licenses (3), not {first.get('count')!r}"
    assert len(first.get("results", [])) == 2, "page_size=2 serves two licenses on the first page"
    walked = ids(list(walk_pages(admin, PROGRAM_LICENSES, {"query": tag, "page_size": 2})))
    assert walked == default, f"walking pages of 2 must yield every license once, in order: {walked} vs {default}"
    second = expect_status(admin.get(PROGRAM_LICENSES, params={"query": tag, "page_size": 2, "page": 2}), 200).json()
    assert ids(second.get("results", [])) == default[2:], "page=2 serves the third license"


@pytest.mark.requirement("CAT-LICLIST-014", "CAT-LICLIST-015")
def test_verbose_adds_assignment_counts(admin: ApiClient, objects: Objects, settings: Settings,
                                        fixtures: Fixtures) -> None:
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = objects.program_license(count=5)
    objects.assignment("program", license_["id"], first)
    objects.assignment("program", license_["id"], second, fulfilled=True)
    objects.assignment("program", license_["id"], third, active=False)

    params = {"platform_key": settings.platform_key, "external_id": license_["external_id"]}
    for extra in ({}, {"verbose": False}):
        for item in walk_pages(admin, PROGRAM_LICENSES, {**params, **extra}):
            assert "assignments" not in item, f"without verbose=true a license has no 'assignments': {item!r}"
    shown = the_license(admin, settings, license_, verbose=True)
    counts = shown.get("assignments")
    assert isinstance(counts, dict), f"verbose=true adds an 'assignments' object; got {counts!r}"
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in counts.values()), f"integer counts: {counts!r}"
    assert counts.get("total") == shown.get("usage_count") == 3, \
        f"total must equal usage_count (3 assignments): {counts!r}, usage_count {shown.get('usage_count')!r}"
    if "active" in counts:
        assert counts["active"] == 2, f"two of three assignments are active: {counts!r}"
    if "pending" in counts:
        assert counts["pending"] == 2, f"two of three assignments are not fulfilled: {counts!r}"


@pytest.mark.requirement("CAT-LICLIST-002")
@pytest.mark.parametrize("params", [{"active": "maybe"}, {"verbose": "2"}, {"page": "x"}],
                         ids=["active=maybe", "verbose=2", "page=x"])
def test_license_list_with_an_invalid_parameter_is_refused(admin: ApiClient, settings: Settings,
                                                           params: dict[str, str]) -> None:
    expect_status(admin.get(PROGRAM_LICENSES, params={"platform_key": settings.platform_key, **params}), 400,
                  why="invalid query parameters")


# ---------------------------------------------------------------------------------------------- update


def _update(admin: ApiClient, body: dict[str, Any], why: str = "a valid update") -> dict[str, Any]:
    return dict(expect_status(admin.post(PROGRAM_LICENSE_UPDATE, body), 200, why=why).json())


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICUPD-001", "CAT-LICUPD-006", "CAT-LICUPD-009")
def test_update_by_license_id_applies_what_is_sent_and_keeps_the_rest(admin: ApiClient, objects: Objects,
                                                                      settings: Settings) -> None:
    license_ = objects.program_license(count=3, metadata={"kept": True}, source="conformance-before")
    changes = {"name": f"{license_['name']}-renamed", "count": 6, "active": False, "source": "conformance-after"}
    updated = _update(admin, {"license_id": license_["id"], **changes})
    assert updated.get("id") == license_["id"]
    _same_values(updated, changes, "the update answer")
    listed = the_license(admin, settings, license_)
    _same_values(listed, changes, "the list after the update")
    kept = {k: license_[k] for k in ("metadata", "external_id", "platform_key", "started", "expired")}
    _same_values(listed, kept, "fields the update did not send")
    assert _program_of(listed) & _program_of(license_), "the program is kept"


@pytest.mark.requirement("CAT-LICUPD-007", "CAT-LICUPD-008")
def test_update_dates_metadata_and_enrollment_config(admin: ApiClient, objects: Objects, settings: Settings) -> None:
    license_ = objects.program_license(count=2)
    now = datetime.now(UTC).replace(microsecond=0)
    dates = {"started": _iso(now - timedelta(days=3)), "expired": _iso(now + timedelta(days=60))}
    _same_values(_update(admin, {"license_id": license_["id"], **dates}), dates, "the update answer")
    _same_values(the_license(admin, settings, license_), dates, "the list after the update")

    cleared = _update(admin, {"license_id": license_["id"], "expired": None})
    assert cleared.get("expired") is None, f"expired null removes the expiry; the answer has {cleared.get('expired')!r}"
    assert the_license(admin, settings, license_).get("expired") is None, "the list still shows an expiry"

    metadata = {"conformance": {"nested": [1, 2]}, "note": "updated"}
    updated = _update(admin, {"license_id": license_["id"], "metadata": metadata,
                              "enrollment_config": {"auto_enroll": True}}, why="metadata and enrollment_config")
    assert updated.get("metadata") == metadata, f"metadata must be stored as sent: {updated.get('metadata')!r}"
    assert the_license(admin, settings, license_).get("metadata") == metadata


@pytest.mark.requirement("CAT-LICUPD-002", "CAT-LICUPD-003", "CAT-LICUPD-004", "CAT-LICUPD-005")
def test_update_names_the_license_by_license_id_or_external_id(admin: ApiClient, objects: Objects,
                                                               settings: Settings, run_id: str) -> None:
    license_ = objects.program_license(count=2)
    updated = _update(admin, {"external_id": license_["external_id"], "count": 4}, why="update by external_id")
    assert updated.get("id") == license_["id"] and updated.get("count") == 4, f"update by external_id: {updated!r}"
    assert the_license(admin, settings, license_).get("count") == 4

    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"count": 9}), 400, why="neither license_id nor external_id")
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": NO_SUCH_ID, "count": 9}), 404,
                  why="a license_id that names no license")
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"external_id": f"conformance-{run_id}-no-such", "count": 9}),
                  404, why="an external_id that names no license")
    assert the_license(admin, settings, license_).get("count") == 4, "a refused update changed the license"


@pytest.mark.requirement("CAT-LICUPD-012")
def test_update_never_moves_a_license(admin: ApiClient, objects: Objects, settings: Settings, fixtures: Fixtures,
                                      run_id: str) -> None:
    license_ = objects.program_license(count=2)
    programs = [p for p in fixtures.program_keys if p not in _program_of(license_)]
    other_program = programs[0] if programs else f"program-v1:conformance+{run_id}+elsewhere"
    other_platform = settings.other_platform_key or f"conformance-{run_id}-elsewhere"
    body = {"license_id": license_["id"], "platform_key": other_platform, "platform_org": other_platform,
            "program_key": other_program, "program_id": other_program, "name": f"{license_['name']}-moved"}
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, body), 200, 400,
                  why="platform and program fields are ignored (200) or refused (400)")
    listed = the_license(admin, settings, license_)
    assert listed.get("platform_key") == settings.platform_key, f"the license moved to {listed.get('platform_key')!r}"
    assert _program_of(listed) == _program_of(license_), \
        f"the license changed program: {_program_of(license_)} -> {_program_of(listed)}"


@pytest.mark.requirement("CAT-LICUPD-013")
def test_deactivating_a_license_keeps_its_assignments_active(admin: ApiClient, objects: Objects,
                                                             fixtures: Fixtures) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    license_ = objects.program_license(count=2)
    for user in (first, second):
        objects.assignment("program", license_["id"], user)
    _update(admin, {"license_id": license_["id"], "active": False})
    listed = assignments(admin, license_["id"])
    assert sorted(a.get("user_id") for a in listed) == sorted([first, second]), "the assignments must remain"
    inactive = [a.get("id") for a in listed if a.get("active") is not True]
    assert not inactive, f"deactivating the license deactivated assignments {inactive}"


@pytest.mark.requirement("CAT-LICUPD-014")
def test_refused_updates_write_no_history(probe: Probe, admin: ApiClient, objects: Objects) -> None:
    license_ = objects.program_license(count=1)
    before = probe.license_history("program", license_["id"])
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "count": "many"}), 400,
                  why="count must be an integer")
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"count": 3}), 400, why="neither license_id nor external_id")
    after = probe.license_history("program", license_["id"])
    assert [r.get("id") for r in after] == [r.get("id") for r in before], \
        f"refused updates wrote history records: {before} -> {after}"

