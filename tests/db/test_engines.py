"""Which engine serves what (db/engine.py `Engines`, docs/rules.md R160-R162),
without a replica server: the rules' timing and bookkeeping. The same rules
on a real streaming replica: tests/replica/test_replica.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from db.engine import Engines, ReplicaLag, describe, make_engine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class BehindReplica(Engines):
    """A replica that has replayed nothing of what is written until told."""

    caught_up = False
    polls = 0

    def _has_replayed(self, conn: Connection, lsn: str) -> bool:
        self.polls += 1
        return self.caught_up


@pytest.fixture
def replica(database_url: str) -> Iterator[Engine]:
    """A second engine on the test database: the rules' bookkeeping needs no standby."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def unreachable() -> Iterator[Engine]:
    engine = create_engine("postgresql+psycopg://nobody@/backoffice?host=/nonexistent-socket-dir")
    yield engine
    engine.dispose()


def write(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS t_written (x int)"))
        conn.execute(text("INSERT INTO t_written VALUES (1)"))


def test_without_a_replica_reads_and_writes_go_to_the_primary(engine: Engine) -> None:
    engines = Engines(engine)
    assert engines.reads() is engine
    with engines.reading() as conn:
        assert conn.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
    assert engines.lag() is None


def test_reads_go_to_the_replica_and_writes_wait_only_when_it_is_behind(engine: Engine, replica: Engine) -> None:
    clock = Clock()
    engines = BehindReplica(engine, replica, clock=clock)
    assert engines.reads() is replica
    with engines.reading() as conn:
        assert conn.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
    # A read-only transaction on the primary is no write: nothing to wait for.
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    assert engines.reads() is replica and engines.polls == 0


def test_after_a_write_reads_wait_for_the_replica_then_read_the_primary(engine: Engine, replica: Engine) -> None:
    """R161: reads after a write wait for the replica until REPLAY_WAIT_SECONDS
    after it, then read the primary until the replica has replayed it."""
    engines = BehindReplica(engine, replica, replay_wait_seconds=0.3)
    write(engine)
    started = time.monotonic()
    assert engines.reads() is engine
    waited = time.monotonic() - started
    assert 0.25 <= waited < 2.0
    assert engines.polls > 1
    # Past the deadline: one look, no wait, still the primary.
    started, polls = time.monotonic(), engines.polls
    assert engines.reads() is engine
    assert time.monotonic() - started < 0.25 and engines.polls == polls + 1
    engines.caught_up = True
    assert engines.reads() is replica
    # Replayed: later reads do not ask again.
    polls = engines.polls
    assert engines.reads() is replica and engines.polls == polls


def test_reads_that_start_together_after_a_write_all_wait_for_it(engine: Engine, replica: Engine) -> None:
    """A screen's loads run at once: none may go to the replica while another
    is still reading the write's position."""
    engines = BehindReplica(engine, replica, replay_wait_seconds=0.2)
    write(engine)
    with ThreadPoolExecutor(6) as pool:
        chosen = list(pool.map(lambda _: engines.reads(), range(6)))
    assert all(chosen_engine is engine for chosen_engine in chosen)


def test_a_replica_that_catches_up_within_the_wait_serves_the_read(engine: Engine, replica: Engine) -> None:
    class CatchingUp(Engines):
        polls = 0

        def _has_replayed(self, conn: Connection, lsn: str) -> bool:
            self.polls += 1
            return self.polls >= 3

    engines = CatchingUp(engine, replica, replay_wait_seconds=2.0)
    write(engine)
    assert engines.reads() is replica
    assert engines.polls == 3


def test_the_write_s_position_is_the_primary_s_after_the_commit(engine: Engine, replica: Engine) -> None:
    engines = Engines(engine, replica)
    write(engine)
    pending = engines._pending_write()
    assert pending is not None
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT CAST(:lsn AS pg_lsn) <= pg_current_wal_lsn()"), {"lsn": pending.lsn}
        ).scalar_one()
    # A primary named as the replica has all it wrote: the read goes there at once.
    assert engines.reads() is replica
    assert engines._pending_write() is None


