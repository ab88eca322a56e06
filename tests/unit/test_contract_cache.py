"""A contract content that passed validation once is not validated again by later runs; an invalid one never is
remembered, and a cache folder that cannot be written costs only the time of validating again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance.spec import loader
from conformance.spec.loader import CACHE_VARIABLE, SpecError, load_contract

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "ibl-data-manager.yaml"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """Every validation the loader runs, with a fresh cache folder and a fresh in-process cache."""
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(loader.VALIDATED_VARIABLE, raising=False)
    loader._load_contract.cache_clear()
    seen: list[Path] = []
    validate = loader._validate
    monkeypatch.setattr(loader, "_validate", lambda path, document: (seen.append(path), validate(path, document)))
    yield seen
    loader._load_contract.cache_clear()


def test_a_valid_contract_is_validated_by_the_first_run_only(validations: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "contract.yaml"
    copy.write_bytes(CONTRACT.read_bytes())
    load_contract(copy)
    loader._load_contract.cache_clear()  # as a new process would
    load_contract(copy)
    assert validations == [copy.resolve()]


def test_an_invalid_contract_is_refused_every_time(validations: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    document = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    document["paths"]["/api/catalog/licenses/program/"]["get"]["responses"] = "not a mapping"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    for _ in range(2):
        loader._load_contract.cache_clear()
        with pytest.raises(SpecError, match="is invalid"):
            load_contract(broken)
    assert len(validations) == 2


def test_a_changed_contract_is_validated_again(validations: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "contract.yaml"
    copy.write_bytes(CONTRACT.read_bytes())
    load_contract(copy)
    copy.write_bytes(CONTRACT.read_bytes() + b"\n# changed\n")
    load_contract(copy)
    assert len(validations) == 2


def test_a_cache_folder_that_cannot_be_written_only_costs_a_validation(monkeypatch: pytest.MonkeyPatch,
                                                                       validations: list[Path], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_VARIABLE, str(blocker / "cache"))
    copy = tmp_path / "contract.yaml"
    copy.write_bytes(CONTRACT.read_bytes())
    for _ in range(2):
        loader._load_contract.cache_clear()
        assert load_contract(copy).document["openapi"].startswith("3.0")
    assert len(validations) == 2


def test_a_parsed_document_is_read_back_from_the_cache_and_a_broken_cache_file_is_parsed_again(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    source = tmp_path / "doc.yaml"
    source.write_text("a: 1\nresponses:\n  200: {description: ok}\n", encoding="utf-8")
    sha = loader.digest(source)
    first = loader.read_yaml(source, "test", sha)
    assert first == {"a": 1, "responses": {200: {"description": "ok"}}}  # YAML's own types, integer keys kept
    source.write_text("a: 2\n", encoding="utf-8")  # (same digest given: the cached parse answers)
    assert loader.read_yaml(source, "test", sha) == first
    loader._parsed_file(sha).write_bytes(b"not a pickle")
    assert loader.read_yaml(source, "test", sha) == {"a": 2}  # unreadable cache: parsed again


def test_without_a_digest_nothing_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    source = tmp_path / "doc.yaml"
    source.write_text("a: 1\n", encoding="utf-8")
    assert loader.read_yaml(source, "test") == {"a": 1}
    assert not (tmp_path / "cache").exists()
