"""Set-up commands: `console`, `db upgrade`, `demo seed`."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import threading
from typing import TYPE_CHECKING, Any, cast

import typer
from typer import _click as click

from console.cli.context import AppContext, app_context, require_admin
from console.cli.options import whole_number
from console.cli.output import stdout
from core.listing import BIGINT_MAX

# demo/seed.py's MIN_HISTORY_DAYS (importing it here would load the whole
# generator for every command); ten years at most keeps every date plausible.
HISTORY_DAYS = (90, 3650)

if TYPE_CHECKING:
    from textual.app import App

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("console")(console)
    app.add_typer(db_app, name="db")
    app.add_typer(demo_app, name="demo")


# The console's options, also taken without the word `console` (the root
# callback in console/cli/__init__.py opens the console with them).
KIOSK_OPTION = typer.Option(False, "--kiosk", help="Wall display for this run: read-only, no key but ctrl+q works.")
SEED_DEMO_OPTION = typer.Option(
    False, "--seed-demo-if-empty", help="Seed about 500 demo tenants when the database is empty."
)
ROTATE_OPTION = typer.Option(
    20, "--rotate", min=1, metavar="SECONDS", help="Kiosk: seconds per panel when they do not all fit."
)
CONSOLE_OPTIONS = ("kiosk", "seed_demo_if_empty", "rotate")


def console(
    ctx: typer.Context,
    kiosk: bool = KIOSK_OPTION,
    locale: str | None = typer.Option(None, "--locale", help="en-US or da-DK."),
    seed_demo_if_empty: bool = SEED_DEMO_OPTION,
    rotate: float = ROTATE_OPTION,
) -> None:
    """Open the Textual console."""
    context = app_context(ctx)
    # `backoffice --kiosk console`: the options given before the word count too.
    given = root_console_options(ctx)
    kiosk = kiosk or bool(given.get("kiosk"))
    seed_demo_if_empty = seed_demo_if_empty or bool(given.get("seed_demo_if_empty"))
    if "rotate" in given and not _given(ctx, "rotate"):
        rotate = cast(float, given["rotate"])
    if locale:
        from core.settings import normalize_locale, with_flags

        normalized = normalize_locale(locale)
        if normalized is None:
            raise typer.BadParameter(f"unsupported locale {locale!r}; use en-US or da-DK")
        context.settings = with_flags(context.settings, locale=normalized)
    open_console(context, kiosk=kiosk, seed_demo_if_empty=seed_demo_if_empty, rotate_seconds=rotate)


def root_console_options(ctx: typer.Context) -> dict[str, object]:
    """The console options given to `backoffice` itself (not left at their default)."""
    root = ctx.find_root()
    return {name: root.params[name] for name in CONSOLE_OPTIONS if name in root.params and _given(root, name)}


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def open_console(context: AppContext, *, kiosk: bool, seed_demo_if_empty: bool, rotate_seconds: float = 20) -> None:
    engine = context.engine()
    if seed_demo_if_empty:
        from demo import seed as demo_seed

        if demo_seed.database_is_empty(engine):
            stdout.print("First start: seeding demo data (500 tenants)...")
            demo_seed.seed(engine, tenants=500, seed=1, progress=True)
    from console.app import BackofficeApp
    from console.screens.kiosk import KioskTiming

    kiosk_timing = KioskTiming(rotate=rotate_seconds)
    _run_until_signalled(
        BackofficeApp(
            settings=context.settings,
            engine=engine,
            engines=context.engines(),
            kiosk=kiosk,
            kiosk_timing=kiosk_timing,
            locale_given=locale_flag_given(),
        )
    )


def locale_flag_given() -> bool:
    """Whether `--locale` was given (to `backoffice` or to `console`): it wins
    over the operator menu's remembered language for this run (docs/rules.md R131)."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("locale"):
            return True
        ctx = ctx.parent
    return False


# `kill` or `kill -INT` ends the console the way `q` does, and a closed
# terminal ends it at once: Textual handles none of them, and without a
# handler the process dies before its atexit hooks (which stop the embedded
# server) run.
GRACEFUL_EXIT_SIGNALS = ("SIGTERM", "SIGINT")
# A shutdown still running after this long is blocked on a terminal that no
# longer reads; the process then ends as on a hang-up.
SHUTDOWN_GRACE_SECONDS = 5.0


