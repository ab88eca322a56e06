"""SQLite store of the reference implementation: :class:`Store`, composed of one mixin per resource.

:mod:`.storage.base` holds the connection (one, ``check_same_thread=False``, guarded by a re-entrant lock;
files use WAL), the transactions, the seed and the lookups; :mod:`.storage.licenses`,
:mod:`.storage.assignments`, :mod:`.storage.suggestions`, :mod:`.storage.credentials` and
:mod:`.storage.rbac` each hold one resource (:mod:`.role_group_store` creates roles and groups). Every write that
checks and then writes (a seat check and an insert, an upsert) runs in one ``BEGIN IMMEDIATE`` transaction under
the lock, so concurrent requests never oversubscribe.

Each business rule lives in one small, named method so a test can replace exactly one rule with
``monkeypatch`` (on :class:`Store`) and plant a defect the conformance suite must catch:

=============================  ==============================================================
rule                           method(s)
=============================  ==============================================================
seat limit                     :meth:`Store.seats_free`, :meth:`Store.check_new_assignment`
                               (called by :meth:`Store.create_assignment`)
inactive / expired license     :meth:`Store.license_accepts_new_assignments`
upsert on (license, user)      :meth:`Store.find_program_assignment`,
                               :meth:`Store.find_user_assignment`
unassign frees the seat        :meth:`Store.delete_program_assignment`,
                               :meth:`Store.delete_user_assignment`
usage count                    :meth:`Store.usage_count`
license history                :meth:`Store.record_license_history`
license immutables             :meth:`Store.license_update_columns`
internal policies hidden       :meth:`Store.is_hidden_policy` (used by :meth:`visible_policies`
                               and :meth:`get_visible_policy`, i.e. by every policy route)
tenant isolation               :meth:`Store.can_administer`
suggestion upsert              :meth:`Store.find_program_suggestion`,
                               :meth:`Store.find_group_suggestion`
=============================  ==============================================================
"""

from __future__ import annotations

from .role_group_store import RoleGroupCreation
from .storage.assignments import ASSIGNMENT_SORT, GROUP_ASSIGNMENT_SORT, PROGRAM_ASSIGNMENT_SORT, AssignmentStore
from .storage.base import parse_user_id
from .storage.credentials import CredentialStore
from .storage.licenses import LICENSE_SORT, LICENSE_TABLES, PROGRAM_LICENSE_SORT
from .storage.rbac import RbacStore
from .storage.schema import SCHEMA, STATE_TABLES
from .storage.suggestions import GROUP_SUGGESTION_SORT, SUGGESTION_SORT, SuggestionStore

__all__ = [
    "ASSIGNMENT_SORT", "GROUP_ASSIGNMENT_SORT", "GROUP_SUGGESTION_SORT", "LICENSE_SORT", "LICENSE_TABLES",
    "PROGRAM_ASSIGNMENT_SORT", "PROGRAM_LICENSE_SORT", "SCHEMA", "STATE_TABLES", "SUGGESTION_SORT", "Store",
    "parse_user_id",
]


class Store(RoleGroupCreation, AssignmentStore, SuggestionStore, CredentialStore, RbacStore):
    """The reference implementation's state. Thread-safe; every public method locks."""
