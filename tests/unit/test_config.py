"""Settings: precedence, validation errors, and keys read only from the environment."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from types import SimpleNamespace

import pytest

from conformance.config import Settings, load_settings
from conformance.errors import UsageError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text)
    return path


def test_defaults_target_the_embedded_reference() -> None:
    settings = load_settings(None, environ={})
    assert settings.embedded and settings.profile == "ci" and settings.report_dir == Path("reports")
    assert settings.keys.dm_admin is None


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[target]\nbase_url = "http://file.example"\n[run]\nprofile = "full"\nseed = 1\n')
    env = {"CONFORMANCE_BASE_URL": "http://env.example", "CONFORMANCE_SEED": "2"}
    settings = load_settings(path, overrides={"seed": 3}, environ=env)
    assert settings.base_url == "http://env.example"
    assert settings.profile == "full"
    assert settings.seed == 3


def test_keys_come_from_the_variables_the_config_names(tmp_path: Path) -> None:
    path = write(tmp_path, '[keys]\ndm_admin = "MY_ADMIN_KEY"\n')
    settings = load_settings(path, environ={"MY_ADMIN_KEY": "s3cret-value"})
    assert settings.keys.dm_admin is not None and settings.keys.dm_admin.reveal() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert settings.keys.variables["dm_admin"] == "MY_ADMIN_KEY"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ('[keys]\ndm_admin = "UNSET_VAR"\n', {}, "environment variable UNSET_VAR is not set"),
        ('[keys]\ndm_admin = "not a variable name!"\n', {}, "must name an environment variable"),
        ('[target]\nbase_url = "ftp://x"\n', {}, "must be an http(s) URL"),
        ('[run]\nprofile = "turbo"\n', {}, "unknown profile 'turbo'"),
        ('[run]\ntimeout = -1\n', {}, "must be more than 0 seconds"),
        ('[run]\nread_only = "perhaps"\n', {}, "must be true or false"),
        ('[fixtures]\nuser_ids = ["a"]\n', {}, "must be a list of whole numbers"),
        ('[colour]\nx = 1\n', {}, "unknown section [colour]"),
        ('[target]\nbaseurl = "http://x"\n', {}, "unknown key target.baseurl"),
        ("[target\n", {}, "is not valid TOML"),
    ],
)
def test_bad_config_gives_one_line_error(tmp_path: Path, text: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings(write(tmp_path, text), environ=environ)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_bad_environment_value_is_reported() -> None:
    with pytest.raises(UsageError, match="unknown profile"):
        load_settings(None, environ={"CONFORMANCE_PROFILE": "fast"})


def test_auth_scheme_is_one_word() -> None:
    assert load_settings(None, environ={"CONFORMANCE_AUTH_SCHEME": "Api-Key"}).auth_scheme == "Api-Key"
    with pytest.raises(UsageError, match="must be one word"):
        load_settings(None, environ={"CONFORMANCE_AUTH_SCHEME": "Api Key"})


def test_the_sample_config_loads(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "conformance.example.toml"
    env = {var: "x" for var in ("CONFORMANCE_DM_ADMIN_KEY", "CONFORMANCE_PLATFORM_ADMIN_KEY",
                                "CONFORMANCE_OTHER_ADMIN_KEY", "CONFORMANCE_LEARNER_KEY")}
    settings = load_settings(sample, environ=env)
    assert settings.base_url == "https://staging.example.com" and settings.fixtures.role_ids == (3,)


FULL_CONFIG = '''
[target]
base_url = "https://staging.example.com"
platform_key = "beta"
platform_org = "beta-org"
other_platform_key = "gamma"
probe_url = "https://staging.example.com/probe"
auth_scheme = "Api-Key"
[keys]
dm_admin = "MY_ADMIN_KEY"
[fixtures]
user_ids = [1, 2]
program_keys = ["p1"]
[run]
profile = "full"
read_only = true
seed = 7
timeout = 5
rate_limit = 3
time_budget = 60
deviations = "deviations.yaml"
spec = "other.yaml"
'''


def full_settings(tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    """Settings with every field away from its default, and the environment holding their key."""
    (tmp_path / "deviations.yaml").write_text("deviations:\n  - requirement: CAT-SEAT-002\n    reason: known\n"
                                              "    expires: 2030-01-31\n")
    env = {"MY_ADMIN_KEY": "s3cret-admin-value"}
    return load_settings(write(tmp_path, FULL_CONFIG), overrides={"report_dir": str(tmp_path / "out")}, environ=env), env


def test_a_worker_receives_the_same_settings_without_any_key_value(tmp_path: Path) -> None:
    settings, env = full_settings(tmp_path)
    text = settings.to_json()
    assert "s3cret-admin-value" not in text
    assert Settings.from_json(text, environ=env) == settings
    assert Settings.from_json(text, environ={}).keys.dm_admin is None  # the value only ever comes from the environment


def test_a_new_settings_field_flows_to_the_workers_with_no_other_edit() -> None:
    @dataclass(frozen=True, slots=True)
    class WithNewField(Settings):
        department_admin_seats: int = 0

    settings = WithNewField(department_admin_seats=3, profile="smoke")
    assert WithNewField.from_json(settings.to_json()) == settings


def test_the_runner_hands_its_settings_to_each_worker(tmp_path: Path) -> None:
    from conformance.pytest_plugin import settings_of
    from conformance.run_context import RunContext

    settings, env = full_settings(tmp_path)
    node = SimpleNamespace(workerinput={})
    RunContext(settings, started=0.0).pytest_configure_node(node)
    worker_config = SimpleNamespace(workerinput=node.workerinput, stash=pytest.Stash(),
                                    pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MY_ADMIN_KEY", env["MY_ADMIN_KEY"])
        assert settings_of(worker_config) == settings  # type: ignore[arg-type]


def test_every_setting_has_one_variable_and_one_config_key() -> None:
    from conformance.config import _SECTIONS, ENV_OVERRIDES, SETTINGS

    assert set(SETTINGS) == {f.name for f in fields(Settings)} - {"keys", "fixtures", "config_file"}
    assert {key for section, key in ENV_OVERRIDES.values()} == set(SETTINGS)
    assert _SECTIONS["target"] | _SECTIONS["run"] == set(SETTINGS)
