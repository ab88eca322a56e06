"""A reference that reads the documents differently is still conformant: the whole ci profile passes against
every alternate reading at once (`conformance serve --readings alternate`), and each side of a conflict (two
switches `alternate` cannot hold together) passes alone on the topics of the requirements it touches (a topic
rather than the IDs, since some touched requirements, MAYs with no documented outcome, have no test of their
own, and the neighbouring tests are where a reading is wrongly rejected). Every switch alone, the slow matrix,
is benchmarks/readings_matrix.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.reference.readings import CONFLICTS, SWITCHES, Readings
from tests.integration.conftest import Completed, run_against

BAD_VERDICTS = ("failed", "warning", "flaky", "target error")
CONFLICTING = [s for s in SWITCHES if any(s.name in conflict[:2] for conflict in CONFLICTS)]


def bad_requirements(done: Completed) -> list[dict[str, Any]]:
    """The requirements the run failed or warned about, with why."""
    return [{"id": r["id"], "verdict": r["verdict"], "reason": r["reason"]}
            for r in done.summary()["requirements"] if r["verdict"] in BAD_VERDICTS]


def topics(requirements: tuple[str, ...]) -> list[str]:
    """--requirement flags selecting the topics (e.g. CAT-SEAT) of `requirements`."""
    prefixes = sorted({rid.rsplit("-", 1)[0] for rid in requirements})
    return [flag for prefix in prefixes for flag in ("--requirement", prefix)]


def assert_conformant(done: Completed) -> None:
    assert (done.report_dir / "summary.json").is_file(), \
        f"no summary (exit {done.code}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    bad = bad_requirements(done)
    counts = done.summary()["counts"]["requirements"]
    assert not bad, "\n".join(f"{b['id']} {b['verdict']}: {b['reason']}" for b in bad)
    assert all(counts.get(verdict, 0) == 0 for verdict in BAD_VERDICTS), counts
    assert done.code == 0, f"exit {done.code}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_every_alternate_reading_at_once_is_conformant(tmp_path: Path) -> None:
    assert_conformant(run_against(Readings.alternate(), tmp_path))


@pytest.mark.parametrize("switch", CONFLICTING, ids=[s.name for s in CONFLICTING])
def test_each_side_of_a_conflict_alone_is_conformant_on_what_it_touches(switch: Any, tmp_path: Path) -> None:
    assert_conformant(run_against(Readings.parse([switch.name]), tmp_path, *topics(switch.requirements)))
