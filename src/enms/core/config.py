"""The settings tree: one pydantic-settings model, a class per subsystem.

Read once at start-up by :func:`get_settings` from ``ENMS_*`` environment variables and a
``.env`` file in the working directory, then passed down explicitly; nothing here runs at
import time. Nested groups use a double underscore: ``ENMS_SERVER__PORT=8002``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Re-exported: the alerting groups are part of this tree.
from enms.core.config_abtest import ABTestSettings as ABTestSettings
from enms.core.config_abtest import PromotionSettings as PromotionSettings
from enms.core.config_alerts import AlertSettings as AlertSettings
from enms.core.config_alerts import DataQualitySettings as DataQualitySettings
from enms.core.config_alerts import KpiSettings as KpiSettings
from enms.core.config_alerts import NotificationSettings as NotificationSettings
from enms.core.config_auth import AuthSettings as AuthSettings
from enms.core.config_auth import RateLimitSettings as RateLimitSettings

DEFAULT_DATABASE_URL = "sqlite:///enms.db"


class ServerSettings(BaseModel):
    """The HTTP server started by ``enms serve``."""

    host: str = Field("127.0.0.1", description="Interface the server binds to.")
    port: int = Field(8001, ge=1, le=65535, description="TCP port the server listens on.")
    access_log: bool = Field(
        False, description="Log one line per HTTP request (uvicorn's access log)."
    )
    max_body_mb: int = Field(
        16,
        ge=1,
        description="Largest request body accepted, in MiB (readings imports: "
        "ENMS_IMPORTS__MAX_UPLOAD_MB).",
    )


class ImportSettings(BaseModel):
    """Readings ingestion."""

    batch_size: int = Field(
        20_000, ge=100, description="Rows written per database round trip during an import."
    )
    max_upload_mb: int = Field(200, ge=1, description="Largest CSV accepted over HTTP, in MiB.")
    # Capped so that any sum of readings (an hourly or daily aggregate) stays finite.
    max_kwh_per_interval: float = Field(
        1e9, gt=0, le=1e15, description="A reading above this energy (kWh) is implausible."
    )
    max_abs_driver: float = Field(
        1e12, gt=0, le=1e15, description="A driver value of larger magnitude is implausible."
    )


class TrainingSettings(BaseModel):
    """Training jobs (``ENMS_TRAINING__*``)."""

    timeout_minutes: float = Field(
        30, gt=0, description="A running job older than this ends timed_out (its fit is killed)."
    )
    heartbeat_seconds: float = Field(
        5, gt=0, description="How often a running job renews its lease in the database."
    )
    lease_seconds: float = Field(
        30,
        gt=0,
        description="A running job's lease: one not renewed for this long lost its worker and "
        "is requeued (once), then failed. Must exceed heartbeat_seconds.",
    )
    max_attempts: int = Field(
        2, ge=1, description="Runs a job gets before a lost worker fails it for good."
    )
    fit_memory_mb: int | None = Field(
        None,
        ge=64,
        description="Address-space limit (RLIMIT_AS, MiB) of the child process that fits a "
        "model; unset means no limit. A fit over it fails with a memory error.",
    )
    kill_after_seconds: float = Field(
        3,
        gt=0,
        description="After SIGTERM, how long a fitting child process gets before SIGKILL.",
    )
    default_window_days: int = Field(
        365, ge=7, description="Training window when none is given: the last N days of data."
    )
    holdout_fraction: float = Field(
        0.2, gt=0, lt=0.5, description="Tail of the window held out to validate a new version."
    )

    @model_validator(mode="after")
    def _lease_outlives_heartbeat(self) -> TrainingSettings:
        if self.lease_seconds <= self.heartbeat_seconds:
            raise ValueError(
                f"ENMS_TRAINING__LEASE_SECONDS ({self.lease_seconds:g}) must exceed "
                f"ENMS_TRAINING__HEARTBEAT_SECONDS ({self.heartbeat_seconds:g})"
            )
        return self


class QueueSettings(BaseModel):
    """The job queue (``ENMS_QUEUE__*``; the queue's URL is ``ENMS_QUEUE_URL``)."""

    workers: int = Field(2, ge=1, description="Worker threads per consumer (serve or worker).")
    in_process: bool = Field(
        True,
        description="Run consumer threads inside `enms serve` when the queue is SQLite-backed.",
    )
    periodic: bool = Field(
        True,
        description="This process's consumer enqueues the periodic schedule (off: it only runs "
        "jobs; another process schedules them, or POST /api/v1/scheduler/jobs/{name}/run).",
    )
    consumers: int = Field(
        1,
        ge=1,
        description="Consumer processes expected to share the queue (for estimated "
        "completion times only).",
    )
    watchdog_seconds: float = Field(
        10, gt=0, description="How often every consumer's watchdog looks for expired leases."
    )
    lost_enqueue_seconds: float = Field(
        60,
        gt=0,
        description="A pending job this old that no queue message names is enqueued again.",
    )
    grace_seconds: float = Field(
        30,
        ge=0,
        description="On SIGTERM a consumer stops taking jobs and gives running ones this long "
        "to finish; then their fits are stopped and the jobs handed back to the queue.",
    )


class ScheduleSettings(BaseModel):
    """Periodic jobs, as cron expressions in UTC (``ENMS_SCHEDULE__*``)."""

    training_cleanup: str = Field(
        "15 * * * *", description="Recover lost and timed-out training jobs."
    )
    baseline_retrain: str = Field(
        "0 2 * * 0", description="Retrain baselines whose champion is older than max age."
    )
    score_predictions: str = Field(
        "2 * * * *",
        description="Score new readings with every champion and challenger (prediction log); "
        "also run after every import.",
    )
    performance_evaluation: str = Field(
        "20 0 * * *",
        description="Write daily (and, on Mondays, weekly) metrics rows from the prediction log.",
    )
    drift_check: str = Field(
        "40 0 * * *", description="Drift checks of every champion and challenger."
    )
    anomaly_detect: str = Field(
        "5 * * * *",
        description="Champion anomaly detectors score the newest readings; flagged readings "
        "are stored (GET /machines/{id}/anomalies).",
    )
    kpi_calculate: str = Field(
        "30 0 * * *", description="Energy KPIs (energy, SEC, EnPI, savings) per machine and day."
    )
    data_quality_check: str = Field(
        "10 * * * *", description="Meters that stopped sending, stale values, gaps."
    )
    ab_test_evaluate: str = Field(
        "25 * * * *",
        description="Analyse running A/B tests; complete those due (verdict, alert, promotion); "
        "start the tests of automatically retrained challengers.",
    )
    promotion_watch: str = Field(
        "35 * * * *",
        description="Compare new champions with the previous ones; roll back a worse one.",
    )
    alert_maintenance: str = Field(
        "*/5 * * * *",
        description="Auto-resolve alerts whose condition stayed clear; send due notifications.",
    )
    paused: list[str] = Field(
        default_factory=list,
        description="Periodic jobs (by name) whose schedule is paused: their ticks are "
        "skipped (a manual run still works). JSON list. `enms demo` pauses the monitoring "
        "jobs while its replay runs them on the replayed clock.",
    )
    baseline_max_age_days: float = Field(
        7, gt=0, description="baseline_retrain retrains champions older than this."
    )


class MonitoringSettings(BaseModel):
    """The prediction log, periodic evaluation and metric trends (``ENMS_MONITORING__*``)."""

    forecast_origin_hour: int = Field(
        0,
        ge=0,
        le=23,
        description="Local hour (machine time zone) at which forecasters issue their daily "
        "day-ahead forecast into the prediction log.",
    )
    score_batch_days: int = Field(
        31, ge=1, description="Most days of new readings one scoring run takes per version."
    )
    retention_days: int = Field(
        400,
        ge=7,
        description="Raw prediction-log points more than this many days before the "
        "version's newest logged point (or before now, if earlier) are deleted once rolled up "
        "into daily sums (prediction_daily keeps the metrics computable).",
    )
    trend_max_points: int = Field(
        1000, ge=10, le=100_000, description="Most points per series a metrics trend returns."
    )
    degradation_relative: dict[str, float] = Field(
        default_factory=lambda: {
            "baseline": 0.25,
            "anomaly": 0.25,
            "forecast_arima": 0.25,
            "forecast_prophet": 0.25,
        },
        description="Per model type: a metric worse than the version's held-out value by more "
        "than this fraction (of the held-out value; skill and F1 by this much absolute) is "
        "degraded. JSON, e.g. '{\"baseline\": 0.2}'.",
    )
    projection_horizon_days: float = Field(
        30,
        gt=0,
        description="A metric's projected crossing of its degradation threshold is reported "
        "when it falls within this many days.",
    )
    projection_window_days: float = Field(
        14,
        gt=0,
        description="A metric's projection fits a Theil-Sen trend to its points of this many "
        "last days of the trend window.",
    )
    projection_min_points: int = Field(
        8, ge=3, description="Fewest points a metric needs in that span to be projected."
    )
    actual_fill_days: int = Field(
        35,
        ge=1,
        description="A logged prediction gets its actual when the reading arrives up to this "
        "many days after the target (bounds the UPDATE each scoring run makes).",
    )


class DriftSettings(BaseModel):
    """Drift checks (``ENMS_DRIFT__*``)."""

    current_days: int = Field(
        7, ge=1, description="Default current window of a drift check: the last N days."
    )
    alpha: float = Field(
        0.01, gt=0, lt=0.5, description="Significance level of the two-sample driver tests."
    )
    dataset_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Dataset-level data drift when at least this share of drivers drift.",
    )
    season_weeks: int = Field(
        2,
        ge=0,
        le=26,
        description="Season-matched reference: training rows within this many ISO weeks of a "
        "week of the current window.",
    )
    reference_min_rows: int = Field(
        500,
        ge=30,
        description="Fewest rows a season or operating-mode matched reference needs; with "
        "fewer the whole reference is used (and the answer says it was unmatched).",
    )
    small_sample: int = Field(
        1000,
        ge=30,
        description="Driver samples whose effective size n(1-rho)/(1+rho) is at most this are "
        "tested with Kolmogorov-Smirnov, larger ones with the normalised Wasserstein distance "
        "(and PSI).",
    )
    wasserstein_threshold: float = Field(
        0.1,
        gt=0,
        description="Driver drift when W1(reference, current) / sd(reference) exceeds this.",
    )
    psi_threshold: float = Field(
        0.2, gt=0, description="Population stability index above this is significant (reported)."
    )
    outside_range_share: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="With no season or operating-mode matched reference, a driver with more "
        "than this share of its current values outside the reference's range is reported as "
        "outside_reference_range (extrapolation), not tested for drift.",
    )
    nmbe_abs_max: float = Field(
        10.0,
        gt=0,
        description="Energy-grade degradation when |NMBE| (percent) of the current window "
        "exceeds this (ASHRAE Guideline 14 hourly bound).",
    )
    periodic_days: int = Field(
        400,
        ge=1,
        description="The periodic drift check's current window: everything a version served "
        "since it was trained, at most this many days back (the residual detectors' "
        "thresholds are calibrated per machine-year of daily checks since training).",
    )


