"""Trigger functions that run as their owner search only trusted schemas.

The trigger functions of 0004, 0005 and 0006 are SECURITY DEFINER (they keep
the summaries that no application role may write) and were created with
`SET search_path FROM CURRENT`, that is `"$user", public`. PostgreSQL then
searches the session's temporary schema first, so any role that could fire
one (an admin writing a subscription) or attach one to a table of its own (a
reader: EXECUTE was granted to PUBLIC) could shadow a summary table with a
temporary table whose trigger runs the role's code as the owner, a
superuser: `ALTER ROLE ... SUPERUSER`.

Each function is recreated here with
- `SET search_path = pg_catalog, public, pg_temp`: built-in functions and
  operators first, the temporary schema last, so it can never shadow a table;
- every table, type and function of the schema written `public.`-qualified;
- EXECUTE revoked from PUBLIC: only the owner may attach it to a table (the
  triggers of the schema fire whoever writes, as before).
The bodies are otherwise those of the earlier revisions. The helpers they call
(login_counts_add, ledger_summaries_refresh, ...) are not SECURITY DEFINER and
run under the caller's pinned search_path.

A SECURITY DEFINER function added later must pin the same search_path and
revoke EXECUTE from PUBLIC; tests/db/test_security_definer.py checks both.

Revision ID: 0009
Revises: 0008
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

HEADER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
SHARD = "(pg_backend_pid() % 16)::smallint"

# --- 0004 ----------------------------------------------------------------------

PAYMENT_TRANSACTION_ROWS_REFRESH = """
BEGIN
    DELETE FROM public.payment_transaction_rows WHERE subscription_id = OLD.id AND TG_OP = 'UPDATE';
    INSERT INTO public.payment_transaction_rows
    SELECT * FROM public.payment_transaction_rows_of(NEW.id, NEW.tenant_id, NEW.payment_transactions);
    RETURN NULL;
END
"""

# --- 0005: logins --------------------------------------------------------------

LOGIN_COUNTS_REBUILD = """
BEGIN
    PERFORM public.login_counts_recount();
    RETURN NULL;
END
"""


def _login_changes_body(succeeded: str, failed: str) -> str:
    """The login counting trigger of a login table whose succeeded and failed
    rules, written over a row `{r}`, are given."""

    def change(row: str, sign: str = "") -> str:
        return (
            f"ROW((({row}.created_at) AT TIME ZONE 'UTC')::date, {row}.email,"
            f" {sign}({succeeded.format(r=row)})::integer, {sign}({failed.format(r=row)})::integer)"
            "::public.login_count_change"
        )

    def counted(row: str) -> str:
        return f"({succeeded.format(r=row)} OR {failed.format(r=row)})"

    return f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.login_counts_add(ARRAY(
            SELECT {change("n")} FROM new_rows AS n WHERE {counted("n")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.login_counts_add(ARRAY(
            SELECT {change("o", "-")} FROM old_rows AS o WHERE {counted("o")}));
    ELSE
        PERFORM public.login_counts_add(ARRAY[{change("OLD", "-")}, {change("NEW")}]);
    END IF;
    RETURN NULL;
END
"""


# The succeeded and failed rules of 0005, unchanged.
EMAIL_LOGINS_COUNT_LOGINS = _login_changes_body("{r}.completed", "(NOT {r}.completed AND {r}.retry_count >= 3)")
EXTERNAL_LOGINS_COUNT_LOGINS = _login_changes_body(
    "COALESCE({r}.login_result = 'Success', false)", "COALESCE({r}.login_result <> 'Success', false)"
)

# --- 0005: users ---------------------------------------------------------------


def _user_changes(row: str, sign: str = "") -> str:
    return (
        f"ROW((({row}.created_at) AT TIME ZONE 'UTC')::date, {sign}1, 0)::public.live_user_change,"
        f" ROW((({row}.last_seen_at) AT TIME ZONE 'UTC')::date, 0, {sign}1)::public.live_user_change"
    )


