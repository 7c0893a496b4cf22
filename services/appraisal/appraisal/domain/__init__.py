"""Advisor and county aggregates: the durable, event-sourced record of what happened."""
