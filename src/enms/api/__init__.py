"""The HTTP application: assembly, dependencies, error mapping, health."""
