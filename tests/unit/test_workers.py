"""How many workers a run takes: the setting when it names a number, else one per core the load leaves free."""

from __future__ import annotations

import time

import pytest

from conformance import workers
from conformance.config import load_settings
from conformance.errors import UsageError
from conformance.workers import AUTO_MAX, SAMPLE_SECONDS, Usage, busy_cores_of_others, choose


@pytest.mark.parametrize(("cores", "busy", "expected"), [
    (2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 2.0, 1), (1, 0.0, 1), (8, 0.5, AUTO_MAX), (8, 7.9, 1)])
def test_auto_takes_one_worker_per_free_core_up_to_the_measured_most(cores: int, busy: float, expected: int) -> None:
    choice = choose(None, cores=cores, others_busy=busy)
    assert choice.count == expected
    assert choice.reason.startswith("auto:") and f"{cores} core" in choice.reason


def test_a_number_that_is_set_is_taken_as_it_is() -> None:
    assert choose(3, cores=2, others_busy=2.0).count == 3
    assert choose(1, cores=8, others_busy=0.0).count == 1


def test_the_cores_kept_busy_by_other_processes_leave_out_this_process_own_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over one second the machine was busy 2.0 CPU-seconds, 1.5 of them this process's own: others used 0.5."""
    monkeypatch.setattr(workers, "Usage", type("Fixed", (), {"now": staticmethod(lambda: Usage(12.0, 6.5, 101.0))}))
    assert busy_cores_of_others(Usage(10.0, 5.0, 100.0)) == pytest.approx(0.5)
    assert choose(None, cores=2, others_busy=busy_cores_of_others(Usage(10.0, 5.0, 100.0))).count == 2


def test_a_sample_is_never_shorter_than_the_least_sample_time() -> None:
    since = Usage.now()
    busy_cores_of_others(since)
    assert time.monotonic() - since.at >= SAMPLE_SECONDS


@pytest.mark.parametrize(("value", "expected"), [("auto", None), ("", None), ("2", 2), (" 1 ", 1), (4, 4)])
def test_the_workers_setting_reads_auto_or_a_whole_number(value: object, expected: int | None) -> None:
    assert load_settings(None, overrides={"workers": value}).workers == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "2.5", 0, True])
def test_a_workers_setting_that_is_not_auto_or_a_whole_number_is_refused_in_one_line(value: object) -> None:
    with pytest.raises(UsageError, match=r"workers must be auto or a whole number from 1 up"):
        load_settings(None, overrides={"workers": value})


def test_the_variable_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_WORKERS", "1")
    assert load_settings(None).workers == 1
