"""The `backoffice` command line run in-process through console.cli.main, as
a shell runs it: the real exit codes and the real lines on stdout and stderr."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

# Settings the test environment may carry that would change what a command does.
CLEARED = (
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "BACKOFFICE_DATABASE_URL",
    "BACKOFFICE_READ_DATABASE_URL",
    "BACKOFFICE_DEBUG",
    "BACKOFFICE_OPERATOR",
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*CLEARED, *env)}
    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _exit_code(exit_: SystemExit) -> int:
    if exit_.code is None:
        return 0
    return exit_.code if isinstance(exit_.code, int) else 1


def run_cli(*args: str, env: dict[str, str] | None = None) -> Run:
    from console.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_argv = sys.argv
    sys.argv = ["backoffice", *args]
    code = 0
    try:
        with _environment(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = _exit_code(exit_)
    finally:
        sys.argv = saved_argv
    return Run(code, out.getvalue(), err.getvalue())


def run_cli_captured(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str
) -> tuple[int, str, str]:
    """The same run for a test that already holds monkeypatch and capsys: the
    environment is set through monkeypatch and the output read from capsys,
    so both are undone and reset with the rest of the test."""
    from console.cli import main

    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["backoffice", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = _exit_code(exit_)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(run: Run) -> str:
    """The error line of a failed run, checked to be the only output."""
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run
    assert run.out == "", run
    return lines[0]
