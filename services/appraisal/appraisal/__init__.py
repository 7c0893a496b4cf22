"""Appraisal service: advisor aggregates, appraisal rules, projections and the read API."""
