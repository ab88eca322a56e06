"""The reference implementation: a correct ibl-data-manager server, the suite's embedded target.

- :mod:`.app` — ``build_app(database=":memory:", keys=None, readings=None)`` and ``ReferenceKeys``.
- :mod:`.readings` — ``Readings``: the alternate readings of the documents it can serve instead of its own.
- :mod:`.server` — ``ReferenceServer`` (uvicorn on a loopback port, in a thread) and ``serve()``.
- :mod:`.store` — the SQLite store; each business rule is one named method (see its docstring).
- :mod:`.fixtures` — the deterministic seed data (platforms, users, groups, programs, roles).
- :mod:`.inprocess` — ``InProcessTransport``: a sync httpx transport calling the app in-process.

The choices it makes where the documentation is ambiguous are those of ``docs/behaviour.md``; the other
documented readings are switches, off by default (``docs/behaviour.md``, "Readings").
"""
