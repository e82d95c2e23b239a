"""The platform-wide billing event log, newest first (docs/figures.md#billing-events;
docs/rules.md R11, R83, R97: search, type multi-select and period, plus the
view presets; NoOp is hidden unless asked for)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.dashboard.mrr import MRR_MOVING_TYPES
from core.listing import (
    as_utc,
    contains_check,
    normalized_search,
    parse_tenant_id,
    search_params,
    tenant_name_match,
)
from core.paging import Page, PageRequest
from core.totals import Total, account_name_share, search_total, settled_page, walk_is_shorter
from db.enums import BillingEventType as T


class BillingEventPreset(StrEnum):
    """The view presets, which overlap on purpose (docs/rules.md R97)."""

    all = "all"
    mrr_impact = "mrr-impact"
    subscription_state = "subscription-state"
    other = "other"


# The presets overlap on purpose (docs/rules.md R97). "MRR impact" is the MRR
# trend's own definition; "subscription state" every change of plan or of
# whether the subscription continues.
PRESET_TYPES: dict[BillingEventPreset, tuple[T, ...]] = {
    BillingEventPreset.mrr_impact: MRR_MOVING_TYPES,
    BillingEventPreset.subscription_state: (
        T.SubscriptionCreated,
        T.SubscriptionUpgraded,
        T.SubscriptionDowngraded,
        T.SubscriptionCancelled,
        T.SubscriptionReactivated,
        T.SubscriptionExpired,
        T.SubscriptionImmediatelyCancelled,
        T.SubscriptionSuspended,
    ),
    BillingEventPreset.other: (
        T.SubscriptionRenewed,
        T.SubscriptionPastDue,
        T.PaymentFailed,
        T.PaymentRecovered,
        T.PaymentRefunded,
        T.BillingInfoAdded,
        T.BillingInfoUpdated,
        T.PaymentMethodUpdated,
        T.NoOp,
        T.Unclassified,
    ),
}
VISIBLE_BY_DEFAULT = tuple(event_type for event_type in T if event_type is not T.NoOp)


class BillingEventSort(StrEnum):
    """The log's sorts (docs/rules.md R113): the date (the default, newest
    first), the event type's name, or the account's name."""

    date = "date"
    event_type = "type"
    tenant_name = "tenant-name"


# Each sort's key, then newest first within a key, then the event id, so the
# order is total and a page never repeats or skips a row (docs/rules.md R113).
_SORT_KEYS: dict[BillingEventSort, str] = {
    BillingEventSort.date: "be.occurred_at {d}, be.id {d}",
    BillingEventSort.event_type: "be.event_type {d}, be.occurred_at DESC, be.id DESC",
    # Events whose account row is missing sort as an empty name would.
    BillingEventSort.tenant_name: (
        "lower(t.name) {d} NULLS {empty}, be.tenant_id {d}, be.occurred_at DESC, be.id DESC"
    ),
}


def sort_order(sort: BillingEventSort, descending: bool, *, by_type_order: bool = False) -> str:
    """The ORDER BY of a sort over `be` (billing_events) and `t` (its tenant).
    `by_type_order`: the type sort follows the :type_order parameter (a list
    of every type) instead of the stored names."""
    order = _SORT_KEYS[sort].format(d="DESC" if descending else "ASC", empty="LAST" if descending else "FIRST")
    if sort is BillingEventSort.event_type and by_type_order:
        order = order.replace("be.event_type", "array_position(CAST(:type_order AS text[]), be.event_type)", 1)
    return order


# The types whose row names a plan it moves from, to, or stays on.
_PLAN_TYPES = frozenset(
    {
        T.SubscriptionCreated,
        T.SubscriptionRenewed,
        T.SubscriptionUpgraded,
        T.SubscriptionDowngradeScheduled,
        T.SubscriptionDowngradeCancelled,
        T.SubscriptionDowngraded,
        T.SubscriptionReactivated,
        T.SubscriptionExpired,
        T.SubscriptionImmediatelyCancelled,
        T.SubscriptionSuspended,
        T.SubscriptionCancelled,
        T.PaymentRefunded,
    }
)


def plan_change(event_type: T, from_plan: str | None, to_plan: str | None) -> tuple[str, ...]:
    """The plans an event shows, for the console and the command line alike:
    (from, to) for a change, (plan,) for an event on a plan it keeps, () for
    one about no plan. A creation without a from-plan starts on Basis; a
    cancellation's row carries the plan it leaves, and goes to Basis."""
    if event_type not in _PLAN_TYPES or not to_plan:
        return ()
    if event_type is T.SubscriptionCancelled:
        return (to_plan, "Basis")
    if event_type is T.SubscriptionCreated:
        return (from_plan or "Basis", to_plan)
    if from_plan is None or from_plan == to_plan:
        return (to_plan,)
    return (from_plan, to_plan)


