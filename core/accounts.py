"""The accounts list: search, plan and status filters, sorts, paged in SQL
(backoffice.md 1.16, 2.1, 2.4, 4.2; decisions.md).

A page is found in two steps: the ordered tenant ids of the page (a short walk
over an index that matches the sort), then the columns of those few rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core import money
from core.errors import NotFound
from core.listing import (
    as_utc,
    display_name,
    normalized_search,
    parse_tenant_id,
    search_params,
    search_tenant_id,
    tenant_name_match,
)
from core.paging import Page, PageRequest
from db.enums import SubscriptionPlan


class AccountStatus(StrEnum):
    """Derived status of an account (backoffice.md 2.1), in the order the status sort uses."""

    Active = "Active"
    Downgrading = "Downgrading"
    Canceling = "Canceling"
    Canceled = "Canceled"
    Free = "Free"


class PlannedChange(StrEnum):
    Cancellation = "Cancellation"
    ScheduledPlanChange = "ScheduledPlanChange"


class AccountSort(StrEnum):
    """The original's sort names in kebab-case (contract.md 8)."""

    name = "name"
    plan = "plan"
    mrr = "mrr"
    renewal_date = "renewal-date"
    status = "status"
    country = "country"
    created_at = "created-at"
    modified_at = "modified-at"


HAS_EVER_SUBSCRIBED_SQL = money.has_ever_subscribed_sql("s")
PLAN_TIER_SQL = "CASE t.plan WHEN 'Basis' THEN 0 WHEN 'Standard' THEN 1 WHEN 'Premium' THEN 2 END"
COUNTRY_SQL = "COALESCE(s.billing_info->'Address'->>'Country', '')"

# First match wins (backoffice.md 2.1). A tenant without a subscription row has
# no planned change and never paid.
STATUS_SQL = (
    "CASE WHEN s.cancel_at_period_end THEN 'Canceling'"
    " WHEN s.scheduled_plan IS NOT NULL THEN 'Downgrading'"
    " WHEN t.plan <> 'Basis' THEN 'Active'"
    f" WHEN {HAS_EVER_SUBSCRIBED_SQL} THEN 'Canceled'"
    " ELSE 'Free' END"
)

# The same rule as one predicate per status. Each fact about the subscription is
# an EXISTS over a small partial index, so filtering and counting by status never
# reads the subscriptions themselves.
_CANCELING = "EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = t.id AND x.cancel_at_period_end)"
_DOWNGRADING = (
    "EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = t.id"
    " AND x.scheduled_plan IS NOT NULL AND NOT x.cancel_at_period_end)"
)
_EVER_SUBSCRIBED = (
    f"EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = t.id AND {money.has_ever_subscribed_sql('x')})"
)
_NO_PLANNED_CHANGE = f"NOT {_CANCELING} AND NOT {_DOWNGRADING}"
STATUS_PREDICATES: dict[AccountStatus, str] = {
    AccountStatus.Active: f"t.plan <> 'Basis' AND {_NO_PLANNED_CHANGE}",
    AccountStatus.Downgrading: _DOWNGRADING,
    AccountStatus.Canceling: _CANCELING,
    AccountStatus.Canceled: f"t.plan = 'Basis' AND {_NO_PLANNED_CHANGE} AND {_EVER_SUBSCRIBED}",
    AccountStatus.Free: f"t.plan = 'Basis' AND {_NO_PLANNED_CHANGE} AND NOT {_EVER_SUBSCRIBED}",
}
_STATUS_NAMES = ", ".join(f"'{status}'" for status in AccountStatus)
STATUS_RANK_SQL = f"array_position(ARRAY[{_STATUS_NAMES}], {STATUS_SQL})"


@dataclass(frozen=True)
class SortKey:
    expression: str
    nulls_last: bool = False  # in both directions
    always_ascending: bool = False

    def clause(self, descending: bool) -> str:
        direction = "ASC" if self.always_ascending or not descending else "DESC"
        return f"{self.expression} {direction}" + (" NULLS LAST" if self.nulls_last else "")


def _order(keys: Sequence[SortKey], descending: bool) -> str:
    return ", ".join(key.clause(descending) for key in keys)


