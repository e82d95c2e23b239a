"""Users across every account: the list, and one person's detail with their
memberships, sign-ins and sessions (docs/figures.md#users, docs/figures.md#user;
docs/rules.md R91, R94: the two-character search minimum, columns, tiles and tabs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.account_status import (
    HAS_EVER_SUBSCRIBED_SQL,
    STATUS_SQL,
    AccountStatus,
    PlannedChange,
    displayed_forward_mrr,
    mrr_changes_at_renewal,
    planned_change,
)
from core.accounts import SORT_MATCHES_UP_TO
from core.errors import NotFound
from core.listing import (
    as_utc,
    contains_check,
    contains_match,
    display_name,
    normalized_search,
    search_params,
    tenant_name_match,
)
from core.paging import Page, PageRequest
from core.totals import (
    EXACT_UP_TO,
    WALK_ROW_COST,
    Total,
    account_name_share,
    capped_count,
    estimated_rows,
    rounded_estimate,
    sample_of,
    sampled_matches,
    search_total,
    settled_page,
    walk_is_shorter,
)
from db.enums import SubscriptionPlan, UserRole

SEARCH_MINIMUM = 2  # shorter searches list everybody (docs/rules.md R94)
SESSION_LIFETIME = timedelta(hours=2160)  # docs/rules.md R91
LOGIN_HISTORY_DAYS = 30


class UserActivity(StrEnum):
    """The users list's activity filter (docs/rules.md R110): seen within the
    last 24 hours, 7 or 30 days of the app's clock, or not seen in 30 days
    (never seen included)."""

    active_24h = "24h"
    active_7d = "7d"
    active_30d = "30d"
    inactive = "inactive"


ACTIVE_WITHIN = {
    UserActivity.active_24h: timedelta(hours=24),
    UserActivity.active_7d: timedelta(days=7),
    UserActivity.active_30d: timedelta(days=30),
}
INACTIVE_AFTER = timedelta(days=30)
ROLE_ORDER = (UserRole.Owner, UserRole.Admin, UserRole.Member)  # how the filters list the roles


def active_since(activity: UserActivity, now: datetime) -> datetime:
    """The instant an activity filter divides at: seen at or after it is active."""
    return now - ACTIVE_WITHIN.get(activity, INACTIVE_AFTER)


@dataclass(frozen=True)
class UserFilter:
    """The users list's filters beside the search (docs/rules.md R110, R111)."""

    roles: tuple[UserRole, ...] = ()
    activity: UserActivity | None = None

    @classmethod
    def of(cls, roles: Sequence[UserRole] = (), activity: UserActivity | None = None) -> UserFilter:
        # Every role chosen filters nothing.
        chosen = tuple(role for role in ROLE_ORDER if role in roles)
        return cls(() if len(chosen) == len(ROLE_ORDER) else chosen, activity)

    def __bool__(self) -> bool:
        return bool(self.roles) or self.activity is not None

    def sql(self, now: datetime | None) -> tuple[str, dict[str, Any]]:
        """The condition over `u` and its parameters ("TRUE" with no filter)."""
        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.roles:
            conditions.append("u.role = ANY(:roles)")
            params["roles"] = [str(role) for role in self.roles]
        if self.activity is not None:
            if now is None:
                raise ValueError("an activity filter needs the clock's now")
            params["active_since"] = active_since(self.activity, now)
            if self.activity is UserActivity.inactive:
                conditions.append("(u.last_seen_at IS NULL OR u.last_seen_at < :active_since)")
            else:
                conditions.append("u.last_seen_at >= :active_since")
        return " AND ".join(conditions) or "TRUE", params