@dataclass(frozen=True)
class BillingEventRow:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    country: str | None  # billing country of the tenant's subscription
    event_type: T
    from_plan: str | None
    to_plan: str | None
    amount_delta: Decimal | None  # signed MRR impact
    previous_amount: Decimal | None
    new_amount: Decimal | None
    committed_mrr: Decimal  # the subscription's committed MRR after the event
    currency: str | None
    occurred_at: datetime


def selected_types(types: Sequence[T] = (), preset: BillingEventPreset = BillingEventPreset.all) -> tuple[T, ...]:
    """Listed types (NoOp only when listed), narrowed to the preset's; nothing
    listed means the preset's types, and with no preset every type but NoOp."""
    listed = tuple(dict.fromkeys(types))
    if preset is BillingEventPreset.all:
        return listed or VISIBLE_BY_DEFAULT
    in_preset = PRESET_TYPES[preset]
    return tuple(t for t in listed if t in in_preset) if listed else in_preset


def list_billing_events(
    conn: Connection,
    *,
    now: datetime,
    search: str | None = None,
    types: Sequence[T] = (),
    preset: BillingEventPreset = BillingEventPreset.all,
    period_days: int | None = 30,
    tenant_id: int | str | None = None,
    sort: BillingEventSort = BillingEventSort.date,
    descending: bool = True,
    type_order: Sequence[T] = (),
    page: PageRequest = PageRequest(),
    estimate_large_total: bool = False,
) -> Page[BillingEventRow]:
    """Billing events, newest first (occurred_at, then id) unless another
    sort is asked for, without those of soft-deleted tenants.
    `period_days=None` reads the whole history (an account's own log).
    `type_order` lists every type in the order the type sort should follow
    (the console's: by its labels); without it, by stored name. With
    `estimate_large_total` (the console), a search of the platform-wide log
    matching more than a thousand events gives a sampled estimate as its
    total (docs/rules.md R200)."""
    # Conditions on the event row only, so a page and its count are walks over
    # the covering (occurred_at, id) index.
    conditions = [
        _type_condition(selected_types(types, preset)),
        "NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = be.tenant_id AND d.deleted_at IS NOT NULL)",
    ]
    params: dict[str, Any] = {"types": [str(t) for t in selected_types(types, preset)]}
    params["other_types"] = [str(t) for t in T if str(t) not in params["types"]]
    term = normalized_search(search)
    if term:
        params.update(search_params(term))
        conditions.append(f"be.tenant_id IN (SELECT t.id FROM tenants t WHERE {tenant_name_match(params)})")
    if period_days is not None:
        conditions.append("be.occurred_at BETWEEN :since AND :now")
        params.update(since=now - timedelta(days=period_days), now=now)
    if tenant_id is not None:
        conditions.append("be.tenant_id = :tenant_id")
        params["tenant_id"] = parse_tenant_id(tenant_id)
    where = " AND ".join(conditions)
    platform_wide = tenant_id is None and period_days is not None
    share: Decimal | None = None
    if platform_wide and term and estimate_large_total:
        total, share = page.once("total", lambda: _search_total(conn, params))
    elif platform_wide:
        total = page.once("total", lambda: Total(_period_total(conn, conditions[:-1], params, search=bool(term))))
    else:
        counted = f"SELECT count(*) FROM billing_events be WHERE {where}"
        total = page.once("total", lambda: Total(conn.execute(text(counted), params).scalar_one()))
    if page.offset >= total.count and not total.estimated:
        return Page([], total.count, page.page, page.page_size)
    events, found = "billing_events be", ""
    if platform_wide and term:
        if walk_is_shorter(total.count, share, page.offset + page.page_size):
            # A common term is met early on the walk: each walked event's account
            # name is read by its key, not a hash of every matching account (docs/rules.md R203).
            conditions[2] = contains_check(params, [_TENANT_NAME])
        else:
            # A rare one's events are collected account by account, then sorted.
            found = f"found AS MATERIALIZED ({_period_matches_sql(params, _FOUND_COLUMNS)}), "
            events, conditions[2] = "found be", "TRUE"
        where = " AND ".join(conditions)
    listed_order = list(dict.fromkeys(type_order))
    if listed_order and set(listed_order) != set(T):
        raise ValueError("type_order must list every billing event type")
    order = sort_order(sort, descending, by_type_order=bool(listed_order))
    params["type_order"] = [str(t) for t in listed_order]
    # Only the account-name sort reads the tenant row while it pages; the
    # others walk (date) or sort (type) the covering (occurred_at, id) index.
    named = " LEFT JOIN tenants t ON t.id = be.tenant_id" if sort is BillingEventSort.tenant_name else ""
    page_ids = f"SELECT be.id FROM {events}{named} WHERE {where} ORDER BY {order}"
    if page.walk is None:
        page_ids = f"{found}page AS ({page_ids} LIMIT :limit OFFSET :offset)"
    else:  # an export: the next ids of one pass in the sort's order (docs/rules.md R225)
        every_id = f"WITH {found.removesuffix(', ')} {page_ids}" if found else page_ids
        keys = page.walk.next_keys(conn, every_id, params, page.page_size)
        page_ids = "page AS (SELECT unnest(CAST(:ids AS text[])) AS id)"
        params["ids"] = [key.id for key in keys]
    rows = conn.execute(
        text(
            f"WITH {page_ids}"
            " SELECT be.id, be.tenant_id, COALESCE(t.name, '') AS tenant_name, t.logo->>'Url' AS tenant_logo_url,"
            " s.billing_info->'Address'->>'Country' AS country, be.event_type, be.from_plan, be.to_plan,"
            " be.amount_delta, be.previous_amount, be.new_amount, be.committed_mrr, be.currency, be.occurred_at"
            " FROM page JOIN billing_events be ON be.id = page.id"
            " LEFT JOIN tenants t ON t.id = be.tenant_id"
            " LEFT JOIN subscriptions s ON s.tenant_id = be.tenant_id"
            f" ORDER BY {order}"
        ),
        {**params, "limit": page.page_size, "offset": page.offset},
    ).mappings()
    items = [_row(row) for row in rows]
    return settled_page(items, total, page, lambda: _period_total(conn, conditions[:-1], params, search=True))


