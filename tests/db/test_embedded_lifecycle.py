"""The embedded server stops when its last user is gone, however that user
ended: a normal exit, a hang-up, a termination, SIGKILL, or a console whose
terminal was closed. Each case runs a real server on a data directory of its
own (one migrated cluster, stopped between cases) and never leaves one running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from db import embedded_supervisor

ROOT = Path(__file__).resolve().parents[2]
BACKOFFICE = Path(sys.executable).parent / "backoffice"
STOP_DEADLINE_SECONDS = 10.0

# Starts the server on the data directory given, says so, and waits.
USER_SCRIPT = """
import sys, time
from pathlib import Path
from db import embedded
pgdata = Path(sys.argv[1])
embedded.start(pgdata)
if sys.argv[2] == "restart":
    embedded.restart(pgdata)
print("ready", flush=True)
if sys.argv[3] == "wait":
    time.sleep(120)
"""

MIGRATE_SCRIPT = """
import sys
from pathlib import Path
from sqlalchemy import create_engine
from db import embedded, migrate
engine = create_engine(embedded.start(Path(sys.argv[1])))
migrate.upgrade(engine)
engine.dispose()
"""


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "BACKOFFICE_DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def _workspace() -> Path:
    # Not under pytest's basetemp (0700 parents the server's system user
    # could not reach as root).
    directory = Path(tempfile.mkdtemp(prefix="backoffice-lifecycle-"))
    directory.chmod(0o755)
    return directory


@pytest.fixture(scope="module")
def migrated_cluster() -> Iterator[Path]:
    """A migrated, cleanly stopped data directory that each case copies."""
    workspace = _workspace()
    pgdata = workspace / "pgdata"
    try:
        subprocess.run(
            [sys.executable, "-c", MIGRATE_SCRIPT, str(pgdata)], env=_env(), check=True, timeout=120, cwd=ROOT
        )
        _wait_until_stopped(pgdata, _postmaster_pid(pgdata))
        yield pgdata
    finally:
        _force_stop(pgdata)
        shutil.rmtree(workspace, ignore_errors=True)


@dataclass
class Cluster:
    pgdata: Path
    workspace: Path


@pytest.fixture
def cluster(migrated_cluster: Path) -> Iterator[Cluster]:
    """The migrated cluster, stopped, for one case (reused: a copy per case
    would cost a second each); whatever the case left running is stopped."""
    pgdata = migrated_cluster
    for leftover in (embedded_supervisor.LOCK, embedded_supervisor.LOG):
        (pgdata / leftover).unlink(missing_ok=True)
    workspace = pgdata.parent / "case"
    workspace.mkdir()
    try:
        yield Cluster(pgdata, workspace)
    finally:
        _force_stop(pgdata)
        shutil.rmtree(workspace, ignore_errors=True)


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _supervisor_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / embedded_supervisor.LOCK).read_text().strip())
    except (OSError, ValueError):
        return None


def _watcher(pgdata: Path) -> int:
    """The pid of the data directory's watcher, once it has taken its lock."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pid = _supervisor_pid(pgdata)
        if pid is not None and embedded_supervisor.is_alive(pid):
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no watcher for {pgdata}")


def _stopped_by_watcher(pgdata: Path) -> bool:
    log = pgdata / embedded_supervisor.LOG
    return log.exists() and "stopping it" in log.read_text()


