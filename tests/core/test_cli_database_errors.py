"""The database as the command line meets it: URLs that are not PostgreSQL
ones, a socket directory in the host, a database without the schema, one
that cannot be reached, and roles without the rights to write (exit 3 before
anything else: configuration, "not found", the data)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy.engine import make_url

from db.engine import sqlalchemy_url
from tests.cli_run import Run, one_error_line, run_cli
from tests.conftest import _libpq, login_role_url

POSTGRES_ONLY = "only PostgreSQL database URLs work (postgresql://, postgres://, postgresql+psycopg://)"
NO_SCHEMA = "error: the database has no back-office schema: run backoffice db upgrade"
STRIPE = {
    "STRIPE_API_KEY": "sk_test_unused",
    "STRIPE_API_BASE": "http://127.0.0.1:9",
    "STRIPE_WEBHOOK_SECRET": "whsec_unused",
}


def usage_error(run: Run, message: str) -> None:
    assert run.code == 2, run
    assert run.err.startswith("Usage: ") and message in run.err and run.out == "", run


@pytest.mark.parametrize("url", ["mysql://user@host/db", "http://example.com/", "sqlite:///x.db", "localhost/db", ""])
def test_a_url_that_is_not_postgresql_is_a_usage_error(url: str) -> None:
    usage_error(run_cli("--database-url", url, "accounts", "list"), POSTGRES_ONLY)


@pytest.mark.parametrize("url", ["postgresql://[::1", "postgresql://user:hunter2@[::1/db", "postgresql://u@/db\x00x"])
def test_a_url_that_cannot_be_parsed_is_a_usage_error_that_keeps_the_password(url: str) -> None:
    run = run_cli("--database-url", url, "accounts", "list")
    usage_error(run, "the database URL cannot be parsed; write it as postgresql://user@host/database")
    assert "hunter2" not in run.err


def test_a_bad_url_in_the_environment_is_one_line() -> None:
    run = run_cli("accounts", "list", env={"BACKOFFICE_DATABASE_URL": "mysql://user@host/db"})
    assert run.code == 1 and one_error_line(run) == f"error: {POSTGRES_ONLY}"


def test_a_percent_encoded_socket_directory_becomes_the_host_query() -> None:
    url = sqlalchemy_url("postgresql://operator@%2Ftmp%2Fpg%20data/backoffice")
    assert (url.query.get("host"), url.database) == ("/tmp/pg data", "backoffice")


def test_a_socket_directory_in_the_host_is_where_libpq_looks(database_url: str) -> None:
    url = make_url(database_url)
    socket_directory = url.query.get("host")
    # The embedded test server listens on a unix socket only (an external
    # BACKOFFICE_TEST_DATABASE_URL over TCP has no directory to spell).
    assert isinstance(socket_directory, str) and socket_directory.startswith("/"), database_url
    # libpq's own spelling: the directory percent-encoded where the host goes.
    libpq_url = f"postgresql://{url.username}@{quote(socket_directory, safe='')}/{url.database}"
    run = run_cli("--database-url", libpq_url, "accounts", "list", "--json")
    assert run.code == 0, run
    assert json.loads(run.out)["total"] == 0


def test_an_unreachable_database_is_one_line() -> None:
    run = run_cli("--database-url", "postgresql://nobody@/backoffice?host=/nonexistent", "accounts", "list")
    assert run.code == 1
    assert one_error_line(run).startswith("error: cannot reach the database: ")


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """A database the migrations never ran on."""
    name = f"t_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "list"],
        ["accounts", "show", "42"],
        ["users", "list", "--search", "ada"],
        ["billing-events"],
        ["invoices"],
        ["report", "kpis"],
        ["banners"],
        ["drift", "ack", "42"],
    ],
)
def test_a_database_without_the_schema_says_to_upgrade_it(empty_database_url: str, args: list[str]) -> None:
    run = run_cli("--database-url", empty_database_url, *args)
    assert run.code == 1 and one_error_line(run) == NO_SCHEMA


WRITING_COMMANDS = [
    ["demo", "seed", "--tenants", "1", "--replace"],
    ["demo", "seed", "--tenants", "1"],
    ["db", "upgrade"],
    ["sync", "4242"],
    ["sync", "--all"],
    ["drift", "ack", "4242"],
    ["drift", "check"],
    ["stripe", "poll"],
    ["stripe", "replay-archive", "4242"],
]


# The webhook runs only unconfigured: configured, one that got past the refusal would serve until stopped.
READER_REFUSALS = [
    *((args, configured) for args in WRITING_COMMANDS for configured in (False, True)),
    (["stripe", "webhook", "--port", "0"], False),
]


@pytest.mark.parametrize(("args", "configured"), READER_REFUSALS)
def test_every_writing_command_refuses_a_reader_first(reader_url: str, args: list[str], configured: bool) -> None:
    run = run_cli("--database-url", reader_url, *args, env=STRIPE if configured else {})
    assert run.code == 3, run
    assert "backoffice_admin" in one_error_line(run)


def test_a_reader_still_reads(reader_url: str) -> None:
    assert run_cli("--database-url", reader_url, "accounts", "list", "--json").code == 0


@pytest.fixture
def stranger_url(database_url: str) -> Iterator[str]:
    """A role that may log in and nothing more."""
    yield from login_role_url(database_url, "")


def test_a_role_without_rights_is_refused_in_one_line(stranger_url: str) -> None:
    run = run_cli("--database-url", stranger_url, "accounts", "list")
    assert run.code == 3
    assert one_error_line(run).startswith("error: the database refused: permission denied for table ")