class UserStatus(StrEnum):
    """Active once the e-mail is confirmed; Pending while invited (docs/rules.md R86)."""

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
    last_seen_at: datetime | None  # the last activity (not necessarily a sign-in)
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
# The users columns person_fields reads.
PERSON_COLUMNS = (
    "u.id, u.email, u.first_name, u.last_name, u.title, u.role, u.email_confirmed, u.created_at,"
    " u.last_seen_at, u.avatar->>'Url' AS avatar_url"
)
_USER_COLUMNS = f"""
    {PERSON_COLUMNS}, u.tenant_id, t.name AS tenant_name, t.plan AS tenant_plan,
    s.cancel_at_period_end, s.scheduled_plan, COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS has_ever_subscribed
"""
# Most recently seen first; never-seen users last (the default order, docs/rules.md R95).
_RECENT_FIRST = "u.last_seen_at DESC NULLS LAST, u.email, u.id"
# Who counts as a user, on every screen and report (docs/rules.md R78): a
# live user of a live account. The users list, its total and the dashboard's
# user figures all read this rule.
_VISIBLE = (
    "u.deleted_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = u.tenant_id AND d.deleted_at IS NOT NULL)"
)
# The users who count (`_VISIBLE`) by the UTC day and the UTC hour they were
# last seen (counted_user_days and counted_user_hours, migration 0014, kept by
# triggers on users and on the tenants' soft delete; docs/rules.md R213): the
# total is a sum of a thousand counters, a period since an instant sums its
# whole days and the whole hours of its first day, and counts only the users
# seen in the partial hour at its start from the index of last_seen_at (0002).
_COUNTED_USERS_SQL = "SELECT COALESCE(sum(users), 0)::bigint FROM counted_user_days"
_COUNTED_USERS_SEEN_SQL = (
    "SELECT (SELECT COALESCE(sum(users), 0)::bigint FROM counted_user_days WHERE day > :first_day)"
    " + (SELECT COALESCE(sum(users), 0)::bigint FROM counted_user_hours"
    "    WHERE hour >= :first_hour AND hour < :first_day_end)"
    f" + (SELECT count(*) FROM users u WHERE {_VISIBLE}"
    "    AND u.last_seen_at >= :since AND u.last_seen_at < :first_hour)"
)
_SEARCH_TEXT = f"u.email || ' ' || {_NAMES_SQL}"  # indexed by ix_users_search_bigrams (migration 0007)
_ROW_KEYS = "u.id, u.last_seen_at, u.email"
# Above this share of all users, the recency walk meets a page of matches
# sooner than sorting them all (each match also checks its account's name);
# below it, the rows each would read decide (_plan).
SORT_MATCHES_BELOW_SHARE = 0.05


@dataclass(frozen=True)
class _Search:
    """A users search: those matching by their own fields, and the rest by
    their account's name (two disjoint, index-backed sets)."""

    params: dict[str, Any]
    filtered: str = "TRUE"  # the filters' condition over `u` (UserFilter.sql)

    @property
    def own_fields(self) -> str:
        return contains_match(self.params, ["u.email", _NAMES_SQL], _SEARCH_TEXT)

    @property
    def own_fields_check(self) -> str:
        return contains_check(self.params, ["u.email", _NAMES_SQL])

    @property
    def tenant_name_check(self) -> str:
        return contains_check(self.params, ["lower(t.name)"])

    def walked(self, *, named_by_set: bool) -> str:
        """The matches for a walk of the recency index. A walked user's account
        name is read by its key (a scalar subquery, which the planner cannot
        turn into a hash of every matching account), or, `named_by_set` when
        the matching accounts are fewer than the walk's rows, looked up in a
        hash of them (docs/rules.md R203)."""
        if named_by_set:
            named = f"u.tenant_id IN (SELECT t.id FROM tenants t WHERE {tenant_name_match(self.params)})"
        else:
            named = contains_check(self.params, ["(SELECT lower(t.name) FROM tenants t WHERE t.id = u.tenant_id)"])
        return f"{_VISIBLE} AND {self.filtered} AND ({self.own_fields_check} OR {named})"

    def rows(self, columns: str) -> tuple[str, str]:
        return (
            f"SELECT {columns} FROM users u WHERE {_VISIBLE} AND {self.filtered} AND {self.own_fields}",
            f"SELECT {columns} FROM tenants t JOIN users u ON u.tenant_id = t.id"
            f" WHERE {tenant_name_match(self.params)} AND {_VISIBLE} AND {self.filtered} AND NOT {self.own_fields}",
        )


