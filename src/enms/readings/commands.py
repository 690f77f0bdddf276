"""``enms machines …``, ``enms import readings``, ``enms readings delete`` and
``enms export readings``.

pandas-backed modules are imported inside the commands, so `enms --help` stays quick.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TypeVar

import click
from pydantic import BaseModel

from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.errors import InvalidFile
from enms.readings.schemas import ImportSummary, MachineCreate, MachineDeleted, MachineRead

Schema = TypeVar("Schema", bound=BaseModel)


@click.group("machines")
def machines_group() -> None:
    """Add and list machines."""


@machines_group.command("add")
@click.argument("name")
@click.option(
    "--type",
    "machine_type",
    default="generic",
    show_default=True,
    help="Kind of machine: compressor, chiller, furnace…",
)
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone of the site.")
@click.option(
    "--country",
    default=None,
    help="ISO 3166-1 alpha-2 code of the site (e.g. DE): models use its public holidays.",
)
@click.option(
    "--planned-driver",
    "planned_drivers",
    multiple=True,
    help="A driver column known a day ahead (production plan, shift schedule); repeatable.",
)
@click.option("--metadata", default="{}", help="JSON object of free-form facts.")
@json_option
@pass_app
def add(
    app: AppContext,
    name: str,
    machine_type: str,
    timezone: str,
    country: str | None,
    planned_drivers: tuple[str, ...],
    metadata: str,
    as_json: bool,
) -> None:
    """Register a machine called NAME."""
    try:
        meta = json.loads(metadata)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--metadata") from exc
    from enms.readings import service

    data = _validated(
        MachineCreate,
        name=name,
        machine_type=machine_type,
        timezone=timezone,
        country=country,
        planned_drivers=list(planned_drivers),
        metadata=meta,
    )
    with session_scope(app.session_factory, write=True) as session:
        machine = service.create_machine(session=session, data=data, clock=app.clock)
    emit(machine, as_json, lambda m: f"added machine {m.name!r} (id {m.id}, {m.machine_type})")


@machines_group.command("update")
@click.argument("name")
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 code of the site (e.g. DE).")
@click.option("--no-country", is_flag=True, help="Remove the country (no holiday calendar).")
@click.option(
    "--planned-driver",
    "planned_drivers",
    multiple=True,
    help="A driver column known a day ahead; repeatable; replaces the current list.",
)
@click.option("--no-planned-drivers", is_flag=True, help="Declare no planned drivers.")
@json_option
@pass_app
def update(
    app: AppContext,
    name: str,
    country: str | None,
    no_country: bool,
    planned_drivers: tuple[str, ...],
    no_planned_drivers: bool,
    as_json: bool,
) -> None:
    """Set where machine NAME is and which of its drivers are known a day ahead."""
    if country and no_country:
        raise click.UsageError("give either --country or --no-country, not both")
    if planned_drivers and no_planned_drivers:
        raise click.UsageError("give either --planned-driver or --no-planned-drivers, not both")
    fields: dict[str, object] = {}
    if country or no_country:
        fields["country"] = country
    if planned_drivers or no_planned_drivers:
        fields["planned_drivers"] = list(planned_drivers)
    if not fields:
        raise click.UsageError("nothing to change: give --country or --planned-driver")
    from enms.readings import service
    from enms.readings.schemas import MachineUpdate

    data = _validated(MachineUpdate, **fields)
    with session_scope(app.session_factory, write=True) as session:
        machine = service.get_machine_by_name(session=session, name=name)
        updated = service.update_machine(session=session, machine_id=machine.id, data=data)
    emit(updated, as_json, _location_text)


def _location_text(m: MachineRead) -> str:
    drivers = ", ".join(m.planned_drivers) or "none"
    return f"machine {m.name!r}: country {m.country or 'not set'}, planned drivers: {drivers}"


_OPTION_OF = {"name": "NAME", "machine_type": "--type", "planned_drivers": "--planned-driver"}


def _validated(schema: type[Schema], **fields: object) -> Schema:
    from pydantic import ValidationError

    try:
        return schema.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "metadata"
        hint = _OPTION_OF.get(where, f"--{where.replace('_', '-')}")
        raise click.BadParameter(str(first["msg"]), param_hint=hint) from None


@machines_group.command("list")
@json_option
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List machines with their reading counts."""
    from enms.readings import service

    with session_scope(app.session_factory) as session:
        machines = service.list_machines(session=session)
    emit(machines, as_json, _machines_table)


