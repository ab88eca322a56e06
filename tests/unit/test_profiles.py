"""The generation profiles: ci is reproducible, nightly random and recorded, smoke small."""

from __future__ import annotations

from pathlib import Path

from conformance.config import PROFILES as CONFIG_PROFILES
from conformance.generation import profiles


def test_every_configurable_profile_has_generation_settings() -> None:
    assert set(profiles.PROFILES) == set(CONFIG_PROFILES)


def test_ci_is_derandomized_with_a_fixed_seed_and_no_database(tmp_path: Path) -> None:
    first = profiles.resolve("ci", None, tmp_path)
    second = profiles.resolve("ci", None, tmp_path)
    assert first.seed == second.seed == profiles.CI_SEED
    assert first.database_dir is None
    hyp = first.hypothesis_settings("positive")
    assert hyp.derandomize is True
    assert hyp.database is None
    assert hyp.deadline is None
    assert hyp.max_examples == profiles.PROFILES["ci"].positive_examples


def test_nightly_seed_is_random_and_its_database_lives_under_the_report_dir(tmp_path: Path) -> None:
    seeds = {profiles.resolve("nightly", None, tmp_path).seed for _ in range(5)}
    assert len(seeds) > 1
    nightly = profiles.resolve("nightly", None, tmp_path)
    assert nightly.database_dir == tmp_path / profiles.DATABASE_DIR
    assert nightly.hypothesis_settings("positive").database is not None
    assert nightly.profile.time_budget is not None
    assert str(nightly.seed) in nightly.describe()


def test_a_given_seed_overrides_the_profile_seed(tmp_path: Path) -> None:
    assert profiles.resolve("ci", 1234, tmp_path).seed == 1234
    assert profiles.resolve("nightly", 99, tmp_path).seed == 99


def test_smoke_is_small_and_full_is_larger_than_ci() -> None:
    smoke, ci, full, nightly = (profiles.PROFILES[n] for n in ("smoke", "ci", "full", "nightly"))
    assert smoke.positive_examples < ci.positive_examples < full.positive_examples < nightly.positive_examples
    assert smoke.negative_examples == 0 and not smoke.stateful
    assert full.stateful and nightly.stateful
    assert ci.stateful_examples <= 1  # ci runs at most one bounded chain of each kind


