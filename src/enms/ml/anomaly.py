"""Anomaly detector: readings the expected-energy model cannot explain.

Two views of each reading are combined into one score:

* the residual against an internal :class:`~enms.ml.baseline.BaselineModel` fitted on the
  whole training window (refitted once without residuals beyond ``TRIM_Z`` robust standard
  deviations, so unlabelled glitches cannot bend it), standardised by a robust scale
  (1.4826·MAD of the training residuals): ``z``;
* a scikit-learn ``IsolationForest`` (fixed ``random_state``) on ``z``, the drivers the
  baseline uses and local time of day and weekend flag, whose raw score
  (``-score_samples``) is put on a robust z-scale (median and 1.4826·MAD of its training
  scores): ``forest_z``. It catches combinations that are unusual even when the residual
  is modest.

``score = |z| + forest_weight · max(0, forest_z)``.

The alarm threshold is not scikit-learn's ``contamination``. The forest is fitted on all
but the last ``calibration_fraction`` of the training window (in time order); that tail is
scored and the threshold is taken from its scores by
:func:`~enms.ml.alarm_threshold.tail_threshold`: the ``1 − target_alarm_rate`` quantile
of an exponential tail anchored on the bulk of the scores, so neither labelled rows nor
the most extreme unlabelled residuals can set it (one spike in the calibration tail does
not switch the detector off). How it was set is reported in ``report_["alarm_threshold"]``.

Rows labelled ``is_anomaly`` are excluded from fitting and calibration. Rows whose drivers
are NaN get a NaN score and are never flagged; a driver column the model uses that is
absent from the readings raises :class:`~enms.ml.base.MissingColumns`.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import IsolationForest

from enms.ml.alarm_threshold import tail_threshold
from enms.ml.base import LABEL, TARGET, EnergyModel, InsufficientData, MissingColumns
from enms.ml.baseline import BaselineModel
from enms.ml.features import calendar_features, datetime_index, validate_frame

FloatArray = npt.NDArray[np.float64]
MAD_TO_SD = 1.4826
MIN_CALIBRATION = 50
#: Residuals beyond this many robust standard deviations are left out of the baseline refit.
TRIM_Z = 6.0


def _robust_centre_scale(values: FloatArray) -> tuple[float, float]:
    centre = float(np.median(values))
    scale = MAD_TO_SD * float(np.median(np.abs(values - centre)))
    if scale <= 0.0:
        scale = float(np.std(values))
    if scale <= 0.0:
        raise InsufficientData("training residuals have no spread; cannot scale anomalies")
    return centre, scale


class AnomalyDetector(EnergyModel):
    """Residual + IsolationForest detector; ``predict`` returns the anomaly score.

    ``baseline_params`` are passed to the internal :class:`~enms.ml.baseline.BaselineModel`
    (its ``timezone`` is this detector's). Learned attributes: ``baseline_``,
    ``residual_scale_``, ``forest_``, ``threshold_``, ``n_fit_``, ``n_calibration_``,
    ``n_trimmed_``, ``report_``.
    """

    model_type = "anomaly"

    def __init__(
        self,
        *,
        timezone: str = "Europe/Berlin",
        target_alarm_rate: float = 0.0001,
        calibration_fraction: float = 0.25,
        n_estimators: int = 100,
        random_state: int = 0,
        forest_weight: float = 0.25,
        baseline_params: dict[str, Any] | None = None,
    ) -> None:
        self.timezone = timezone
        self.target_alarm_rate = target_alarm_rate
        self.calibration_fraction = calibration_fraction
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.forest_weight = forest_weight
        self.baseline_params = baseline_params

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on readings (labelled anomalies dropped), calibrate on the held-out tail."""
        if not 0.0 < self.target_alarm_rate < 1.0:
            raise ValueError("target_alarm_rate must lie in (0, 1)")
        if not 0.0 < self.calibration_fraction < 1.0:
            raise ValueError("calibration_fraction must lie in (0, 1)")
        f = validate_frame(frame)
        if LABEL in f.columns:
            f = f[~f[LABEL].fillna(False).astype(bool)]
        f = f[f[TARGET].notna()]
        n_cal = int(len(f) * self.calibration_fraction)
        if n_cal < MIN_CALIBRATION:
            raise InsufficientData(
                f"the calibration tail would hold {n_cal} readings; the detector needs "
                f"{MIN_CALIBRATION} (have {len(f)} readings in all)"
            )
        fit_part, cal_part = f.iloc[: len(f) - n_cal], f.iloc[len(f) - n_cal :]
        # The expected-energy model sees the whole window (every season, the newest
        # readings); only the forest and the threshold need data the other did not see.
        self._fit_baseline(f)
        feats = self._features(fit_part)
        feats = feats[~np.isnan(feats).any(axis=1)]
        self.feature_mean_ = feats.mean(axis=0)
        self.feature_sd_ = np.where(feats.std(axis=0) > 0, feats.std(axis=0), 1.0)
        x = (feats - self.feature_mean_) / self.feature_sd_
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, random_state=self.random_state
        ).fit(x)
        raw = -self.forest_.score_samples(x)
        self.forest_centre_, self.forest_scale_ = _robust_centre_scale(raw)
        cal_scores = self.predict(cal_part).to_numpy()
        cal_scores = cal_scores[~np.isnan(cal_scores)]
        if cal_scores.size < MIN_CALIBRATION:
            raise InsufficientData("too few complete readings in the calibration tail")
        tail = tail_threshold(cal_scores, self.target_alarm_rate)
        self.threshold_ = tail.threshold
        self.n_fit_ = len(fit_part)
        self.n_calibration_ = int(cal_scores.size)
        self.report_ = {
            "alarm_threshold": {
                **tail.as_dict(),
                "calibration_alarm_rate": float(np.mean(cal_scores > self.threshold_)),
                "calibration_max_score": float(cal_scores.max()),
            }
        }
        return self

    def _fit_baseline(self, f: pd.DataFrame) -> None:
        """Baseline and residual scale, refitted once without the grossest residuals.

        Least squares lets a few huge unlabelled glitches drag their time-of-week level
        (and so every residual in that slot); readings beyond ``TRIM_Z`` robust standard
        deviations are left out of the refit so they cannot.
        """
        params = {**(self.baseline_params or {}), "timezone": self.timezone}
        baseline = BaselineModel(**params).fit(f)
        resid = (f[TARGET] - baseline.predict(f)).to_numpy()
        centre, scale = _robust_centre_scale(resid[~np.isnan(resid)])
        gross = np.abs(resid - centre) > TRIM_Z * scale  # NaN compares False: kept
        if gross.any():
            baseline = BaselineModel(**params).fit(f[~gross])
            resid = (f[TARGET] - baseline.predict(f)).to_numpy()[~gross]
            _, scale = _robust_centre_scale(resid[~np.isnan(resid)])
        self.baseline_ = baseline
        self.residual_scale_ = scale
        self.n_trimmed_ = int(gross.sum())

    def required_columns(self) -> list[str]:
        """Driver columns the fitted detector reads (its baseline's drivers)."""
        self._check_fitted()
        return self._driver_names()

    def _features(self, f: pd.DataFrame) -> FloatArray:
        """Residual z, drivers used by the baseline, local time of day and weekend flag."""
        z = ((f[TARGET] - self.baseline_.predict(f)) / self.residual_scale_).to_numpy()
        cal = calendar_features(datetime_index(f), self.timezone)
        cols = [z] + [f[c].to_numpy(dtype=np.float64) for c in self._driver_names()]
        cols += [cal[c].to_numpy() for c in ("tod_sin", "tod_cos", "is_weekend")]
        return np.column_stack(cols).astype(np.float64)

    def _driver_names(self) -> list[str]:
        names = list(self.baseline_.drivers_)
        if self.baseline_.temperature_column_ is not None and (
            self.baseline_.heating_balance_c_ is not None
            or self.baseline_.cooling_balance_c_ is not None
        ):
            names.append(self.baseline_.temperature_column_)
        return names

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Anomaly score per reading (higher is more anomalous; NaN where undefined)."""
        self._check_fitted()
        f = validate_frame(frame)
        missing = [c for c in self.required_columns() if c not in f.columns]
        if missing:
            raise MissingColumns(missing)
        feats = self._features(f)
        ok = ~np.isnan(feats).any(axis=1)
        score = np.full(len(f), np.nan)
        if ok.any():
            x = (feats[ok] - self.feature_mean_) / self.feature_sd_
            forest_z = (-self.forest_.score_samples(x) - self.forest_centre_) / self.forest_scale_
            score[ok] = np.abs(feats[ok, 0]) + self.forest_weight * np.maximum(forest_z, 0.0)
        out = pd.Series(score, index=f.index, name="anomaly_score")
        if f.index is not frame.index:
            out = out.reindex(datetime_index(frame).tz_convert("UTC"))
            out.index = frame.index
        return out

    def score(self, frame: pd.DataFrame) -> pd.Series:
        """Same as :meth:`predict`: the anomaly score."""
        return self.predict(frame)

    def flag(self, frame: pd.DataFrame) -> pd.Series:
        """True where the score exceeds the calibrated threshold (NaN scores: False)."""
        scores = self.predict(frame)
        return (scores > self.threshold_).fillna(False).astype(bool).rename("is_anomaly")
