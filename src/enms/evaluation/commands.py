"""``enms evaluate``: score a version on held-out readings and record the metrics.

``--json`` prints the same document as ``POST …/evaluate`` (:class:`EvaluationRead`).
"""

from __future__ import annotations

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app, progress
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.evaluation.schemas import EvaluationRead

STAGE_LINES = {
    "loading": "verifying and loading {label}…",
    "scoring": "scoring {label} on the window…",
    "recording": "recording the metrics…",
}


@click.command("evaluate")
@click.argument("model_type", type=click.Choice(MODEL_TYPE_NAMES))
@click.option("--machine", required=True, help="Machine name.")
@click.option("--from", "start", required=True, help="Window start (ISO 8601, inclusive).")
@click.option("--to", "end", required=True, help="Window end (exclusive).")
@click.option("--version", type=int, default=None, help="Default: the champion.")
@json_option
@pass_app
def evaluate(
    app: AppContext,
    model_type: str,
    machine: str,
    start: str,
    end: str,
    version: int | None,
    as_json: bool,
) -> None:
    """Evaluate a version on readings it did not train on; record and print the metrics."""
    from enms.evaluation import service
    from enms.readings import service as readings

    window = Window.parse(start, end)
    with session_scope(app.session_factory) as session:
        machine_id = readings.get_machine_by_name(session=session, name=machine).id
    label = f"{model_type} v{version}" if version else f"the {model_type} champion"
    result = service.evaluate(
        factory=app.session_factory,
        machine_id=machine_id,
        model_type=model_type,
        window=window,
        version=version,
        clock=app.clock,
        on_stage=lambda name: progress(STAGE_LINES[name].format(label=label)),
    )
    emit(result, as_json, _text)


def _text(result: EvaluationRead) -> str:
    shown = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.metrics.items()
    )
    note = f"\nno value: {result.undefined}" if result.undefined else ""
    return (
        f"{result.model_type} v{result.model_version} on {result.evaluation_start.isoformat()} .. "
        f"{result.evaluation_end.isoformat()}: {shown}{note}"
    )
