"""Ingest service: the authenticated front door that validates events and publishes them to Kafka."""
