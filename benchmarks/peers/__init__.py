"""Scripts that run inside a peer tool's own virtual environment (never imported by enms)."""
