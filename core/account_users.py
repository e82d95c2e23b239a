"""The users of one account: their counts for the health tile and side pane,
the paged Users tab, and the most recently seen few (docs/rules.md R87;
docs/rules.md R87: active / total with activation %, top three users)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from core.accounts import require_account
from core.listing import contains_pattern, normalized_search, percent
from core.paging import Page, PageRequest
from core.users import PERSON_COLUMNS, UserStatus, person_fields
from db.enums import UserRole

ACTIVE_USER_DAYS = 30
TOP_USERS = 3


@dataclass(frozen=True)
class UserCounts:
    total_users: int
    active_users: int  # confirmed and seen in the last 30 days
    inactive_users: int
    pending_users: int  # e-mail not confirmed
    activation_percent: int | None  # active of total


@dataclass(frozen=True)
class TenantUser:
    id: str
    display_name: str
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    role: UserRole
    status: UserStatus
    email_confirmed: bool
    created_at: datetime
    last_seen_at: datetime | None
    avatar_url: str | None


def user_counts(conn: Connection, tenant_id: int | str, now: datetime) -> UserCounts:
    tenant = require_account(conn, tenant_id)
    row = (
        conn.execute(
            text(
                "SELECT count(*) AS total,"
                " count(*) FILTER (WHERE email_confirmed AND last_seen_at >= :active_since) AS active,"
                " count(*) FILTER (WHERE NOT email_confirmed) AS pending"
                " FROM users WHERE tenant_id = :id AND deleted_at IS NULL"
            ),
            {"id": tenant, "active_since": now - timedelta(days=ACTIVE_USER_DAYS)},
        )
        .mappings()
        .one()
    )
    total, active, pending = row["total"], row["active"], row["pending"]
    return UserCounts(
        total_users=total,
        active_users=active,
        inactive_users=max(0, total - active - pending),
        pending_users=pending,
        activation_percent=percent(active, total),
    )


def tenant_users(
    conn: Connection,
    tenant_id: int | str,
    *,
    search: str | None = None,
    roles: Sequence[UserRole] = (),
    page: PageRequest = PageRequest(),
) -> Page[TenantUser]:
    """The account's users: named ones first, by first then last name, then
    e-mail (docs/rules.md R93, R95). The search is case-insensitive."""
    tenant = require_account(conn, tenant_id)
    conditions = ["u.tenant_id = :id", "u.deleted_at IS NULL"]
    params: dict[str, Any] = {"id": tenant, "limit": page.page_size, "offset": page.offset}
    term = normalized_search(search)
    if term:
        conditions.append(
            "(u.email LIKE :pattern"
            " OR lower(COALESCE(u.first_name, '') || ' ' || COALESCE(u.last_name, '')) LIKE :pattern"
            " OR lower(u.title) LIKE :pattern)"
        )
        params["pattern"] = contains_pattern(term)
    if roles:
        conditions.append("u.role = ANY(:roles)")
        params["roles"] = [str(role) for role in roles]
    where = " AND ".join(conditions)
    total = conn.execute(text(f"SELECT count(*) FROM users u WHERE {where}"), params).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    rows = conn.execute(
        text(
            f"SELECT {PERSON_COLUMNS} FROM users u WHERE {where}"
            " ORDER BY lower(u.first_name) NULLS LAST, lower(u.last_name) NULLS LAST, u.email, u.id"
            " LIMIT :limit OFFSET :offset"
        ),
        params,
    ).mappings()
    return Page([TenantUser(**person_fields(row)) for row in rows], total, page.page, page.page_size)


def top_users(conn: Connection, tenant_id: int | str) -> list[TenantUser]:
    """The three most recently seen users, for the side pane."""
    tenant = require_account(conn, tenant_id)
    rows = conn.execute(
        text(
            f"SELECT {PERSON_COLUMNS} FROM users u WHERE u.tenant_id = :id AND u.deleted_at IS NULL"
            " ORDER BY u.last_seen_at DESC NULLS LAST, u.email, u.id LIMIT :top"
        ),
        {"id": tenant, "top": TOP_USERS},
    ).mappings()
    return [TenantUser(**person_fields(row)) for row in rows]