def _machines_table(machines: list[MachineRead]) -> str:
    if not machines:
        return "no machines yet: add one with `enms machines add NAME --type TYPE`"
    lines = [f"{'ID':>4}  {'NAME':<28} {'TYPE':<18} {'CC':<3}{'READINGS':>9}  SPAN (UTC)"]
    for m in machines:
        span = (
            f"{m.first_reading:%Y-%m-%d} .. {m.last_reading:%Y-%m-%d}"
            if m.first_reading and m.last_reading
            else "-"
        )
        cc = m.country or "-"
        lines.append(
            f"{m.id:>4}  {m.name:<28} {m.machine_type:<18} {cc:<3}{m.readings_count:>9,}  {span}"
        )
    return "\n".join(lines)


@machines_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def delete(app: AppContext, name: str, yes: bool, as_json: bool) -> None:
    """Delete the machine NAME with its readings, models and history (asks first)."""
    from enms.readings import service

    with session_scope(app.session_factory) as session:
        target = service.get_machine_by_name(session=session, name=name)
        preview = service.deletion_preview(session=session, machine_id=target.id)
    if not yes:
        click.confirm(
            f"delete machine {name!r} and {_rows_text(preview)}? this cannot be undone",
            abort=True,
            err=True,
        )
    with session_scope(app.session_factory, write=True) as session:
        target = service.get_machine_by_name(session=session, name=name)
        deleted = service.delete_machine(session=session, machine_id=target.id)
    emit(deleted, as_json, lambda d: f"deleted machine {d.machine!r} and {_rows_text(d)}")


def _rows_text(d: MachineDeleted) -> str:
    parts = [f"{n:,} {table}" for table, n in d.deleted.items() if n]
    return "its rows: " + ", ".join(parts) if parts else "nothing else (it has no rows)"


@click.group("readings")
def readings_group() -> None:
    """Delete stored readings."""


@readings_group.command("delete")
@click.option("--machine", required=True, help="Name of the machine.")
@click.option("--from", "start", default=None, help="ISO 8601 date or instant, inclusive.")
@click.option("--to", "end", default=None, help="ISO 8601 date or instant, exclusive.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def delete_readings(
    app: AppContext, machine: str, start: str | None, end: str | None, yes: bool, as_json: bool
) -> None:
    """Delete MACHINE's readings in [--from, --to) (at least one of them); asks first."""
    from enms.core.timewindow import Window
    from enms.readings import repository, service

    window = Window.parse(start, end)
    if window.start is None and window.end is None:
        raise click.UsageError(
            "give --from and/or --to (to delete a machine with everything it has, use "
            "`enms machines delete`)"
        )
    with session_scope(app.session_factory) as session:
        target = service.get_machine_by_name(session=session, name=machine)
        n, _, _ = repository.window_stats(session, target.id, window.start, window.end)
    if not yes and n:
        click.confirm(
            f"delete {n:,} readings of {machine!r} from {start or 'the first'} to "
            f"{end or 'the last'}? this cannot be undone",
            abort=True,
            err=True,
        )
    with session_scope(app.session_factory, write=True) as session:
        target = service.get_machine_by_name(session=session, name=machine)
        result = service.delete_readings(session=session, machine_id=target.id, window=window)
    emit(result, as_json, lambda r: f"deleted {r.deleted:,} readings of {r.machine!r}")


@click.group("export")
def export_group() -> None:
    """Export data as files."""


