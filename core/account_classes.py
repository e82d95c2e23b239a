"""Tenant counts read from the class counts that triggers keep (migration 0013,
docs/rules.md R190-R194): a sum over a few hundred counters, whatever the
number of tenants.

account_class_counts holds, per class of tenant (live, plan, active = state
'Active', derived status R73, ever paid R71, unsynced R37, drift) and shard,
how many tenants are in it and their summed forward MRR (R30, paid
subscriptions only, R31). Soft-deleted tenants are counted too, with live
false: the blended MRR and the unsynced banner count them (docs/rules.md R191).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from core.account_status import AccountStatus
from db.enums import SubscriptionPlan

CLASS_COUNTS = "account_class_counts"


def tenants_sum(condition: str = "true") -> str:
    """The tenants of the classes matching `condition`, as a SQL aggregate (0 when none)."""
    return f"COALESCE(sum(tenants) FILTER (WHERE {condition}), 0)::bigint"


def class_filter(
    plans: Sequence[SubscriptionPlan] = (),
    statuses: Sequence[AccountStatus] = (),
    unsynced: bool = False,
    drift_detected: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The live classes an accounts-list filter without a search matches
    (docs/rules.md R193): each filter of core/accounts.py is a class column."""
    conditions = ["live"]
    params: dict[str, Any] = {}
    if plans:
        conditions.append("plan = ANY(:class_plans)")
        params["class_plans"] = [str(plan) for plan in plans]
    if statuses:
        conditions.append("status = ANY(:class_statuses)")
        params["class_statuses"] = [str(status) for status in statuses]
    if unsynced:
        conditions.append("unsynced")
    if drift_detected:
        conditions.append("drift")
    return " AND ".join(conditions), params


def count_live_accounts(
    conn: Connection,
    plans: Sequence[SubscriptionPlan] = (),
    statuses: Sequence[AccountStatus] = (),
    unsynced: bool = False,
    drift_detected: bool = False,
) -> int:
    """Live tenants matching the filters, from the class counts."""
    condition, params = class_filter(plans, statuses, unsynced, drift_detected)
    sql = f"SELECT {tenants_sum()} FROM {CLASS_COUNTS} WHERE {condition}"
    return int(conn.execute(text(sql), params).scalar_one())
