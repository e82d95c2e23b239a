"""`backoffice`: the command line (typer). Each command group lives in its own module."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from core import settings as settings_module
from core.errors import OperatorError

from console.cli.context import AppContext

app = typer.Typer(
    name="backoffice",
    help="Back-office console for platform operators: revenue, accounts, billing and Stripe.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _locale(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    locale = settings_module.normalize_locale(value)
    if locale is None:
        raise typer.BadParameter(f"unsupported locale {value!r}; use one of: {', '.join(settings_module.SUPPORTED_LOCALES)}")
    return locale


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    database_url: Optional[str] = typer.Option(
        None, "--database-url", help="libpq URL of the database (default: embedded PostgreSQL).", show_default=False
    ),
    stripe_api_base: Optional[str] = typer.Option(None, "--stripe-api-base", help="Stripe API base URL."),
    locale: Optional[str] = typer.Option(None, "--locale", callback=_locale, help="en-US or da-DK."),
    operator: Optional[str] = typer.Option(None, "--operator", help="Operator name shown in the console."),
) -> None:
    settings = settings_module.with_flags(
        settings_module.from_environment(),
        database_url=database_url,
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
    if ctx.invoked_subcommand is None:
        from console.cli.commands import open_console

        open_console(ctx.obj, kiosk=False, seed_demo_if_empty=False)


def _register() -> None:
    from console.cli import commands

    from console.cli.groups import drift_app, stripe_app

    commands.register(app)
    for module_name in ("reports", "accounts_cli", "users_cli", "billing_lists", "billing", "stripe_cli"):
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
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # never a traceback for an operator
        if os.environ.get("BACKOFFICE_DEBUG"):
            raise
        print(f"error: {_describe(error)}", file=sys.stderr)
        sys.exit(1)


def _describe(error: Exception) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(error, OperationalError):
        first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"cannot reach the database: {first_line}"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
