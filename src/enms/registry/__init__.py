"""The model registry: versions, aliases (champion/challenger), artifacts and the audit log."""
