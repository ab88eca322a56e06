"""ibl-conformance: a conformance suite for the ibl-data-manager REST API."""

from conformance.errors import ConformanceToolError, SpecError, TargetError, UsageError

__all__ = ["ConformanceToolError", "SpecError", "TargetError", "UsageError"]
