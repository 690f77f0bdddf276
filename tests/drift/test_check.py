"""The drift check on real trained versions: data drift against a season-matched reference,
extrapolation, energy-grade and performance degradation, the recorded row, the errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

import pandas as pd
import pytest
from sqlalchemy import select
from tests.evaluation.test_evaluate import _train
from tests.factories import make_machine

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput, NotFound
from enms.core.timewindow import Window
from enms.demo.generator import SyntheticMachine, generate_plant
from enms.drift import service
from enms.drift.schemas import DriftCheckRead
from enms.drift.two_sample import column_drift
from enms.evaluation.models import PerformanceMetric
from enms.predictions.models import PredictionBatch
from enms.predictions.repository import insert_points
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from enms.registry import artifacts
from enms.registry import service as registry

COMPRESSOR = 0  # no weather dependence: a spring baseline stays valid in May
FURNACE = 1  # the demo's heating-dominated machine: its energy follows the temperature


@lru_cache(maxsize=1)
def _plant() -> tuple[SyntheticMachine, ...]:
    # 430 days of hourly readings: the 2025 training year and the first winter after it.
    return tuple(generate_plant(seed=3, days=430, freq="h"))


def import_machine(
    factory: SessionFactory,
    clock: FrozenClock,
    *,
    index: int = FURNACE,
    name: str | None = None,
    change: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> int:
    """A demo machine's readings (optionally changed) imported through the service."""
    source = _plant()[index]
    frame = source.readings.copy()
    if change is not None:
        frame = change(frame)
    with session_scope(factory, write=True) as session:
        machine = readings.create_machine(
            session=session,
            data=MachineCreate(
                name=name or source.name,
                machine_type=source.machine_type,
                timezone=source.timezone,
            ),
            clock=clock,
        )
        csv = frame.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
        target = readings.get_machine(session=session, machine_id=machine.id)
        readings.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))
        return machine.id


def expected_energy(
    factory: SessionFactory, machine_id: int, model_type: str, window: Window
) -> pd.DataFrame:
    """The readings of ``window`` with the version's expected energy (the model really runs)."""
    with session_scope(factory) as session:
        row = registry.get_version(session=session, machine_id=machine_id, model_type=model_type)
        stored = artifacts.StoredArtifact.of(session, row)
        secret = artifacts.secret_of(session)
        frame = readings.training_frame(
            session=session, machine_id=machine_id, start=window.start, end=window.end
        )
    model = artifacts.load(stored, secret)
    expected_model = getattr(model, "baseline_", None) or model
    return frame.assign(expected=expected_model.predict(frame))


def log_points(
    factory: SessionFactory,
    clock: FrozenClock,
    machine_id: int,
    model_type: str,
    frame: pd.DataFrame,
    version: int | None = None,
) -> int:
    """Put ``frame`` (``predicted``, ``actual`` ... by target time) into the prediction log."""
    with session_scope(factory, write=True) as session:
        row = registry.get_version(
            session=session, machine_id=machine_id, model_type=model_type, version=version
        )
        batch = PredictionBatch(
            model_id=row.id,
            machine_id=machine_id,
            model_type=model_type,
            source="shadow",
            drivers_used=[],
            window_start=frame.index[0].to_pydatetime(),
            window_end=frame.index[-1].to_pydatetime(),
            created_at=clock.now(),
        )
        return insert_points(session, batch=batch, frame=frame)


def _shift_2026(frame: pd.DataFrame) -> pd.DataFrame:
    """A genuine change of two drivers from 2026-01-05: more production, a warm spell."""
    later = frame.index >= pd.Timestamp("2026-01-05", tz="UTC")
    frame.loc[later, "production_units"] *= 1.6
    frame.loc[later, "outdoor_temp_c"] += 10.0
    return frame


def _columns(result: DriftCheckRead) -> dict[str, dict[str, object]]:
    return {c["column"]: c for c in result.drift_details["data_drift"]["columns"]}


