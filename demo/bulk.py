"""Bulk loading through COPY: rows become COPY text lines in Python while a
writer thread streams the previous chunk into PostgreSQL, so generating and
loading use both cores."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
WRITE_LINES = 5000  # lines per write: a batch is never copied into one huge string


def text_value(value: str) -> str:
    """A string as a COPY text field (backslash, tab and line breaks escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def json_text(value: Any) -> str:
    """A JSON document (compact, non-ASCII kept) as a COPY text field."""
    return text_value(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def field(value: Any) -> str:
    """Any column value as a COPY text field."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return text_value(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json_text(value)
    if hasattr(value, "value"):  # enums
        return text_value(str(value.value))
    return text_value(str(value))


def line(values: Iterable[Any]) -> str:
    return "\t".join(map(field, values)) + "\n"


class Batch:
    """The COPY text of one chunk, per table, and how many rows it holds."""

    def __init__(self, columns: dict[str, Sequence[str]]) -> None:
        self.columns = columns
        self.lines: dict[str, list[str]] = {table: [] for table in columns}

    def add(self, table: str, text_line: str) -> None:
        self.lines[table].append(text_line)

    def add_row(self, table: str, values: Iterable[Any]) -> None:
        self.lines[table].append(line(values))

    def sort_by_primary_key(self) -> None:
        """Rows in key order touch each index page once per batch, not once per row."""
        for table, lines in self.lines.items():
            columns = list(self.columns[table])
            if "id" not in columns:
                continue
            position = columns.index("id")
            if position == 0:
                lines.sort()
            else:
                lines.sort(key=lambda text_line: text_line.split("\t", position + 1)[position])

    def counts(self) -> dict[str, int]:
        return {table: len(lines) for table, lines in self.lines.items()}


class CopyWriter:
    """Streams batches into PostgreSQL from a background thread, over one
    connection and one transaction that the caller commits."""

    def __init__(
        self, connection: psycopg.Connection, *, freeze: bool = False, depth: int = 1, commit_each: bool = False
    ) -> None:
        self._connection = connection
        # Each batch in a transaction of its own (the parallel build): the
        # summary rows the triggers keep are locked only while one batch loads.
        self._commit_each = commit_each
        # Tables emptied in this transaction take frozen, all-visible rows:
        # no hint-bit rewrite later, and index-only scans work at once.
        self._options = " WITH (FREEZE)" if freeze else ""
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="demo-copy", daemon=True)
        self._thread.start()

    def put(self, batch: Batch) -> None:
        self._raise_if_failed()
        while True:
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                self._raise_if_failed()

    def close(self) -> None:
        """Wait until every batch is loaded; re-raise a loading failure here."""
        self._queue.put(None)
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._error is not None:
                continue  # drain, so the producer never blocks on a dead writer
            try:
                self._load_committed(batch) if self._commit_each else self._load(batch)
            except BaseException as error:  # handed to the producer thread
                self._error = error

    def _load_committed(self, batch: Batch, attempts: int = 5) -> None:
        """Load and commit one batch; when two processes' triggers wait on
        each other's summary rows PostgreSQL cancels one, which loads the
        batch again."""
        for attempt in range(attempts):
            try:
                self._load(batch)
                self._connection.commit()
                return
            except psycopg.errors.DeadlockDetected:
                self._connection.rollback()
                if attempt == attempts - 1:
                    raise

    def _load(self, batch: Batch) -> None:
        with self._connection.cursor() as cursor:
            for table, lines in batch.lines.items():
                if not lines:
                    continue
                columns = ", ".join(batch.columns[table])
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN{self._options}") as copy:
                    for start in range(0, len(lines), WRITE_LINES):
                        copy.write("".join(lines[start : start + WRITE_LINES]))