# A walked event's live account's name (NULL for a deleted account's event).
_TENANT_NAME = "(SELECT lower(t.name) FROM tenants t WHERE t.id = be.tenant_id AND t.deleted_at IS NULL)"


def _search_total(conn: Connection, params: dict[str, Any]) -> tuple[Total, Decimal]:
    """The period's matches counted when a sample says they are few; else the
    period's events (kept by day, _period_events_kept) times the share of accounts
    whose name matches in a sample of them (core/totals.py search_total).
    Also that share, which chooses the page's plan (walk_is_shorter)."""
    share = account_name_share(conn, params)

    def expected() -> Decimal:
        return share * _period_events_kept(conn, params) if share else Decimal(0)

    return search_total(conn, [_period_matches_sql(params, "1")], params, expected), share


def _period_events_kept(conn: Connection, params: dict[str, Any]) -> int:
    """The events of the UTC days the period touches, as billing_event_day_counts
    keeps them, less those of soft-deleted accounts (deleted_account_event_day_counts,
    docs/rules.md R223): an estimate's base, read in a few rows."""
    days = f"c.day >= :since_day AND c.day <= :now_day AND {_type_condition_of(params, 'c')}"
    return int(
        conn.execute(
            text(
                f"SELECT (SELECT COALESCE(sum(c.events), 0)::bigint FROM billing_event_day_counts c WHERE {days})"
                f" - (SELECT COALESCE(sum(c.events), 0)::bigint FROM deleted_account_event_day_counts c WHERE {days})"
            ),
            {
                **params,
                "since_day": params["since"].astimezone(UTC).date(),
                "now_day": params["now"].astimezone(UTC).date(),
            },
        ).scalar_one()
    )


