"""Training jobs: states, queue, progress, cancel, timeout and cleanup."""
