"""Background work: the Huey queue (SQLite in-process or Redis workers), task registry, schedule."""
