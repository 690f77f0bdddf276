"""``enms models list|show|sign-unsigned`` (``promote`` and ``rollback`` are attached from
:mod:`enms.promotion.commands` by the CLI assembly)."""

from __future__ import annotations

from typing import Any

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.registry.schemas import VersionRead

MODEL_TYPE = click.Choice(MODEL_TYPE_NAMES)


@click.group("models")
def models_group() -> None:
    """Model versions, champion and challenger."""


def _line(v: VersionRead) -> str:
    aliases = f" [{', '.join(v.aliases)}]" if v.aliases else ""
    flagged = "  (flagged: failed the promotion gate)" if v.gate_passed is False else ""
    primary = {
        k: v.metrics_holdout.get(k)
        for k in ("cv_rmse", "f1", "alarm_rate", "rmse", "skill")
        if isinstance(v.metrics_holdout.get(k), int | float)
    }
    scores = ", ".join(f"{k}={x:.4g}" for k, x in primary.items())
    return (
        f"{v.model_type:<17} v{v.version:<3}{aliases:<14} {v.created_at:%Y-%m-%d %H:%M}  {scores}"
        f"{flagged}"
    )


@models_group.command("list")
@click.option("--machine", required=True, help="Machine name.")
@click.option("--model-type", type=MODEL_TYPE, default=None, help="Only this model type.")
@json_option
@pass_app
def list_(app: AppContext, machine: str, model_type: str | None, as_json: bool) -> None:
    """Versions of a machine's models, newest first."""
    from enms.readings import service as readings
    from enms.registry import service

    with session_scope(app.session_factory) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        rows = [
            v
            for t in ([model_type] if model_type else MODEL_TYPE_NAMES)
            for v in service.list_versions(session=session, machine_id=target.id, model_type=t)
        ]
    emit(
        rows,
        as_json,
        lambda rs: (
            "\n".join(_line(v) for v in rs)
            or f"no versions yet: train one with `enms train baseline --machine {machine!r} --wait`"
        ),
    )


@models_group.command("show")
@click.argument("model_type", type=MODEL_TYPE)
@click.option("--machine", required=True)
@click.option("--version", type=int, default=None, help="Default: the champion.")
@json_option
@pass_app
def show(
    app: AppContext, model_type: str, machine: str, version: int | None, as_json: bool
) -> None:
    """One version with its metrics, hyperparameters and coefficients."""
    from enms.readings import service as readings
    from enms.registry import service

    with session_scope(app.session_factory) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        row = service.read(
            session,
            service.get_version(
                session=session, machine_id=target.id, model_type=model_type, version=version
            ),
        )
    emit(
        row,
        as_json,
        lambda v: "\n".join(
            line
            for line in [
                _line(v),
                f"  trained on {v.training_rows:,} readings, {v.training_start:%Y-%m-%d %H:%M} .. "
                f"{v.training_end:%Y-%m-%d %H:%M} UTC (validated on the last "
                f"{str(v.metrics_holdout.get('n', '?')).removesuffix('.0')} "
                f"{'forecast points' if model_type.startswith('forecast_') else 'readings'} "
                "before refitting)"
                if v.training_start and v.training_end and v.training_rows
                else "",
                f"  ASHRAE 14: {v.ashrae14}" if v.ashrae14 else "",
                *_gate_lines(v),
                "  hyperparameters: "
                + (", ".join(f"{k}={x}" for k, x in v.hyperparameters.items()) or "(defaults)"),
                *_coefficient_lines(v.metrics_in_sample.get("coefficients")),
                *_report_lines(v.metrics_in_sample),
            ]
            if line
        ).rstrip(),
    )


def _gate_lines(v: VersionRead) -> list[str]:
    """The promotion gate's verdicts at registration (the failed ones with their reasons)."""
    if v.gate_passed is None:
        return []
    if v.gate_passed:
        return ["  promotion gate at registration: passed"]
    lines = [f"  promotion gate at registration: FAILED ({', '.join(v.failed_rules)})"]
    lines += [f"    {g['rule']}: {g['detail']}" for g in v.gate or [] if g.get("passed") is False]
    return lines


def _coefficient_lines(table: object) -> list[str]:
    """The fitted terms with standard error and p-value (ISO 50006), where the type has them."""
    if not isinstance(table, dict) or not table:
        return []
    width = max(len(str(term)) for term in table)
    lines = ["  coefficients (estimate, standard error, p-value):"]
    for term, row in table.items():
        cells = row if isinstance(row, dict) else {}
        shown = [
            f"{cells[k]:.4g}" if isinstance(cells.get(k), int | float) else "-"
            for k in ("estimate", "std_error", "p_value")
        ]
        lines.append(f"    {term:<{width}}  {shown[0]:>11}  ± {shown[1]:<10} p={shown[2]}")
    return lines


def _report_lines(report: dict[str, Any]) -> list[str]:
    """What the model says about its own fit: flags, the training-window check, CalTRACK
    sufficiency, and a forecaster's candidates with their validation scores."""
    lines = [f"  flags: {', '.join(report['flags'])}"] if report.get("flags") else []
    check = report.get("training_window_check")
    if isinstance(check, dict) and check.get("checked"):
        if check.get("change_detected"):
            lines.append(
                f"  training window: level shift of {check['shift_percent']:+.1f} % "
                f"({check['shift_kwh']:+.3g} kWh per reading) from {check['change_point']} "
                f"(p={check['p_value']:.2g}, {check['method']})"
            )
        else:
            lines.append(f"  training window: no level shift (p={check['p_value']:.2g})")
    sufficiency = report.get("sufficiency")
    if isinstance(sufficiency, dict):
        why = "; ".join(sufficiency.get("reasons") or [])
        lines.append(
            f"  data sufficiency (CalTRACK): {sufficiency.get('verdict')}"
            + (f" — {why}" if why else "")
        )
    selection = report.get("selection")
    if isinstance(selection, dict) and isinstance(selection.get("candidates"), dict):
        lines.append(
            f"  chosen: {selection.get('winner')} (validation from "
            f"{selection.get('validation_from')}, {selection.get('n_origins')} origins):"
        )
        for name, scores in selection["candidates"].items():
            cells = scores if isinstance(scores, dict) else {}
            shown = " ".join(
                f"{k}={cells[k]:.4g}" if isinstance(cells.get(k), int | float) else f"{k}=-"
                for k in ("rmse", "mape", "skill")
            )
            mark = "*" if name == selection.get("winner") else " "
            lines.append(
                f"   {mark} {name:<22} {shown}"
                + (f"  ({cells['error']})" if cells.get("error") else "")
            )
    return lines


@models_group.command("sign-unsigned")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def sign_unsigned(app: AppContext, yes: bool, as_json: bool) -> None:
    """Sign versions stored before enms signed artifacts (only if you trust this database)."""
    from enms.registry import legacy

    if not yes:
        click.confirm(
            "Signing vouches that nobody altered the stored artifacts; versions stored unsigned "
            "are loaded afterwards. Go on?",
            abort=True,
            err=True,
        )
    with session_scope(app.session_factory, write=True) as session:
        done = legacy.sign_unsigned(session=session, actor="cli", clock=app.clock)
    emit(
        done,
        as_json,
        lambda rows: (
            "\n".join(
                f"machine {r.machine_id} {r.model_type} v{r.version}: "
                + ("signed" if r.signed else f"not signed ({r.problem})")
                for r in rows
            )
            or "no unsigned versions"
        ),
    )
