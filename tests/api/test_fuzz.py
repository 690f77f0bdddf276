"""Fuzzing the API from its OpenAPI schema (issue 13): no 5xx, no answer outside its schema.

Schemathesis reads the app's own ``/openapi.json`` (every ``/api/v1`` operation and the health
probes) plus a declaration of ``/metrics`` (left out of the document: a scrape target, not
API), and runs each operation's examples, coverage cases (boundaries, missing and wrong-typed
parameters) and Hypothesis-generated cases, valid and invalid. Every answer must pass
:data:`CHECKS`: not a server error, a declared status code, a declared content type, and a
body valid against the declared schema.

Reproducible: Hypothesis is derandomized and nothing is remembered between runs, so the cases
depend on the code only (the schema, and the constants schemathesis reads from the app). Ids,
model types, job names and dates are drawn from the plant's own values half the time, so cases
reach real rows instead of 404 after 404.

Each case meets the same plant: a template database built once (two machines — one with
hourly readings, trained baseline and anomaly versions, an evaluation, an alert, a silence, a
notification delivery, a pending job and an A/B test; one empty) is copied over the test
database before every case (SQLite's backup API). So a case that deletes a machine does not
empty the plant for the next, and a failing case replays and shrinks against the same state.
The app's lifespan is not started: no queue consumer runs, so a triggered job stays queued and
no case starts a model fit.

The run's counts (operations, cases by status class, failing cases, duration) close the
terminal summary and are recorded as test properties (JUnit XML); an operation that got no
case at all fails the test.
"""

from __future__ import annotations

import copy
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import checks
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send
from tests.conftest import FROZEN_AT
from tests.factories import import_demo_machine, make_machine, train_version, trigger_job

