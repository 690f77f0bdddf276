"""Settings groups of the alerting half: alerts, notifications, data quality, energy KPIs.

Part of the one settings tree of :mod:`enms.core.config` (which nests them as
``Settings.alerts``, ``.notifications``, ``.data_quality`` and ``.kpi``); kept apart only so
neither module grows past a screenful of groups.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


def _per_type(value: float) -> dict[str, float]:
    return {name: value for name in ("baseline", "anomaly", "forecast_arima", "forecast_prophet")}


class AlertSettings(BaseModel):
    """Alert severities, hysteresis and automatic retraining (``ENMS_ALERTS__*``)."""

    critical_drift_score: dict[str, float] = Field(
        default_factory=lambda: _per_type(0.8),
        description="Per model type: a drift alert is critical when the check's drift_score "
        "is at least this (warning otherwise). JSON, e.g. '{\"baseline\": 0.9}'.",
    )
    critical_degradation_ratio: dict[str, float] = Field(
        default_factory=lambda: _per_type(2.0),
        description="Per model type: a degradation alert is critical when the degraded "
        "metric is worse than its threshold by at least this factor of the margin.",
    )
    clear_hours: float = Field(
        48,
        gt=0,
        description="An alert auto-resolves once its condition has been reported clear for "
        "this long (a condition raised again meanwhile restarts the wait).",
    )
    auto_retrain: dict[str, bool] = Field(
        default_factory=lambda: {
            "baseline": True,
            "anomaly": False,
            "forecast_arima": True,
            "forecast_prophet": True,
        },
        description="Per model type: whether a drift or degradation alert enqueues a retrain.",
    )
    retrain_cooldown_hours: float = Field(
        72,
        ge=0,
        description="After an automatic retrain of a (machine, model type), no other is "
        "enqueued for this long.",
    )
    retrain_min_days_after_change: float = Field(
        14,
        gt=0,
        description="An automatic retrain starts its window at the detected change point when "
        "at least this many days of readings follow it; otherwise it waits.",
    )
    anomaly_cluster_count: int = Field(
        6,
        ge=1,
        description="This many flagged readings within anomaly_cluster_hours open an "
        "anomaly alert.",
    )
    anomaly_cluster_hours: float = Field(
        6, gt=0, description="The window of anomaly_cluster_count."
    )


class NotificationSettings(BaseModel):
    """Where alert notifications go (``ENMS_NOTIFICATIONS__*``); nothing is sent by default."""

    webhook_urls: list[str] = Field(
        default_factory=list,
        description="Incoming-webhook URLs (Slack, Microsoft Teams, or any JSON receiver). "
        "JSON list.",
    )
    webhook_format: Literal["slack", "teams", "generic"] = Field(
        "slack", description="Payload shape: Slack/Teams incoming-webhook JSON, or enms JSON."
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="Signs every webhook body: header X-Enms-Signature = "
        "'t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">'.",
    )
    webhook_timeout_seconds: float = Field(5, gt=0, description="Per attempt.")
    retries: int = Field(3, ge=0, description="Retries after a failed attempt (5xx, timeout).")
    backoff_seconds: float = Field(
        2, ge=0, description="Wait before retry k is backoff_seconds * 2**(k-1)."
    )
    smtp_host: str | None = Field(None, description="SMTP server for e-mail; unset: no e-mail.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    email_from: str = Field("enms@localhost", description="Sender address.")
    email_to: list[str] = Field(default_factory=list, description="Recipients. JSON list.")
    webhook_min_severity: Literal["warning", "critical"] = Field(
        "warning", description="Alerts below this severity are not sent to webhooks."
    )
    email_min_severity: Literal["warning", "critical"] = Field(
        "critical", description="Alerts below this severity are not e-mailed."
    )
    group_seconds: float = Field(
        300,
        ge=0,
        description="Alerts of one machine group (machine metadata 'group', else its machine "
        "type) opened within this interval go out as one notification.",
    )


class DataQualitySettings(BaseModel):
    """Data-quality conditions (``ENMS_DATA_QUALITY__*``)."""

    stopped_hours: float = Field(
        6, gt=0, description="A meter with no reading for this long has stopped sending."
    )
    stale_hours: float = Field(
        4, gt=0, description="Energy identical for this long (non-zero) is a stale meter."
    )
    gap_share: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="More than this share of expected readings missing in the last day is a "
        "gap condition.",
    )
    live_days: float = Field(
        7,
        gt=0,
        description="A machine whose newest reading is older than this many days is "
        "historical (not_live): no data-quality alert opens or clears for it.",
    )


class KpiSettings(BaseModel):
    """Energy KPIs (``ENMS_KPI__*``)."""

    recompute_days: int = Field(
        3, ge=1, description="kpi_calculate recomputes the last N complete local days."
    )
    max_backfill_days: int = Field(
        400,
        ge=1,
        description="Earlier days without a KPI row (or computed against another baseline) "
        "that one kpi_calculate run fills per machine; the next run goes on.",
    )
