"""Alternate readings of the documentation that the reference can serve instead of its own.

Where the documents allow several outcomes, the reference picks one (docs/behaviour.md). Each other
documented reading is a named switch here, off by default, so the suite can be run against a server
that reads the documents differently and must still find it conformant::

    build_app(readings=Readings.parse("forbidden-unknown,bare-shapes"))
    conformance serve --readings alternate

``alternate`` turns every switch on except those listed in :data:`ALTERNATE_LEAVES_OUT` (a switch that
contradicts another one). The catalog (openapi/requirements.yaml) names the switches under ``readings``
on each requirement they touch; docs/behaviour.md ("Readings") describes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Switch:
    """One alternate reading: its name, what the reference then does, and the requirements it touches."""

    name: str
    does: str
    requirements: tuple[str, ...]


SWITCHES: tuple[Switch, ...] = (
    Switch("forbidden-unknown",
           "an unknown platform or org, another platform's policy or suggestion, a policy write naming another "
           "platform_key, a write on an internal policy, a license update naming no license or an unknown platform, "
           "a license create naming an unknown program, and an assignment POST or DELETE naming a license, user, "
           "group or assignment that does not exist are answered 403 instead of 404 (or 400, or 200 empty)",
           ("CRED-LIST-010", "CRED-CRUD-007", "CAT-LICCRE-011", "CAT-ULIC-026", "CAT-LICCRE-012", "CAT-LICLIST-005",
            "CAT-LICLIST-006", "CAT-LICUPD-004", "CAT-LICUPD-005", "CAT-ULIC-021", "CAT-LICUPD-012", "CAT-ULIC-023",
            "CORE-ACL-003", "CORE-RBAC-022",
            "CORE-RBAC-039", "CAT-ACL-017", "CAT-ACL-018", "CAT-PASG-013", "CAT-PASG-014", "CAT-PASG-018", "CAT-PASG-022",
            "CAT-GASG-010", "CAT-GASG-011", "CAT-GASG-020", "CAT-UASG-007", "CAT-UASG-008", "CAT-UASG-014")),
    Switch("foreign-not-found",
           "another platform's license, or a platform the caller does not administer, named on an assignment "
           "operation is answered 404 (absent) instead of 403",
           ("CAT-ACL-010", "CAT-ACL-017")),
    Switch("page-size-default",
           "page_size below 1 is served with the default page size instead of 400",
           ("GEN-PAGE-011",)),
    Switch("page-below-one-empty",
           "the RBAC lists answer page below 1 with 200 and an empty page instead of 400",
           ("GEN-PAGE-011",)),
    Switch("page-past-end-404",
           "a page past the last one is answered 404 (Django REST framework's 'Invalid page') instead of 200 empty",
           ("GEN-PAGE-010",)),
    Switch("page-size-cap-400",
           "the credentials list refuses page_size above 100 with 400 instead of serving 100",
           ("CRED-LIST-005",)),
    Switch("credential-put-replaces",
           "a credential PUT replaces the whole credential: fields not sent become null (or their default)",
           ("CRED-CRUD-010", "CRED-CRUD-011")),
    Switch("credential-fields-required",
           "credential POST and PUT require the published Credential fields credential_id, credential_url, name "
           "and revoked (400 without one)",
           ("CRED-CRUD-003", "CRED-CRUD-011")),
    Switch("no-prose-fields",
           "answers leave out the fields only the prose documents (the credential's description, course and "
           "program; see PROSE_ONLY_FIELDS)",
           ("GEN-SCHEMA-012", "CRED-CRUD-010", "CRED-LIST-006")),
    Switch("bare-shapes",
           "credentials are answered bare (a credential object, a list page as a JSON array) without the "
           "{status, result} envelope, credential POST answers 201, and catalog list pages link with "
           "next / previous instead of next_page / previous_page",
           ("CRED-LIST-001", "CRED-LIST-002", "CRED-LIST-011", "CRED-LIST-012", "CRED-CRUD-001", "CRED-CRUD-008",
            "CRED-CRUD-010", "GEN-PAGE-001")),
    Switch("group-assignment-all-or-nothing",
           "a group assignment whose members needing a seat outnumber the free seats is refused with 400 and "
           "creates nothing, instead of assigning while seats remain",
           ("CAT-SEAT-009", "CAT-GASG-014", "CAT-GASG-007")),
    Switch("keep-members-on-group-delete",
           "a group assignment DELETE without remove_user_assignments keeps the members' assignments (the "
           "parameter defaults to false instead of the published true)",
           ("CAT-GASG-023",)),
    Switch("inactive-license-open",
           "new assignments on an inactive or expired license are accepted",
           ("CAT-SEAT-010",)),
    Switch("blank-names-accepted",
           "a blank or empty policy or credential name (no minLength in the published schema) is stored as sent "
           "instead of refused with 400",
           ("CORE-RBAC-030", "CORE-RBAC-034", "CRED-CRUD-010")),
    Switch("rbac-unauth-403",
           "an RBAC request without a valid key is answered 403 (the only refusal the RBAC operations document) "
           "instead of 401",
           ("GEN-AUTH-006",)),
    Switch("license-fields-required",
           "program license create requires name, count and started (the published schema) instead of "
           "defaulting them (the prose)",
           ("CAT-LICCRE-005", "CAT-LICCRE-006", "CAT-LICCRE-007")),
    Switch("no-create-history",
           "creating a program license writes no history record (the documents mention records only for updates; "
           "user licenses keep theirs: their published create schema has change_type, default create)",
           ("CAT-LICCRE-013",)),
    Switch("immutable-fields-refused",
           "a license update naming another platform or program is refused with 400 instead of ignoring it",
           ("CAT-LICUPD-012", "CAT-ULIC-023")),
    Switch("username-refused",
           "a program or user license assignment POST naming the user by username alone is refused with 400",
           ("CAT-PASG-020",)),
    Switch("metadata-merged",
           "assigning (or suggesting) again merges the metadata sent into the stored object instead of replacing it",
           ("CAT-PASG-019",)),
    Switch("assigned-by-group",
           "a group assignment's assigned_count counts only the assignments the group assignment gave",
           ("CAT-GASG-017",)),
    Switch("missing-user-404",
           "a user license assignment POST naming no user answers 404 instead of 400",
           ("CAT-UASG-006",)),
    Switch("bulk-items-strict",
           "a bulk suggestion POST whose suggestion_data holds an item that is not an object is refused with 400 "
           "instead of reporting it in error_codes",
           ("CAT-SUGB-004",)),
    Switch("omit-excluded-members",
           "include_users=false / include_groups=false leave the users / groups field out instead of sending "
           "an empty array",
           ("CORE-RBAC-009", "CORE-RBAC-011", "CORE-GRP-008")),
    Switch("put-keeps-name",
           "a policy PUT without name keeps the previous name instead of a new UUID4",
           ("CORE-RBAC-031",)),
    Switch("foreign-list-filtered",
           "a platform admin listing policies, roles or groups with another platform's platform_key gets 200 and "
           "an empty list instead of 403",
           ("CORE-ACL-004",)),
    Switch("internal-flag-refused",
           "a role or group create sending the read-only is_internal is refused with 400 instead of ignoring the value",
           ("CORE-ROLE-008", "CORE-GRP-013")),
    Switch("platform-key-required",
           "a platform admin listing policies, roles or groups without platform_key gets 403 instead of its own "
           "platform's objects",
           ("CORE-ACL-007",)),
)

SWITCH_NAMES: frozenset[str] = frozenset(s.name for s in SWITCHES)
BY_NAME = {s.name: s for s in SWITCHES}

# pairs that answer the same request differently; `alternate` turns on the first of each pair only
CONFLICTS: tuple[tuple[str, str, str], ...] = (
    ("forbidden-unknown", "foreign-not-found",
     "another platform's object is answered 403 by forbidden-unknown and 404 by foreign-not-found"),
)
ALTERNATE_LEAVES_OUT: frozenset[str] = frozenset(second for _, second, _ in CONFLICTS)
ALTERNATE = "alternate"

# Response fields of the contract (openapi/ibl-data-manager.yaml) that the published 4.90.4 response schemas
# do not have, computed once by comparing the two documents' 2xx response schemas (the published document is
# not read at run time). Besides the envelope and link names (bare-shapes), all are credential fields; the
# reference presents only the first three of them.
PROSE_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "credential": ("description", "course", "program", "html_template", "css_template", "icon_image",
                   "background_image", "thumbnail_image", "criteria_url", "criteria_text", "issuing_signal"),
    "catalog page": ("next", "previous"),
    "credential answer": ("status", "result"),
}


class UnknownReading(ValueError):
    """A reading name that is not a switch, or two switches that conflict."""


@dataclass(frozen=True)
class Readings:
    """The alternate readings a reference server follows (default: none, the reference's own reading)."""

    names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.names) - SWITCH_NAMES)
        if unknown:
            raise UnknownReading(f"unknown reading(s) {', '.join(unknown)}; known: {ALTERNATE}, "
                                 f"{', '.join(sorted(SWITCH_NAMES))}")
        object.__setattr__(self, "names", frozenset(self.names))
        for first, second, why in CONFLICTS:
            if first in self.names and second in self.names:
                raise UnknownReading(f"readings {first} and {second} conflict: {why}; choose one")

    @classmethod
    def parse(cls, text: str | Iterable[str] | None) -> Readings:
        """Readings from 'a,b' (or an iterable of names); 'alternate' stands for every switch but ALTERNATE_LEAVES_OUT."""
        if text is None:
            return cls()
        parts = text.split(",") if isinstance(text, str) else list(text)
        names = {p.strip() for p in parts if p.strip()}
        if ALTERNATE in names:
            names.discard(ALTERNATE)
            names |= SWITCH_NAMES - ALTERNATE_LEAVES_OUT
        return cls(frozenset(names))

    @classmethod
    def alternate(cls) -> Readings:
        """Every switch at once, leaving out the second of each conflicting pair."""
        return cls.parse(ALTERNATE)

    def on(self, name: str) -> bool:
        """Whether the switch `name` is on (a name that is not a switch is a programming error)."""
        if name not in SWITCH_NAMES:
            raise UnknownReading(f"no reading switch named {name!r}")
        return name in self.names

    def __str__(self) -> str:
        return ",".join(sorted(self.names)) or "default"


DEFAULT = Readings()


def readings_of(request: Any) -> Readings:
    """The readings of the app serving `request` (the default ones when the app has none)."""
    return getattr(request.app.state, "readings", DEFAULT)
