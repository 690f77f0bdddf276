"""Alembic migrations: one linear history valid on SQLite and PostgreSQL."""
