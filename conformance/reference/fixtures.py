"""Deterministic seed data for the reference implementation.

Everything the reference server knows at start comes from here: two platforms (``alpha`` is the
platform under test, ``beta`` the second tenant), their users, groups, programs, RBAC roles and
the internal RBAC policies that must stay invisible through the API. Licenses, assignments,
suggestions, credentials and visible policies are created by the suite through the API.

The five callers of the access table map to fixed users:

=====================  ==========  =========================================
caller                 user id     what it is
=====================  ==========  =========================================
DM admin               1           administers every platform
platform admin         105 (erin)  admin of ``alpha``
other platform admin   202 (grace) admin of ``beta``
learner (non-admin)    104 (dave)  plain member of ``alpha``
department admin       103 (carol) admin of alpha's one department
=====================  ==========  =========================================

The department admin (IsDepartmentModeAdminInPlatform) manages suggestions only with ``department_mode``
true, and only on its department's platform. No document says how a department is made or which users it
holds; alpha's one department holds every user of alpha, so in department mode its admin manages the
suggestions of the whole platform and nothing else (a filtered list is then the whole list).
"""

from __future__ import annotations

from typing import Any

PLATFORM_KEY = "alpha"
OTHER_PLATFORM_KEY = "beta"
PLATFORM_ID = 1
OTHER_PLATFORM_ID = 2
PLATFORM_ORG = "alpha"
OTHER_PLATFORM_ORG = "beta"

# alpha users; 104 is the non-admin "learner"
USER_IDS = [101, 102, 103, 104]
LEARNER_USER_ID = 104
PLATFORM_ADMIN_USER_ID = 105
DM_ADMIN_USER_ID = 1
# beta users; 202 is beta's admin
OTHER_USER_IDS = [201, 202]
OTHER_PLATFORM_ADMIN_USER_ID = 202

# alpha groups with members: 11 -> 101, 102; 12 -> 103, 104
GROUP_IDS = [11, 12]
GROUP_MEMBERS = {11: [101, 102], 12: [103, 104]}
OTHER_GROUP_IDS = [21]
OTHER_GROUP_MEMBERS = {21: [201]}
# internal groups are hidden from the groups list and unusable through the API
INTERNAL_GROUP_IDS = [19]

PROGRAM_KEYS = ["program-v1:alpha+data+2024", "program-v1:alpha+ml+2025"]
OTHER_PROGRAM_KEYS = ["program-v1:beta+ops+2024"]

ROLE_IDS = [3, 4]
OTHER_ROLE_IDS = [7]
# internal roles are hidden from the roles list and cannot be used in policies
INTERNAL_ROLE_IDS = [5]

# an internal policy on alpha (role 3, users [101]); one on beta (role 7, users [201])
INTERNAL_POLICY_IDS = [900]
OTHER_INTERNAL_POLICY_IDS = [950]

PROBE_PATH = "/conformance-probe"

PLATFORMS: list[dict[str, Any]] = [
    {"id": PLATFORM_ID, "key": PLATFORM_KEY, "org": PLATFORM_ORG, "name": "Alpha Platform"},
    {"id": OTHER_PLATFORM_ID, "key": OTHER_PLATFORM_KEY, "org": OTHER_PLATFORM_ORG, "name": "Beta Platform"},
]

# platform_id None: the DM admin belongs to no platform (it administers all of them)
USERS: list[dict[str, Any]] = [
    {"id": 1, "username": "dmadmin", "email": "admin@dm.example", "name": "Data Manager Admin",
     "platform_id": None, "is_admin": False, "is_dm_admin": True},
    {"id": 101, "username": "alice", "email": "alice@alpha.example", "name": "Alice Anderson",
     "platform_id": PLATFORM_ID, "is_admin": False, "is_dm_admin": False},
    {"id": 102, "username": "bob", "email": "bob@alpha.example", "name": "Bob Brown",
     "platform_id": PLATFORM_ID, "is_admin": False, "is_dm_admin": False},
    {"id": 103, "username": "carol", "email": "carol@alpha.example", "name": "Carol Clark",
     "platform_id": PLATFORM_ID, "is_admin": False, "is_dm_admin": False},
    {"id": 104, "username": "dave", "email": "dave@alpha.example", "name": "Dave Davis",
     "platform_id": PLATFORM_ID, "is_admin": False, "is_dm_admin": False},
    {"id": 105, "username": "erin", "email": "erin@alpha.example", "name": "Erin Evans",
     "platform_id": PLATFORM_ID, "is_admin": True, "is_dm_admin": False},
    {"id": 201, "username": "frank", "email": "frank@beta.example", "name": "Frank Foster",
     "platform_id": OTHER_PLATFORM_ID, "is_admin": False, "is_dm_admin": False},
    {"id": 202, "username": "grace", "email": "grace@beta.example", "name": "Grace Green",
     "platform_id": OTHER_PLATFORM_ID, "is_admin": True, "is_dm_admin": False},
]