def counted_users(conn: Connection, *, seen_since: datetime | None = None) -> int:
    """The users who count (`_VISIBLE`); with `seen_since`, those last seen
    since that instant (the dashboard's active users)."""
    if seen_since is None:
        return int(conn.execute(text(_COUNTED_USERS_SQL)).scalar_one())
    since = seen_since.astimezone(UTC)
    first_day = since.date()
    first_day_end = datetime.combine(first_day + timedelta(days=1), time.min, tzinfo=UTC)
    first_hour = since.replace(minute=0, second=0, microsecond=0)
    if first_hour < since:
        first_hour += timedelta(hours=1)
    params = {"since": since, "first_day": first_day, "first_day_end": first_day_end, "first_hour": first_hour}
    return int(conn.execute(text(_COUNTED_USERS_SEEN_SQL), params).scalar_one())


def list_users(
    conn: Connection,
    *,
    search: str | None = None,
    roles: Sequence[UserRole] = (),
    activity: UserActivity | None = None,
    now: datetime | None = None,
    page: PageRequest = PageRequest(),
    estimate_large_total: bool = False,
) -> Page[UserRow]:
    """Users of non-deleted accounts, most recently seen first. A search of two
    characters or more matches e-mail, first and last name, or account name.
    `roles` and `activity` narrow the list (with the search, if any); an
    activity filter is relative to `now`, the app's clock (docs/rules.md R110).
    With `estimate_large_total`, a search or role filter matching more than a
    thousand users gives a sampled estimate as its total (core/totals.py,
    docs/rules.md R111)."""
    term = normalized_search(search)
    chosen = UserFilter.of(roles, activity)
    filtered, filter_params = chosen.sql(now)
    params: dict[str, Any] = {"limit": page.page_size, "offset": page.offset, **filter_params}
    if len(term) < SEARCH_MINIMUM:
        if not chosen:
            total = page.once("total", lambda: conn.execute(text(_COUNTED_USERS_SQL)).scalar_one())
            return _page(conn, f"SELECT u.id FROM users u WHERE {_VISIBLE}", params, total, page)
        return _filtered_page(conn, chosen, filtered, params, page, now, estimate_large_total=estimate_large_total)
    searched = _Search({**params, **search_params(term)}, filtered)
    if estimate_large_total:
        total = page.once("total", lambda: _estimated_total(conn, searched))
    else:
        total = page.once("total", lambda: Total(_exact_total(conn, searched)))
    plan = page.once("plan", lambda: _plan(conn, searched, total.count, page))
    if plan is _Plan.collect:
        # Few matches are sorted outright; many are met early on the recency index.
        own, by_account = searched.rows(_ROW_KEYS)
        page_ids = f"SELECT id FROM ({own} UNION ALL {by_account}) u"
    else:
        page_ids = f"SELECT u.id FROM users u WHERE {searched.walked(named_by_set=plan is _Plan.walk_by_set)}"
    if page.offset >= total.count and not total.estimated:
        return Page([], total.count, page.page, page.page_size)
    items = _page_rows(conn, page_ids, searched.params, page)
    # Paged past the end of an estimate: the operator is owed the true count.
    return settled_page(items, total, page, lambda: _exact_total(conn, searched))


class _Plan(Enum):
    """How a search's page is found (docs/rules.md R203)."""

    collect = "collect"  # every match, through the search indexes, sorted
    walk_by_key = "walk_by_key"  # the recency index, each user's account read by its key
    walk_by_set = "walk_by_set"  # the recency index, the matching accounts hashed once