def test_an_unreachable_replica_is_said_once_and_tried_again_after_the_recheck(
    engine: Engine, unreachable: Engine
) -> None:
    """R162: reads fall back to the primary; the change is told once, and the
    replica is tried again only every `recheck_seconds`."""
    clock = Clock()
    told: list[bool] = []
    engines = Engines(engine, unreachable, clock=clock, recheck_seconds=30)
    engines.on_replica_change = told.append
    with engines.reading() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar_one() == make_url(str(engine.url)).database
    assert told == [False] and engines.replica_down
    clock.now += 10
    assert engines.reads() is engine  # resting: not even tried
    with engines.reading():
        pass
    assert told == [False]
    assert engines.lag() is None
    clock.now += 25
    assert engines.reads() is unreachable  # due: tried again
    with engines.reading():
        pass
    assert told == [False] and engines.replica_down


def test_a_replica_that_answers_again_is_said_once(engine: Engine, replica: Engine) -> None:
    clock = Clock()
    told: list[bool] = []
    engines = Engines(engine, replica, clock=clock)
    engines.on_replica_change = told.append
    engines._answered(False)
    clock.now += 31
    with engines.reading():
        pass
    with engines.reading():
        pass
    assert told == [False, True] and not engines.replica_down


def test_a_primary_named_as_the_replica_is_never_behind(engine: Engine, replica: Engine) -> None:
    engines = Engines(engine, replica)
    lag = engines.lag()
    assert lag == ReplicaLag(seconds=0.0, bytes_behind=0)
    assert not lag.over(engines.lag_shown_over)
    assert ReplicaLag(seconds=5.5, bytes_behind=100).over(5.0)
    assert not ReplicaLag(seconds=None, bytes_behind=100).over(5.0)


class Replaying(Engines):
    """A replica whose answers to "how far behind?" are given in turn."""

    def __init__(self, primary: Engine, replica: Engine, answers: list[tuple[int, float]]) -> None:
        super().__init__(primary, replica)
        self.answers = answers

    def _behind(self, conn: Connection, position: str) -> tuple[Any, Any]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_a_replica_that_catches_up_at_once_is_not_lagging(engine: Engine, replica: Engine) -> None:
    """R163: an idle primary's last transaction may be an hour old; a record it
    writes just now is replayed within moments and is no hour of lag."""
    engines = Replaying(engine, replica, [(8192, 3600.0), (0, 3600.0)])
    assert engines.lag() == ReplicaLag(seconds=0.0, bytes_behind=0)
    engines = Replaying(engine, replica, [(8192, 3600.0)])
    assert engines.lag() == ReplicaLag(seconds=3600.0, bytes_behind=8192)
    engines = Replaying(engine, replica, [(8192, None)])  # nothing replayed since it started
    lag = engines.lag()
    assert lag == ReplicaLag(seconds=None, bytes_behind=8192) and not lag.over(5.0)


def test_the_same_url_for_reads_is_no_replica(database_url: str) -> None:
    engines = Engines.from_urls(database_url, database_url)
    try:
        assert engines.replica is None and engines.reads() is engines.primary
    finally:
        engines.dispose()
    engines = Engines.from_urls(database_url, None)
    assert engines.replica is None
    engines.dispose()


def test_the_description_names_the_role_the_connections_become(database_url: str) -> None:
    """The header says who the database sees: an SSH operator's own role, not
    the server's login role it was reached through."""
    login = make_url(database_url).username
    plain, as_reader = make_engine(database_url), make_engine(database_url, role="backoffice_reader")
    try:
        assert describe(plain).startswith(f"{login}@")
        assert describe(as_reader).startswith("backoffice_reader@")
        assert describe(as_reader).split("@", 1)[1] == describe(plain).split("@", 1)[1]
    finally:
        plain.dispose()
        as_reader.dispose()