USERNAMES = {u["id"]: u["username"] for u in USERS}
EMAILS = {u["id"]: u["email"] for u in USERS}

GROUPS: list[dict[str, Any]] = [
    {"id": 11, "platform_id": PLATFORM_ID, "unique_id": "alpha-data-team", "name": "Alpha Data Team",
     "description": "Data science learners", "owner_id": 105, "is_internal": False,
     "members": GROUP_MEMBERS[11]},
    {"id": 12, "platform_id": PLATFORM_ID, "unique_id": "alpha-ml-team", "name": "Alpha ML Team",
     "description": "Machine learning learners", "owner_id": 105, "is_internal": False,
     "members": GROUP_MEMBERS[12]},
    {"id": 19, "platform_id": PLATFORM_ID, "unique_id": "alpha-system", "name": "Alpha System",
     "description": "Internal system group", "owner_id": 105, "is_internal": True,
     "members": [105]},
    {"id": 21, "platform_id": OTHER_PLATFORM_ID, "unique_id": "beta-ops-team", "name": "Beta Ops Team",
     "description": "Operations learners", "owner_id": 202, "is_internal": False,
     "members": OTHER_GROUP_MEMBERS[21]},
]

PROGRAMS: list[dict[str, Any]] = [
    {"platform_id": PLATFORM_ID, "program_key": PROGRAM_KEYS[0], "name": "Alpha Data Science Program"},
    {"platform_id": PLATFORM_ID, "program_key": PROGRAM_KEYS[1], "name": "Alpha Machine Learning Program"},
    {"platform_id": OTHER_PLATFORM_ID, "program_key": OTHER_PROGRAM_KEYS[0], "name": "Beta Operations Program"},
]

ROLES: list[dict[str, Any]] = [
    {"id": 3, "platform_id": PLATFORM_ID, "name": "Mentor Editor",
     "actions": ["Ibl.Mentor/Settings/read", "Ibl.Mentor/Settings/write"],
     "data_actions": ["Ibl.Mentor/Settings/name/read"], "is_internal": False},
    {"id": 4, "platform_id": PLATFORM_ID, "name": "Mentor Viewer",
     "actions": ["Ibl.Mentor/Settings/read"], "data_actions": [], "is_internal": False},
    {"id": 5, "platform_id": PLATFORM_ID, "name": "System Internal",
     "actions": ["Ibl.System/*"], "data_actions": [], "is_internal": True},
    {"id": 7, "platform_id": OTHER_PLATFORM_ID, "name": "Operations Editor",
     "actions": ["Ibl.Mentor/Settings/read", "Ibl.Mentor/Settings/write"], "data_actions": [],
     "is_internal": False},
]

POLICIES: list[dict[str, Any]] = [
    {"id": 900, "platform_id": PLATFORM_ID, "role_id": 3, "name": "alpha-internal-policy",
     "resources": ["/platforms/1/"], "users": [101], "groups": [], "is_internal": True},
    {"id": 950, "platform_id": OTHER_PLATFORM_ID, "role_id": 7, "name": "beta-internal-policy",
     "resources": ["/platforms/2/"], "users": [201], "groups": [], "is_internal": True},
]

# alpha's one department (every user of alpha) and its admin, carol (otherwise a plain member of alpha)
DEPARTMENT_ADMIN_USER_ID = 103
DEPARTMENTS: list[dict[str, Any]] = [
    {"id": 31, "platform_id": PLATFORM_ID, "name": "Alpha (every user)", "admin_ids": [DEPARTMENT_ADMIN_USER_ID]},
]

# which fixture user each ReferenceKeys field authenticates as
KEY_USERS = {
    "dm_admin": DM_ADMIN_USER_ID,
    "platform_admin": PLATFORM_ADMIN_USER_ID,
    "other_platform_admin": OTHER_PLATFORM_ADMIN_USER_ID,
    "learner": LEARNER_USER_ID,
    "department_admin": DEPARTMENT_ADMIN_USER_ID,
}


def department_platform_ids(user_id: int) -> frozenset[int]:
    """The platforms where `user_id` administers a department."""
    return frozenset(d["platform_id"] for d in DEPARTMENTS if user_id in d["admin_ids"])
