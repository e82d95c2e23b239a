"""`backoffice operators apply`: one NOLOGIN role per operator in the right
group, the server's role a member of each (SET, not INHERIT), and the admin
rule on current_user after SET ROLE."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.operator_roles import OperatorRole, role_name
from db.engine import is_admin, make_engine
from tests.cli_run import run_cli_captured
from tests.ssh.support import libpq, make_operator, write_operators


@pytest.fixture
def login_role(database_url: str) -> Iterator[tuple[str, str]]:
    """A LOGIN role with no group (the SSH server's), its SQLAlchemy URL."""
    name = f"srv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN")
    yield name, make_url(database_url).set(username=name, password=None).render_as_string(hide_password=False)
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def test_the_server_role_may_become_each_operator_and_is_admin_only_as_an_admin(
    database_url: str,
    role_prefix: str,
    login_role: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, server_url = login_role
    path = tmp_path / "operators.toml"
    write_operators(path, [make_operator("alice", OperatorRole.admin), make_operator("bob", OperatorRole.reader)])
    # Not an admin: refused before the file is read.
    code, _, err = run_cli_captured(
        ["--database-url", server_url, "operators", "apply", "--operators", str(path)], monkeypatch, capsys
    )
    assert code == 3 and "backoffice_admin" in err
    code, _, err = run_cli_captured(
        ["--database-url", database_url, "operators", "apply", "--operators", str(path), "--server-role", server],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    plain = create_engine(server_url)
    with plain.connect() as conn:
        assert not is_admin(conn)
        with pytest.raises(Exception, match="permission denied"):
            conn.execute(text("SELECT count(*) FROM tenants"))  # no INHERIT: not the operators' rights
    plain.dispose()
    for operator, admin in (("alice", True), ("bob", False)):
        engine = make_engine(server_url, role=role_name(operator))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == role_name(operator)
            assert is_admin(conn) is admin
            assert conn.execute(text("SELECT count(*) FROM tenants")).scalar() == 0
        engine.dispose()
    # A bad file changes nothing and says where.
    path.write_text('[[operators]]\nname = "Alice"\nrole = "admin"\nkeys = []\n')
    code, _, err = run_cli_captured(
        ["--database-url", database_url, "operators", "apply", "--operators", str(path)], monkeypatch, capsys
    )
    assert code == 1 and "line 2: name 'Alice' is not valid" in err
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE left(rolname, length(%s)) = %s", (role_prefix, role_prefix)
        ).fetchone() == (2,)
