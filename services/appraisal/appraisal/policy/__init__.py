"""Appraisal rules (§5) and the policy document (§6): pure functions over plain data."""
