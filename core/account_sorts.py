"""The sorts of the accounts list, and the ways a page of tenant ids is found
in their order: few matches sorted outright, many met by walking an index that
matches the sort (docs/rules.md R73, R95). Each takes the filter's
condition over ACCOUNTS_SQL and its parameters with the page's :limit and
:offset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.account_status import ACCOUNTS_SQL, STATUS_PREDICATES, STATUS_SQL, AccountStatus


class AccountSort(StrEnum):
    """The accounts list's sorts, named in kebab-case (docs/rules.md R95)."""

    name = "name"
    plan = "plan"
    mrr = "mrr"
    renewal_date = "renewal-date"
    status = "status"
    country = "country"
    created_at = "created-at"
    modified_at = "modified-at"


PLAN_TIER_SQL = "CASE t.plan WHEN 'Basis' THEN 0 WHEN 'Standard' THEN 1 WHEN 'Premium' THEN 2 END"
COUNTRY_SQL = "COALESCE(s.billing_info->'Address'->>'Country', '')"
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

_STATUS_RANK = {status: rank for rank, status in enumerate(AccountStatus)}


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


def ids_by_sorting_matches(
    conn: Connection, condition: str, params: dict[str, Any], sort: AccountSort, descending: bool
) -> list[int]:
    """Collect the matches first (MATERIALIZED keeps the planner from walking a
    sort index instead), then sort just them."""
    return _ids(conn, all_ids_sql(condition, sort, descending), params)


def all_ids_sql(condition: str, sort: AccountSort, descending: bool) -> str:
    """Every matching tenant id in the sort's complete order, ties by id: the
    whole list, as an export walks it (docs/rules.md R225)."""
    keys = _all_keys(sort)
    columns = ", ".join(f"{key.expression} AS k{i}" for i, key in enumerate(keys))
    order = _order([replace(key, expression=f"k{i}") for i, key in enumerate(keys)], descending)
    return (
        f"WITH matches AS MATERIALIZED (SELECT t.id, {columns} FROM {ACCOUNTS_SQL} WHERE {condition})"
        f" SELECT id FROM matches ORDER BY {order}"
    )


def ids_by_key(
    conn: Connection, condition: str, params: dict[str, Any], sort: AccountSort, descending: bool
) -> list[int]:
    """Walk the index of a sort whose key is on the tenant or the subscription row."""
    if sort in _TENANT_ORDER:
        order = _order(_TENANT_ORDER[sort], descending)
        return _ids(conn, f"SELECT t.id FROM {ACCOUNTS_SQL} WHERE {condition} ORDER BY {order}", params)
    return _ids_by_subscription_key(conn, condition, params, _SUBSCRIPTION_ORDER[sort], descending)


def ids_by_status(
    conn: Connection, condition: str, params: dict[str, Any], statuses: Sequence[AccountStatus], descending: bool
) -> list[int]:
    """The status is derived from two tables, so no index holds it: one branch per
    status, each a walk in id order that stops after the rows a page can reach.
    `condition` is the filter less its statuses: `statuses` choose the branches."""
    direction = "DESC" if descending else "ASC"
    wanted = [status for status in AccountStatus if not statuses or status in statuses]
    branches = [
        f"(SELECT t.id, {_STATUS_RANK[status]} AS status_rank FROM {ACCOUNTS_SQL}"
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
    sql = f"SELECT t.id FROM {ACCOUNTS_SQL} WHERE s.tenant_id IS NULL AND {condition} ORDER BY t.id {direction}"
    return ids + _ids(conn, sql, {**params, "limit": missing, "offset": tail})
