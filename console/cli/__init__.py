"""`backoffice`: the command line (typer). Each command group lives in its own module."""

from __future__ import annotations

import os
import sys

import typer

from console.cli import commands
from console.cli.context import AppContext
from console.cli.options import text
from core import settings as settings_module
from core.errors import BadDatabaseUrl, Forbidden, OperatorError

CONSOLE_FLAGS = ("--kiosk", "--rotate", "--seed-demo-if-empty")

app = typer.Typer(
    name="backoffice",
    help="Back-office console for platform operators: revenue, accounts, billing and Stripe.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _locale(value: str | None) -> str | None:
    if value is None:
        return None
    locale = settings_module.normalize_locale(value)
    if locale is None:
        raise typer.BadParameter(
            f"unsupported locale {value!r}; use one of: {', '.join(settings_module.SUPPORTED_LOCALES)}"
        )
    return locale


def _database_url(value: str | None) -> str | None:
    from db.engine import sqlalchemy_url

    if value is not None:
        try:
            sqlalchemy_url(value)
        except BadDatabaseUrl as error:
            raise typer.BadParameter(str(error)) from None
    return value


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        callback=_database_url,
        help="libpq URL of the database (default: embedded PostgreSQL).",
        show_default=False,
    ),
    read_database_url: str | None = typer.Option(
        None,
        "--read-database-url",
        callback=_database_url,
        help="libpq URL of a streaming replica the console, reports and lists read from (default: the database).",
        show_default=False,
    ),
    stripe_api_base: str | None = typer.Option(None, "--stripe-api-base", help="Stripe API base URL."),
    locale: str | None = typer.Option(None, "--locale", callback=_locale, help="en-US or da-DK."),
    operator: str | None = typer.Option(None, "--operator", parser=text, help="Operator name shown in the console."),
    kiosk: bool = commands.KIOSK_OPTION,
    seed_demo_if_empty: bool = commands.SEED_DEMO_OPTION,
    rotate: float = commands.ROTATE_OPTION,
) -> None:
    settings = settings_module.with_flags(
        settings_module.from_environment(),
        database_url=database_url,
        read_database_url=read_database_url,
        stripe_api_base=stripe_api_base,
        locale=locale,
        operator=operator,
    )
    if settings.locale not in settings_module.SUPPORTED_LOCALES:
        normalized = settings_module.normalize_locale(settings.locale)
        if normalized is None:
            raise typer.BadParameter(f"unsupported locale {settings.locale!r} in BACKOFFICE_LOCALE")
        settings = settings_module.with_flags(settings, locale=normalized)
    ctx.obj = AppContext(settings)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        commands.open_console(ctx.obj, kiosk=kiosk, seed_demo_if_empty=seed_demo_if_empty, rotate_seconds=rotate)
    elif ctx.invoked_subcommand != "console" and commands.root_console_options(ctx):
        ctx.fail(f"{', '.join(CONSOLE_FLAGS)} open the console: give them without a command")


def _register() -> None:
    from console.cli import commands
    from console.cli.groups import drift_app, stripe_app

    commands.register(app)
    for module_name in (
        "reports",
        "accounts_cli",
        "users_cli",
        "billing_lists",
        "billing",
        "stripe_cli",
        "audit_cli",
        "ssh_cli",
    ):
        module = __import__(f"console.cli.{module_name}", fromlist=["register"])
        module.register(app)
    app.add_typer(stripe_app, name="stripe")
    app.add_typer(drift_app, name="drift")


_register()


def main() -> None:
    """Entry point: operator errors become one line on stderr and an exit code."""
    from console.cli import logs

    logs.install()  # every command's log records: one escaped line each on stderr
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # never a traceback for an operator
        if os.environ.get("BACKOFFICE_DEBUG") and not isinstance(error, OperatorError):
            raise
        failure = error if isinstance(error, OperatorError) else _describe(error)
        print(f"error: {_one_line(str(failure))}", file=sys.stderr)
        sys.exit(failure.exit_code)


def _one_line(message: str) -> str:
    """Control characters escaped (an id echoed back may hold a newline or a
    terminal code): the error stays one line and prints as it reads."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in message)


def _describe(error: Exception) -> OperatorError:
    """An unexpected error as the contract's one line and exit code."""
    from db.engine import Failure, failure, first_line

    kind = failure(error)
    if kind is Failure.UNREACHABLE:
        return OperatorError(f"cannot reach the database: {first_line(error)}")
    if kind is Failure.NO_SCHEMA:
        return OperatorError("the database has no back-office schema: run backoffice db upgrade")
    if kind is Failure.FORBIDDEN:
        return Forbidden(
            f"the database refused: {first_line(error)} (reading needs backoffice_reader, changing backoffice_admin)"
        )
    if kind is Failure.OTHER:
        return OperatorError(f"the database refused: {first_line(error)}")
    return OperatorError(first_line(error) or "unexpected failure; BACKOFFICE_DEBUG=1 shows where")
