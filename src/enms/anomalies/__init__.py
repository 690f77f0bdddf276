"""Scheduled anomaly detection: flagged readings with score and reason (``anomaly_detect``)."""
