"""``enms anomalies --machine NAME``: the stored anomaly events of a machine in a window.

``--json`` prints the same document as ``GET /api/v1/machines/{id}/anomalies``
(:class:`~enms.anomalies.schemas.AnomalyPage`); the text form is one line per event.
"""

from __future__ import annotations

import click

from enms.anomalies.schemas import AnomalyPage
from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.timewindow import Window

STAMP = "%Y-%m-%d %H:%M"


@click.command("anomalies")
@click.option("--machine", required=True, help="Machine name.")
@click.option("--from", "start", default=None, help="ISO 8601, inclusive; default: --to − 7 days.")
@click.option("--to", "end", default=None, help="ISO 8601, exclusive; default: now.")
@click.option("--limit", type=int, default=1000, show_default=True, help="Most events listed.")
@json_option
@pass_app
def anomalies(
    app: AppContext,
    machine: str,
    start: str | None,
    end: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the readings the champion anomaly detector flagged, newest first."""
    from enms.anomalies import queries
    from enms.readings import service as readings

    window = Window.parse(start, end, names=("--from", "--to"))
    with session_scope(app.session_factory) as session:
        machine_id = readings.get_machine_by_name(session=session, name=machine).id
        page = queries.anomalies_page(
            session=session, machine_id=machine_id, window=window, now=app.clock.now(), limit=limit
        )
    emit(page, as_json, text)


def text(page: AnomalyPage) -> str:
    """A header line, then one line per event: time, direction, score and the reason."""
    more = " (more exist: raise --limit)" if page.truncated else ""
    lines = [
        f"{page.machine_name}: {page.count} anomalies, {page.start.strftime(STAMP)} .. "
        f"{page.end.strftime(STAMP)} UTC{more}"
    ]
    for a in page.anomalies:
        lines.append(f"  {a.ts.strftime(STAMP)}  {a.direction:<14}  v{a.model_version}  {a.reason}")
    return "\n".join(lines)
