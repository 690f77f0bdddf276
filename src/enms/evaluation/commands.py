"""``enms evaluate``: score a version on held-out readings and record the metrics."""

from __future__ import annotations

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.evaluation.schemas import EvaluationRead


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
    with session_scope(app.session_factory, write=True) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        result = service.evaluate(
            session=session,
            machine_id=target.id,
            model_type=model_type,
            window=window,
            version=version,
            clock=app.clock,
        )
    emit(_document(result), as_json, _text)


def _document(result: EvaluationRead) -> dict[str, object]:
    return {
        "machine_id": result.machine_id,
        "model_type": result.model_type,
        "version": result.model_version,
        "evaluation_id": result.id,
        "from": result.evaluation_start.isoformat(),
        "to": result.evaluation_end.isoformat(),
        "metrics": result.metrics(),
        "undefined": result.details.get("undefined", {}),
        "details": {k: v for k, v in result.details.items() if k != "undefined"},
    }


def _text(doc: dict[str, object]) -> str:
    metrics = doc["metrics"]
    assert isinstance(metrics, dict)
    shown = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
    )
    undefined = doc["undefined"]
    note = f"\nno value: {undefined}" if undefined else ""
    return f"{doc['model_type']} v{doc['version']} on {doc['from']} .. {doc['to']}: {shown}{note}"
