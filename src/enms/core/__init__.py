"""Cross-cutting ground floor: settings, database engine and sessions, ORM base, errors, clock."""