def _plan(conn: Connection, searched: _Search, matches: int, page: PageRequest) -> _Plan:
    """Few matches are collected. Beyond, the walk reads about page / share
    users; it looks each one's account up by key unless the accounts whose
    name matches are fewer than those lookups (a sample of accounts says),
    when it hashes them once and reads about a page a user. A rare term's
    matches are still collected when that reads less than the walk."""
    if matches <= SORT_MATCHES_UP_TO:
        return _Plan.collect
    everyone = estimated_rows(conn, "users")
    share = Decimal(matches) / Decimal(everyone) if everyone > 0 else Decimal(1)
    reach = page.offset + page.page_size
    tenant_share = account_name_share(conn, searched.params)
    named_accounts = tenant_share * Decimal(max(0.0, estimated_rows(conn, "tenants")))
    by_set = share > 0 and named_accounts < WALK_ROW_COST * reach / share
    if share < SORT_MATCHES_BELOW_SHARE and not walk_is_shorter(matches, share, reach, 1 if by_set else None):
        return _Plan.collect
    return _Plan.walk_by_set if by_set else _Plan.walk_by_key


def _filtered_page(
    conn: Connection,
    chosen: UserFilter,
    filtered: str,
    params: dict[str, Any],
    page: PageRequest,
    now: datetime | None,
    *,
    estimate_large_total: bool,
) -> Page[UserRow]:
    """Filters without a search, met on the recency index (an activity filter
    is a range of it). An activity alone is counted exactly from the
    live_user_days summary; a role count reads the users, so with
    `estimate_large_total` it stops at EXACT_UP_TO and is sampled beyond
    (docs/rules.md R111)."""
    matching = f"SELECT u.id FROM users u WHERE {_VISIBLE} AND {filtered}"
    estimated = False
    if not chosen.roles and chosen.activity is not None and now is not None:
        activity, moment = chosen.activity, now
        total = page.once("total", lambda: _activity_total(conn, activity, moment))
    elif estimate_large_total:
        total, estimated = page.once("total", lambda: _estimated_filtered_total(conn, matching, filtered, params))
    else:
        total = page.once("total", lambda: _count(conn, matching, params))
    page_ids, page_params = matching, params
    if chosen.activity is UserActivity.inactive and page.walk is None:
        # Two ranges of the recency index, seen before the mark and never
        # seen, each walked only as far as the page reaches: one walk with an
        # OR would first pass every active user.
        roles = " AND u.role = ANY(:roles)" if chosen.roles else ""
        users_sql = f"SELECT {_ROW_KEYS} FROM users u WHERE {_VISIBLE}{roles}"
        page_ids = (
            f"SELECT id FROM (({users_sql} AND u.last_seen_at < :active_since ORDER BY {_RECENT_FIRST} LIMIT :reach)"
            f" UNION ALL ({users_sql} AND u.last_seen_at IS NULL ORDER BY {_RECENT_FIRST} LIMIT :reach)) u"
        )
        page_params = {**params, "reach": page.offset + page.page_size}
    result = _page(conn, page_ids, page_params, total, page, estimated=estimated)
    if estimated and not result.items and page.offset:
        return replace(result, total=_count(conn, matching, params), total_is_estimate=False)
    return result


def _count(conn: Connection, rows_sql: str, params: dict[str, Any]) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM ({rows_sql}) matching"), params).scalar_one())


def _activity_total(conn: Connection, activity: UserActivity, now: datetime) -> int:
    """Users seen since the filter's instant, or everyone less those (inactive)."""
    seen = counted_users(conn, seen_since=active_since(activity, now))
    return counted_users(conn) - seen if activity is UserActivity.inactive else seen


def _estimated_filtered_total(
    conn: Connection, matching: str, filtered: str, params: dict[str, Any]
) -> tuple[int, bool]:
    counted = capped_count(conn, matching, params, EXACT_UP_TO)
    if counted is not None:
        return counted, False
    share, everyone = conn.execute(
        text(
            f"SELECT (SELECT avg(CASE WHEN {filtered} THEN 1.0 ELSE 0 END)"
            f"  FROM users u {sample_of(conn, 'users')} WHERE u.deleted_at IS NULL), ({_COUNTED_USERS_SQL})"
        ),
        params,
    ).one()
    return rounded_estimate(Decimal(share or 0) * everyone, at_least=EXACT_UP_TO + 1), True


def _exact_total(conn: Connection, searched: _Search) -> int:
    own, by_account = searched.rows("count(*)")
    return int(conn.execute(text(f"SELECT ({own}) + ({by_account})"), searched.params).scalar_one())


