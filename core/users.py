"""Users across every account: the list, and one person's detail with their
memberships, sign-ins and sessions (backoffice.md 1.22-1.25, 4.4, 4.5;
decisions.md: the PR's search minimum, columns, tiles and tabs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.accounts import (
    HAS_EVER_SUBSCRIBED_SQL,
    SORT_MATCHES_BELOW_SHARE,
    SORT_MATCHES_UP_TO,
    STATUS_SQL,
    AccountStatus,
    PlannedChange,
    displayed_forward_mrr,
    mrr_changes_at_renewal,
    planned_change,
)
from core.errors import NotFound
from core.listing import as_utc, contains_pattern, display_name, normalized_search
from core.paging import Page, PageRequest
from db.enums import SubscriptionPlan, UserRole

SEARCH_MINIMUM = 2  # shorter searches list everybody (decisions.md)
SESSION_LIFETIME = timedelta(hours=2160)  # domain.md 1.5
LOGIN_HISTORY_DAYS = 30


class UserStatus(StrEnum):
    """Active once the e-mail is confirmed; Pending while invited (domain.md 1.12)."""

    Active = "Active"
    Pending = "Pending"


@dataclass(frozen=True)
class UserRow:
    id: str
    display_name: str
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    role: UserRole
    status: UserStatus
    email_confirmed: bool
    tenant_id: str
    tenant_name: str
    tenant_plan: SubscriptionPlan
    tenant_planned_change: PlannedChange | None
    tenant_has_ever_subscribed: bool
    created_at: datetime
    last_seen_at: datetime | None  # the last sign-in
    avatar_url: str | None


@dataclass(frozen=True)
class Membership:
    """One account the person belongs to (one users row per tenant, linked by e-mail)."""

    user_id: str
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    plan: SubscriptionPlan
    status: AccountStatus
    planned_change: PlannedChange | None
    has_ever_subscribed: bool
    monthly_recurring_revenue: Decimal | None  # the account's current price: this membership's contribution
    forward_monthly_recurring_revenue: Decimal | None
    mrr_changes_at_renewal: bool
    scheduled_price_amount: Decimal | None
    currency: str | None
    renewal_date: datetime | None
    country: str | None
    role: UserRole
    email_confirmed: bool
    created_at: datetime
    last_seen_at: datetime | None


@dataclass(frozen=True)
class UserTiles:
    memberships: int
    active_sessions: int  # not revoked and not expired
    logins_last_30_days: int  # successful sign-ins


@dataclass(frozen=True)
class UserDetail:
    id: str
    display_name: str
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    role: UserRole
    status: UserStatus
    email_confirmed: bool
    locale: str
    avatar_url: str | None
    tenant_id: str
    tenant_name: str
    created_at: datetime
    modified_at: datetime | None
    last_seen_at: datetime | None
    tiles: UserTiles
    memberships: list[Membership]


_NAMES_SQL = "lower(COALESCE(u.first_name, '') || ' ' || COALESCE(u.last_name, ''))"
_USER_COLUMNS = f"""
    u.id, u.email, u.first_name, u.last_name, u.title, u.role, u.email_confirmed, u.created_at,
    u.last_seen_at, u.avatar->>'Url' AS avatar_url, u.tenant_id, t.name AS tenant_name, t.plan AS tenant_plan,
    s.cancel_at_period_end, s.scheduled_plan, COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS has_ever_subscribed
