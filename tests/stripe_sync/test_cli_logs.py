"""The CLI's log lines: one per record, control characters escaped, no tracebacks."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from console.cli import logs


def _record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("stripe_sync.webhook", logging.WARNING, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]


def test_control_characters_are_escaped_in_the_whole_line() -> None:
    line = logs.OneLineFormatter("%(message)s").format(
        _record("%s %s", "evt_x\n2026-01-01 forged\x1b[31m", "a\rb\tc\x7fd\x85e\u2028f\x00g\ud800")
    )
    assert line == "evt_x\\n2026-01-01 forged\\x1b[31m a\\rb\\tc\\x7fd\\x85e\\u2028f\\x00g\\ud800"
    line.encode("utf-8")  # always writable


def test_an_exception_is_its_type_and_first_line_never_a_traceback() -> None:
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = _record("storing failed", exc_info=sys.exc_info())
    line = logs.OneLineFormatter("%(message)s").format(record)
    assert line == "storing failed (ValueError: first line)"
    assert record.exc_text is None  # other handlers may still format the traceback


def test_lines_carry_a_timestamp_by_default() -> None:
    line = logs.OneLineFormatter().format(_record("hello"))
    assert line.endswith(" hello") and line[:4].isdigit() and "T" in line.split(" ")[0]


def test_install_is_once_and_writes_to_the_current_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = logs.install()
    assert logs.install() is handler
    for name in ("stripe_sync", "core", "console"):
        assert logging.getLogger(name).handlers.count(handler) == 1
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.getLogger("core.some_module").warning("a\nb")
    assert stream.getvalue().endswith(" a\\nb\n") and stream.getvalue().count("\n") == 1


def test_an_exception_whose_first_line_only_introduces_the_next_keeps_both() -> None:
    assert (
        logs.describe_exception(ValueError("400, message:\n  Invalid header value char\n  b'raw'"))
        == "ValueError: 400, message: Invalid header value char"
    )
    assert logs.describe_exception(ValueError()) == "ValueError"