USERS_COUNT_LIVE_DAYS = f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.live_user_days_add(ARRAY(
            SELECT c FROM new_rows AS n, unnest(ARRAY[{_user_changes("n")}]) AS c WHERE n.deleted_at IS NULL));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.live_user_days_add(ARRAY(
            SELECT c FROM old_rows AS o, unnest(ARRAY[{_user_changes("o", "-")}]) AS c WHERE o.deleted_at IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM public.live_user_days_add(
            CASE WHEN OLD.deleted_at IS NULL THEN ARRAY[{_user_changes("OLD", "-")}] ELSE '{{}}' END
            || CASE WHEN NEW.deleted_at IS NULL THEN ARRAY[{_user_changes("NEW")}] ELSE '{{}}' END);
    ELSE
        TRUNCATE public.live_user_days;
    END IF;
    RETURN NULL;
END
"""

# --- 0005: billing events --------------------------------------------------------


def _ledger_rows(rows: str) -> str:
    return (
        "SELECT subscription_id, MIN(((occurred_at) AT TIME ZONE 'UTC')::date) FILTER (WHERE amount_delta IS NOT NULL)"
        f" AS from_day FROM {rows} GROUP BY subscription_id"
    )


BILLING_EVENTS_REFRESH_LEDGER_SUMMARIES = f"""
DECLARE
    subscription_ids text[];
    from_days date[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.ledger_subscriptions, public.mrr_day_changes, public.mrr_days;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM ({_ledger_rows("new_rows")}) AS affected;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM ({_ledger_rows("old_rows")}) AS affected;
    ELSE
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM (
            SELECT subscription_id, MIN(from_day) AS from_day
            FROM ({_ledger_rows("old_rows")} UNION ALL {_ledger_rows("new_rows")}) AS both_sides
            GROUP BY subscription_id
        ) AS affected;
    END IF;
    IF subscription_ids IS NOT NULL THEN
        PERFORM public.ledger_summaries_refresh(subscription_ids, from_days);
    END IF;
    RETURN NULL;
END
"""

# --- 0005: revenue ---------------------------------------------------------------


def _revenue_days_add(*sources: tuple[str, int]) -> str:
    moves = "\n            UNION ALL\n            ".join(
        f"SELECT added_on AS day, {sign} * amount_excluding_tax AS amount FROM {rows} WHERE added_on IS NOT NULL"
        "\n            UNION ALL\n            "
        f"SELECT reversed_on, {-sign} * amount_excluding_tax FROM {rows} WHERE reversed_on IS NOT NULL"
        for rows, sign in sources
    )
    return f"""INSERT INTO public.revenue_days AS d (day, shard, amount)
        SELECT day, {SHARD}, SUM(amount)
        FROM (
            {moves}
        ) AS moves
        GROUP BY day HAVING SUM(amount) <> 0 ORDER BY day
        ON CONFLICT (day, shard) DO UPDATE SET amount = d.amount + excluded.amount"""


REVENUE_SUMMARIES_FOLLOW = f"""
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.subscription_revenue, public.revenue_days;
    ELSIF TG_TABLE_NAME = 'tenants' THEN
        PERFORM public.subscription_revenue_refresh(
            ARRAY(SELECT id FROM public.subscriptions WHERE tenant_id = NEW.id));
    ELSIF TG_TABLE_NAME = 'subscriptions' THEN
        PERFORM public.subscription_revenue_refresh(ARRAY[OLD.id, NEW.id]);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM public.subscription_revenue_refresh(ARRAY(SELECT subscription_id FROM new_rows));
        {_revenue_days_add(("new_rows", 1))};
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.subscription_revenue_refresh(ARRAY(SELECT subscription_id FROM old_rows));
        {_revenue_days_add(("old_rows", -1))};
    ELSE
        PERFORM public.subscription_revenue_refresh(
            ARRAY(SELECT subscription_id FROM old_rows UNION SELECT subscription_id FROM new_rows));
        {_revenue_days_add(("new_rows", 1), ("old_rows", -1))};
    END IF;
    RETURN NULL;
END
"""

# --- 0006 ------------------------------------------------------------------------


def _count_body(table: str, keys: str, count: str, moves: str) -> str:
    """Adds the signed rows of `moves` (over the transition table {rows}) to
    a sharded count, as 0006 does."""
    added = moves.format(rows="new_rows", sign="")
    removed = moves.format(rows="old_rows", sign="-")
    upsert = (
        f"INSERT INTO public.{table} AS c ({keys}, shard, {count})"
        f" SELECT {keys}, {SHARD}, sum(delta) FROM ({{moves}}) AS moves"
        f" GROUP BY {keys} HAVING sum(delta) <> 0 ORDER BY {keys}"
        f" ON CONFLICT ({keys}, shard) DO UPDATE SET {count} = c.{count} + excluded.{count}"
    )
    return f"""
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.{table};
    ELSIF TG_OP = 'INSERT' THEN
        {upsert.format(moves=added)};
    ELSIF TG_OP = 'DELETE' THEN
        {upsert.format(moves=removed)};
    ELSE
        {upsert.format(moves=f"{added} UNION ALL {removed}")};
    END IF;
    RETURN NULL;
END
"""


INVOICE_ROW_COUNTS_APPLY = _count_body(
    "invoice_row_counts",
    "row_kind, row_status",
    "invoice_rows",
    "SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, {sign}1 AS delta FROM {rows}"
    " UNION ALL SELECT reversal_kind, 'Refunded', {sign}1 FROM {rows} WHERE reversal_kind IS NOT NULL",
)
BILLING_EVENT_DAY_COUNTS_APPLY = _count_body(
    "billing_event_day_counts",
    "day, event_type",
    "events",
    "SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, {sign}1 AS delta FROM {rows}",
)

# Every SECURITY DEFINER function of the schema, by name, with its new body.
BODIES = {
    "payment_transaction_rows_refresh": PAYMENT_TRANSACTION_ROWS_REFRESH,
    "login_counts_rebuild": LOGIN_COUNTS_REBUILD,
    "email_logins_count_logins": EMAIL_LOGINS_COUNT_LOGINS,
    "external_logins_count_logins": EXTERNAL_LOGINS_COUNT_LOGINS,
    "users_count_live_days": USERS_COUNT_LIVE_DAYS,
    "billing_events_refresh_ledger_summaries": BILLING_EVENTS_REFRESH_LEDGER_SUMMARIES,
    "revenue_summaries_follow": REVENUE_SUMMARIES_FOLLOW,
    "invoice_row_counts_apply": INVOICE_ROW_COUNTS_APPLY,
    "billing_event_day_counts_apply": BILLING_EVENT_DAY_COUNTS_APPLY,
}


def _function_sql(name: str, body: str) -> str:
    return f"CREATE OR REPLACE FUNCTION public.{name}() RETURNS trigger\n{HEADER}\nAS $$\n{body}$$"


def upgrade() -> None:
    for name, body in BODIES.items():
        op.execute(_function_sql(name, body))
        op.execute(f"REVOKE EXECUTE ON FUNCTION public.{name}() FROM PUBLIC")


def _revision(filename: str) -> ModuleType:
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _previous_definitions() -> list[str]:
    """The functions as 0004, 0005 and 0006 created them."""
    r0004 = _revision("0004_dashboard_indexes.py")
    r0005 = _revision("0005_dashboard_performance.py")
    r0006 = _revision("0006_list_performance.py")
    definitions = [r0004.TRIGGER_FUNCTION_SQL]
    definitions += [
        sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for sql in (
            r0005.LOGIN_COUNTS_REBUILD_SQL,
            r0005.login_trigger_function_sql("email_logins"),
            r0005.login_trigger_function_sql("external_logins"),
            r0005.USERS_TRIGGER_FUNCTION_SQL,
            r0005.BILLING_EVENTS_TRIGGER_FUNCTION_SQL,
            r0005.REVENUE_TRIGGER_FUNCTION_SQL,
        )
    ]
    definitions += [
        r0006._count_function_sql(function, counts, keys, moves)
        for function, counts, keys, moves in r0006.COUNTED.values()
    ]
    return definitions


def downgrade() -> None:
    # `SET search_path FROM CURRENT` in those definitions takes the migrating
    # session's path, as it did when they first ran.
    for sql in _previous_definitions():
        op.execute(sql)
    for name in BODIES:
        op.execute(f"GRANT EXECUTE ON FUNCTION public.{name}() TO PUBLIC")
