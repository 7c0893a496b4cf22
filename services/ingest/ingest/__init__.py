"""Ingest service: the authenticated front door that validates and publishes events."""
