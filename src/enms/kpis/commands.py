"""``enms kpis --machine NAME``: a machine's energy KPIs as a table.

``--json`` prints the document of ``GET /api/v1/machines/{id}/kpis``
(:class:`~enms.kpis.schemas.KpiReport`).
"""

from __future__ import annotations

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.kpis.schemas import KpiPeriodRead, KpiReport


@click.command("kpis")
@click.option("--machine", required=True, help="Machine name.")
@click.option("--from", "start", default=None, help="Local day or instant (default: 30 days ago).")
@click.option("--to", "end", default=None, help="Exclusive (default: today).")
@click.option(
    "--resolution", type=click.Choice(["day", "week", "month"]), default="day", show_default=True
)
@json_option
@pass_app
def kpis(
    app: AppContext,
    machine: str,
    start: str | None,
    end: str | None,
    resolution: str,
    as_json: bool,
) -> None:
    """Energy KPIs of a machine (energy, SEC, EnPI, savings)."""
    from enms.kpis import report
    from enms.readings import service as readings

    with session_scope(app.session_factory) as session:
        machine_id = readings.get_machine_by_name(session=session, name=machine).id
        result = report.kpi_report(
            session=session,
            clock=app.clock,
            machine_id=machine_id,
            start=start,
            end=end,
            resolution=resolution,  # type: ignore[arg-type]
        )
    emit(result, as_json, text)


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _row(p: KpiPeriodRead) -> str:
    cum = _num(p.cumulative_savings_kwh, "+,.0f")
    if p.cumulative_uncertainty_kwh is not None:
        cum += f" ± {p.cumulative_uncertainty_kwh:,.0f}"
    if p.cumulative_fsu_percent is not None:
        cum += f" ({p.cumulative_fsu_percent:.0f} %)"
    return (
        f"{p.period:<10} {p.energy_kwh:>12,.1f} {_num(p.sec_kwh_per_unit, '.3f'):>8} "
        f"{_num(p.enpi, '.3f'):>6} {_num(p.savings_kwh, '+,.1f'):>11}  {cum}"
    )


def text(result: KpiReport) -> str:
    """A table: period, energy, SEC, EnPI, savings, cumulative savings ± uncertainty."""
    b = result.baseline
    against = (
        f"baseline of record v{b.version} (trained {b.training_start:%Y-%m-%d} .. "
        f"{b.training_end:%Y-%m-%d})"
        if b and b.training_start and b.training_end
        else (f"baseline of record v{b.version}" if b else "no baseline")
    )
    lines = [
        f"{result.machine}: {result.from_day} .. {result.to_day} (exclusive, {result.timezone}), "
        f"per {result.resolution}, against {against}",
        f"{'period':<10} {'energy kWh':>12} {'SEC':>8} {'EnPI':>6} {'savings kWh':>11}  "
        "cumulative savings ± uncertainty (FSU, 68 %)",
    ]
    lines += [_row(p) for p in result.periods]
    if result.total is not None:
        lines.append(_row(result.total))
    else:
        lines.append("no KPI rows in this window (kpi_calculate runs daily at 00:30)")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)
