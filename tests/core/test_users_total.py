"""The users list total without a search comes from live_user_days (a
trigger-kept count, migration 0005) less the live users of deleted accounts:
it must equal counting the visible users one by one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, text

from core.users import list_users
from tests import factories as f


def visible(conn: Connection) -> int:
    return conn.execute(
        text(
            "SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id"
            " WHERE u.deleted_at IS NULL AND t.deleted_at IS NULL"
        )
    ).scalar_one()


def test_total_follows_new_deleted_and_restored_users(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    gone = f.tenant(conn, name="Gone", deleted_at=f.NOW - timedelta(days=1))
    for n in range(3):
        f.user(conn, acme.id, email=f"a{n}@acme.test")
    f.user(conn, gone.id, email="g@gone.test")
    f.user(conn, acme.id, email="left@acme.test", deleted_at=f.NOW)
    assert list_users(conn).total == visible(conn) == 3
    conn.execute(text("UPDATE users SET deleted_at = now() WHERE email = 'a0@acme.test'"))
    conn.execute(text("UPDATE users SET deleted_at = NULL WHERE email = 'left@acme.test'"))
    conn.execute(text("DELETE FROM users WHERE email = 'a1@acme.test'"))
    assert list_users(conn).total == visible(conn) == 2
    conn.execute(text("UPDATE tenants SET deleted_at = NULL WHERE name = 'Gone'"))
    assert list_users(conn).total == visible(conn) == 3