from enms.alerts import service as alerts
from enms.alerts.conditions import raise_condition
from enms.alerts.notify import deliveries
from enms.api.app import create_app
from enms.core import schema as db_schema
from enms.core.clock import FrozenClock
from enms.core.config import QueueSettings, Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.core.secrets import InstanceSecret
from enms.core.timewindow import Window
from enms.evaluation import service as evaluation
from enms.experiments import service as experiments
from enms.experiments.schemas import ABTestStart
from enms.jobs.schedule import periodic_jobs

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
#: Hypothesis-generated cases per operation (valid and invalid ones mixed), on top of the
#: operation's examples and coverage cases; sized for about two minutes on two cores.
MAX_EXAMPLES = 25
#: Seconds a case's request may take before it counts as hung.
REQUEST_TIMEOUT_SECONDS = 120
#: Demo readings: 2025-01-01 … 2025-02-05 (hourly); versions train on the first four weeks.
DAYS = 36
TRAIN_UNTIL = "2025-01-29"
#: Parameters and body fields drawn from the plant's values (half the time), by dictionary.
BINDINGS = {
    **{name: name for name in ("machine_id", "version", "model_type", "name", "from", "to")},
    **{name: name for name in ("job_id", "alert_id", "silence_id", "delivery_id", "test_id")},
    **{f"body.{name}": name for name in ("machine_id", "version", "model_type", "from", "to")},
    "body.model_a_version": "version",
    "body.model_b_version": "version",
    **{f"body.{name}_from": "from" for name in ("data", "reference", "current")},
    **{f"body.{name}_to": "to" for name in ("data", "reference", "current")},
}
METRICS = {
    "get": {
        "summary": "Prometheus metrics",
        "responses": {
            "200": {
                "description": "The metrics in Prometheus' text format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    }
}


@dataclass
class Tally:
    """Cases run (by status class) and failed per operation, for the closing note."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def answered(self, operation: str, status: int) -> None:
        self.cases[operation] += 1
        self.statuses[f"{status // 100}xx"] += 1

    def summary(self, operations: list[str]) -> str:
        seconds = time.monotonic() - self.started
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"fuzz: {len(self.cases)} of {len(operations)} operations, "
            f"{sum(self.cases.values())} cases ({statuses}), "
            f"{sum(self.failed.values())} failing cases in {len(self.failed)} operations, "
            f"{seconds:.0f} s"
        )


@dataclass
class Plant:
    """The test database and the template it is reset to before every case."""

    engine: Engine
    template: Path
    values: dict[str, list[Any]]

    def restore(self) -> None:
        raw = self.engine.raw_connection()
        try:
            with sqlite3.connect(self.template) as source:
                source.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()


class HttpOnly:
    """The app for HTTP requests only: it declines the ASGI lifespan.

    Schemathesis' ASGI client would otherwise start the lifespan (queue consumer threads and
    the watchdog) on the first request and keep it running until the interpreter exits.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"{scope['type']} is not served here")
        await self.app(scope, receive, send)


def _seed(factory: SessionFactory, clock: FrozenClock, settings: Settings) -> dict[str, list[Any]]:
    """Fill the plant; returns the values worth drawing parameters from."""
    with session_scope(factory, write=True) as s:
        machine = import_demo_machine(s, clock, index=1, days=DAYS).id
        empty = make_machine(s, clock, name="Empty", machine_type="chiller").id
    train_version(factory, clock, machine, "baseline", TRAIN_UNTIL)
    train_version(factory, clock, machine, "baseline", TRAIN_UNTIL, start="2025-01-08")
    train_version(factory, clock, machine, "anomaly", TRAIN_UNTIL)
    evaluation.evaluate(
        factory=factory,
        machine_id=machine,
        model_type="baseline",
        window=Window.parse("2025-01-29", "2025-02-05"),
        version=None,
        clock=clock,
    )
    with session_scope(factory, write=True) as s:
        job = trigger_job(s, machine_id=machine, model_type="forecast_arima", clock=clock)
        now = clock.now()
        alert = raise_condition(
            s,
            machine_id=machine,
            model_type="baseline",
            alert_type="drift",
            severity="warning",
            message="drift on outdoor_temp_c",
            details={},
            now=now,
        ).alert_id
        silence = alerts.create_silence(
            session=s,
            machine_id=machine,
            model_type=None,
            alert_type="data_quality",
            author="fuzz",
            reason="maintenance",
            expires_at=now + timedelta(days=1),
            now=now,
        ).id
        (delivery,) = deliveries.record(
            s,
            results=[
                deliveries.Result(
                    channel="webhook",
                    target="http://127.0.0.1:9/hook",
                    group_key="compressor",
                    alert_ids=[alert],
                    severity="warning",
                    status="failed",
                    attempts=3,
                    response_code=503,
                    last_error="HTTP 503",
                    payload={"text": "drift"},
                    sent_at=None,
                )
            ],
            notified=[],
            now=now,
        )
        test = experiments.start(
            session=s,
            data=ABTestStart(machine_id=machine, model_type="baseline"),
            settings=settings,
            clock=clock,
        ).id
    return {
        "machine_id": [machine, empty],
        "version": [1, 2],
        "job_id": [job.training_job_id],
        "alert_id": [alert],
        "silence_id": [silence],
        "delivery_id": [delivery],
        "test_id": [test],
        "model_type": ["baseline", "anomaly", "forecast_arima"],
        "name": [job.name for job in periodic_jobs(settings)],
        "from": ["2025-01-01", "2025-01-29T00:00:00Z"],
        "to": ["2025-02-05", "2025-02-01T12:00:00+01:00"],
    }


@pytest.fixture
def fuzz_settings(tmp_path: Path) -> Settings:
    """Settings of a fuzz-only SQLite database; no consumer runs in the app."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'fuzz.db'}",
        data_dir=tmp_path / "data",
        queue=QueueSettings(in_process=False),
    )


@pytest.fixture
def plant(fuzz_settings: Settings, tmp_path: Path) -> Iterator[Plant]:
    """The seeded database, saved as the template every case starts from."""
    engine = create_db_engine(fuzz_settings.database_url)
    db_schema.upgrade(engine)
    factory = create_session_factory(engine, secret=InstanceSecret(data_dir=tmp_path / "data"))
    values = _seed(factory, FrozenClock(FROZEN_AT), fuzz_settings)
    template = tmp_path / "template.db"
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(template) as copy_:
            raw.driver_connection.backup(copy_)  # type: ignore[union-attr]
    finally:
        raw.close()
    yield Plant(engine, template, values)
    engine.dispose()


class _ClosingNote:
    """A plugin printing the run's counts in the terminal summary."""

    def __init__(self, line: str) -> None:
        self.line = line

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", self.line)


@pytest.fixture
def tally(request: pytest.FixtureRequest, record_property: Any) -> Iterator[Tally]:
    """Counts of the run, printed at the end of the session and recorded as properties."""
    counts = Tally()
    yield counts
    operations = request.node.stash.get(_OPERATIONS, [])
    plugins = request.config.pluginmanager
    if plugins.has_plugin(_NOTE):
        plugins.unregister(name=_NOTE)
    plugins.register(_ClosingNote(counts.summary(operations)), _NOTE)
    record_property("fuzz_operations", len(operations))
    record_property("fuzz_cases", sum(counts.cases.values()))
    record_property("fuzz_failing_cases", sum(counts.failed.values()))
    assert not [op for op in operations if not counts.cases[op]], "operations never called"


_NOTE = "enms-fuzz-closing-note"
_OPERATIONS = pytest.StashKey[list[str]]()


@pytest.fixture
def fuzz_schema(
    fuzz_settings: Settings, plant: Plant, request: pytest.FixtureRequest
) -> schemathesis.BaseSchema:
    """The app's OpenAPI document (plus /metrics), with the plant's values as dictionaries."""
    if not hasattr(request.node, "_nodeid"):
        # schemathesis 4.32's fixture loader reads `Node._nodeid`, which pytest 9.2 dropped.
        request.node._nodeid = request.node.nodeid
    app = create_app(fuzz_settings, engine=plant.engine, clock=FrozenClock(FROZEN_AT))
    document = copy.deepcopy(app.openapi())
    document["paths"]["/metrics"] = METRICS
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            # A hang must fail the run, slowness must not: schemathesis' default (10 s) timed
            # out one 60 ms request on a loaded CI runner. Latency is the benchmarks' business.
            "request-timeout": REQUEST_TIMEOUT_SECONDS,
            # Generation speed is the machine's, not the API's: a loaded CI runner must not
            # fail the run (the cases themselves are the same either way).
            "suppress-health-check": ["too_slow"],
            "dictionaries": {name: {"values": v} for name, v in plant.values.items()},
            "parameters": {
                key: {"dictionary": name, "probability": 0.5} for key, name in BINDINGS.items()
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.app = HttpOnly(app)
    request.node.stash[_OPERATIONS] = [
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    ]
    return loaded


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
def test_api(case: schemathesis.Case[Any], plant: Plant, tally: Tally) -> None:
    plant.restore()
    response = case.call()
    tally.answered(case.operation.label, response.status_code)
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException:
        tally.failed[case.operation.label] += 1
        raise
