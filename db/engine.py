"""Engines and connections: the one place that turns settings into a database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, text

from db import embedded


def resolve_database_url(explicit_url: str | None) -> str:
    """The configured server, or the embedded one started on demand."""
    if explicit_url:
        return embedded.to_sqlalchemy_url(explicit_url)
    return embedded.start()


def make_engine(url: str) -> Engine:
    return create_engine(
        embedded.to_sqlalchemy_url(url),
        pool_pre_ping=True,
        # Timestamps come back in UTC whatever the server's default zone is.
        connect_args={"connect_timeout": 10, "options": "-c timezone=UTC"},
    )


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


def is_admin(conn: Connection) -> bool:
    """Admin = the connecting role is a superuser or a member of backoffice_admin."""
    return bool(
        conn.execute(
            text(
                "SELECT CASE WHEN r.rolsuper THEN true"
                " WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'backoffice_admin') THEN false"
                " ELSE pg_has_role(current_user, 'backoffice_admin', 'MEMBER') END"
                " FROM pg_roles r WHERE r.rolname = current_user"
            )
        ).scalar()
    )