def test_schema_violating_cases_never_break_only_the_authorization_header() -> None:
    """The caller's key replaces any generated Authorization header: the schema-violating cases are drawn with no
    security parameters, so none of them is drawn only to be set aside for a header that never reaches the server."""
    from hypothesis import given
    from schemathesis import GenerationMode

    from conformance.properties.contract import violating_operations
    from conformance.properties.filling import negative_parts

    label = "GET /api/core/rbac/roles/"
    parts: list[set[str] | None] = []

    @profiles.hypothesis_settings(profiles.PROFILES["ci"], 10, None)
    @given(case=violating_operations()[label].as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def draw(case: object) -> None:
        parts.append(negative_parts(case))
        assert "Authorization" not in (case.headers or {})  # type: ignore[attr-defined]

    draw()
    assert parts and all(found is not None and "header" not in found for found in parts)


def test_schema_valid_cases_carry_no_generated_authorization_header() -> None:
    """Every caller sends its own key, or none, in place of a generated Authorization header: the schema-valid cases
    (and the cases the requests without a valid key are built from) are drawn without security parameters."""
    from hypothesis import given
    from schemathesis import GenerationMode

    from conformance.properties.contract import contract_document, operations

    label = "GET /api/core/rbac/roles/"
    assert contract_document()["components"]["securitySchemes"]  # the contract names a key scheme all the same
    drawn: list[object] = []

    @profiles.hypothesis_settings(profiles.PROFILES["ci"], 10, None)
    @given(case=operations()[label].as_strategy(generation_mode=GenerationMode.POSITIVE))
    def draw(case: object) -> None:
        drawn.append(case)
        assert not any(name.lower() == "authorization" for name in (case.headers or {}))  # type: ignore[attr-defined]

    draw()
    assert drawn


def test_schema_violating_cases_never_add_a_query_parameter_the_operation_does_not_name() -> None:
    """The published document lets a request carry query parameters it does not name: the schema-violating cases are
    drawn with no extra parameters, so none of them is drawn only to break nothing the server is told to refuse."""
    from hypothesis import given
    from schemathesis import GenerationMode

    from conformance.properties.contract import violating_operations

    operation = violating_operations()["GET /api/core/rbac/roles/"]
    named = {parameter.name for parameter in operation.query}
    extra: list[set[str]] = []

    @profiles.hypothesis_settings(profiles.PROFILES["ci"], 30, None)
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def draw(case: object) -> None:
        extra.append(set(case.query or {}) - named)  # type: ignore[attr-defined]

    draw()
    assert extra and not any(extra)


def test_the_acceptance_rules_no_case_judged_yet_are_the_ones_left_for_a_case_broken_by_hand() -> None:
    from conformance.properties.judging import Findings

    findings = Findings(("GEN-STATUS-007", "GEN-STATUS-002", "GEN-STATUS-004", "GEN-STATUS-005"))
    assert findings.unjudged_acceptance() == ["GEN-STATUS-004", "GEN-STATUS-005"]
    findings.judge("GEN-STATUS-004", None)
    assert findings.unjudged_acceptance() == ["GEN-STATUS-005"]
    findings.judge("GEN-STATUS-005", "served (200) although it breaks the published document")
    assert findings.unjudged_acceptance() == []  # a broken rule was judged too
    assert Findings(("GEN-STATUS-007", "GEN-STATUS-002")).unjudged_acceptance() == []  # no acceptance rule


def test_a_caller_without_a_key_sends_no_authorization_header_whatever_was_generated_for_it() -> None:
    """GEN-AUTH-001 is about a request with no key: a value drawn for the security scheme's header is not sent."""
    from types import SimpleNamespace

    from conformance.config import Settings
    from conformance.properties.reporting import Caller

    sent: list[dict[str, str]] = []

    def call(**kwargs: object) -> str:
        sent.append({**case.headers, **kwargs["headers"]})  # type: ignore[dict-item]
        return "answer"

    case = SimpleNamespace(method="GET", operation=SimpleNamespace(path="/x"), headers={"Authorization": ":m)>!Q*k",
                                                                                       "X-Other": "1"}, call=call)
    wire = SimpleNamespace(guarded=lambda method, path, send: send())
    caller = Caller(Settings(base_url="http://127.0.0.1:9"), None, wire=wire)  # type: ignore[arg-type]
    assert caller.send(case) == "answer"
    assert sent == [{"X-Other": "1"}]
    keyed = Caller(Settings(base_url="http://127.0.0.1:9"), None, wire=wire, wrong_key="wrong")  # type: ignore[arg-type]
    case.headers = {"Authorization": "drawn"}
    keyed.send(case)
    assert sent[-1] == {"Authorization": "Api-Token wrong"}


def test_a_rule_no_drawn_case_reached_gets_a_case_broken_by_hand_in_the_part_it_judges() -> None:
    """GEN-STATUS-004 on a write judges only a broken required query parameter (the license_id every drawn case has
    pointed at the run's own license): a case remade from a sent one breaks exactly that, by type."""
    from types import SimpleNamespace

    from conformance.properties.contract import BODY_ACCEPTED, QUERY_ACCEPTED, operations
    from conformance.properties.judging import acceptance_requirement, broken_by_hand, request_violations

    operation = operations()["POST /api/catalog/licenses/program/assignment/"]
    sent = operation.Case(query={"license_id": 1, "platform_key": "alpha"}, body={"license_id": 1, "user_id": 1},
                          media_type="application/json")
    caller = SimpleNamespace(header="Api-Token k", base_url="http://127.0.0.1:9")
    for rule, part in ((QUERY_ACCEPTED, "query"), (BODY_ACCEPTED, "body")):
        made = broken_by_hand(sent, rule)
        assert made is not None and made is not sent
        reached = {acceptance_requirement(operation.label, v) for v in request_violations(made, caller)
                   if v.location == part}
        assert reached == {rule}
    assert sent.query == {"license_id": 1, "platform_key": "alpha"}  # the sent case is left as it was
    assert broken_by_hand(operations()["GET /api/core/rbac/roles/"].Case(query={}), BODY_ACCEPTED) is None
