"""Pure statistics of drift: residual pre-whitening, sequential detectors, two-sample tests.

This package owns the arithmetic of drift detection and nothing else: no database, no HTTP,
no model code. Callers (the drift-check service, the periodic evaluation) feed it residuals
and driver columns and record what it answers.

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
