"""Reports of a run: records, summary.json, terminal summary."""
