"""The reference store's SQLite tables: ``SCHEMA`` creates them, ``STATE_TABLES`` lists them for the probe."""

from string import Template

# the columns of a license after its platform (and program), the same for both kinds
LICENSE_COLUMNS = """\
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    started TEXT NOT NULL,
    expired TEXT,
    active INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    enrollment_config TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT,
    created TEXT NOT NULL,
    modified TEXT NOT NULL"""

# the columns of a group's assignment and of an assignment on a user license after whom and what they assign
ASSIGNMENT_COLUMNS = """\
    active INTEGER NOT NULL,
    fulfilled INTEGER NOT NULL,
    redirect_to TEXT,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL"""

SCHEMA = Template("""
CREATE TABLE IF NOT EXISTS platforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    org TEXT NOT NULL,
    name TEXT
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    email TEXT,
    name TEXT NOT NULL DEFAULT '',
    is_dm_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS platform_members (
    platform_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform_id, user_id)
);
CREATE TABLE IF NOT EXISTS user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    unique_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    owner_id INTEGER,
    is_internal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE IF NOT EXISTS programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_licenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
$license_columns
);
CREATE TABLE IF NOT EXISTS user_licenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
$license_columns
);
CREATE TABLE IF NOT EXISTS license_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    license_id INTEGER NOT NULL,
    change_type TEXT NOT NULL,
    transaction_id TEXT,
    snapshot TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_license_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    active INTEGER NOT NULL,
    fulfilled INTEGER NOT NULL,
    direct INTEGER NOT NULL,
    redirect_to TEXT,
    metadata TEXT NOT NULL,
    group_assignment_id INTEGER,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_license_group_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
$assignment_columns
);
CREATE TABLE IF NOT EXISTS user_license_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
$assignment_columns
);
CREATE TABLE IF NOT EXISTS program_suggestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    direct INTEGER NOT NULL,
    suggested_by TEXT,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_group_suggestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    credential_id TEXT NOT NULL,
    credential_url TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    credential_type TEXT,
    issuer TEXT,
    issued_on TEXT,
    expires_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    course TEXT,
    program TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rbac_roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    actions TEXT NOT NULL DEFAULT '[]',
    data_actions TEXT NOT NULL DEFAULT '[]',
    is_internal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rbac_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    role_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    resources TEXT NOT NULL DEFAULT '[]',
    is_internal INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rbac_policy_users (
    policy_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (policy_id, user_id)
);
CREATE TABLE IF NOT EXISTS rbac_policy_groups (
    policy_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    PRIMARY KEY (policy_id, group_id)
);
-- a long-lived target holds many licenses: the documented filters must not scan them all
CREATE INDEX IF NOT EXISTS program_licenses_by_name ON program_licenses (platform_id, name);
CREATE INDEX IF NOT EXISTS program_licenses_by_external_id ON program_licenses (external_id);
CREATE INDEX IF NOT EXISTS user_licenses_by_name ON user_licenses (platform_id, name);
CREATE INDEX IF NOT EXISTS user_licenses_by_external_id ON user_licenses (external_id);
CREATE INDEX IF NOT EXISTS license_history_by_license ON license_history (kind, license_id);
CREATE INDEX IF NOT EXISTS program_license_assignments_by_license ON program_license_assignments (license_id);
CREATE INDEX IF NOT EXISTS user_license_assignments_by_license ON user_license_assignments (license_id);
""").substitute(license_columns=LICENSE_COLUMNS,
                                             assignment_columns=ASSIGNMENT_COLUMNS)

STATE_TABLES = [
    "platforms", "users", "platform_members", "user_groups", "group_members", "programs",
    "program_licenses", "user_licenses", "license_history", "program_license_assignments",
    "program_license_group_assignments", "user_license_assignments", "program_suggestions",
    "program_group_suggestions", "credentials", "rbac_roles", "rbac_policies",
    "rbac_policy_users", "rbac_policy_groups",
]
