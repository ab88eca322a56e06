"""A program license update writes exactly one history record (seen through the probe)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.probe import Probe
from conformance.client.session import ApiClient
from conformance.scenarios.support import PROGRAM_LICENSE_UPDATE, expect_status


def _new_records(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {record.get("id") for record in before}
    return [record for record in after if record.get("id") not in seen]


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICUPD-010", "CAT-LICUPD-011")
def test_program_license_update_writes_one_history_record(
    probe: Probe, admin: ApiClient, objects: Objects, run_id: str
) -> None:
    license_ = objects.program_license(count=3)
    before = probe.license_history("program", license_["id"])

    transaction = f"conformance-{run_id}-tx-1"
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "count": 4,
                                                      "transaction_id": transaction}), 200)
    after = probe.license_history("program", license_["id"])
    added = _new_records(before, after)
    assert len(added) == 1, f"one update by license_id must add exactly one history record, it added {len(added)}"
    assert added[0].get("change_type") == "update", \
        f"change_type defaults to 'update'; the record says {added[0].get('change_type')!r}"
    assert added[0].get("transaction_id") == transaction, \
        f"the record must carry the request's transaction_id {transaction!r}; it has {added[0].get('transaction_id')!r}"


@pytest.mark.requirement("CAT-LICUPD-010", "CAT-LICUPD-011")
def test_program_license_update_by_external_id_records_its_change_type(
    probe: Probe, admin: ApiClient, objects: Objects, run_id: str
) -> None:
    license_ = objects.program_license(count=2)
    before = probe.license_history("program", license_["id"])

    transaction = f"conformance-{run_id}-tx-2"
    body = {"external_id": license_["external_id"], "name": f"{license_['name']}-renewed",
            "change_type": "renewal", "transaction_id": transaction}
    expect_status(admin.post(PROGRAM_LICENSE_UPDATE, body), 200)
    added = _new_records(before, probe.license_history("program", license_["id"]))
    assert len(added) == 1, f"one update by external_id must add exactly one history record, it added {len(added)}"
    assert added[0].get("change_type") == "renewal", \
        f"the record must carry the change_type sent ('renewal'); it has {added[0].get('change_type')!r}"
    assert added[0].get("transaction_id") == transaction


@pytest.mark.requirement("CAT-LICUPD-010")
def test_refused_program_license_update_writes_no_history_record(
    probe: Probe, admin: ApiClient, objects: Objects
) -> None:
    license_ = objects.program_license(count=1)
    before = probe.license_history("program", license_["id"])

    refused = admin.post(PROGRAM_LICENSE_UPDATE, {"count": 9})  # neither license_id nor external_id
    expect_status(refused, 400, why="license_id or external_id is required")
    after = probe.license_history("program", license_["id"])
    assert _new_records(before, after) == [], "a refused update must not write a history record"
