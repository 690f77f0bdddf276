"""The ``enms`` command: one group, with each stage's commands registered from its package."""

from __future__ import annotations

import sys
from typing import Any

import click

from enms import __version__
from enms.alerts.commands import alerts_group
from enms.anomalies.commands import anomalies
from enms.api.commands import serve
from enms.auth.commands import audit, keys_group, users_group
from enms.core.cli_context import AppContext
from enms.core.commands import db_group
from enms.core.errors import DomainError
from enms.demo.commands import demo
from enms.drift.commands import drift_group
from enms.evaluation.commands import evaluate
from enms.experiments.commands import abtest_group
from enms.jobs.commands import worker
from enms.kpis.commands import kpis
from enms.promotion.commands import COMMANDS as PROMOTION_COMMANDS
from enms.readings.commands import export_group, import_group, machines_group, readings_group
from enms.registry.commands import models_group
from enms.training.commands import RUNTIME_KEY, jobs_group, train


def _build_runtime(app: AppContext) -> Any:
    """The bootstrap's runtime for this invocation (imported on use: `enms --help` stays quick)."""
    from enms.bootstrap import runtime_for

    return runtime_for(app)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="enms")
@click.option(
    "--database-url", envvar=None, default=None, help="Override ENMS_DATABASE_URL for this command."
)
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """enms: model performance tracking for industrial energy management."""
    overrides: dict[str, Any] = {}
    if database_url:
        overrides["database_url"] = database_url
    ctx.obj = AppContext(overrides=overrides)
    # Commands that enqueue get their runtime from here, not from a module-level global.
    ctx.meta[RUNTIME_KEY] = _build_runtime


for command in (
    serve,
    demo,
    db_group,
    machines_group,
    import_group,
    readings_group,
    export_group,
    train,
    evaluate,
    drift_group,
    jobs_group,
    models_group,
    alerts_group,
    anomalies,
    kpis,
    abtest_group,
    keys_group,
    users_group,
    audit,
    worker,
):
    cli.add_command(command)


# Promotion and rollback apply the promotion policy; they belong to `enms models` all the same.
for command in PROMOTION_COMMANDS:
    models_group.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: domain errors and bad settings become one clear line and exit 1."""
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    try:
        code = cli.main(args=argv, prog_name="enms", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        for problem in exc.details.get("problems", [])[1:5]:
            where = ", column ".join(
                str(problem[k]) for k in ("location", "column") if k in problem
            )
            value = f" {problem['value']!r}" if problem.get("value") else ""
            click.echo(f"  also: {where}:{value} {problem.get('problem', '')}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        hint = (
            " (another enms process held the database's write lock for more than 30 s; try again)"
            if "locked" in reason
            else ""
        )
        click.echo(f"error: database problem: {reason}{hint}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        click.echo(f"error: invalid setting {where}: {first['msg']}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