"""
# Most recently seen first; never-seen users last (the original's default view).
_RECENT_FIRST = "u.last_seen_at DESC NULLS LAST, u.email, u.id"
_VISIBLE = (
    "u.deleted_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = u.tenant_id AND d.deleted_at IS NOT NULL)"
)
# Every live user, less those of deleted accounts. live_user_days (migration
# 0005, kept by a trigger) counts each live user once, on the day it was
# created, so the first figure is a sum of a few thousand counters rather than
# a count of a million index entries; deleted accounts are few.
_EVERYONE_COUNT_SQL = (
    "SELECT (SELECT COALESCE(sum(created), 0)::bigint FROM live_user_days)"
    " - (SELECT count(*) FROM tenants d JOIN users u ON u.tenant_id = d.id"
    "    WHERE d.deleted_at IS NOT NULL AND u.deleted_at IS NULL)"
)
_OWN_FIELDS_MATCH = f"(u.email LIKE :pattern OR {_NAMES_SQL} LIKE :pattern)"
_ACCOUNT_NAME_MATCH = "EXISTS (SELECT 1 FROM tenants t WHERE t.id = u.tenant_id AND lower(t.name) LIKE :pattern)"


def list_users(
    conn: Connection, *, search: str | None = None, page: PageRequest = PageRequest()
) -> Page[UserRow]:
    """Users of non-deleted accounts, most recently seen first. A search of two
    characters or more matches e-mail, first and last name, or account name."""
    term = normalized_search(search)
    params: dict[str, Any] = {"limit": page.page_size, "offset": page.offset}
    if len(term) < SEARCH_MINIMUM:
        matches = _VISIBLE
        total = conn.execute(text(_EVERYONE_COUNT_SQL)).scalar_one()
    else:
        params["pattern"] = contains_pattern(term)
        matches = f"{_VISIBLE} AND ({_OWN_FIELDS_MATCH} OR {_ACCOUNT_NAME_MATCH})"
        # Two disjoint, index-backed counts: by the user's own fields, and the
        # rest by their account's name.
        total = conn.execute(
            text(
                f"SELECT (SELECT count(*) FROM users u WHERE {_VISIBLE} AND {_OWN_FIELDS_MATCH})"
                f" + (SELECT count(*) FROM tenants t JOIN users u ON u.tenant_id = t.id"
                f"    WHERE lower(t.name) LIKE :pattern AND {_VISIBLE} AND NOT {_OWN_FIELDS_MATCH})"
            ),
            params,
        ).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    if len(term) >= SEARCH_MINIMUM and _few_matches(conn, total):
        page_ids = (
            f"SELECT id FROM (SELECT u.id, u.last_seen_at, u.email FROM users u WHERE {_VISIBLE} AND {_OWN_FIELDS_MATCH}"
            f" UNION ALL SELECT u.id, u.last_seen_at, u.email FROM tenants t JOIN users u ON u.tenant_id = t.id"
            f"  WHERE lower(t.name) LIKE :pattern AND {_VISIBLE} AND NOT {_OWN_FIELDS_MATCH}) u"
        )
    else:
        page_ids = f"SELECT u.id FROM users u WHERE {matches}"
    rows = conn.execute(
        text(
            f"WITH page AS MATERIALIZED ({page_ids} ORDER BY {_RECENT_FIRST} LIMIT :limit OFFSET :offset)"
            f" SELECT {_USER_COLUMNS} FROM page JOIN users u ON u.id = page.id"
            " JOIN tenants t ON t.id = u.tenant_id LEFT JOIN subscriptions s ON s.tenant_id = u.tenant_id"
            f" ORDER BY {_RECENT_FIRST}"
        ),
        params,
    ).mappings()
    return Page([_user_row(row) for row in rows], total, page.page, page.page_size)


def _few_matches(conn: Connection, total: int) -> bool:
    """Few matches are sorted outright; many are met early on the recency index."""
    if total <= SORT_MATCHES_UP_TO:
        return True
    users = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass")).scalar_one()
    return total < users * SORT_MATCHES_BELOW_SHARE


def _user_row(row: Any) -> UserRow:
    return UserRow(
        id=row["id"],
        display_name=display_name(row["first_name"], row["last_name"], row["email"]),
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        title=row["title"],
        role=UserRole(row["role"]),
        status=UserStatus.Active if row["email_confirmed"] else UserStatus.Pending,
        email_confirmed=row["email_confirmed"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_plan=SubscriptionPlan(row["tenant_plan"]),
        tenant_planned_change=planned_change(row["cancel_at_period_end"], row["scheduled_plan"]),
        tenant_has_ever_subscribed=row["has_ever_subscribed"],
        created_at=as_utc(row["created_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
        avatar_url=row["avatar_url"],
    )


def user_detail(conn: Connection, user_id: str, now: datetime) -> UserDetail:
    """One users row with every membership of the same e-mail and the tiles."""
    row = (
        conn.execute(
            text(
                "SELECT u.*, u.avatar->>'Url' AS avatar_url, COALESCE(t.name, '') AS tenant_name FROM users u"
                " LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = :id AND u.deleted_at IS NULL"
            ),
            {"id": user_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"user {user_id} not found")
    members = memberships(conn, row["email"])
    return UserDetail(
        id=row["id"],
        display_name=display_name(row["first_name"], row["last_name"], row["email"]),
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        title=row["title"],
        role=UserRole(row["role"]),
        status=UserStatus.Active if row["email_confirmed"] else UserStatus.Pending,
        email_confirmed=row["email_confirmed"],
        locale=row["locale"],
        avatar_url=row["avatar_url"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        created_at=as_utc(row["created_at"]),
        modified_at=as_utc(row["modified_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
        tiles=_tiles(conn, row["email"], len(members), now),
        memberships=members,
    )


def memberships(conn: Connection, email: str) -> list[Membership]:
    """Every non-deleted users row with this e-mail in a non-deleted account,
    ordered by user id (a person belongs to few accounts)."""
    rows = conn.execute(
        text(
            f"SELECT u.id AS user_id, u.role, u.email_confirmed, u.created_at, u.last_seen_at,"
            f" t.id AS tenant_id, t.name AS tenant_name, t.logo->>'Url' AS tenant_logo_url, t.plan,"
            f" {STATUS_SQL} AS status, s.cancel_at_period_end, s.scheduled_plan, s.current_price_amount,"
            f" s.scheduled_price_amount, s.current_price_currency, s.current_period_end,"
            f" COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS has_ever_subscribed,"
            " s.billing_info->'Address'->>'Country' AS country"
            " FROM users u JOIN tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL"
            " LEFT JOIN subscriptions s ON s.tenant_id = t.id"
            " WHERE u.email = :email AND u.deleted_at IS NULL ORDER BY u.id"
        ),
        {"email": email},
    ).mappings()
    return [_membership(row) for row in rows]


def _membership(row: Any) -> Membership:
    change = planned_change(row["cancel_at_period_end"], row["scheduled_plan"])
    price, scheduled = row["current_price_amount"], row["scheduled_price_amount"]
    return Membership(
        user_id=row["user_id"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_logo_url=row["tenant_logo_url"],
        plan=SubscriptionPlan(row["plan"]),
        status=AccountStatus(row["status"]),
        planned_change=change,
        has_ever_subscribed=row["has_ever_subscribed"],
        monthly_recurring_revenue=price,
        forward_monthly_recurring_revenue=displayed_forward_mrr(price, row["cancel_at_period_end"], scheduled),
        mrr_changes_at_renewal=mrr_changes_at_renewal(change, price, scheduled),
        scheduled_price_amount=scheduled,
        currency=row["current_price_currency"],
        renewal_date=as_utc(row["current_period_end"]),
        country=row["country"],
        role=UserRole(row["role"]),
        email_confirmed=row["email_confirmed"],
        created_at=as_utc(row["created_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
    )


def _tiles(conn: Connection, email: str, membership_count: int, now: datetime) -> UserTiles:
    row = (
        conn.execute(
            text(
                "SELECT"
                " (SELECT count(*) FROM sessions se JOIN users u ON u.id = se.user_id"
                "   WHERE u.email = :email AND se.revoked_at IS NULL AND se.created_at > :expired_before) AS sessions,"
                " (SELECT count(*) FROM email_logins WHERE email = :email AND completed AND created_at >= :since)"
                " + (SELECT count(*) FROM external_logins WHERE email = :email AND login_result = 'Success'"
                "    AND created_at >= :since) AS logins"
            ),
            {
                "email": email,
                "expired_before": now - SESSION_LIFETIME,
                "since": now - timedelta(days=LOGIN_HISTORY_DAYS),
            },
        )
        .mappings()
        .one()
    )
    return UserTiles(membership_count, row["sessions"], row["logins"])
