"""The Allure results writer (requests as steps, one transcript attachment per test), the listener without fixture
containers, and the scrubbing of keys from everything a run wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from allure_commons import model2
from allure_commons.logger import AllureFileLogger

from conformance.client.session import Exchange
from conformance.redaction import MASK
from conformance.reporting.allure import MAX_TRANSCRIPTS, ResultsWriter, transcripts
from conformance.runner import scrub_reports


def exchange(number: int, status: int = 200) -> tuple[Exchange, float]:
    sent = Exchange(method="GET", url=f"http://target/api/things/{number}/", request_headers={"Accept": "*/*"},
                    request_body=None, status=status, response_headers={"content-type": "application/json"},
                    text=f'{{"id": {number}}}', elapsed=0.004, key_variable=None)
    return sent, 1_700_000_000.0 + number


def written(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"*-{suffix}"))


def test_a_tests_requests_become_numbered_steps_and_one_attachment_in_order(tmp_path: Path) -> None:
    writer = ResultsWriter(str(tmp_path))
    writer.hold("test_one", [exchange(1), exchange(2, status=404)])
    writer.report_result(model2.TestResult(name="test_one", uuid="u1", status="passed"))
    (result_file,) = written(tmp_path, "result.json")
    result = json.loads(result_file.read_text())
    assert [step["name"] for step in result["steps"]] == ["#1 GET /api/things/1/ -> 200", "#2 GET /api/things/2/ -> 404"]
    assert result["steps"][0]["stop"] - result["steps"][0]["start"] == 4
    (attachment,) = result["attachments"]
    text = (tmp_path / attachment["source"]).read_text()
    assert text.index("#1 GET /api/things/1/ -> 200") < text.index("#2 GET /api/things/2/ -> 404")
    assert "reproduce: curl" in text and attachment["type"] == "text/plain"
    assert len(written(tmp_path, "attachment.txt")) == 1


def test_exchanges_go_only_to_the_result_of_their_own_test(tmp_path: Path) -> None:
    writer = ResultsWriter(str(tmp_path))
    writer.hold("test_one", [exchange(1)])
    writer.report_result(model2.TestResult(name="test_other", uuid="u2", status="passed"))
    writer.report_result(model2.TestResult(name="test_one", uuid="u1", status="passed"))  # held once, for the next result only
    results = [json.loads(path.read_text()) for path in written(tmp_path, "result.json")]
    assert all(not result.get("steps") and not result.get("attachments") for result in results)
    assert not written(tmp_path, "attachment.txt")


def test_transcripts_keep_the_last_ones_and_say_which_are_steps_only() -> None:
    text = transcripts([exchange(n) for n in range(1, MAX_TRANSCRIPTS + 6)])
    assert text.startswith(f"(#1-#5: steps only; the transcripts of the last {MAX_TRANSCRIPTS} follow)")
    assert "#6 GET /api/things/6/ -> 200" in text and "#5 GET" not in text


def test_scrub_reports_masks_keys_in_every_folder_and_leaves_other_files_alone(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    holding = tmp_path / "allure-results" / "a-attachment.txt"
    holding.write_text("Authorization: Api-Token secret-key-1\n")
    clean = tmp_path / "summary.json"
    clean.write_text('{"verdict": "conformant"}\n')
    os.utime(clean, (1_000_000_000, 1_000_000_000))
    scrub_reports(tmp_path, ["secret-key-1"])
    assert holding.read_text() == f"Authorization: Api-Token {MASK}\n"
    assert clean.stat().st_mtime == 1_000_000_000, "a file without a key is not rewritten"


def test_scrub_reports_since_a_moment_skips_older_files(tmp_path: Path) -> None:
    old = tmp_path / "junit.xml"
    old.write_text("secret-key-1")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    new = tmp_path / "report.html"
    new.write_text("secret-key-1")
    scrub_reports(tmp_path, ["secret-key-1"], since=time.time() - 60)
    assert old.read_text() == "secret-key-1" and new.read_text() == MASK


def test_a_result_is_written_as_allure_python_writes_it(tmp_path: Path) -> None:
    result = model2.TestResult(name="test_one", uuid="u1", status="failed", fullName="m#test_one", start=1, stop=2,
                               statusDetails=model2.StatusDetails(message="AssertionError", trace="line"),
                               labels=[model2.Label(name="story", value="CAT-SEAT-003")], parameters=[],
                               links=[model2.Link(type="requirement", url="requirements.yaml#CAT-SEAT-003", name="x")])
    ResultsWriter(str(tmp_path / "ours")).report_result(result)
    AllureFileLogger(str(tmp_path / "theirs")).report_result(result)
    (ours,) = written(tmp_path / "ours", "result.json")
    (theirs,) = written(tmp_path / "theirs", "result.json")
    assert json.loads(ours.read_text()) == json.loads(theirs.read_text())


LISTENED = '''
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

@pytest.fixture
def fine():
    yield 1

def test_uses_a_broken_fixture(broken): pass
def test_fails(fine): assert fine == 2
@pytest.mark.xfail(reason="known deviation")
def test_deviates(fine): assert False
'''
INSTALLING = '''
import pytest
from conformance.reporting.allure import install_writer

@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    assert install_writer(session.config) is not None
'''


def test_the_listener_reports_each_outcome_as_allure_pytest_does_without_fixture_containers(tmp_path: Path) -> None:
    (tmp_path / "test_listened.py").write_text(LISTENED)
    (tmp_path / "installing.py").write_text(INSTALLING)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "allure_pytest.plugin",
                           "-p", "installing", f"--alluredir={tmp_path / 'results'}", "test_listened.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Error" not in done.stderr, done.stdout + done.stderr  # (a clean end: originals restored)
    results = {r["name"]: r for r in (json.loads(p.read_text()) for p in written(tmp_path / "results", "result.json"))}
    assert {name: r["status"] for name, r in results.items()} == {
        "test_uses_a_broken_fixture": "broken", "test_fails": "failed", "test_deviates": "skipped"}
    assert results["test_uses_a_broken_fixture"]["statusDetails"]["message"] == "RuntimeError: fixture broke"
    assert results["test_deviates"]["statusDetails"]["message"].startswith("XFAIL known deviation")
    assert not written(tmp_path / "results", "container.json")
