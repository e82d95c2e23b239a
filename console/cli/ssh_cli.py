"""`backoffice ssh serve`: the console over SSH (console/ssh), and
`backoffice operators apply`: the operators' PostgreSQL roles.

asyncssh is imported when a command runs, not when the CLI starts: every
console (one per SSH session among them) starts through this CLI.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from console.cli.context import AppContext, app_context
from console.cli.options import JsonOption, identifier, whole_number
from console.cli.output import emit_json, stdout
from core.errors import OperatorError

if TYPE_CHECKING:
    from console.ssh.server import ConsoleServer

ssh_app = typer.Typer(help="The console over SSH: operators log in with their keys.", no_args_is_help=True)
operators_app = typer.Typer(help="Operators: the SSH operators file and their PostgreSQL roles.", no_args_is_help=True)
OPERATORS_FILE = "operators.toml"
SYSTEM_CONFIG_DIR = Path("/etc/backoffice")


def register(app: typer.Typer) -> None:
    app.add_typer(ssh_app, name="ssh")
    app.add_typer(operators_app, name="operators")


def default_operators_path() -> Path:
    """/etc/backoffice/operators.toml for root, else the user config directory's."""
    from db.embedded import running_as_root

    if running_as_root():
        return SYSTEM_CONFIG_DIR / OPERATORS_FILE
    import platformdirs

    return platformdirs.user_config_path("backoffice") / OPERATORS_FILE


def _operators_path(value: Path | None) -> Path:
    return value if value is not None else default_operators_path()


def _duration(name: str):  # noqa: ANN202 - a typer parser
    def parse(value: str) -> float:
        from console.ssh.limits import parse_duration

        try:
            return parse_duration(str(value))
        except ValueError as error:
            raise typer.BadParameter(f"{name}: {error}") from None

    return parse


OperatorsOption = typer.Option(
    None, "--operators", metavar="PATH", help="The operators file (default: operators.toml in the config directory)."
)


@ssh_app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", parser=identifier, help="Address to listen on (loopback by default)."
    ),
    port: int = typer.Option(
        2222, "--port", parser=whole_number("port", 0, 65535), help="Port to listen on (0: any free port)."
    ),
    host_key: Path | None = typer.Option(
        None,
        "--host-key",
        metavar="PATH",
        help="Host private key (default: an Ed25519 key made in the data directory).",
    ),
    operators: Path | None = OperatorsOption,
    max_sessions: int = typer.Option(
        20, "--max-sessions", parser=whole_number("max sessions", 1, 10_000), help="Sessions at once; more are refused."
    ),
    idle_timeout: float = typer.Option(
        "8h",
        "--idle-timeout",
        parser=_duration("idle timeout"),
        metavar="DURATION",
        help="No input for this long ends a session (8h, 30m).",
    ),
    login_grace: float = typer.Option(
        "30s",
        "--login-grace",
        parser=_duration("login grace"),
        metavar="DURATION",
        help="Time to log in after connecting.",
    ),
    max_unauthenticated: int = typer.Option(
        64,
        "--max-unauthenticated",
        parser=whole_number("max unauthenticated", 1, 10_000),
        help="Connections waiting to log in at once (an eighth of them from one address); more are closed.",
    ),
) -> None:
    """Serve the console over SSH: public keys from the operators file, one console per session, as the operator's role."""
    from console.cli import logs
    from console.ssh.host_key import load_or_create
    from console.ssh.limits import Limits
    from console.ssh.operators_file import OperatorsWatcher
    from console.ssh.server import ConsoleServer, ServerSettings
    from db.embedded import data_home

    logs.install()
    logging.getLogger("console.ssh").setLevel(logging.INFO)
    context = app_context(ctx)
    watcher = OperatorsWatcher(_operators_path(operators))
    key = load_or_create(host_key)
    if key.created:
        typer.echo(f"created host key {key.path}", err=True)
    typer.echo(f"host key fingerprint {key.fingerprint}", err=True)
    engine = context.engine()
    settings = ServerSettings(
        host=host,
        port=port,
        host_key=key,
        database_url=engine.url.render_as_string(hide_password=False),
        default_locale=context.settings.locale,
        config_root=data_home() / "ssh" / "operators",
        limits=Limits(
            max_sessions=max_sessions,
            idle_timeout=idle_timeout,
            login_grace=login_grace,
            max_unauthenticated=max_unauthenticated,
            max_unauthenticated_per_address=max(1, max_unauthenticated // 8),
        ),
        base_environment=_console_environment(context),
    )
    server = ConsoleServer(settings, watcher, engine)
    _warn_about_missing_roles(server)
    try:
        asyncio.run(_serve(server))
    except OSError as error:
        raise OperatorError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    typer.echo("stopped", err=True)


def _console_environment(context: AppContext) -> dict[str, str]:
    """What each operator's console inherits: the server's environment, with
    the replica it was told to read (`--read-database-url`, docs/rules.md R160)."""
    env = dict(os.environ)
    if context.settings.read_database_url:
        env["BACKOFFICE_READ_DATABASE_URL"] = context.settings.read_database_url
    return env


def _warn_about_missing_roles(server: ConsoleServer) -> None:
    """An operator whose role the server cannot become would be turned away
    at login: say so at start, with the remedy."""
    log = logging.getLogger("console.ssh")
    for operator in server.config.operators:
        if not server.role_ready(operator):
            log.warning(
                "operator %s: the server cannot SET ROLE %s; run backoffice operators apply as this database role",
                operator.name,
                operator.db_role,
            )


async def _serve(server: ConsoleServer) -> None:
    await server.start()
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def stop() -> None:
        if not stopping:
            stopping.append(asyncio.ensure_future(server.close()))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    loop.add_signal_handler(signal.SIGHUP, server.reload)
    typer.echo(f"listening on ssh://{server.settings.host}:{server.port}", err=True)
    await server.serve_forever()


@operators_app.command("apply")
def apply(
    ctx: typer.Context,
    operators: Path | None = OperatorsOption,
    server_role: str | None = typer.Option(
        None,
        "--server-role",
        parser=identifier,
        help="The role the SSH server connects as (default: the role running this).",
    ),
    json_output: bool = JsonOption,
) -> None:
    """Admin: one NOLOGIN role per operator (bo_op_NAME) in backoffice_admin or backoffice_reader; drop the ones no longer listed."""
    from console.ssh.operators_file import load_operators
    from core.audit import Action, cli_actor
    from core.errors import Forbidden
    from core.operator_roles import apply_roles
    from db.engine import is_admin

    context = app_context(ctx)
    engine = context.engine()
    with engine.connect() as conn:  # rights first (exit 3), then the file
        if not is_admin(conn):
            raise Forbidden("operators apply changes database roles: connect as a member of backoffice_admin")
    actor = cli_actor(context.settings)
    try:
        wanted = load_operators(_operators_path(operators)).roles()
        with engine.begin() as conn:
            changes = apply_roles(conn, wanted, server_role=server_role)
            actor.record(conn, Action.operators_apply, details=changes.as_details())
    except Exception as error:
        actor.record_failure(engine, Action.operators_apply, error)
        raise
    if json_output:
        emit_json(changes.as_details())
        return
    for title, names in (
        ("created", changes.created),
        ("moved between admin and reader", changes.regrouped),
        ("dropped", changes.dropped),
        ("unchanged", changes.unchanged),
    ):
        if names:
            stdout.print(f"{title}: {', '.join(names)}", highlight=False, soft_wrap=True)
    if not (changes.created or changes.regrouped or changes.dropped or changes.unchanged):
        stdout.print("no operators: no roles to keep", highlight=False)
