"""Evaluation: scores model versions against actual readings into metrics rows over time."""