class DemoSettings(BaseModel):
    """``enms demo``'s replay of the rest of the year (``ENMS_DEMO__*``)."""

    replay: bool = Field(
        True,
        description="After the first training round (on the first two months), replay the rest "
        "of the demo year day by day in the background (`enms demo --no-replay`: import the "
        "whole year at once instead).",
    )
    replay_seconds_per_day: float = Field(
        1.0,
        ge=0,
        description="Wall-clock seconds one replayed day takes at least (1: a year in about "
        "five minutes; 0: as fast as the work allows).",
    )


class Settings(BaseSettings):
    """Everything enms reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="ENMS_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path.db (default: enms.db in the working "
        "directory) or postgresql+psycopg://user@host/db.",
    )
    data_dir: Path = Field(
        Path(".enms"), description="Directory for artifacts and other files enms writes."
    )
    queue_url: str | None = Field(
        None,
        description="Job queue: unset means Huey on SQLite inside `enms serve`; "
        "redis://host:6379/0 means Redis-backed workers (`enms worker`).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs model artifacts (HMAC-SHA256); unset: generated once into "
        "data_dir/secret_key. Set the same value on every host of one instance.",
    )
    environment: Literal["development", "production"] = Field(
        "development", description="production turns on stricter checks."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of enms's own loggers."
    )
    log_format: str = Field(
        "%(asctime)s %(levelname)s %(name)s: %(message)s",
        description="Console log line format (Python logging syntax; %(request_id)s names "
        "the HTTP request), or json: one JSON object per line.",
    )
    server: ServerSettings = Field(default_factory=ServerSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    data_quality: DataQualitySettings = Field(default_factory=DataQualitySettings)
    kpi: KpiSettings = Field(default_factory=KpiSettings)
    ab_test: ABTestSettings = Field(default_factory=ABTestSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)

    @field_validator("database_url")
    @classmethod
    def _normalise_dsn(cls, value: str) -> str:
        """Map the common PostgreSQL spellings onto the psycopg 3 driver.

        >>> Settings._normalise_dsn("postgres://u@h/db")
        'postgresql+psycopg://u@h/db'
        >>> Settings._normalise_dsn("sqlite:///x.db")
        'sqlite:///x.db'
        """
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError(
                "ENMS_DATABASE_URL must be sqlite:///FILE or postgresql+psycopg://…, "
                f"not {value.split(':', 1)[0]!r}"
            )
        return value


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and ``overrides``, for tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
