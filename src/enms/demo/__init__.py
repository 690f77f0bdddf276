"""Synthetic demo plant for ``enms demo``: machines, a year of readings and the known truth.

The generator lives in :mod:`enms.demo.generator` (imported on demand: it pulls in numpy,
pandas and the ``holidays`` calendar).
"""