# Sorts whose key is on the tenant row walk a tenants index; ties by id.
_TENANT_ORDER = {
    AccountSort.name: [SortKey("lower(t.name)"), SortKey("t.id")],
    AccountSort.plan: [SortKey(PLAN_TIER_SQL), SortKey("t.id")],
    AccountSort.created_at: [SortKey("t.created_at"), SortKey("t.id")],
    AccountSort.modified_at: [SortKey("COALESCE(t.modified_at, t.created_at)"), SortKey("t.id")],
}
# Sorts whose key is on the subscription walk a subscriptions index; ties by
# tenant id. Accounts without a renewal date come last in both directions.
_SUBSCRIPTION_ORDER = {
    AccountSort.mrr: SortKey("COALESCE(s.current_price_amount, 0)"),
    AccountSort.renewal_date: SortKey("s.current_period_end", nulls_last=True),
    AccountSort.country: SortKey(COUNTRY_SQL),
}
# Few matches are sorted outright rather than met by walking a sort index: a
# walk reads about page/share rows, and a name search is clustered in name order.
SORT_MATCHES_UP_TO = 2_000
SORT_MATCHES_BELOW_SHARE = 0.05

_STATUS_RANK = {status: rank for rank, status in enumerate(AccountStatus)}


@dataclass(frozen=True)
class AccountOwner:
    user_id: str
    first_name: str | None
    last_name: str | None
    email: str
    display_name: str


@dataclass(frozen=True)
class AccountRow:
    id: str
    name: str
    logo_url: str | None
    plan: SubscriptionPlan
    state: str
    status: AccountStatus
    monthly_recurring_revenue: Decimal | None  # the current price, as the original
    forward_monthly_recurring_revenue: Decimal | None
    mrr_changes_at_renewal: bool  # shown struck through (backoffice.md 2.4)
    scheduled_price_amount: Decimal | None
    currency: str | None
    renewal_date: datetime | None
    planned_change: PlannedChange | None
    subscribed_since: datetime | None
    has_ever_subscribed: bool
    country: str | None
    created_at: datetime
    modified_at: datetime | None
    owner: AccountOwner | None


@dataclass(frozen=True)
class AccountFilter:
    search: str = ""  # as typed: trimmed and lower-cased when used
    plans: Sequence[SubscriptionPlan] = ()
    statuses: Sequence[AccountStatus] = ()
    unsynced: bool = False
    drift_detected: bool = False


def planned_change(cancel_at_period_end: bool | None, scheduled_plan: str | None) -> PlannedChange | None:
    if cancel_at_period_end:
        return PlannedChange.Cancellation
    if scheduled_plan is not None:
        return PlannedChange.ScheduledPlanChange
    return None


def mrr_changes_at_renewal(
    change: PlannedChange | None, current_price: Decimal | None, scheduled_price: Decimal | None
) -> bool:
    """Canceling: the price goes to 0; downgrading: to the scheduled price, when known."""
    if current_price is None:
        return False
    if change is PlannedChange.Cancellation:
        return True
    return change is PlannedChange.ScheduledPlanChange and scheduled_price is not None


def displayed_forward_mrr(
    current_price: Decimal | None, cancel_at_period_end: bool | None, scheduled_price: Decimal | None
) -> Decimal | None:
    """Forward MRR (core.money), or None where the row shows "-" (no price)."""
    if current_price is None:
        return None
    return money.forward_mrr(current_price, bool(cancel_at_period_end), scheduled_price)


def list_accounts(
    conn: Connection,
    *,
    search: str | None = None,
    plans: Sequence[SubscriptionPlan] = (),
    statuses: Sequence[AccountStatus] = (),
    unsynced: bool = False,
    drift_detected: bool = False,
    sort: AccountSort = AccountSort.name,
    descending: bool = False,
    page: PageRequest = PageRequest(),
) -> Page[AccountRow]:
    """Non-deleted accounts, filtered, sorted and paged (backoffice.md 1.16)."""
    where = AccountFilter(search or "", tuple(plans), tuple(statuses), unsynced, drift_detected)
    total = count_accounts(conn, where)
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    ids = account_ids_page(conn, where, sort=sort, descending=descending, page=page, total=total)
    return Page(accounts_by_id(conn, ids), total, page.page, page.page_size)


def count_accounts(conn: Connection, where: AccountFilter) -> int:
    condition, params = _where(where)
    return conn.execute(text(f"SELECT count(*) FROM {_ACCOUNTS} WHERE {condition}"), params).scalar_one()


