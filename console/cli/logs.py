"""The command line's log output: one line per record, control characters escaped.

Log lines carry request data (event ids, types) and exception messages; a
newline or a terminal escape in them would forge or hide lines. Every line
is escaped as a whole, and an exception is shown as its type and the first
line of its message, never as a traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

# Loggers of the back office's own code, plus the libraries that log for the
# webhook server (aiohttp on bad requests, asyncio on stray task errors).
LOGGER_NAMES = ("stripe_sync", "core", "console", "db", "aiohttp", "asyncio")
LINE_FORMAT = "%(asctime)s %(message)s"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def _escape_table() -> dict[int, str]:
    table = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}
    table.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
    # Line and paragraph separators end lines in some log viewers; a lone
    # surrogate cannot be written as UTF-8 at all.
    table.update({code: f"\\u{code:04x}" for code in (0x2028, 0x2029, *range(0xD800, 0xE000))})
    return table


_ESCAPES = _escape_table()


def escape_controls(text: str) -> str:
    """C0, C1 and DEL characters (and lone surrogates) as visible escapes (`\\n`, `\\x1b`, ...)."""
    return text.translate(_ESCAPES)


def describe_exception(error: BaseException) -> str:
    """`Type: first line of the message`, or the type alone. A first line that
    only introduces the next (`400, message:`) takes that one along."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    first = f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    return f"{type(error).__name__}: {first}"


class OneLineFormatter(logging.Formatter):
    """Formats a record as exactly one escaped line."""

    def __init__(self, fmt: str = LINE_FORMAT, datefmt: str = TIME_FORMAT) -> None:
        super().__init__(fmt, datefmt)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        # The record's exc_text is left alone: other handlers may want the traceback.
        if record.exc_info and record.exc_info[1] is not None:
            line += f" ({describe_exception(record.exc_info[1])})"
        return escape_controls(line)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time of the record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass  # always the current sys.stderr


def install() -> logging.Handler:
    """Attach the one stderr handler to the CLI's loggers (once per process;
    later calls return the installed handler)."""
    for handler in logging.getLogger(LOGGER_NAMES[0]).handlers:
        if isinstance(handler, StderrHandler):
            return handler
    handler = StderrHandler()
    handler.setFormatter(OneLineFormatter())
    for name in LOGGER_NAMES:
        logging.getLogger(name).addHandler(handler)
    return handler
