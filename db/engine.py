"""Engines and connections: the one place that turns settings into a database."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

import psycopg
import psycopg.sql
from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from db import embedded
from db.errors import BadDatabaseUrl

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
URL_SHAPE = "postgresql://user@host/database"


def sqlalchemy_url(url: str) -> URL:
    """A libpq URL as SQLAlchemy's psycopg URL, or BadDatabaseUrl. libpq takes
    a socket directory percent-encoded in the host (`user@%2Ftmp%2Fpg/db`);
    SQLAlchemy would look that name up in DNS, so it moves to `?host=`."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator or scheme.lower() not in POSTGRES_SCHEMES:
        raise BadDatabaseUrl(f"only PostgreSQL database URLs work ({', '.join(s + '://' for s in POSTGRES_SCHEMES)})")
    try:
        if "\x00" in rest:
            raise ValueError("libpq reads a string up to its first NUL")
        parsed = make_url(f"postgresql+psycopg://{rest}")
    except (ArgumentError, ValueError):
        # The parser's own message can quote the password: say only what is wanted.
        raise BadDatabaseUrl(f"the database URL cannot be parsed; write it as {URL_SHAPE}") from None
    host = unquote(parsed.host) if parsed.host else None
    if host and host.startswith("/") and "host" not in parsed.query:
        parsed = parsed.set(host=None).update_query_dict({"host": host})
    return parsed


def resolve_database_url(explicit_url: str | None) -> str:
    """The configured server, or the embedded one started on demand."""
    if explicit_url:
        return sqlalchemy_url(explicit_url).render_as_string(hide_password=False)
    return embedded.start()


# The SSH server runs each operator's console as the operator's own role:
# current_user is the operator, and PostgreSQL enforces the operator's rights.
DB_ROLE_ENV = "BACKOFFICE_DB_ROLE"


def make_engine(
    url: str,
    *,
    role: str | None = None,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    connect_timeout: int = 10,
) -> Engine:
    """An engine on `url`; with a role (`role`, else BACKOFFICE_DB_ROLE) every
    new connection becomes that role before anything else runs on it. The pool
    is SQLAlchemy's default unless `pool_size`/`max_overflow` say otherwise."""
    pool: dict[str, int] = {}
    if pool_size is not None:
        pool["pool_size"] = pool_size
    if max_overflow is not None:
        pool["max_overflow"] = max_overflow
    engine = create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        # Timestamps come back in UTC whatever the server's default zone is.
        connect_args={"connect_timeout": connect_timeout, "options": "-c timezone=UTC"},
        **pool,
    )
    role = role or os.environ.get(DB_ROLE_ENV) or None
    if role:
        event.listen(engine, "connect", _set_role(role), insert=True)
        _ROLES[engine] = role
    return engine


def _set_role(role: str) -> Callable[[Any, Any], None]:
    def set_role(dbapi_connection: Any, _record: Any) -> None:
        # Outside a transaction, so a rollback cannot undo it.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        finally:
            dbapi_connection.autocommit = autocommit

    return set_role


@contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: the console and reports can never write."""
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            yield conn


# The role each engine's connections become (make_engine's `role`): who the
# database sees, which is what `describe` shows.
_ROLES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def describe(engine: Engine) -> str:
    """Where we are connected, without credentials: `user@host/db`, the user
    being the role the connections become (an SSH operator's own) when set."""
    url = engine.url
    host = url.host or (url.query.get("host") if url.query else None) or "local socket"
    if isinstance(host, tuple):
        host = host[0]
    if str(host).startswith("/"):
        host = "embedded" if "postgres" in str(host) else "unix socket"
    return f"{_ROLES.get(engine) or url.username or ''}@{host}/{url.database}"


def is_admin(conn: Connection, *, before_migrations: bool = False) -> bool:
    """Admin = the current role (after a SET ROLE, the role set) is a
    superuser or holds backoffice_admin's privileges. Before the migrations
    have created backoffice_admin nobody is one; with `before_migrations`
    whoever connects may then migrate (its owner, say)."""
    # USAGE, not MEMBER: the SSH server's role is a member of every operator
    # role without inheriting their privileges, so it is not an admin itself.
    return bool(
        conn.execute(
            text(
                "SELECT CASE WHEN r.rolsuper THEN true"
                " WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'backoffice_admin') THEN :before_migrations"
                " ELSE pg_has_role(current_user, 'backoffice_admin', 'USAGE') END"
                " FROM pg_roles r WHERE r.rolname = current_user"
            ),
            {"before_migrations": before_migrations},
        ).scalar()
    )


class Failure(StrEnum):
    """The database failures an operator is told about in their own words."""

    UNREACHABLE = "unreachable"  # connecting failed, or the connection was lost
    NO_SCHEMA = "no_schema"  # the migrations have not run
    FORBIDDEN = "forbidden"  # the role lacks a privilege
    OTHER = "other"


def failure(error: BaseException) -> Failure | None:
    """Which database failure `error` is; None when it is not one."""
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated or error.statement is None:  # no statement: it failed connecting
        return Failure.UNREACHABLE
    if isinstance(error.orig, psycopg.errors.UndefinedTable):
        return Failure.NO_SCHEMA
    if isinstance(error.orig, psycopg.errors.InsufficientPrivilege):
        return Failure.FORBIDDEN
    return Failure.OTHER


def first_line(error: BaseException) -> str:
    """The driver's message of a database error (else the error's), first line,
    without SQLAlchemy's "(psycopg.errors.X)" prefix and the statement."""
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0] if message else ""


