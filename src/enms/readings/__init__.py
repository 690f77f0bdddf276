"""Machines and their energy readings: ingestion (CSV and JSON), windows and aggregates."""
