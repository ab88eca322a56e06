"""A program license update writes exactly one history record (seen through the probe)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.client.probe import Probe
from conformance.client.session import ApiClient
from conformance.scenarios.licenses import CREATED, new_program_license
from conformance.scenarios.paths import PROGRAM_LICENSE_UPDATE


def _new_records(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {record.get("id") for record in before}
    return [record for record in after if record.get("id") not in seen]


def _records_of_one_update(probe: Probe, admin: ApiClient, license_: dict[str, Any],
                           body: dict[str, Any], how: str) -> list[dict[str, Any]]:
    """The history records one successful update of the license added."""
    before = probe.license_history("program", license_["id"])
    setup(admin.post(PROGRAM_LICENSE_UPDATE, body), f"updating a program license {how}", *CREATED)
    return _new_records(before, probe.license_history("program", license_["id"]))


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICUPD-010", "CAT-LICUPD-011")
def test_program_license_update_writes_one_history_record(
    probe: Probe, admin: ApiClient, objects: Objects, run_id: str
) -> None:
    license_ = new_program_license(objects, count=3)
    transaction = f"conformance-{run_id}-tx-1"
    added = _records_of_one_update(probe, admin, license_, {"license_id": license_["id"], "count": 4,
                                                            "transaction_id": transaction}, "by license_id")
    with check("CAT-LICUPD-010") as one_record:
        assert len(added) == 1, f"one update by license_id must add exactly one history record, it added {len(added)}"
    with check("CAT-LICUPD-011"):
        needs(one_record)
        assert added[0].get("change_type") == "update", \
            f"change_type defaults to 'update'; the record says {added[0].get('change_type')!r}"
        assert added[0].get("transaction_id") == transaction, \
            f"the record must carry the request's transaction_id {transaction!r}; " \
            f"it has {added[0].get('transaction_id')!r}"


@pytest.mark.requirement("CAT-LICUPD-010", "CAT-LICUPD-011")
def test_program_license_update_by_external_id_records_its_change_type(
    probe: Probe, admin: ApiClient, objects: Objects, run_id: str
) -> None:
    license_ = new_program_license(objects, count=2)
    transaction = f"conformance-{run_id}-tx-2"
    body = {"external_id": license_["external_id"], "name": f"{license_['name']}-renewed",
            "change_type": "renewal", "transaction_id": transaction}
    added = _records_of_one_update(probe, admin, license_, body, "by external_id")
    with check("CAT-LICUPD-010") as one_record:
        assert len(added) == 1, f"one update by external_id must add exactly one history record, it added {len(added)}"
    with check("CAT-LICUPD-011"):
        needs(one_record)
        assert added[0].get("change_type") == "renewal", \
            f"the record must carry the change_type sent ('renewal'); it has {added[0].get('change_type')!r}"
        assert added[0].get("transaction_id") == transaction, \
            f"the record must carry the transaction_id sent {transaction!r}; it has {added[0].get('transaction_id')!r}"


@pytest.mark.requirement("CAT-LICUPD-014")
def test_refused_program_license_update_writes_no_history_record(
    probe: Probe, admin: ApiClient, objects: Objects
) -> None:
    """SHOULD: records are written for each update; a refused request is no update and writes none."""
    license_ = new_program_license(objects, count=1)
    before = probe.license_history("program", license_["id"])
    # neither license_id nor external_id: any refusal will do, its status is CAT-LICUPD-003's matter
    setup(admin.post(PROGRAM_LICENSE_UPDATE, {"count": 9}), "an update naming no license (to be refused)",
          400, 403, 404, 422)
    after = probe.license_history("program", license_["id"])
    assert _new_records(before, after) == [], "a refused update must not write a history record"
