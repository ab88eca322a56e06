"""The generation profiles, in one place: how many cases each property test sends, and how.

- smoke:   seconds; a handful of positive cases per operation, no negative or stateful runs.
- ci:      derandomized with a fixed seed, bounded examples, no deadline, no example database:
           the same target and input give the same verdict.
- full:    more examples; the stateful chains run.
- nightly: a random seed (printed and recorded in the report), an example database under the
           report dir, many examples bounded by a time budget.

`settings.seed`, when given, overrides the profile's seed (a nightly failure is replayed by
passing the seed it printed).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import settings as HypothesisSettings
from hypothesis.database import DirectoryBasedExampleDatabase

CI_SEED = 20_240_917  # fixed: the ci profile always generates the same cases
# Operations whose every accepted schema-valid case leaves a row no API call removes (licenses, roles and groups
# cannot be deleted): on a long-lived target each case is one more object for good, so the ci profile sends only a
# few of them.
UNDELETABLE_CREATES = ("POST /api/catalog/licenses/program/create/", "POST /api/catalog/licenses/user/create/",
                       "POST /api/core/rbac/roles/", "POST /api/core/rbac/groups/")
DATABASE_DIR = "hypothesis-db"


@dataclass(frozen=True, slots=True)
class Profile:
    """How much and how one profile generates."""

    name: str
    positive_examples: int  # schema-valid cases per operation
    negative_examples: int  # schema-violating cases per operation (0: no negative tests)
    auth_examples: int  # generated requests per operation sent without a key / with a wrong key
    stateful_examples: int  # generated chains per stateful test (0: no stateful tests)
    derandomize: bool
    fixed_seed: int | None  # None: a random seed per run
    database: bool  # keep failing examples under the report dir
    time_budget: float | None  # seconds for the whole property layer (None: bounded by examples only)
    shrink: bool = True
    # schema-valid cases of these operations ("METHOD /path"), in place of positive_examples
    positive_bounds: Mapping[str, int] = field(default_factory=dict)

    @property
    def stateful(self) -> bool:
        """True when the profile runs the stateful chains."""
        return self.stateful_examples > 0


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", positive_examples=3, negative_examples=0, auth_examples=1, stateful_examples=0,
                     derandomize=True, fixed_seed=CI_SEED, database=False, time_budget=None, shrink=False),
    "ci": Profile("ci", positive_examples=8, negative_examples=5, auth_examples=1, stateful_examples=1,
                  derandomize=True, fixed_seed=CI_SEED, database=False, time_budget=None,
                  # one license, role or group a run per create operation; the scenarios and the stateful chain get
                  # their licenses from the pool of retired licenses (client/objects.py)
                  positive_bounds=dict.fromkeys(UNDELETABLE_CREATES, 1)),
    "full": Profile("full", positive_examples=60, negative_examples=40, auth_examples=3, stateful_examples=10,
                    derandomize=False, fixed_seed=CI_SEED, database=False, time_budget=None),
    "nightly": Profile("nightly", positive_examples=400, negative_examples=250, auth_examples=5, stateful_examples=40,
                       derandomize=False, fixed_seed=None, database=True, time_budget=1800.0),
}


@dataclass(frozen=True, slots=True)
class Generation:
    """The resolved generation settings of one run: a profile, its seed, where its database lives."""

    profile: Profile
    seed: int
    database_dir: Path | None

    def examples(self, kind: str, label: str | None = None) -> int:
        """How many examples a test of this kind (positive, negative, auth, stateful) draws, for the operation
        `label` when given (the profile may bound the schema-valid cases of an operation)."""
        if kind == "positive" and label in self.profile.positive_bounds:
            return self.profile.positive_bounds[label]
        return {"positive": self.profile.positive_examples, "negative": self.profile.negative_examples,
                "auth": self.profile.auth_examples, "stateful": self.profile.stateful_examples}[kind]

    def hypothesis_settings(self, kind: str, label: str | None = None) -> HypothesisSettings:
        """Hypothesis settings for one kind of test under this profile (of the operation `label`, when given)."""
        return hypothesis_settings(self.profile, self.examples(kind, label), self.database_dir)

    def describe(self) -> str:
        """One line for the terminal and for failure messages."""
        return f"profile {self.profile.name}, hypothesis seed {self.seed}"


def resolve(profile_name: str, seed: int | None, report_dir: Path, time_budget: float | None = None) -> Generation:
    """The generation of a run: the profile's settings, with `seed` and `time_budget` (when given) as its own."""
    profile = PROFILES[profile_name]
    if time_budget is not None:
        profile = replace(profile, time_budget=time_budget)
    if seed is None:
        seed = profile.fixed_seed if profile.fixed_seed is not None else secrets.randbits(32)
    database_dir = Path(report_dir) / DATABASE_DIR if profile.database else None
    return Generation(profile, int(seed), database_dir)


def hypothesis_settings(profile: Profile, max_examples: int, database_dir: Path | None) -> HypothesisSettings:
    """Hypothesis settings: no deadline (network latency is not a property), health checks about slow
    data generation off (schema strategies are large), the database only where the profile keeps one."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if profile.shrink else [])
    if database_dir is None:
        phases = [p for p in phases if p is not Phase.reuse]
    return HypothesisSettings(
        max_examples=max(1, max_examples),
        deadline=None,
        derandomize=profile.derandomize,
        database=DirectoryBasedExampleDatabase(str(database_dir)) if database_dir is not None else None,
        suppress_health_check=list(HealthCheck),
        phases=phases,
        verbosity=Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
        stateful_step_count=8,
    )


def register_profiles() -> None:
    """Register each profile with hypothesis as `conformance-<name>` (positive-case budget)."""
    for name, profile in PROFILES.items():
        HypothesisSettings.register_profile(f"conformance-{name}", hypothesis_settings(profile,
                                                                                      profile.positive_examples, None))