def _run_until_signalled(app: App[None]) -> None:
    deadlines: list[threading.Timer] = []

    def exit_gracefully(signum: int) -> None:
        app.exit()
        if not deadlines:
            deadline = threading.Timer(SHUTDOWN_GRACE_SECONDS, _leave, (128 + signum,))
            deadline.daemon = True
            deadline.start()
            deadlines.append(deadline)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        graceful = [signum for name in GRACEFUL_EXIT_SIGNALS if (signum := getattr(signal, name, None)) is not None]
        hangup = getattr(signal, "SIGHUP", None)
        previous = {signum: signal.getsignal(signum) for signum in [*graceful, hangup] if signum is not None}
        for signum in graceful:
            loop.add_signal_handler(signum, exit_gracefully, signum)
        if hangup is not None:
            # A plain handler, not the event loop's: it runs even while the
            # main thread waits on a write to the vanished terminal.
            signal.signal(hangup, _hang_up)
        try:
            await app.run_async()
        finally:
            for deadline in deadlines:
                deadline.cancel()
            for signum, handler in previous.items():
                if signum in graceful:
                    loop.remove_signal_handler(signum)
                signal.signal(signum, handler)

    asyncio.run(run())


def _hang_up(signum: int, _frame: object) -> None:
    # No screen to restore, and Textual's shutdown can block writing to it.
    _leave(128 + signum)


def _leave(status: int) -> None:
    """Run the exit hooks and end the process without waiting for threads
    blocked on a terminal."""
    atexit._run_exitfuncs()
    os._exit(status)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply migrations (idempotent)."""
    from db import migrate
    from db.engine import make_engine, resolve_database_url

    context = app_context(ctx)
    engine = make_engine(resolve_database_url(context.settings.database_url))
    require_admin(engine, "db upgrade", before_migrations=True)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    if before == after:
        stdout.print(f"Database already at revision {after}.")
    else:
        stdout.print(f"Database upgraded from {before or 'empty'} to {after}.")


@demo_app.command("seed")
def demo_seed_command(
    ctx: typer.Context,
    tenants: int = typer.Option(
        500, "--tenants", parser=whole_number("tenants", 1, 1_000_000), help="How many tenants."
    ),
    seed: int = typer.Option(
        1,
        "--seed",
        parser=whole_number("seed", 0, BIGINT_MAX),
        help="Random seed: the same seed on the same day gives the same rows.",
    ),
    replace: bool = typer.Option(False, "--replace", help="Delete the existing data first (refused without it)."),
    history_days: int = typer.Option(
        400,
        "--history-days",
        parser=whole_number("history days", *HISTORY_DAYS),
        help="How long the platform has operated: tenants sign up over these days.",
    ),
    jobs: int = typer.Option(
        os.cpu_count() or 1,
        "--jobs",
        parser=whole_number("jobs", 1, 256),
        help="Processes that generate and load the data (default: one per CPU); the rows are the same.",
    ),
) -> None:
    """Generate deterministic, realistic demo data through the real billing pipeline."""
    import time

    from core.audit import Action, cli_actor, record_action_raw
    from db import migrate
    from demo import seed as demo_seed

    context = app_context(ctx)
    engine = context.engine()
    require_admin(engine, "demo seed", before_migrations=True)
    migrate.upgrade(engine)
    started = time.monotonic()
    actor = cli_actor(context.settings)
    asked = {"tenants": tenants, "seed": seed, "replace": replace, "history_days": history_days}

    def record(connection: Any, loaded: dict[str, int]) -> None:
        record_action_raw(
            connection,
            operator=actor.operator,
            path=actor.path,
            action=Action.demo_seed,
            details={**asked, "rows": loaded},
        )

    try:
        counts = demo_seed.seed(
            engine,
            tenants=tenants,
            seed=seed,
            progress=True,
            replace=replace,
            history_days=history_days,
            on_loaded=record,
            jobs=jobs,
        )
    except Exception as error:
        actor.record_failure(engine, Action.demo_seed, error, details=asked)
        raise
    for table, count in counts.items():
        stdout.print(f"{table:>20}: {count:>12,}")
    stdout.print(f"Seeded {tenants:,} tenants with seed {seed} in {time.monotonic() - started:.1f} s.")
