"""``enms abtest start|results|stop|list``.

``--json`` prints the same documents as the HTTP API (:mod:`enms.experiments.schemas`); the
text form is a table (list) or a short report (results). Domain errors (unknown version, a
test already running) become one ``error: …`` line and exit 1.
"""

from __future__ import annotations

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.experiments import service
from enms.experiments.models import STATUSES
from enms.experiments.schemas import ABTestRead, ABTestResults, ABTestStart, ABTestStop


@click.group("abtest")
def abtest_group() -> None:
    """A/B tests between two versions of a machine's model."""


def _machine_id(app: AppContext, name: str) -> int:
    from enms.readings import service as readings

    with session_scope(app.session_factory) as session:
        return readings.get_machine_by_name(session=session, name=name).id


def _fmt(x: float | None, spec: str = ".4g") -> str:
    return "-" if x is None else format(x, spec)


def tests_table(tests: list[ABTestRead]) -> str:
    """The tests as a table."""
    if not tests:
        return "no A/B tests"
    names = [t.machine_name or str(t.machine_id) for t in tests]
    width = max(len("MACHINE"), *(len(n) for n in names))
    lines = [
        f"{'ID':>4}  {'STATUS':<10} {'MACHINE':<{width}} {'MODEL TYPE':<16} {'A':>3} {'B':>3} "
        f"{'SPLIT':>5} {'WINNER':<12} {'P':>8}  STARTED"
    ]
    for t, name in zip(tests, names, strict=True):
        lines.append(
            f"{t.id:>4}  {t.status:<10} {name:<{width}} {t.model_type:<16} "
            f"{t.model_a_version:>3} {t.model_b_version:>3} {t.traffic_split:>5.2f} "
            f"{t.winner or '-':<12} {_fmt(t.p_value, '.3g'):>8}  {t.start_date:%Y-%m-%d %H:%M}"
        )
    return "\n".join(lines)


def results_text(r: ABTestResults) -> str:
    """A test's results as a short report."""
    t = r.test
    lines = [
        f"A/B test {t.id} ({t.test_name}): {t.status}, verdict {r.verdict} — {r.verdict_reason}",
        f"  window {r.window_start:%Y-%m-%d %H:%M} – {r.window_end:%Y-%m-%d %H:%M} UTC, "
        f"{t.traffic_split:.0%} to B, primary metric {t.primary_metric}, alpha {t.alpha:g}",
    ]
    for arm in r.arms:
        lines.append(
            f"  arm {arm.arm} v{arm.version}: n={arm.n} MAE={_fmt(arm.mae)} "
            f"RMSE={_fmt(arm.rmse)} MAPE={_fmt(arm.mape)} CV(RMSE)={_fmt(arm.cv_rmse)}"
        )
    if r.difference:
        d = r.difference
        lines.append(
            f"  B − A = {d['estimate']:.4g} [{d['ci_low']:.4g}, {d['ci_high']:.4g}], "
            f"p={d['p_value']:.3g} ({d['method']})"
        )
    if r.sequential:
        lines.append(f"  sequential p = {_fmt(r.sequential.get('p_value'), '.3g')}")
    if r.paired:
        p = r.paired
        lines.append(
            f"  paired B − A = {p['estimate']:.4g} [{p['ci_low']:.4g}, {p['ci_high']:.4g}], "
            f"p={p['p_value']:.3g} ({p['method']})"
        )
    if r.srm:
        lines.append(
            f"  SRM: observed share B {_fmt(r.srm.get('observed_share_b'), '.3f')} vs "
            f"configured {_fmt(r.srm.get('configured_share_b'), '.3f')}, "
            f"p={_fmt(r.srm.get('p_value'), '.3g')}{' MISMATCH' if r.srm.get('mismatch') else ''}"
        )
    lines.append(
        f"  min sample {'reached' if r.min_sample_reached else 'not reached'}; needed per arm "
        f"{r.needed_per_arm if r.needed_per_arm is not None else '-'}; days left "
        f"{_fmt(r.estimated_days_left, '.1f')}"
    )
    if t.promotion:
        lines.append(f"  {t.promotion}")
    return "\n".join(lines)


