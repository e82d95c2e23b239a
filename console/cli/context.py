"""What every command shares: settings and a lazily opened database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import typer
from sqlalchemy import Connection, Engine

from core.errors import Forbidden
from core.settings import Settings
from db import engine as db_engine
from db import migrate


@dataclass
class AppContext:
    settings: Settings
    _engines: db_engine.Engines | None = field(default=None, repr=False)

    def engines(self) -> db_engine.Engines:
        """The primary, and the replica of --read-database-url (db/engine.py `Engines`)."""
        if self._engines is None:
            url = db_engine.resolve_database_url(self.settings.database_url)
            self._engines = db_engine.Engines.from_urls(url, self.settings.read_database_url)
            if not self.settings.database_url:
                # The embedded database is ours: keep it at the latest schema.
                migrate.upgrade(self._engines.primary)
        return self._engines

    def engine(self) -> Engine:
        """The primary: every command that writes uses it."""
        return self.engines().primary

    def close(self) -> None:
        """Closes the connections of the engines (when the command ends)."""
        if self._engines is not None:
            self._engines.dispose()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only transaction where reads go (the replica, if any)."""
        with self.engines().reading() as conn:
            yield conn


def require_admin(engine: Engine, command: str, *, before_migrations: bool = False) -> None:
    """Rights come first (contract): a command that writes refuses a non-admin
    with exit 3 before it reads its configuration or anything else."""
    with engine.connect() as conn:
        if not db_engine.is_admin(conn, before_migrations=before_migrations):
            raise Forbidden(f"{command} writes to the database: connect as a member of backoffice_admin")


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    assert isinstance(root.obj, AppContext)
    return root.obj
