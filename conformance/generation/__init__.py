"""Generation settings for the property-based layer (profiles, seeds, example budgets)."""