def account_ids_page(
    conn: Connection,
    where: AccountFilter,
    *,
    sort: AccountSort = AccountSort.name,
    descending: bool = False,
    page: PageRequest = PageRequest(),
    total: int | None = None,
) -> list[int]:
    """The tenant ids of one page, in order, without their columns. Pass the
    total when it is known: few matches are sorted rather than walked to."""
    if total is None:
        total = count_accounts(conn, where)
    condition, params = _where(where)
    params = {**params, "limit": page.page_size, "offset": page.offset}
    if _few_matches(conn, total):
        return _ids_by_sorting_matches(conn, condition, params, _all_keys(sort), descending)
    if sort in _TENANT_ORDER:
        order = _order(_TENANT_ORDER[sort], descending)
        return _ids(conn, f"SELECT t.id FROM {_ACCOUNTS} WHERE {condition} ORDER BY {order}", params)
    if sort is AccountSort.status:
        return _ids_by_status(conn, replace(where, statuses=()), params, where.statuses, descending)
    return _ids_by_subscription_key(conn, condition, params, _SUBSCRIPTION_ORDER[sort], descending)


_ACCOUNTS = "tenants t LEFT JOIN subscriptions s ON s.tenant_id = t.id"


def _few_matches(conn: Connection, total: int) -> bool:
    if total <= SORT_MATCHES_UP_TO:
        return True
    # The planner's own estimate of the table size is enough to choose a plan.
    tenants = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'tenants'::regclass")).scalar_one()
    return total < tenants * SORT_MATCHES_BELOW_SHARE


def _ids(conn: Connection, sql: str, params: dict[str, Any]) -> list[int]:
    return list(conn.execute(text(f"{sql} LIMIT :limit OFFSET :offset"), params).scalars())


def _all_keys(sort: AccountSort) -> list[SortKey]:
    """The complete order of a sort, over tenants left-joined to subscriptions."""
    if sort in _TENANT_ORDER:
        return _TENANT_ORDER[sort]
    if sort is AccountSort.status:
        return [SortKey(STATUS_RANK_SQL), SortKey("t.id")]
    without_subscription_last = SortKey("s.tenant_id IS NULL", always_ascending=True)
    return [without_subscription_last, _SUBSCRIPTION_ORDER[sort], SortKey("t.id")]


def _ids_by_sorting_matches(
    conn: Connection, condition: str, params: dict[str, Any], keys: Sequence[SortKey], descending: bool
) -> list[int]:
    """Collect the matches first (MATERIALIZED keeps the planner from walking a
    sort index instead), then sort just them."""
    columns = ", ".join(f"{key.expression} AS k{i}" for i, key in enumerate(keys))
    order = _order([replace(key, expression=f"k{i}") for i, key in enumerate(keys)], descending)
    sql = (
        f"WITH matches AS MATERIALIZED (SELECT t.id, {columns} FROM {_ACCOUNTS} WHERE {condition})"
        f" SELECT id FROM matches ORDER BY {order}"
    )
    return _ids(conn, sql, params)


def _ids_by_status(
    conn: Connection, where: AccountFilter, params: dict[str, Any], statuses: Sequence[AccountStatus], descending: bool
) -> list[int]:
    """The status is derived from two tables, so no index holds it: one branch per
    status, each a walk in id order that stops after the rows a page can reach."""
    condition, _ = _where(where)
    direction = "DESC" if descending else "ASC"
    wanted = [status for status in AccountStatus if not statuses or status in statuses]
    branches = [
        f"(SELECT t.id, {_STATUS_RANK[status]} AS status_rank FROM {_ACCOUNTS}"
        f" WHERE {condition} AND {STATUS_PREDICATES[status]} ORDER BY t.id {direction} LIMIT :reach)"
        for status in wanted
    ]
    sql = f"SELECT id FROM ({' UNION ALL '.join(branches)}) ranked ORDER BY status_rank {direction}, id {direction}"
    return _ids(conn, sql, {**params, "reach": params["offset"] + params["limit"]})


def _ids_by_subscription_key(
    conn: Connection, condition: str, params: dict[str, Any], key: SortKey, descending: bool
) -> list[int]:
    """Walk a subscriptions index. A tenant without a subscription row (the domain
    creates both together, so this is rare) comes after every subscribed one."""
    order = _order([key, SortKey("s.tenant_id")], descending)
    subscribed = "subscriptions s JOIN tenants t ON t.id = s.tenant_id"
    ids = _ids(conn, f"SELECT s.tenant_id FROM {subscribed} WHERE {condition} ORDER BY {order}", params)
    missing = params["limit"] - len(ids)
    if not missing:
        return ids
    if ids:
        tail = 0
    else:
        count = conn.execute(text(f"SELECT count(*) FROM {subscribed} WHERE {condition}"), params).scalar_one()
        tail = max(0, params["offset"] - count)
    direction = "DESC" if descending else "ASC"
    sql = f"SELECT t.id FROM {_ACCOUNTS} WHERE s.tenant_id IS NULL AND {condition} ORDER BY t.id {direction}"
    return ids + _ids(conn, sql, {**params, "limit": missing, "offset": tail})