def check(
    factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    machine_id: int,
    current: tuple[str, str],
    **kwargs: object,
) -> DriftCheckRead:
    return service.check_drift(
        factory=factory,
        settings=settings,
        clock=clock,
        machine_id=machine_id,
        model_type=str(kwargs.pop("model_type", "baseline")),
        current=Window.parse(*current),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_winter_window_inside_the_training_year_is_not_data_drift_but_a_shift_is(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Acceptance: February inside the baseline's own training year, against the season-
    matched reference (the other winter weeks of the year), is not data drift — against the
    whole training year (the reference a user would otherwise pick, computed here on the same
    rows) the temperature is flagged. Two genuinely shifted drivers in January 2026 are."""
    machine_id = import_machine(session_factory, clock, change=_shift_2026)
    _train(session_factory, clock, machine_id, "baseline", "2026-01-01")
    winter = check(
        session_factory, clock, settings, machine_id, ("2025-02-03", "2025-03-03"), record=False
    )
    data = winter.drift_details["data_drift"]
    assert data["reference"]["method"] == "season"
    assert winter.drift_details["reference"]["n_left_out_inside_current"] == 28 * 24
    columns = _columns(winter)
    assert set(columns) == {"outdoor_temp_c", "production_units", "operating_hours"}
    assert {c["verdict"] for c in columns.values()} == {"no_drift"}
    assert data["drift_detected"] is False
    assert winter.drift_detected is False  # concept drift undecided (nothing logged)
    assert winter.drift_score is not None
    assert winter.drift_score < 0.5
    temperature = columns["outdoor_temp_c"]
    assert temperature["tests"][0]["method"] == "ks"  # type: ignore[index]
    assert temperature["n_current"] == 28 * 24
    # The same current rows against the whole year (what an unmatched check would do).
    with session_scope(session_factory) as session:
        year = readings.training_frame(
            session=session,
            machine_id=machine_id,
            start=None,
            end=datetime(2026, 1, 1, tzinfo=UTC),
        )
    inside = (year.index >= "2025-02-03") & (year.index < "2025-03-03")
    unmatched = column_drift(
        year.loc[~inside, "outdoor_temp_c"],
        year.loc[inside, "outdoor_temp_c"],
        ks_alpha=settings.drift.alpha,
    )
    assert unmatched.drift_detected is True

    shifted = check(session_factory, clock, settings, machine_id, ("2026-01-05", "2026-02-02"))
    columns = _columns(shifted)
    assert columns["production_units"]["verdict"] == "drift"
    assert columns["outdoor_temp_c"]["verdict"] == "drift"
    assert columns["operating_hours"]["verdict"] == "no_drift"
    assert shifted.drift_details["data_drift"]["reference"]["method"] == "season"
    assert shifted.drift_details["data_drift"]["drift_detected"] is True  # 2 of 3 ≥ 0.5
    assert shifted.drift_detected is True
    assert shifted.drift_score is not None
    assert shifted.drift_score >= 0.5
    with session_scope(session_factory) as session:
        row = session.scalars(select(PerformanceMetric)).one()  # the first check: not recorded
        assert row.id == shifted.id
        assert row.source == "drift_check"
        assert row.drift_detected is True
        assert row.drift_score == shifted.drift_score
        assert (row.evaluation_start, row.evaluation_end) == (
            shifted.current_start,
            shifted.current_end,
        )
        assert row.drift_details == shifted.drift_details


def test_a_summer_after_winter_only_training_is_extrapolation_not_drift(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    result = check(session_factory, clock, settings, machine_id, ("2025-07-01", "2025-07-15"))
    data = result.drift_details["data_drift"]
    assert data["reference"]["method"] == "unmatched"  # no July, no July temperatures
    temperature = _columns(result)["outdoor_temp_c"]
    assert temperature["verdict"] == "outside_reference_range"
    assert temperature["range"]["share_outside"] > settings.drift.outside_range_share  # type: ignore[index]
    assert data["outside_reference_range"] == ["outdoor_temp_c"]
    assert "outdoor_temp_c" not in data["drifted"]
    assert data["n_checked"] == 2  # the other drivers are still tested


def test_spring_after_a_winter_training_window_is_not_dataset_drift(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """The demo's story: trained on January and February, checked on March and April. No
    season match exists; the operating-mode reference (same temperature band and day types)
    must not turn the working-hours schedule into drift."""
    machine_id = import_machine(session_factory, clock)
    _train(session_factory, clock, machine_id, "baseline", "2025-03-01")
    result = check(session_factory, clock, settings, machine_id, ("2025-03-01", "2025-05-01"))
    data = result.drift_details["data_drift"]
    assert data["reference"]["method"] == "operating_mode"
    columns = _columns(result)
    for driver in ("production_units", "operating_hours"):
        assert columns[driver]["verdict"] == "no_drift"
        assert "same day types" in str(columns[driver]["reference"])
    assert data["drift_detected"] is False
    assert result.drift_detected is False


def test_a_level_shift_of_the_actuals_is_energy_and_performance_degradation(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """+12 % on the logged actuals of four weeks gives ≈ +12 % more than the baseline (the
    residual bias of an honest period, the following weeks before the demo's injected leak
    of June 1, is the control)."""
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-07", "2025-06-01")
    )
    shifted_part = frame.index < pd.Timestamp("2025-05-05", tz="UTC")
    actual = frame["energy_kwh"].where(~shifted_part, frame["energy_kwh"] * 1.12)
    points = pd.DataFrame({"predicted": frame["expected"], "actual": actual})
    assert log_points(session_factory, clock, machine_id, "baseline", points) == len(frame)

    shifted = check(session_factory, clock, settings, machine_id, ("2025-04-07", "2025-05-05"))
    control = check(session_factory, clock, settings, machine_id, ("2025-05-05", "2025-06-01"))
    energy = shifted.drift_details["degradation"]["energy"]
    honest = control.drift_details["degradation"]["energy"]
    bias = honest["cumulative_pct"]
    assert abs(bias) < 3.0  # the baseline is unbiased on fresh data
    assert energy["cumulative_pct"] == pytest.approx(12.0, abs=3.0)
    assert energy["n"] == 28 * 24
    assert energy["degraded"] is True  # NMBE ≈ 12/1.12 ≈ 10.7 % > 10 %
    assert honest["degraded"] is False
    assert energy["cumulative_kwh"] > 0
    assert shifted.statement is not None
    assert shifted.statement.startswith("Compressor C1 uses 1")
    assert "% more than its baseline since 2025-04-0" in shifted.statement  # start or change
    performance = shifted.drift_details["degradation"]["performance"]
    assert performance["degraded"] is True
    assert {"nmbe", "cv_rmse"} <= set(performance["degraded_metrics"])
    judged = {m["metric"]: m for m in performance["metrics"]}
    assert judged["cv_rmse"]["threshold"] == pytest.approx(
        judged["cv_rmse"]["held_out"] * (1 + settings.monitoring.degradation_relative["baseline"])
    )
    assert control.drift_details["degradation"]["performance"]["degraded"] is False
    assert shifted.metrics["nmbe"] == pytest.approx(energy["nmbe"])
    with session_scope(session_factory) as session:
        rows = session.scalars(select(PerformanceMetric).order_by(PerformanceMetric.id)).all()
        assert [r.source for r in rows] == ["drift_check", "drift_check"]
        assert rows[0].nmbe == pytest.approx(energy["nmbe"])
        assert rows[0].n_samples == 28 * 24
        assert rows[0].drift_detected is not None  # data drift decided it
        details = rows[0].drift_details
        assert details is not None
        assert set(details) >= {
            "definitions",
            "reference",
            "current",
            "verdict",
            "data_drift",
            "concept_drift",
            "degradation",
        }


def test_a_level_shift_is_concept_drift_with_its_change_point(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-07", "2025-05-05")
    )
    start = pd.Timestamp("2025-04-21", tz="UTC")
    actual = frame["energy_kwh"].where(frame.index < start, frame["energy_kwh"] * 1.12)
    log_points(
        session_factory,
        clock,
        machine_id,
        "baseline",
        pd.DataFrame({"predicted": frame["expected"], "actual": actual}),
    )
    result = check(session_factory, clock, settings, machine_id, ("2025-04-07", "2025-05-05"))
    found = result.drift_details["concept_drift"]
    assert found["drift_detected"] is True
    assert result.drift_detected is True
    assert result.change_point is not None
    assert abs(pd.Timestamp(result.change_point) - start) <= pd.Timedelta(days=1)
    assert found["tests"]
    assert found["support"]["n_in_support"] > 0
    assert result.statement is not None
    assert "since 2025-04-2" in result.statement


def test_no_change_is_no_concept_drift(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-07", "2025-05-05")
    )
    log_points(
        session_factory,
        clock,
        machine_id,
        "baseline",
        pd.DataFrame({"predicted": frame["expected"], "actual": frame["energy_kwh"]}),
    )
    result = check(session_factory, clock, settings, machine_id, ("2025-04-07", "2025-05-05"))
    assert result.drift_details["concept_drift"]["drift_detected"] is False


def test_concept_drift_without_the_detectors_or_logged_points_says_why(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    result = check(session_factory, clock, settings, machine_id, ("2025-04-07", "2025-04-21"))
    found = result.drift_details["concept_drift"]
    assert found["applicable"] is True
    assert found["drift_detected"] is None
    assert "no logged points" in found["reason"]
    performance = result.drift_details["degradation"]["performance"]
    assert performance["degraded"] is None
    assert performance["n"] == 0
    assert result.n_samples == 14 * 24  # the readings the data drift was tested on


def test_bad_requests_name_the_problem(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock)
    with pytest.raises(NotFound, match="no baseline champion yet: train one"):
        check(session_factory, clock, settings, machine_id, ("2025-04-07", "2025-04-21"))
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    with pytest.raises(NotFound, match="no machine with id 9999"):
        check(session_factory, clock, settings, 9999, ("2025-04-07", "2025-04-21"))
    with pytest.raises(InvalidInput, match="the current window has no readings"):
        check(session_factory, clock, settings, machine_id, ("2027-01-01", "2027-01-08"))
    with pytest.raises(InvalidInput, match="unknown model type"):
        check(
            session_factory,
            clock,
            settings,
            machine_id,
            ("2025-04-07", "2025-04-21"),
            model_type="lstm",
        )
    with session_scope(session_factory) as session:
        assert session.scalars(select(PerformanceMetric)).all() == []


def test_a_writer_commits_while_a_check_computes(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Loading the model and the statistics hold no transaction: a writer started when the
    model starts loading commits before the check records its row (were the check inside a
    write transaction, the bounded wait below would fail)."""
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-07", "2025-04-21")
    )
    log_points(
        session_factory,
        clock,
        machine_id,
        "baseline",
        pd.DataFrame({"predicted": frame["expected"], "actual": frame["energy_kwh"]}),
    )
    events: list[str] = []
    committed = threading.Event()

    def writer() -> None:
        with session_scope(session_factory, write=True) as session:
            make_machine(session, clock, name="Added while checking")
        events.append("writer committed")
        committed.set()

    thread = threading.Thread(target=writer)

    def on_stage(name: str) -> None:
        if name == "loading":
            thread.start()
        if name == "recording":
            assert committed.wait(60), "the writer could not commit while the check computed"
        events.append(name)

    result = check(
        session_factory,
        clock,
        settings,
        machine_id,
        ("2025-04-07", "2025-04-21"),
        on_stage=on_stage,
    )
    thread.join()
    assert events.index("writer committed") < events.index("recording")
    assert [e for e in events if e != "writer committed"] == ["loading", "computing", "recording"]
    assert result.id is not None
