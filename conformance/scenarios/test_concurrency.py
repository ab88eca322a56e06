"""Parallel assignment requests against one license never take more seats than it has."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.client.objects import Objects
from conformance.client.session import Exchange
from conformance.config import Fixtures
from conformance.scenarios.licenses import CREATED, assignments, check_usage, new_program_license
from conformance.verdicts import need


@pytest.mark.requirement("CAT-SEAT-006")
def test_parallel_assignments_never_oversubscribe(objects: Objects, fixtures: Fixtures) -> None:
    """MUST: "The license must have available seats for the assignment to succeed", concurrent requests included."""
    users = list(fixtures.user_ids)
    need(fixtures.user_ids, 2, "user_ids")
    free = max(1, len(users) // 2)
    license_ = new_program_license(objects, count=free)
    start = threading.Barrier(len(users))

    def assign(user: int) -> Exchange:
        start.wait(timeout=30)  # release every request at once
        return objects.assign("program", license_["id"], user)

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        answers = list(pool.map(assign, users))

    won = [(user, a) for user, a in zip(users, answers, strict=True) if a.status in CREATED]
    refused = [(user, a) for user, a in zip(users, answers, strict=True) if 400 <= a.status < 500]
    odd = [f"user {user}: {a.status}" for user, a in zip(users, answers, strict=True)
           if not (a.status in CREATED or 400 <= a.status < 500)]
    assert not odd, f"each parallel assignment must be accepted or refused with a 4xx: {odd}"
    assert len(won) == free, (f"{len(users)} parallel assignments on a license with {free} free seat(s): "
                              f"exactly {free} must succeed, {len(won)} did (users {[u for u, _ in won]})")
    assert len(refused) == len(users) - free
    holders = sorted(a.get("user_id") for a in assignments(objects.admin, license_["id"]))
    assert holders == sorted(user for user, _ in won), \
        f"the assignment list {holders} must hold exactly the accepted users {sorted(u for u, _ in won)}"
    shown = check_usage(objects.admin, objects.settings, license_, "after the parallel assignments")
    assert shown["usage_count"] == shown["count"] == free, \
        f"usage_count must equal count ({free}) afterwards: usage_count {shown['usage_count']}, count {shown['count']}"
