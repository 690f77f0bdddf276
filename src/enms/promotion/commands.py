"""``enms models promote|rollback|watches``: the promotion policy's commands, attached to the
``enms models`` group by :mod:`enms.cli` (the registry never imports the policy)."""

from __future__ import annotations

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.promotion.schemas import PromotionRead, WatchRead

MODEL_TYPE = click.Choice(MODEL_TYPE_NAMES)


def _promoted(machine: str, v: PromotionRead) -> str:
    lines = [f"{v.model_type} v{v.version} is now the champion of {machine}"]
    if v.override:
        failed = [str(x["rule"]) for x in v.promotion_gate if x.get("passed") is False]
        lines.append(f"  override of the promotion gate (failed: {', '.join(failed)})")
    if v.watch is not None:
        lines.append(
            f"  watched against v{v.watch.result.get('previous_version')} until "
            f"{v.watch.watch_until:%Y-%m-%d %H:%M} UTC (rolled back automatically if worse)"
        )
    return "\n".join(lines)


@click.command("promote")
@click.argument("model_type", type=MODEL_TYPE)
@click.option("--machine", required=True)
@click.option("--version", type=int, required=True)
@click.option("--reason", default=None, help="Why; required to override a failed gate.")
@click.option(
    "--override/--no-override",
    default=None,
    help="Promote although the gate fails (needs --reason); --no-override: never.",
)
@json_option
@pass_app
def promote(
    app: AppContext,
    model_type: str,
    machine: str,
    version: int,
    reason: str | None,
    override: bool | None,
    as_json: bool,
) -> None:
    """Make VERSION the champion (judged by the promotion gate)."""
    from enms.promotion import service
    from enms.readings import service as readings

    with session_scope(app.session_factory, write=True) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        row = service.promote(
            session=session,
            machine_id=target.id,
            model_type=model_type,
            version=version,
            actor="cli",
            reason=reason,
            override=override,
            settings=app.settings,
            clock=app.clock,
        )
    emit(row, as_json, lambda v: _promoted(machine, v))


@click.command("rollback")
@click.argument("model_type", type=MODEL_TYPE)
@click.option("--machine", required=True)
@click.option("--reason", default=None)
@json_option
@pass_app
def rollback(
    app: AppContext, model_type: str, machine: str, reason: str | None, as_json: bool
) -> None:
    """Return the champion to the previous one."""
    from enms.promotion import service
    from enms.readings import service as readings

    with session_scope(app.session_factory, write=True) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        row = service.rollback(
            session=session,
            machine_id=target.id,
            model_type=model_type,
            actor="cli",
            reason=reason,
            clock=app.clock,
        )
    emit(row, as_json, lambda v: f"{model_type} champion of {machine} rolled back to v{v.version}")


@click.command("watches")
@click.argument("model_type", type=MODEL_TYPE)
@click.option("--machine", required=True)
@json_option
@pass_app
def watches(app: AppContext, model_type: str, machine: str, as_json: bool) -> None:
    """Promotion watches of a model (newest first)."""
    from enms.promotion import service
    from enms.readings import service as readings

    with session_scope(app.session_factory) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        rows = service.list_watches(session=session, machine_id=target.id, model_type=model_type)

    def line(w: WatchRead) -> str:
        why = w.result.get("reason") or ""
        return (
            f"#{w.id} v{w.result.get('champion_version')} vs v{w.result.get('previous_version')}"
            f"  {w.state:<11} promoted {w.promoted_at:%Y-%m-%d %H:%M}, until "
            f"{w.watch_until:%Y-%m-%d %H:%M} UTC" + (f"  {why}" if why else "")
        )

    emit(rows, as_json, lambda ws: "\n".join(line(w) for w in ws) or "no promotion watches")


COMMANDS = (promote, rollback, watches)
