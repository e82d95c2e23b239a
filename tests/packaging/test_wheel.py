"""A wheel carries everything the console reads at run time: the catalogs and
the stylesheet (data files under share/backoffice) and the migrations."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from console import resources

ROOT = Path(__file__).resolve().parents[2]
DATA_PREFIX = "share/backoffice"


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("backoffice_console-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        yield set(archive.namelist())


def _data_files(names: set[str]) -> set[str]:
    """Paths of the wheel's data files relative to the install prefix."""
    return {name.split(".data/data/", 1)[1] for name in names if ".data/data/" in name}


@pytest.mark.slow
def test_the_wheel_carries_every_catalog_and_the_stylesheet(wheel_names: set[str]) -> None:
    catalogs = sorted(path.relative_to(ROOT).as_posix() for path in ROOT.glob("translations/*/*.json"))
    assert len(catalogs) >= 2
    expected = {f"{DATA_PREFIX}/{name}" for name in [*catalogs, "backoffice.tcss"]}
    assert expected <= _data_files(wheel_names)


@pytest.mark.slow
def test_the_wheel_carries_the_migrations(wheel_names: set[str]) -> None:
    migrations = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "db/migrations").rglob("*")
        if path.is_file() and path.suffix != ".pyc"
    }
    assert "db/migrations/env.py" in migrations and "db/migrations/script.py.mako" in migrations
    assert migrations <= wheel_names


def test_the_console_looks_where_the_wheel_installs() -> None:
    assert resources.INSTALLED_ROOTS[0] == Path(sysconfig.get_path("data")) / DATA_PREFIX


def test_the_source_tree_comes_first(tmp_path: Path) -> None:
    source, installed = tmp_path / "source", tmp_path / "installed"
    for root in (source, installed):
        (root / "translations").mkdir(parents=True)
        (root / "backoffice.tcss").write_text("")
    for name in ("translations", "backoffice.tcss"):
        assert resources.data_path(name, source_root=source, installed_roots=[installed]) == source / name


def test_the_installed_copy_is_used_without_a_source_tree(tmp_path: Path) -> None:
    source, user, environment = tmp_path / "source", tmp_path / "user", tmp_path / "environment"
    source.mkdir()
    (environment / "translations").mkdir(parents=True)
    (environment / "backoffice.tcss").write_text("")
    for name in ("translations", "backoffice.tcss"):
        assert resources.data_path(name, source_root=source, installed_roots=[user, environment]) == environment / name


def test_a_checkout_reads_its_own_files() -> None:
    assert resources.data_path("translations") == ROOT / "translations"
    assert resources.data_path("backoffice.tcss") == ROOT / "backoffice.tcss"
