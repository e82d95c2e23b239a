"""Test databases: each is a copy of the migrated template (`template_url`,
tests/conftest.py), made in milliseconds by PostgreSQL and dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


def libpq(url: str) -> str:
    """A SQLAlchemy psycopg URL as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _execute(server_url: str, *statements: str) -> None:
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


@contextmanager
def cloned_database(server_url: str, template_url: str, name: str | None = None) -> Iterator[str]:
    """A migrated database of its own, as a URL, dropped on leaving. A fixed
    `name` (the console's header shows it, so snapshots need it stable)
    replaces any database left by an earlier run; without one, a unique name."""
    name = name or f"t_{uuid.uuid4().hex[:12]}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    _execute(server_url, drop, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _execute(server_url, drop)