@export_group.command("readings")
@click.option("--machine", required=True, help="Name of the machine.")
@click.option("--from", "start", default=None, help="ISO 8601 date or instant, inclusive.")
@click.option("--to", "end", default=None, help="ISO 8601 date or instant, exclusive.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file to write (default: stdout).",
)
@json_option
@pass_app
def export_readings(
    app: AppContext,
    machine: str,
    start: str | None,
    end: str | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """Write MACHINE's readings as CSV in the import format (`enms import readings`).

    Without -o the CSV goes to stdout and the summary (with --json, as JSON) to stderr.
    """
    from dataclasses import asdict

    from enms.core.timewindow import Window
    from enms.readings import export, service

    window = Window.parse(start, end)
    with session_scope(app.session_factory) as session:
        target = service.get_machine_by_name(session=session, name=machine)
        if output is None:
            summary = export.write_csv(
                session=session, machine=target, window=window, out=sys.stdout
            )
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                summary = export.write_csv(session=session, machine=target, window=window, out=out)
    result = asdict(summary) | {"output": str(output) if output else "-"}
    text = (
        f"exported {summary.rows:,} readings of {machine!r} to {result['output']} "
        f"(columns: {', '.join(summary.columns)})"
    )
    if output is None:  # stdout holds the CSV: the summary goes to stderr
        click.echo(json.dumps(result, default=str) if as_json else text, err=True)
    else:
        emit(result, as_json, lambda _r: text)


@click.group("import")
def import_group() -> None:
    """Import data from files."""


@import_group.command("readings")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--machine", required=True, help="Name of the machine the readings belong to.")
@json_option
@pass_app
def import_readings(app: AppContext, file: Path, machine: str, as_json: bool) -> None:
    """Import a readings CSV (timestamp, energy_kwh, drivers…) for MACHINE.

    The file is validated whole first: one bad row rejects it and nothing is written.
    """
    from enms.readings import parsing, service

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidFile(f"cannot read {file}: {exc.strerror}") from exc
    settings = app.settings
    with session_scope(app.session_factory) as session:
        service.get_machine_by_name(session=session, name=machine)  # fail fast on a typo
    parsed = parsing.parse_csv(data, limits=parsing.Plausibility.from_settings(settings.imports))
    with session_scope(app.session_factory, write=True) as session:
        target = service.get_machine_by_name(session=session, name=machine)
        total = len(parsed.frame)
        # On stderr, so --json output stays one document; click draws only the label when
        # stderr is not a terminal.
        with click.progressbar(
            length=total, label=f"importing {file.name}", file=sys.stderr, show_pos=True
        ) as bar:
            done = [0]

            def advance(written: int, _total: int) -> None:
                bar.update(written - done[0])
                done[0] = written

            summary = service.import_readings(
                session=session,
                machine=target,
                parsed=parsed,
                batch_size=settings.imports.batch_size,
                progress=advance,
            )
    _score_after_import(app, summary)
    emit(summary, as_json, _summary_text)


#: Where ``enms.cli`` keeps the runtime builder in the root click context (the training
#: stage's ``RUNTIME_KEY``; repeated here because this stage may not import a later one).
RUNTIME_KEY = "enms.build_runtime"


def _score_after_import(app: AppContext, summary: ImportSummary) -> None:
    """Queue a prediction-log scoring run for the new readings, when this process has a
    runtime (run through ``enms``); a worker or ``enms serve`` runs it, as the hourly
    schedule would."""
    context = click.get_current_context(silent=True)
    build = context.find_root().meta.get(RUNTIME_KEY) if context is not None else None
    if build is None or not summary.rows_written:
        return
    try:
        build(app).enqueue_periodic("score_predictions")
    except Exception:  # the import is committed; the hourly run scores it anyway
        logging.getLogger(__name__).exception("could not queue score_predictions")


def _summary_text(s: ImportSummary) -> str:
    lines = [
        f"imported {s.rows_written:,} readings for {s.machine!r} "
        f"({s.inserted:,} new, {s.updated:,} updated), {s.first:%Y-%m-%d %H:%M} .. "
        f"{s.last:%Y-%m-%d %H:%M} UTC",
    ]
    if s.drivers:
        lines.append(
            f"drivers: {', '.join(s.drivers)}" + ("; with anomaly labels" if s.has_label else "")
        )
    if s.duplicates_in_file:
        lines.append(
            f"{s.duplicates_in_file:,} duplicate timestamp(s) in the file (last kept), e.g. "
            + "; ".join(s.duplicate_examples[:3])
        )
    if s.gaps:
        first = s.gap_examples[0]
        lines.append(
            f"{s.gaps:,} gap(s), e.g. {first['missing_intervals']} interval(s) missing "
            f"between {first['after']} and {first['before']}"
        )
    return "\n".join(lines)
