"""The suite's own errors, kept apart from conformance failures.

    ConformanceToolError            anything that stops the suite from giving a verdict
    ├── UsageError       (exit 2)   bad command line, config, key variable, report dir
    │   └── SpecError    (exit 2)   the contract or the catalog does not load or validate
    └── TargetError      (exit 3)   the target is unreachable or broke mid-run

A failed requirement is not an error of the tool: it is a verdict (exit 1).
"""

from __future__ import annotations

EXIT_CONFORMANT = 0
EXIT_NON_CONFORMANT = 1
EXIT_USAGE = 2
EXIT_TARGET = 3


class ConformanceToolError(Exception):
    """Base of the tool's errors; the message is one actionable line."""

    exit_code = EXIT_USAGE


class UsageError(ConformanceToolError):
    """The suite was started with something it cannot use."""

    exit_code = EXIT_USAGE


class SpecError(UsageError):
    """The contract or the requirement catalog is missing, malformed or invalid."""


class TargetError(ConformanceToolError):
    """The target could not be reached, or answered in a way that stops the run."""

    exit_code = EXIT_TARGET
