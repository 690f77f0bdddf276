"""Alerts: rules, lifecycle (open → acknowledged → resolved) and notification channels."""