def _where(where: AccountFilter) -> tuple[str, dict[str, Any]]:
    conditions = ["t.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    term = normalized_search(where.search)
    if term:
        params.update(search_params(term))
        tenant_id = search_tenant_id(term)
        if tenant_id is None:
            conditions.append(tenant_name_match(params))
        else:
            conditions.append(f"({tenant_name_match(params)} OR t.id = :search_id)")
            params["search_id"] = tenant_id
    if where.plans:
        conditions.append("t.plan = ANY(:plans)")
        params["plans"] = [str(plan) for plan in where.plans]
    if where.statuses:
        conditions.append("(" + " OR ".join(f"({STATUS_PREDICATES[s]})" for s in dict.fromkeys(where.statuses)) + ")")
    if where.unsynced:
        conditions.append(
            "s.current_price_amount IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM billing_events be WHERE be.subscription_id = s.id)"
        )
    if where.drift_detected:
        conditions.append("s.has_drift_detected")
    return " AND ".join(conditions), params


ACCOUNT_COLUMNS = f"""
    t.id, t.name, t.logo->>'Url' AS logo_url, t.plan, t.state, t.created_at, t.modified_at,
    {STATUS_SQL} AS status,
    s.cancel_at_period_end, s.scheduled_plan, s.current_price_amount, s.scheduled_price_amount,
    s.current_price_currency, s.current_period_end, s.subscribed_since,
    COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS has_ever_subscribed,
    s.billing_info->'Address'->>'Country' AS country
"""

FIRST_OWNER_SQL = """
    LEFT JOIN LATERAL (
        SELECT u.id AS owner_id, u.first_name AS owner_first_name, u.last_name AS owner_last_name,
               u.email AS owner_email
        FROM users u
        WHERE u.tenant_id = t.id AND u.role = 'Owner' AND u.deleted_at IS NULL
        ORDER BY u.created_at, u.id
        LIMIT 1
    ) o ON true
"""


def accounts_by_id(conn: Connection, tenant_ids: Sequence[int]) -> list[AccountRow]:
    """The rows of the given tenants, in the given order."""
    if not tenant_ids:
        return []
    rows = conn.execute(
        text(
            f"SELECT {ACCOUNT_COLUMNS}, o.*"
            " FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS p(id, position)"
            " JOIN tenants t ON t.id = p.id LEFT JOIN subscriptions s ON s.tenant_id = t.id"
            f" {FIRST_OWNER_SQL} ORDER BY p.position"
        ),
        {"ids": list(tenant_ids)},
    ).mappings()
    return [account_row(row) for row in rows]


def account_row(row: Any) -> AccountRow:
    change = planned_change(row["cancel_at_period_end"], row["scheduled_plan"])
    price, scheduled = row["current_price_amount"], row["scheduled_price_amount"]
    owner = None
    if row["owner_id"] is not None:
        owner = AccountOwner(
            user_id=row["owner_id"],
            first_name=row["owner_first_name"],
            last_name=row["owner_last_name"],
            email=row["owner_email"],
            display_name=display_name(row["owner_first_name"], row["owner_last_name"], row["owner_email"]),
        )
    return AccountRow(
        id=str(row["id"]),
        name=row["name"],
        logo_url=row["logo_url"],
        plan=SubscriptionPlan(row["plan"]),
        state=row["state"],
        status=AccountStatus(row["status"]),
        monthly_recurring_revenue=price,
        forward_monthly_recurring_revenue=displayed_forward_mrr(price, row["cancel_at_period_end"], scheduled),
        mrr_changes_at_renewal=mrr_changes_at_renewal(change, price, scheduled),
        scheduled_price_amount=scheduled,
        currency=row["current_price_currency"],
        renewal_date=as_utc(row["current_period_end"]),
        planned_change=change,
        subscribed_since=as_utc(row["subscribed_since"]),
        has_ever_subscribed=row["has_ever_subscribed"],
        country=row["country"],
        created_at=as_utc(row["created_at"]),
        modified_at=as_utc(row["modified_at"]),
        owner=owner,
    )


def require_account(conn: Connection, tenant_id: int | str) -> int:
    """The tenant id, or NotFound when it is unknown or soft-deleted."""
    tenant = parse_tenant_id(tenant_id)
    found = conn.execute(
        text("SELECT 1 FROM tenants WHERE id = :id AND deleted_at IS NULL"), {"id": tenant}
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return tenant
