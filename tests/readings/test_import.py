"""Importing readings into a real database (both dialects): upsert, summaries, atomicity."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_machine, readings_csv

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidFile
from enms.core.timewindow import Window
from enms.readings import parsing, service
from enms.readings.models import EnergyReading
from enms.readings.schemas import ImportSummary


def _count(factory: SessionFactory) -> int:
    with session_scope(factory) as s:
        return s.scalar(select(func.count()).select_from(EnergyReading)) or 0


def _import(factory: SessionFactory, machine_id: int, text: str) -> ImportSummary:
    parsed = parsing.parse_csv(text)
    with session_scope(factory) as s:
        machine = service.get_machine(session=s, machine_id=machine_id)
        return service.import_readings(session=s, machine=machine, parsed=parsed, batch_size=100)


def test_import_then_reimport_updates_without_duplicates(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory) as s:
        machine = make_machine(s, clock)
    first = _import(session_factory, machine.id, readings_csv(periods=300))
    assert (first.inserted, first.updated, first.rows_written) == (300, 0, 300)
    changed = readings_csv(periods=300, seed=1)
    second = _import(session_factory, machine.id, changed)
    assert (second.inserted, second.updated) == (0, 300)
    assert _count(session_factory) == 300
    with session_scope(session_factory) as s:
        page = service.query_readings(
            session=s, machine_id=machine.id, window=Window(None, None), limit=1
        )
    expected = parsing.parse_csv(changed).frame.iloc[0]
    point = page.readings[0]
    assert point.energy_kwh == pytest.approx(expected["energy_kwh"])
    assert point.drivers is not None
    assert point.drivers["line_speed"] == pytest.approx(expected["line_speed"])
    assert point.is_anomaly is False
    assert page.truncated is True


@pytest.mark.parametrize(
    "bad_line",
    [
        "not-a-time,5,1,1,false,1",
        "2025-03-01T00:00,five,1,1,false,1",
        "2025-03-01T00:00,-5,1,1,false,1",
        "2025-03-01T00:00,5,1,1,sometimes,1",
    ],
    ids=["timestamp", "non-numeric", "negative", "label"],
)
def test_a_bad_row_rejects_the_whole_file_and_changes_nothing(
    session_factory: SessionFactory, clock: FrozenClock, bad_line: str
) -> None:
    with session_scope(session_factory) as s:
        machine = make_machine(s, clock)
    _import(session_factory, machine.id, readings_csv(periods=10))
    before = _count(session_factory)
    good = readings_csv(start="2025-02-01", periods=500)
    with pytest.raises(InvalidFile, match="line 502"):
        _import(session_factory, machine.id, good + bad_line + "\n")
    assert _count(session_factory) == before


def test_unknown_text_column_is_rejected(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory) as s:
        machine = make_machine(s, clock)
    with pytest.raises(InvalidFile, match="column shift: 'night' is not a number"):
        _import(session_factory, machine.id, "timestamp,energy_kwh,shift\n2025-01-01,1,night\n")
    assert _count(session_factory) == 0


def test_failure_inside_the_write_rolls_back_everything(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory) as s:
        machine = make_machine(s, clock)
    parsed = parsing.parse_csv(readings_csv(periods=1000))
    progress_calls: list[int] = []

    def fail_midway(done: int, _total: int) -> None:
        progress_calls.append(done)
        if done >= 500:
            raise RuntimeError("connection lost")

    def import_in_one_transaction() -> None:
        with session_scope(session_factory) as s:
            target = service.get_machine(session=s, machine_id=machine.id)
            service.import_readings(
                session=s, machine=target, parsed=parsed, batch_size=250, progress=fail_midway
            )

    with pytest.raises(RuntimeError, match="connection lost"):
        import_in_one_transaction()
    assert progress_calls == [250, 500]
    assert _count(session_factory) == 0


def test_hourly_and_daily_aggregates_use_local_days(session: Session, clock: FrozenClock) -> None:
    machine = make_machine(session, clock)
    text = "timestamp,energy_kwh,production_units\n" + "".join(
        f"2025-01-0{1 + h // 24}T{h % 24:02d}:{m:02d}:00Z,1,{m // 15}\n"
        for h in range(48)
        for m in (0, 15, 30, 45)
    )
    target = service.get_machine(session=session, machine_id=machine.id)
    service.import_readings(session=session, machine=target, parsed=parsing.parse_csv(text))
    hourly = service.query_readings(
        session=session,
        machine_id=machine.id,
        window=Window.parse("2025-01-01", "2025-01-02"),
        resolution="hourly",
    )
    assert hourly.count == 24
    assert {p.energy_kwh for p in hourly.readings} == {4.0}
    assert {p.production_units for p in hourly.readings} == {6.0}
    daily = service.query_readings(
        session=session, machine_id=machine.id, window=Window(None, None), resolution="daily"
    )
    # Europe/Berlin is UTC+1 in January: 48 UTC hours span three local days (23 + 24 + 1 h).
    assert [p.n for p in daily.readings] == [92, 96, 4]
    assert daily.readings[0].timestamp.isoformat() == "2024-12-31T23:00:00+00:00"