# -- a primary and a streaming replica (docs/rules.md R160-R163) ----------------------

# After a write, reads wait this long for the replica to replay it (R161).
REPLAY_WAIT_SECONDS = 2.0
REPLAY_POLL_SECONDS = 0.05
# An unreachable replica is tried again this often; reads go to the primary meanwhile (R162).
REPLICA_RECHECK_SECONDS = 30.0
# A replica further behind than this is shown in the console's header (R163).
LAG_SHOWN_OVER_SECONDS = 5.0
# How often the lag is looked at before a replica behind the primary counts as lagging.
LAG_CONFIRMATIONS = 3
# A replica that does not answer within this is taken as unreachable.
REPLICA_CONNECT_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class ReplicaLag:
    """How far the replica is behind the primary."""

    # Since the last transaction it replayed (0 when it has replayed all the
    # primary has written); None when it has replayed none since it started.
    seconds: float | None
    bytes_behind: int

    def over(self, seconds: float) -> bool:
        return self.seconds is not None and self.seconds > seconds


@dataclass(frozen=True)
class _Write:
    lsn: str  # the primary's WAL position after the commit
    deadline: float  # monotonic: until then reads wait for the replica to replay it


class Engines:
    """Which engine serves what: the one place that decides it.

    Writes (admin actions, the webhook receiver, the poll, the drift worker,
    the demo seed, the migrations) use `primary`. Reads (`reading()`, the
    console's screens, the reports and lists) go to the replica when one is
    configured, except (R161) just after a write of this process that the
    replica has not replayed yet, and (R162) while the replica cannot be
    reached. Without a replica both are the primary."""

    def __init__(
        self,
        primary: Engine,
        replica: Engine | None = None,
        *,
        replay_wait_seconds: float = REPLAY_WAIT_SECONDS,
        recheck_seconds: float = REPLICA_RECHECK_SECONDS,
        lag_shown_over: float = LAG_SHOWN_OVER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.replay_wait_seconds = replay_wait_seconds
        self.recheck_seconds = recheck_seconds
        self.lag_shown_over = lag_shown_over
        self._clock = clock
        self._lock = threading.Lock()
        self._capturing = threading.Lock()
        self._committed = False  # a write was committed; its WAL position is not read yet
        self._write: _Write | None = None
        self._down = False
        self._checked_at = 0.0
        # Told True/False when the replica stops or starts answering (from any thread).
        self.on_replica_change: Callable[[bool], None] | None = None
        if replica is not None:
            _watch_commits(primary, self._wrote)

    @classmethod
    def from_urls(cls, primary_url: str, replica_url: str | None = None) -> Engines:
        """The primary's engine, and the replica's when `replica_url` names another database."""
        primary = make_engine(primary_url)
        if not replica_url or sqlalchemy_url(replica_url) == primary.url:
            return cls(primary)
        return cls(primary, make_engine(replica_url, connect_timeout=REPLICA_CONNECT_TIMEOUT_SECONDS))

    @property
    def replica_down(self) -> bool:
        return self._down

    def dispose(self) -> None:
        self.primary.dispose()
        if self.replica is not None:
            self.replica.dispose()

    # -- reads -----------------------------------------------------------------

    def reads(self) -> Engine:
        """The engine the next read goes to (it may wait up to the replay wait)."""
        if self.replica is None or self._resting():
            return self.primary
        write = self._pending_write()
        if write is None or self._replayed(write):
            return self.replica
        return self.primary

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only transaction on the engine `reads()` picks; a replica that
        cannot be reached is reported and the read goes to the primary."""
        engine = self.reads()
        connection: Connection | None = None
        if engine is self.replica:
            try:
                connection = engine.connect()
            except DBAPIError as error:
                if failure(error) is not Failure.UNREACHABLE:
                    raise
                self._answered(False)
                engine = self.primary
            else:
                self._answered(True)
        if connection is None:
            connection = engine.connect()
        with connection:
            try:
                with connection.begin():
                    connection.execute(text("SET TRANSACTION READ ONLY"))
                    yield connection
            except DBAPIError as error:
                if engine is self.replica and failure(error) is Failure.UNREACHABLE:
                    self._answered(False)
                raise

    def lag(self) -> ReplicaLag | None:
        """How far the replica is behind; None without one or while it cannot be reached."""
        if self.replica is None or self._resting():
            return None
        with self.primary.connect() as conn:
            position = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        try:
            with self.replica.connect() as conn:
                for _ in range(LAG_CONFIRMATIONS):
                    behind, seconds = self._behind(conn, str(position))
                    # A record written just now (an idle primary's checkpoint, say) is
                    # replayed within moments: only a replica that stays behind is lagging,
                    # and then for as long as since the last transaction it replayed.
                    if behind is None or behind <= 0:
                        break
                    time.sleep(REPLAY_POLL_SECONDS)
        except DBAPIError as error:
            if failure(error) is not Failure.UNREACHABLE:
                raise
            self._answered(False)
            return None
        self._answered(True)
        # NULL: the "replica" is a primary itself, and has all it wrote.
        if behind is None or behind <= 0:
            return ReplicaLag(seconds=0.0, bytes_behind=0)
        return ReplicaLag(seconds=None if seconds is None else float(seconds), bytes_behind=int(behind))

    def _behind(self, conn: Connection, position: str) -> tuple[Any, Any]:
        """On the replica: the bytes of WAL up to the primary's `position` it has
        not replayed (NULL on a primary), and the seconds since the last
        transaction it replayed (NULL before its first)."""
        row = conn.execute(
            text(
                "SELECT pg_wal_lsn_diff(CAST(:position AS pg_lsn), pg_last_wal_replay_lsn()),"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            ),
            {"position": position},
        ).one()
        conn.rollback()
        return row[0], row[1]

    # -- read-your-writes (R161) ---------------------------------------------------

    def _wrote(self) -> None:
        with self._lock:
            self._committed = True

    def _pending_write(self) -> _Write | None:
        """The last write the replica may not have replayed. Its WAL position is
        read at the first read after its commit: a position read after the
        commit is at or past the commit's."""
        # One reader reads it; the others wait for it rather than miss the write.
        with self._capturing:
            with self._lock:
                if not self._committed:
                    return self._write
                self._committed = False
            with self.primary.connect() as conn:
                lsn = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
            with self._lock:
                self._write = _Write(str(lsn), self._clock() + self.replay_wait_seconds)
                return self._write

    def _replayed(self, write: _Write) -> bool:
        """Whether the replica has replayed `write`, waiting until its deadline."""
        assert self.replica is not None
        try:
            with self.replica.connect() as conn:
                while True:
                    if self._has_replayed(conn, write.lsn):
                        with self._lock:
                            if self._write == write:
                                self._write = None
                        return True
                    if self._clock() >= write.deadline:
                        return False
                    time.sleep(REPLAY_POLL_SECONDS)
        except DBAPIError as error:
            if failure(error) is not Failure.UNREACHABLE:
                raise
            self._answered(False)
            return False

    def _has_replayed(self, conn: Connection, lsn: str) -> bool:
        """Whether the replica has replayed the WAL up to `lsn`; a server that is
        not in recovery (a primary named as the replica) has all it wrote."""
        done = conn.execute(
            text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true)"), {"lsn": lsn}
        ).scalar_one()
        conn.rollback()
        return bool(done)

    # -- reachability (R162) -------------------------------------------------------

    def _resting(self) -> bool:
        """Down, and not yet due to be tried again."""
        with self._lock:
            return self._down and self._clock() - self._checked_at < self.recheck_seconds

    def _answered(self, reachable: bool) -> None:
        with self._lock:
            changed = self._down == reachable
            self._down = not reachable
            self._checked_at = self._clock()
        if changed and self.on_replica_change is not None:
            self.on_replica_change(reachable)


def _watch_commits(engine: Engine, wrote: Callable[[], None]) -> None:
    """Calls `wrote` once a transaction that wrote on `engine` has committed:
    at the commit it is marked (a transaction that wrote has a transaction
    id), and reported when its connection is back in the pool."""

    def on_commit(conn: Connection) -> None:
        driver = conn.connection.driver_connection
        try:
            row = driver.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL").fetchone()  # type: ignore[union-attr]
        except psycopg.Error:  # a failed transaction: the commit rolls it back
            return
        if row and row[0]:
            conn.info["wrote"] = True

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop("wrote", False):
            wrote()

    event.listen(engine, "commit", on_commit)
    event.listen(engine.pool, "checkin", on_checkin)
