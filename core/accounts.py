"""The accounts list: search, plan and status filters, sorts, paged in SQL
(docs/figures.md#accounts-list, docs/rules.md R36, R73, R95).

A page is found in two steps: the ordered tenant ids of the page (sorted
outright when the matches are few, else a short walk over an index that
matches the sort: core/account_sorts.py), then the columns of those few rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from core.account_classes import count_live_accounts
from core.account_sorts import AccountSort, all_ids_sql, ids_by_key, ids_by_sorting_matches, ids_by_status
from core.account_status import (
    ACCOUNTS_SQL,
    HAS_EVER_SUBSCRIBED_SQL,
    PAYMENT_FAILING_SQL,
    STATUS_SQL,
    AccountState,
    AccountStatus,
    PlannedChange,
    account_state,
    displayed_forward_mrr,
    mrr_changes_at_renewal,
    planned_change,
)
from core.errors import NotFound
from core.listing import (
    as_utc,
    contains_check,
    display_name,
    normalized_search,
    parse_tenant_id,
    search_params,
    search_tenant_id,
    tenant_name_match,
)
from core.paging import Page, PageRequest
from core.totals import Total, estimated_rows, sampled_matches, search_total, settled_page
from db.enums import SubscriptionPlan

# Few matches are sorted outright rather than met by walking a sort index: a
# walk reads about page/share rows, and a name search is clustered in name order.
SORT_MATCHES_UP_TO = 2_000
SORT_MATCHES_BELOW_SHARE = 0.05


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
    monthly_recurring_revenue: Decimal | None  # the current price (docs/rules.md R36)
    forward_monthly_recurring_revenue: Decimal | None
    mrr_changes_at_renewal: bool  # shown struck through (docs/rules.md R36)
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
    payment_failing: bool = False  # a failed payment is being retried (R63)

    @property
    def account_state(self) -> AccountState:
        """The list's status badge (docs/rules.md R122)."""
        return account_state(self.status, self.state, self.payment_failing)


@dataclass(frozen=True)
class AccountFilter:
    search: str = ""  # as typed: trimmed and lower-cased when used
    plans: Sequence[SubscriptionPlan] = ()
    statuses: Sequence[AccountStatus] = ()
    unsynced: bool = False
    drift_detected: bool = False


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
    estimate_large_total: bool = False,
) -> Page[AccountRow]:
    """Non-deleted accounts, filtered, sorted and paged (docs/figures.md#accounts-list).
    With `estimate_large_total` (the console), a search matching more than a
    thousand accounts gives a sampled estimate as its total (docs/rules.md R200)."""
    where = AccountFilter(search or "", tuple(plans), tuple(statuses), unsynced, drift_detected)
    if estimate_large_total and normalized_search(where.search):
        total = page.once("total", lambda: _search_total(conn, where))
    else:
        total = page.once("total", lambda: Total(count_accounts(conn, where)))
    if page.offset >= total.count and not total.estimated:
        return Page([], total.count, page.page, page.page_size)
    if page.walk is not None:  # an export: the next ids of one sorted pass (docs/rules.md R225)
        condition, params = _where(where)
        keys = page.walk.next_keys(conn, all_ids_sql(condition, sort, descending), params, page.page_size)
        ids = [key.id for key in keys]
    else:
        ids = account_ids_page(conn, where, sort=sort, descending=descending, page=page, total=total.count)
    return settled_page(accounts_by_id(conn, ids), total, page, lambda: count_accounts(conn, where))


def _search_total(conn: Connection, where: AccountFilter) -> Total:
    """The matches counted when a sample of accounts says they are few, else
    the sample's estimate (core/totals.py search_total)."""
    condition, params = _where(where)

    # A sampled row is checked as it is, with no index in mind (contains_check).
    checked = condition.replace(tenant_name_match(params), contains_check(params, ["lower(t.name)"]))

    def expected() -> Decimal:
        return sampled_matches(
            conn,
            "tenants",
            lambda sample: (
                f"SELECT count(*) FILTER (WHERE {checked}), count(*)"
                f" FROM tenants t {sample} LEFT JOIN subscriptions s ON s.tenant_id = t.id"
            ),
            params,
        )

    return search_total(conn, [f"SELECT 1 FROM {ACCOUNTS_SQL} WHERE {condition}"], params, expected)


def count_accounts(conn: Connection, where: AccountFilter) -> int:
    if not normalized_search(where.search):
        # Every filter but the search is a class column (docs/rules.md R193).
        return count_live_accounts(conn, where.plans, where.statuses, where.unsynced, where.drift_detected)
    condition, params = _where(where)
    return int(conn.execute(text(f"SELECT count(*) FROM {ACCOUNTS_SQL} WHERE {condition}"), params).scalar_one())


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
        return ids_by_sorting_matches(conn, condition, params, sort, descending)
    if sort is AccountSort.status:
        any_status, _ = _where(replace(where, statuses=()))
        return ids_by_status(conn, any_status, params, where.statuses, descending)
    return ids_by_key(conn, condition, params, sort, descending)


def _few_matches(conn: Connection, total: int) -> bool:
    if total <= SORT_MATCHES_UP_TO:
        return True
    return total < estimated_rows(conn, "tenants") * SORT_MATCHES_BELOW_SHARE


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
    if where.statuses or where.unsynced:
        conditions.append(_class_match(where, params))
    if where.drift_detected:  # the partial index of drifted subscriptions (0001)
        conditions.append("s.has_drift_detected")
    return " AND ".join(conditions), params


def _class_match(where: AccountFilter, params: dict[str, Any]) -> str:
    """The tenant's stored class matches the status and unsynced filters
    (docs/rules.md R193): one probe per tenant on a walk, or the few tenants of
    a rare status (and plan) or the unsynced ones read from the class indexes
    when they are sorted outright."""
    conditions = ["c.tenant_id = t.id", "c.live"]
    if where.statuses:
        params["class_statuses"] = [str(status) for status in where.statuses]
        conditions.append("c.status = ANY(:class_statuses)")
        if where.plans:
            params["class_plans"] = [str(plan) for plan in where.plans]
            conditions.append("c.plan = ANY(:class_plans)")
    if where.unsynced:
        conditions.append("c.unsynced")
    return f"EXISTS (SELECT 1 FROM account_classes c WHERE {' AND '.join(conditions)})"


ACCOUNT_COLUMNS = f"""
    t.id, t.name, t.logo->>'Url' AS logo_url, t.plan, t.state, t.created_at, t.modified_at,
    {STATUS_SQL} AS status,
    s.cancel_at_period_end, s.scheduled_plan, s.current_price_amount, s.scheduled_price_amount,
    s.current_price_currency, s.current_period_end, s.subscribed_since,
    COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS has_ever_subscribed,
    s.billing_info->'Address'->>'Country' AS country, {PAYMENT_FAILING_SQL} AS payment_failing
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
        payment_failing=row["payment_failing"],
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
