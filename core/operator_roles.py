"""One PostgreSQL role per operator, so PostgreSQL itself enforces each
operator's rights (`backoffice operators apply`, the SSH server's SET ROLE).

Every operator `alice` gets a NOLOGIN role `bo_op_alice`, a member of
backoffice_admin or backoffice_reader. The role that applies them (the one the
SSH server connects as) is made a member of each, with SET but without
INHERIT where PostgreSQL (16+) can say so, so it may become the operator but
does not gather every operator's rights itself. Roles with the prefix that
the file no longer lists are dropped; no other role is ever touched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from psycopg import sql
from sqlalchemy import Connection, text

from core.errors import OperatorError

DEFAULT_PREFIX = "bo_op_"
# Another prefix keeps two deployments (or test runs) on one cluster apart:
# roles are cluster-wide, and apply drops the prefixed roles it does not know.
PREFIX_ENV = "BACKOFFICE_OPERATOR_ROLE_PREFIX"
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,14}_\Z")
# With the longest prefix a role name stays within PostgreSQL's 63 bytes.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,40}\Z")
NAME_RULE = "a lower-case letter, then up to 40 lower-case letters, digits or underscores"


class OperatorRole(StrEnum):
    admin = "admin"
    reader = "reader"


GROUPS = {OperatorRole.admin: "backoffice_admin", OperatorRole.reader: "backoffice_reader"}


def valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name))


def role_prefix() -> str:
    prefix = os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX
    if not PREFIX_PATTERN.match(prefix):
        raise OperatorError(
            f"{PREFIX_ENV} must be a lower-case letter, up to 14 letters, digits or underscores, and a final underscore"
        )
    return prefix


def role_name(operator: str) -> str:
    """The operator's PostgreSQL role; the name is validated first."""
    if not valid_name(operator):
        raise OperatorError(f"operator name {operator!r} is not valid: {NAME_RULE}")
    return role_prefix() + operator


@dataclass(frozen=True)
class RoleChanges:
    created: tuple[str, ...] = ()
    regrouped: tuple[str, ...] = ()  # existing roles moved between admin and reader
    dropped: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    def as_details(self) -> dict[str, list[str]]:
        return {
            "created": list(self.created),
            "regrouped": list(self.regrouped),
            "dropped": list(self.dropped),
            "unchanged": list(self.unchanged),
        }


def _quoted(conn: Connection, template: str, *names: str) -> str:
    """A statement with role names quoted as identifiers (they are validated
    too, but never pasted in unquoted)."""
    raw = conn.connection.driver_connection
    return sql.SQL(template).format(*(sql.Identifier(name) for name in names)).as_string(raw)


def _existing(conn: Connection, prefix: str) -> dict[str, set[str]]:
    """Prefixed roles and which of the two groups each is a member of."""
    rows = conn.execute(
        text(
            "SELECT r.rolname AS role, g.rolname AS grp FROM pg_roles r"
            " LEFT JOIN pg_auth_members m ON m.member = r.oid"
            " LEFT JOIN pg_roles g ON g.oid = m.roleid AND g.rolname IN ('backoffice_admin', 'backoffice_reader')"
            " WHERE left(r.rolname, length(:prefix)) = :prefix AND NOT r.rolcanlogin"
        ),
        {"prefix": prefix},
    )
    existing: dict[str, set[str]] = {}
    for row in rows:
        groups = existing.setdefault(row.role, set())
        if row.grp:
            groups.add(row.grp)
    return existing


def _can_grant_without_inherit(conn: Connection) -> bool:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) >= 160000


def apply_roles(conn: Connection, wanted: Mapping[str, OperatorRole], *, server_role: str | None = None) -> RoleChanges:
    """Bring the operator roles to `wanted` (operator name → role), in the
    caller's transaction, and make `server_role` (the role the SSH server
    connects as; by default this connection's) a member of each. Needs a
    superuser, or CREATEROLE with ADMIN OPTION on the two groups."""
    prefix = role_prefix()
    existing = _existing(conn, prefix)
    without_inherit = _can_grant_without_inherit(conn)
    created, regrouped, unchanged = [], [], []
    for operator, role in sorted(wanted.items()):
        name = role_name(operator)
        group, other = (
            GROUPS[OperatorRole(role)],
            GROUPS[OperatorRole.reader if role == OperatorRole.admin else OperatorRole.admin],
        )
        groups = existing.get(name)
        if groups is None:
            conn.exec_driver_sql(_quoted(conn, "CREATE ROLE {} NOLOGIN", name))
            created.append(name)
        elif groups == {group}:
            unchanged.append(name)
        else:
            regrouped.append(name)
        if groups is None or group not in groups:
            conn.exec_driver_sql(_quoted(conn, "GRANT {} TO {}", group, name))
        if groups is not None and other in groups:
            conn.exec_driver_sql(_quoted(conn, "REVOKE {} FROM {}", other, name))
        options = " WITH INHERIT FALSE, SET TRUE" if without_inherit else ""
        if server_role:
            conn.exec_driver_sql(_quoted(conn, "GRANT {} TO {}" + options, name, server_role))
        else:
            conn.exec_driver_sql(_quoted(conn, "GRANT {} TO CURRENT_USER" + options, name))
    keep = {role_name(operator) for operator in wanted}
    dropped = sorted(name for name in existing if name not in keep)
    for name in dropped:
        conn.exec_driver_sql(_quoted(conn, "DROP ROLE {}", name))
    return RoleChanges(tuple(created), tuple(regrouped), tuple(dropped), tuple(unchanged))


def can_become(conn: Connection, role: str) -> bool:
    """Whether this connection's role may SET ROLE to `role` (it exists and
    the connecting role is a member, or a superuser)."""
    # PostgreSQL 16 split SET from membership; before it a member may SET ROLE.
    privilege = "SET" if _can_grant_without_inherit(conn) else "MEMBER"
    return bool(
        conn.execute(
            text(
                "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role) THEN false"
                " ELSE pg_has_role(session_user, :role, :privilege) END"
            ),
            {"role": role, "privilege": privilege},
        ).scalar()
    )