# What a page reads of a collected event: its sort keys and conditions.
_FOUND_COLUMNS = "be.id, be.occurred_at, be.event_type, be.tenant_id"


_LIVE_TENANT = "NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = be.tenant_id AND d.deleted_at IS NOT NULL)"


def _period_total(conn: Connection, conditions: list[str], params: dict[str, Any], *, search: bool) -> int:
    """The count of a period of the platform-wide log. With a search, the
    matching accounts' events are counted account by account (an index-only
    walk each). Otherwise the whole UTC days inside the period come from
    billing_event_day_counts (migration 0006, kept by a trigger) less the
    events of soft-deleted accounts on those days, kept the same way in
    deleted_account_event_day_counts (migration 0015; docs/rules.md R223), and
    only the two partial days at the ends are counted event by event: the
    whole days cost a few counters each, not the log's rows."""
    since, now = params["since"], params["now"]
    first_day = _next_midnight(since)
    last_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if search:
        return int(conn.execute(text(_period_matches_sql(params, "count(*)")), params).scalar_one())
    if first_day >= last_day:
        where = " AND ".join([*conditions, "be.occurred_at BETWEEN :since AND :now"])
        return int(conn.execute(text(f"SELECT count(*) FROM billing_events be WHERE {where}"), params).scalar_one())
    where = " AND ".join(conditions)
    sql = (
        "SELECT (SELECT COALESCE(sum(c.events), 0)::bigint FROM billing_event_day_counts c"
        "   WHERE c.day >= :first_day AND c.day < :last_day"
        f"  AND {_type_condition_of(params, 'c')})"
        " - (SELECT COALESCE(sum(c.events), 0)::bigint FROM deleted_account_event_day_counts c"
        "   WHERE c.day >= :first_day AND c.day < :last_day"
        f"  AND {_type_condition_of(params, 'c')})"
        f" + (SELECT count(*) FROM billing_events be WHERE {where}"
        "   AND be.occurred_at >= :since AND be.occurred_at < :first_midnight)"
        f" + (SELECT count(*) FROM billing_events be WHERE {where}"
        "   AND be.occurred_at >= :last_midnight AND be.occurred_at <= :now)"
    )
    bounds = {
        "first_day": first_day.date(),
        "last_day": last_day.date(),
        "first_midnight": first_day,
        "last_midnight": last_day,
    }
    return int(conn.execute(text(sql), {**params, **bounds}).scalar_one())


def _period_matches_sql(params: dict[str, Any], columns: str) -> str:
    """The period's events of the live accounts whose name matches, found
    account by account (an index-only walk each)."""
    return (
        f"SELECT {columns} FROM tenants t JOIN billing_events be ON be.tenant_id = t.id"
        f" WHERE t.deleted_at IS NULL AND {tenant_name_match(params)}"
        f" AND {_type_condition_of(params)} AND be.occurred_at BETWEEN :since AND :now"
    )


def _next_midnight(moment: datetime) -> datetime:
    """The first UTC midnight at or after the moment."""
    moment = moment.astimezone(UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def _type_condition_of(params: dict[str, Any], alias: str = "be") -> str:
    return _type_condition(tuple(T(t) for t in params["types"]), alias)


def _type_condition(chosen: tuple[T, ...], alias: str = "be") -> str:
    # The shorter list is the cheaper test on every row (the default leaves out only NoOp).
    if len(chosen) > len(T) // 2:
        return f"{alias}.event_type <> ALL(:other_types)"
    return f"{alias}.event_type = ANY(:types)"


def _row(row: Any) -> BillingEventRow:
    return BillingEventRow(
        id=row["id"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_logo_url=row["tenant_logo_url"],
        country=row["country"],
        event_type=T(row["event_type"]),
        from_plan=row["from_plan"],
        to_plan=row["to_plan"],
        amount_delta=row["amount_delta"],
        previous_amount=row["previous_amount"],
        new_amount=row["new_amount"],
        committed_mrr=row["committed_mrr"],
        currency=row["currency"],
        occurred_at=as_utc(row["occurred_at"]),
    )
