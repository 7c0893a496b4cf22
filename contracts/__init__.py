"""Contract v1: the wire shape of every event the system accepts and emits."""