def _estimated_total(conn: Connection, searched: _Search) -> Total:
    """Exact up to EXACT_UP_TO matches; beyond, everyone times the share of
    matches in a sample of users (a user's account name is looked up only
    when their own fields do not match), which is asked first: a common
    term is never counted (core/totals.py search_total, docs/rules.md R200)."""

    def expected() -> Decimal:
        # Whole accounts are sampled, at the users' rate, with their users: each
        # sampled user's account name is at hand without a lookup.
        matches = (
            f"t.deleted_at IS NULL AND u.deleted_at IS NULL AND {searched.filtered}"
            f" AND ({searched.own_fields_check} OR {searched.tenant_name_check})"
        )
        return sampled_matches(
            conn,
            "tenants",
            lambda sample: (
                f"SELECT count(*) FILTER (WHERE {matches}), count(*)"
                f" FROM tenants t {sample} JOIN users u ON u.tenant_id = t.id"
            ),
            searched.params,
            sized_by="users",
        )

    own, by_account = searched.rows("1")
    return search_total(conn, [own, by_account], searched.params, expected, EXACT_UP_TO)


def _page(
    conn: Connection, page_ids: str, params: dict[str, Any], total: int, page: PageRequest, *, estimated: bool = False
) -> Page[UserRow]:
    """The page of `page_ids`, in recency order. An estimated total becomes
    exact on the page that ends the list."""
    if page.offset >= total and not estimated:
        return Page([], total, page.page, page.page_size)
    items = _page_rows(conn, page_ids, params, page)
    if estimated and (items or not page.offset) and len(items) < page.page_size:
        return Page(items, page.offset + len(items), page.page, page.page_size)
    return Page(items, total, page.page, page.page_size, total_is_estimate=estimated)


def _page_rows(conn: Connection, page_ids: str, params: dict[str, Any], page: PageRequest) -> list[UserRow]:
    if page.walk is not None:  # an export: the next ids of one pass in recency order (docs/rules.md R225)
        keys = page.walk.next_keys(conn, f"{page_ids} ORDER BY {_RECENT_FIRST}", params, page.page_size)
        page_ids, params = "SELECT unnest(CAST(:ids AS text[])) AS id", {"ids": [key.id for key in keys]}
    else:
        page_ids = f"{page_ids} ORDER BY {_RECENT_FIRST} LIMIT :limit OFFSET :offset"
    rows = conn.execute(
        text(
            f"WITH page AS MATERIALIZED ({page_ids})"
            f" SELECT {_USER_COLUMNS} FROM page JOIN users u ON u.id = page.id"
            " JOIN tenants t ON t.id = u.tenant_id LEFT JOIN subscriptions s ON s.tenant_id = u.tenant_id"
            f" ORDER BY {_RECENT_FIRST}"
        ),
        params,
    ).mappings()
    return [_user_row(row) for row in rows]


def person_fields(row: Any) -> dict[str, Any]:
    """What every view of a users row shows of the person: names, e-mail,
    role, status, sign-up and last sign-in, avatar (read from PERSON_COLUMNS)."""
    return {
        "id": row["id"],
        "display_name": display_name(row["first_name"], row["last_name"], row["email"]),
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "title": row["title"],
        "role": UserRole(row["role"]),
        "status": UserStatus.Active if row["email_confirmed"] else UserStatus.Pending,
        "email_confirmed": row["email_confirmed"],
        "created_at": as_utc(row["created_at"]),
        "last_seen_at": as_utc(row["last_seen_at"]),
        "avatar_url": row["avatar_url"],
    }


def _user_row(row: Any) -> UserRow:
    return UserRow(
        **person_fields(row),
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_plan=SubscriptionPlan(row["tenant_plan"]),
        tenant_planned_change=planned_change(row["cancel_at_period_end"], row["scheduled_plan"]),
        tenant_has_ever_subscribed=row["has_ever_subscribed"],
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
        **person_fields(row),
        locale=row["locale"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        modified_at=as_utc(row["modified_at"]),
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
