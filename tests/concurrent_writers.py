"""Two writers of one row, the second made to wait: how the summary tests
show that triggers take turns instead of losing a count."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

SECOND_WRITER = "second_writer"


def waiting_for_a_lock(engine: Engine, application_name: str = SECOND_WRITER) -> bool:
    with engine.connect() as watcher:
        return bool(
            watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = 'Lock'"
                ),
                {"name": application_name},
            ).scalar_one()
        )


def second_writer_waits(
    engine: Engine, first: Callable[[Connection], None], second: Callable[[Connection], None]
) -> None:
    """`first` writes and holds its transaction open; `second` writes from
    another connection and must wait for it; then both commit."""
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            with engine.connect() as other:
                with other.begin():
                    other.execute(text(f"SET application_name = '{SECOND_WRITER}'"))
                    second(other)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    with engine.connect() as conn:
        with conn.begin():
            first(conn)
            thread = threading.Thread(target=run_second)
            thread.start()
            deadline = time.monotonic() + 10
            while not waiting_for_a_lock(engine):
                assert time.monotonic() < deadline, "the second writer never waited"
                time.sleep(0.02)
    thread.join(timeout=10)
    assert not thread.is_alive() and not errors, errors
