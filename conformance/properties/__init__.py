"""Property-based tests generated from the contract (schemathesis + hypothesis)."""