@abtest_group.command("start")
@click.argument("model_type", type=click.Choice(MODEL_TYPE_NAMES))
@click.option("--machine", required=True, help="Machine name.")
@click.option("--a", "version_a", type=int, default=None, help="Arm A version (champion).")
@click.option("--b", "version_b", type=int, default=None, help="Arm B version (challenger).")
@click.option("--split", type=float, default=None, help="Share of traffic to B.")
@click.option("--days", type=float, default=None, help="Planned duration in days.")
@click.option("--min-samples", type=int, default=None, help="Scored readings per arm.")
@click.option("--alpha", type=float, default=None)
@click.option("--metric", type=click.Choice(("mae", "rmse", "energy_kwh", "cost")), default=None)
@click.option("--guardrail", "guardrails", multiple=True, help="Guardrail metric (repeatable).")
@click.option("--sequential/--fixed", default=None, help="Always-valid early decision or not.")
@click.option("--actor", default="cli", show_default=True)
@json_option
@pass_app
def start(
    app: AppContext,
    model_type: str,
    machine: str,
    version_a: int | None,
    version_b: int | None,
    split: float | None,
    days: float | None,
    min_samples: int | None,
    alpha: float | None,
    metric: str | None,
    guardrails: tuple[str, ...],
    sequential: bool | None,
    actor: str,
    as_json: bool,
) -> None:
    """Start a test of MODEL_TYPE on a machine."""
    data = ABTestStart.model_validate(
        {
            "machine_id": _machine_id(app, machine),
            "model_type": model_type,
            "model_a_version": version_a,
            "model_b_version": version_b,
            "traffic_split": split,
            "duration_days": days,
            "min_samples_per_arm": min_samples,
            "alpha": alpha,
            "primary_metric": metric,
            "guardrails": list(guardrails) or None,
            "sequential": sequential,
            "created_by": actor,
        }
    )
    with session_scope(app.session_factory, write=True) as session:
        test = service.start(session=session, data=data, settings=app.settings, clock=app.clock)
        doc = service.read(session, test)
    emit(
        doc,
        as_json,
        lambda d: (
            f"A/B test {d.id} started: v{d.model_a_version} vs "
            f"v{d.model_b_version}, until {d.planned_end_date:%Y-%m-%d %H:%M} UTC"
        ),
    )


@abtest_group.command("results")
@click.argument("test_id", type=int)
@json_option
@pass_app
def results(app: AppContext, test_id: int, as_json: bool) -> None:
    """A test's results (live while it runs)."""
    with session_scope(app.session_factory) as session:
        doc = service.results(
            session=session, test_id=test_id, settings=app.settings, clock=app.clock
        )
    emit(doc, as_json, results_text)


@abtest_group.command("stop")
@click.argument("test_id", type=int)
@click.option("--reason", required=True)
@click.option("--actor", default="cli", show_default=True)
@json_option
@pass_app
def stop(app: AppContext, test_id: int, reason: str, actor: str, as_json: bool) -> None:
    """Stop a running test (no verdict, no promotion)."""
    with session_scope(app.session_factory, write=True) as session:
        test = service.stop(
            session=session,
            test_id=test_id,
            data=ABTestStop(reason=reason, actor=actor),
            clock=app.clock,
        )
        doc = service.read(session, test)
    emit(doc, as_json, lambda d: f"A/B test {d.id} stopped: {d.stop_reason}")


@abtest_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--machine", default=None, help="Machine name.")
@click.option("--model-type", type=click.Choice(MODEL_TYPE_NAMES), default=None)
@json_option
@pass_app
def list_cmd(
    app: AppContext, status: str | None, machine: str | None, model_type: str | None, as_json: bool
) -> None:
    """A/B tests, newest first."""
    machine_id = None if machine is None else _machine_id(app, machine)
    with session_scope(app.session_factory) as session:
        rows = service.list_tests(
            session=session, status=status, machine_id=machine_id, model_type=model_type
        )
        docs = [service.read(session, t) for t in rows]
    emit(docs, as_json, tests_table)