def _wait_until_stopped(
    pgdata: Path,
    pid: int | None,
    deadline: float = STOP_DEADLINE_SECONDS,
    *,
    meanwhile: Callable[[], None] = lambda: None,
) -> float:
    """Seconds until the postmaster `pid` is gone and postmaster.pid removed."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if (pid is None or not embedded_supervisor.is_alive(pid)) and not (pgdata / "postmaster.pid").exists():
            return time.monotonic() - started
        meanwhile()
        time.sleep(0.05)
    raise AssertionError(f"the server in {pgdata} (pid {pid}) still runs after {deadline:.0f} s")


def _force_stop(pgdata: Path) -> None:
    """Whatever a failed case left: the watcher and the postmaster."""
    for pid, signum in ((_supervisor_pid(pgdata), signal.SIGKILL), (_postmaster_pid(pgdata), signal.SIGQUIT)):
        if pid is not None and embedded_supervisor.is_alive(pid):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 10
            while embedded_supervisor.is_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)


def _start_user(pgdata: Path, *, restart: bool = False, wait: bool = True) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", USER_SCRIPT, str(pgdata), "restart" if restart else "-", "wait" if wait else "-"],
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


def _end(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_the_server_stops_when_its_only_user_is_signalled(cluster: Cluster, signum: signal.Signals) -> None:
    child = _start_user(cluster.pgdata)
    try:
        postmaster = _postmaster_pid(cluster.pgdata)
        assert postmaster is not None and embedded_supervisor.is_alive(postmaster)
        _watcher(cluster.pgdata)
        child.send_signal(signum)
        child.wait(timeout=STOP_DEADLINE_SECONDS)
        stopped_after = _wait_until_stopped(cluster.pgdata, postmaster)
        print(f"{signum.name}: server stopped {stopped_after:.2f} s after its user ended")
        # A handled signal ends the program the normal way (its atexit hook
        # stops the server); only SIGKILL leaves it to the watcher.
        assert _stopped_by_watcher(cluster.pgdata) == (signum == signal.SIGKILL)
    finally:
        _end(child)


def test_the_watcher_stops_the_server_after_the_last_of_two_users_is_killed(cluster: Cluster) -> None:
    first = _start_user(cluster.pgdata)
    second = _start_user(cluster.pgdata)
    try:
        postmaster = _postmaster_pid(cluster.pgdata)
        first.kill()
        first.wait(timeout=5)
        time.sleep(1.0)  # two of the watcher's polls
        assert embedded_supervisor.is_alive(postmaster), "stopped while a user was still alive"
        second.kill()
        second.wait(timeout=5)
        _wait_until_stopped(cluster.pgdata, postmaster)
    finally:
        _end(first)
        _end(second)


def test_the_watcher_ends_when_someone_else_stops_the_server(cluster: Cluster) -> None:
    child = _start_user(cluster.pgdata)
    try:
        watcher = _watcher(cluster.pgdata)
        embedded_supervisor.stop_server(cluster.pgdata)
        deadline = time.monotonic() + 5
        while embedded_supervisor.is_alive(watcher) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not embedded_supervisor.is_alive(watcher)
    finally:
        _end(child)


@pytest.mark.parametrize("ending", ["exit", "kill"])
def test_a_restarted_server_is_stopped_with_its_user(cluster: Cluster, ending: str) -> None:
    child = _start_user(cluster.pgdata, restart=True, wait=ending == "kill")
    try:
        postmaster = _postmaster_pid(cluster.pgdata)
        if ending == "kill":
            child.kill()
        child.wait(timeout=STOP_DEADLINE_SECONDS)
        _wait_until_stopped(cluster.pgdata, postmaster)
    finally:
        _end(child)


def _drain(child: pexpect.spawn) -> None:
    try:
        child.read_nonblocking(65536, timeout=0)
    except (pexpect.TIMEOUT, pexpect.EOF):
        pass


def _read_until(child: pexpect.spawn, needle: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while needle not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not shown; last output: {seen[-500:]!r}")
        try:
            seen += child.read_nonblocking(65536, timeout=0.5)
        except pexpect.TIMEOUT:
            continue


@pytest.mark.parametrize("ending", ["terminal closed", "SIGTERM", "SIGKILL"])
def test_the_console_stops_its_embedded_server(cluster: Cluster, ending: str) -> None:
    env = _env(
        TERM="xterm-256color",
        BACKOFFICE_PGDATA=str(cluster.pgdata),
        BACKOFFICE_CONFIG_DIR=str(cluster.workspace / "config"),
        BACKOFFICE_LOCALE="en-US",
    )
    child = pexpect.spawn(str(BACKOFFICE), ["console"], env=env, dimensions=(24, 80), encoding="utf-8", timeout=30)
    try:
        _read_until(child, "TOTAL ACCOUNTS")
        postmaster = _postmaster_pid(cluster.pgdata)
        assert postmaster is not None
        if ending == "terminal closed":
            # The terminal goes away: the kernel hangs up the console's session.
            child.ptyproc.fileobj.close()
            stopped_after = _wait_until_stopped(cluster.pgdata, postmaster)
        else:
            child.kill(signal.SIGTERM if ending == "SIGTERM" else signal.SIGKILL)
            # Read what it writes as it leaves, as a terminal would: a full
            # pseudo-terminal would block the console's last frames.
            stopped_after = _wait_until_stopped(cluster.pgdata, postmaster, meanwhile=lambda: _drain(child))
        print(f"console, {ending}: server stopped after {stopped_after:.2f} s")
        assert _stopped_by_watcher(cluster.pgdata) == (ending == "SIGKILL")
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
