"""Engines and connections: the one place that turns settings into a database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    url: str, *, role: str | None = None, pool_size: int | None = None, max_overflow: int | None = None
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
        connect_args={"connect_timeout": 10, "options": "-c timezone=UTC"},
        **pool,
    )
    role = role or os.environ.get(DB_ROLE_ENV) or None
    if role:
        event.listen(engine, "connect", _set_role(role), insert=True)
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


def describe(engine: Engine) -> str:
    """Where we are connected, without credentials: `user@host/db`."""
    url = engine.url
    host = url.host or (url.query.get("host") if url.query else None) or "local socket"
    if isinstance(host, tuple):
        host = host[0]
    if str(host).startswith("/"):
        host = "embedded" if "postgres" in str(host) else "unix socket"
    return f"{url.username or ''}@{host}/{url.database}"


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
