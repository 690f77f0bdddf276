"""Drift: the pure detectors and statistics, and the drift check that is the stage's front.

The pure modules own the arithmetic of drift detection and nothing else (no database, no
HTTP, no model code): they take residuals and driver columns and answer. The service
modules put them to work on a model version: read the version, its readings and its logged
points in one short transaction, compute outside it, record one ``model_performance_metrics``
row (``source="drift_check"``).

Service (the front):

* :mod:`enms.drift.service` — :func:`~enms.drift.service.check_drift` (read → compute →
  write); :mod:`enms.drift.inputs` — what it reads; :mod:`enms.drift.check` — the parts
  put together into ``drift_detected`` / ``drift_score`` / ``drift_details``.
* :mod:`enms.drift.data_check` — data drift against a matched reference, extrapolation
  told apart; :mod:`enms.drift.degradation` — energy-grade and performance degradation
  from the prediction log.
* :mod:`enms.drift.schemas`, :mod:`enms.drift.api` (``POST /model-performance/drift/check``),
  :mod:`enms.drift.commands` (``enms drift check``), :mod:`enms.drift.tasks` (the periodic
  ``drift_checks``).

Pure:

* :mod:`enms.drift.effective` — the per-driver test chosen by the effective sample size.
* :mod:`enms.drift.energy` — NMBE and cumulative excess kWh with its one-line statement.
* :mod:`enms.drift.concept` — concept drift on residuals (change point, tests).
* :mod:`enms.drift.whitening` — :class:`ResidualWhitener`, robust standardisation on a
  reference and AR(1) pre-whitening, so sequential detectors see an uncorrelated stream.
* :mod:`enms.drift.cusum` — :class:`MeanCusum`, a two-sided CUSUM for mean shifts.
* :mod:`enms.drift.variance_cusum` — :class:`VarianceCusum`, a CUSUM of the variance
  likelihood ratio (variance increases and decreases).
* :mod:`enms.drift.two_sample` — KS, normalised Wasserstein and PSI per column, chosen by
  sample size; :mod:`enms.drift.dataset` — the dataset-level verdict over driver columns.
* :mod:`enms.drift.reference` — season / operating-mode matched reference rows.
* :mod:`enms.drift.score` — the documented ``drift_score`` in [0, 1].
* :mod:`enms.drift.synthetic` — seeded residual streams and a vectorised runner used by the
  tests and benchmarks to measure detection and false-alarm rates.

Detectors follow river (CONVENTIONS #15): ``update(x) -> self``, read-only
``drift_detected``, no verdict before ``min_samples``. Every verdict names its method,
settings and sample sizes (CONVENTIONS #21).
"""
