"""``enms drift check``: run and record a drift check of a version, print its verdict.

``--json`` prints the same document as ``POST /model-performance/drift/check``
(:class:`~enms.drift.schemas.DriftCheckRead`); the text form is a short summary.
"""

from __future__ import annotations

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app, progress
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.drift.schemas import DriftCheckRead


@click.group("drift")
def drift_group() -> None:
    """Drift checks of model versions."""


@drift_group.command("check")
@click.argument("model_type", type=click.Choice(MODEL_TYPE_NAMES))
@click.option("--machine", required=True, help="Machine name.")
@click.option("--version", type=int, default=None, help="Default: the champion.")
@click.option("--current-from", default=None, help="Default: --current-to minus current_days.")
@click.option("--current-to", default=None, help="Default: now (exclusive).")
@click.option("--reference-from", default=None, help="Default: the training start.")
@click.option("--reference-to", default=None, help="Default: the training end.")
@json_option
@pass_app
def check(
    app: AppContext,
    model_type: str,
    machine: str,
    version: int | None,
    current_from: str | None,
    current_to: str | None,
    reference_from: str | None,
    reference_to: str | None,
    as_json: bool,
) -> None:
    """Check a version for data and concept drift and degradation; record and print it."""
    from enms.drift import service
    from enms.readings import service as readings

    current = Window.parse(current_from, current_to, names=("--current-from", "--current-to"))
    reference = Window.parse(
        reference_from, reference_to, names=("--reference-from", "--reference-to")
    )
    with session_scope(app.session_factory) as session:
        machine_id = readings.get_machine_by_name(session=session, name=machine).id
    label = f"{model_type} v{version}" if version else f"the {model_type} champion"
    lines = {
        "loading": f"verifying and loading {label} (reference residuals)…",
        "computing": f"checking {label} for drift…",
        "recording": "recording the check…",
    }
    result = service.check_drift(
        factory=app.session_factory,
        settings=app.settings,
        clock=app.clock,
        machine_id=machine_id,
        model_type=model_type,
        version=version,
        reference=reference,
        current=current,
        on_stage=lambda name: progress(lines[name]),
    )
    emit(result, as_json, text)


def _verdict(value: bool | None) -> str:
    return {True: "DRIFT", False: "no drift", None: "not decided"}[value]


def text(result: DriftCheckRead) -> str:
    """The human summary: verdict, the parts, degradation, and the statement."""
    details = result.drift_details
    data, concept = details["data_drift"], details["concept_drift"]
    energy = details["degradation"]["energy"]
    performance = details["degradation"]["performance"]
    score = f"{result.drift_score:.2f}" if result.drift_score is not None else "n/a"
    lines = [
        f"{result.model_type} v{result.model_version}, current "
        f"{result.current_start:%Y-%m-%d %H:%M} .. {result.current_end:%Y-%m-%d %H:%M} UTC: "
        f"{_verdict(result.drift_detected)} (score {score})",
    ]
    if result.reason:
        lines.append(f"  why undecided: {result.reason}")
    ref = data.get("reference", {})
    drifted = ", ".join(data.get("drifted", [])) or "none"
    lines.append(
        f"  data drift: {_verdict(data.get('drift_detected'))}; drifted drivers: {drifted}"
        + (f"; reference {ref.get('method')}: {ref.get('description')}" if ref else "")
    )
    for column in data.get("outside_reference_range", []):
        lines.append(f"  {column}: outside the reference's range (the model extrapolates)")
    change = f", change point {concept['change_point']}" if concept.get("change_point") else ""
    why = f" ({concept['reason']})" if concept.get("reason") else ""
    lines.append(f"  concept drift: {_verdict(concept.get('drift_detected'))}{change}{why}")
    if energy.get("applicable") and energy.get("nmbe") is not None:
        lines.append(
            f"  energy: NMBE {energy['nmbe']:.1f} % (bound ±{energy['nmbe_abs_max']:g} %), "
            f"{energy['cumulative_kwh']:+.0f} kWh over the window"
            + (" — DEGRADED" if energy.get("degraded") else "")
        )
    if result.statement:
        lines.append(f"  {result.statement}")
    worse = ", ".join(performance.get("degraded_metrics", [])) or "none"
    state = {True: "DEGRADED", False: "not degraded", None: "not decided"}
    lines.append(f"  performance: {state[performance.get('degraded')]}; degraded: {worse}")
    if result.id is not None:
        lines.append(f"  recorded as model_performance_metrics #{result.id}")
    return "\n".join(lines)
