"""Talking to the target: HTTP session, probe client."""
