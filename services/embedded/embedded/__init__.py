"""The embedded stack: a Kafka-protocol broker and both services on one machine, no installs."""
