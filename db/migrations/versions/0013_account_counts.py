"""Tenant counts from a per-tenant class kept by triggers (docs/rules.md R190-R194).

At 100,000 tenants the KPI tenant counts, the blended MRR, the plan
distribution, the accounts list total and the unsynced banner each counted the
tenants (or their subscriptions) one by one. They now add up a few hundred
counters:

- account_classes: per tenant, what those figures ask of it: live
  (deleted_at IS NULL), plan, active (state = 'Active'), the derived status
  (docs/rules.md R73), ever paid (R71), unsynced (R37: a price and no billing
  event, i.e. no ledger_subscriptions row), drift and the forward MRR of its
  paid subscription (R30, R31: 0 on Basis or without a subscription);
- account_class_counts: the tenants and their summed forward MRR per class
  (every column of account_classes but the tenant and the MRR), live and
  soft-deleted alike (the blended MRR counts both), spread over 16 shards
  (shard = backend pid mod 16, as in 0005 and 0006).

Statement-level AFTER triggers on tenants, subscriptions and
ledger_subscriptions pass the tenants whose class may have moved to
account_classes_refresh, one set-based statement per step (a bulk COPY costs
one pass). It locks the tenants' class rows in tenant order BEFORE it reads
the source rows (docs/rules.md R192), so two transactions changing one tenant
(its tenant row, its subscription, its first billing event) take turns and the
second computes from what the first committed. TRUNCATE of any source table
rebuilds both tables from the rows left. Only the trigger functions (SECURITY
DEFINER) write them. A first billing event written while its subscription's
own insert is not yet committed finds no tenant to refresh (billing_events
has no foreign key to wait on); the subscription then counts as unsynced
until its tenant's class is next refreshed.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

HEADER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
SHARD = "(pg_backend_pid() % 16)::smallint"

# The rules as they stood when this revision was written (core/money.py,
# core/account_status.py): a migration must not change when the live code does.
EVER_PAID_SQL = (
    'jsonb_path_exists(s.payment_transactions, \'$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")\')'
)
FORWARD_MRR_SQL = (
    "CASE WHEN s.current_price_amount IS NULL OR s.cancel_at_period_end THEN 0"
    " ELSE COALESCE(s.scheduled_price_amount, s.current_price_amount) END"
)
STATUS_SQL = (
    "CASE WHEN s.cancel_at_period_end THEN 'Canceling'"
    " WHEN s.scheduled_plan IS NOT NULL THEN 'Downgrading'"
    " WHEN t.plan <> 'Basis' THEN 'Active'"
    f" WHEN {EVER_PAID_SQL} THEN 'Canceled'"
    " ELSE 'Free' END"
)

# The class key, in key order; the counts add tenants and forward_mrr per key.
CLASS_KEY = "live, plan, active, status, ever_paid, unsynced, drift"
CLASS_COLUMNS = f"{CLASS_KEY}, forward_mrr"

# The class of the tenants matching {where}, from their current rows.
CLASS_SQL = f"""
SELECT t.id AS tenant_id,
       t.deleted_at IS NULL AS live,
       t.plan,
       t.state = 'Active' AS active,
       {STATUS_SQL} AS status,
       COALESCE({EVER_PAID_SQL}, false) AS ever_paid,
       COALESCE(s.current_price_amount IS NOT NULL AND l.subscription_id IS NULL, false) AS unsynced,
       COALESCE(s.has_drift_detected, false) AS drift,
       CASE WHEN s.plan <> 'Basis' THEN {FORWARD_MRR_SQL} ELSE 0 END AS forward_mrr
FROM public.tenants AS t
LEFT JOIN public.subscriptions AS s ON s.tenant_id = t.id
LEFT JOIN public.ledger_subscriptions AS l ON l.subscription_id = s.id
WHERE {{where}}
"""

TABLES_SQL = [
    # A row whose class columns are null is a tenant locked before its first
    # class was stored (account_classes_refresh); it counts nowhere.
    """
    CREATE TABLE account_classes (
        tenant_id bigint NOT NULL,
        live boolean,
        plan text,
        active boolean,
        status text,
        ever_paid boolean,
        unsynced boolean,
        drift boolean,
        forward_mrr numeric,
        CONSTRAINT pk_account_classes PRIMARY KEY (tenant_id)
    )
    """,
    """
    CREATE TABLE account_class_counts (
        live boolean NOT NULL,
        plan text NOT NULL,
        active boolean NOT NULL,
        status text NOT NULL,
        ever_paid boolean NOT NULL,
        unsynced boolean NOT NULL,
        drift boolean NOT NULL,
        shard smallint NOT NULL,
        tenants bigint NOT NULL,
        forward_mrr numeric NOT NULL,
        CONSTRAINT pk_account_class_counts PRIMARY KEY (live, plan, active, status, ever_paid, unsynced, drift, shard)
    )
    """,
]

INDEXES = {
    # The unsynced banner's few live accounts, in tenant order.
    "ix_account_classes_live_unsynced": "account_classes (tenant_id) WHERE live AND unsynced",
    # The accounts list's status filter: the few live tenants of a rare status
    # (and plan) found outright, not through every subscription of the status.
    "ix_account_classes_live_status_plan": "account_classes (status, plan, tenant_id) WHERE live",
}


def _moves(side: str, sign: str) -> str:
    columns = ", ".join(f"{side}_{column} AS {column}" for column in CLASS_KEY.split(", "))
    return (
        f"SELECT {columns}, {sign}1 AS delta, {sign}{side}_forward_mrr AS mrr FROM moved WHERE {side}_live IS NOT NULL"
    )


REFRESH_SQL = f"""
CREATE FUNCTION account_classes_refresh(tenant_ids bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    -- One writer per tenant at a time, from here to its commit, and before
    -- any source row is read (docs/rules.md R192).
    INSERT INTO public.account_classes AS c (tenant_id)
    SELECT DISTINCT id FROM unnest(tenant_ids) AS id WHERE id IS NOT NULL ORDER BY id
    ON CONFLICT (tenant_id) DO UPDATE SET tenant_id = excluded.tenant_id;

    -- The tenants whose class moved (or that are gone) leave their old count
    -- and join their new one; the stored class follows.
    WITH fresh AS ({CLASS_SQL.format(where="t.id = ANY (tenant_ids)")}),
    moved AS (
        SELECT c.tenant_id, f.tenant_id IS NULL AS gone,
               {", ".join(f"c.{column} AS old_{column}" for column in CLASS_COLUMNS.split(", "))},
               {", ".join(f"f.{column} AS new_{column}" for column in CLASS_COLUMNS.split(", "))}
        FROM public.account_classes AS c
        LEFT JOIN fresh AS f ON f.tenant_id = c.tenant_id
        WHERE c.tenant_id = ANY (tenant_ids)
          AND (f.tenant_id IS NULL
               OR ({", ".join(f"c.{column}" for column in CLASS_COLUMNS.split(", "))})
                  IS DISTINCT FROM ({", ".join(f"f.{column}" for column in CLASS_COLUMNS.split(", "))}))
    ),
    stored AS (
        UPDATE public.account_classes AS c
        SET ({CLASS_COLUMNS}) = ({", ".join(f"m.new_{column}" for column in CLASS_COLUMNS.split(", "))})
        FROM moved AS m
        WHERE c.tenant_id = m.tenant_id AND NOT m.gone
    ),
    removed AS (
        DELETE FROM public.account_classes AS c USING moved AS m WHERE c.tenant_id = m.tenant_id AND m.gone
    )
    INSERT INTO public.account_class_counts AS n ({CLASS_KEY}, shard, tenants, forward_mrr)
    SELECT {CLASS_KEY}, {SHARD}, sum(delta), sum(mrr)
    FROM ({_moves("old", "-")} UNION ALL {_moves("new", "")}) AS moves
    GROUP BY {CLASS_KEY}
    HAVING sum(delta) <> 0 OR sum(mrr) <> 0
    ORDER BY {CLASS_KEY}
    ON CONFLICT ({CLASS_KEY}, shard)
    DO UPDATE SET tenants = n.tenants + excluded.tenants, forward_mrr = n.forward_mrr + excluded.forward_mrr;
END
$$
"""

# Both tables again from every tenant: the backfill, and after a TRUNCATE.
REBUILD_SQL = f"""
CREATE FUNCTION account_classes_rebuild() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    -- Waits for every writer holding a class row, and keeps new ones out.
    LOCK TABLE public.account_classes IN EXCLUSIVE MODE;
    DELETE FROM public.account_class_counts;
    DELETE FROM public.account_classes;
    INSERT INTO public.account_classes (tenant_id, {CLASS_COLUMNS})
    {CLASS_SQL.format(where="true")};
    INSERT INTO public.account_class_counts ({CLASS_KEY}, shard, tenants, forward_mrr)
    SELECT {CLASS_KEY}, 0, count(*), sum(forward_mrr) FROM public.account_classes
    GROUP BY {CLASS_KEY} ORDER BY {CLASS_KEY};
END
$$
"""


def _changed_rows(key: str, columns: str, tenant_of: str) -> str:
    """The tenants (by `tenant_of`, over a row o or n) of the rows of old_rows
    and new_rows, matched by `key`, whose `columns` differ."""
    old = ", ".join(f"o.{c}" if c.isidentifier() else c.format(r="o") for c in columns.split("; "))
    new = ", ".join(f"n.{c}" if c.isidentifier() else c.format(r="n") for c in columns.split("; "))
    return (
        f"SELECT array_agg(DISTINCT tenant_id) FROM ("
        f"SELECT {tenant_of.format(r='o')} AS tenant_id FROM old_rows AS o"
        f" FULL JOIN new_rows AS n ON n.{key} = o.{key} WHERE ({old}) IS DISTINCT FROM ({new})"
        f" UNION ALL SELECT {tenant_of.format(r='n')} FROM old_rows AS o"
        f" FULL JOIN new_rows AS n ON n.{key} = o.{key} WHERE ({old}) IS DISTINCT FROM ({new})"
        ") AS changed WHERE tenant_id IS NOT NULL"
    )


def _trigger_function_sql(name: str, inserted: str, deleted: str, updated: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger
{HEADER}
AS $$
DECLARE
    tenant_ids bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM public.account_classes_rebuild();
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        tenant_ids := ({inserted});
    ELSIF TG_OP = 'DELETE' THEN
        tenant_ids := ({deleted});
    ELSE
        tenant_ids := ({updated});
    END IF;
    IF tenant_ids IS NOT NULL THEN
        PERFORM public.account_classes_refresh(tenant_ids);
    END IF;
    RETURN NULL;
END
$$
"""


SUBSCRIPTION_TENANTS = (
    "SELECT array_agg(DISTINCT s.tenant_id) FROM public.subscriptions AS s"
    " WHERE s.id IN (SELECT subscription_id FROM {rows})"
)
LEDGER_TENANTS_UPDATED = (
    "SELECT array_agg(DISTINCT s.tenant_id) FROM public.subscriptions AS s WHERE s.id IN ("
    "SELECT o.subscription_id FROM old_rows AS o FULL JOIN new_rows AS n ON n.subscription_id = o.subscription_id"
    " WHERE o.subscription_id IS NULL OR n.subscription_id IS NULL"
    " UNION ALL SELECT n.subscription_id FROM old_rows AS o FULL JOIN new_rows AS n"
    " ON n.subscription_id = o.subscription_id WHERE o.subscription_id IS NULL OR n.subscription_id IS NULL)"
)
EVER_PAID_OF = EVER_PAID_SQL.replace("(s.", "({r}.")

# Per source table: its trigger function, the tenants an insert, a delete and
# an update touch. An update counts only where a column the class reads moved.
FOLLOWED = {
    "tenants": (
        "tenants_account_classes_follow",
        "SELECT array_agg(id) FROM new_rows",
        "SELECT array_agg(id) FROM old_rows",
        _changed_rows("id", "id; plan; state; {r}.deleted_at IS NULL", "{r}.id"),
    ),
    "subscriptions": (
        "subscriptions_account_classes_follow",
        "SELECT array_agg(DISTINCT tenant_id) FROM new_rows",
        "SELECT array_agg(DISTINCT tenant_id) FROM old_rows",
        _changed_rows(
            "id",
            "id; tenant_id; plan; current_price_amount; cancel_at_period_end; scheduled_plan;"
            f" scheduled_price_amount; has_drift_detected; {EVER_PAID_OF}",
            "{r}.tenant_id",
        ),
    ),
    "ledger_subscriptions": (
        "ledger_subscriptions_account_classes_follow",
        SUBSCRIPTION_TENANTS.format(rows="new_rows"),
        SUBSCRIPTION_TENANTS.format(rows="old_rows"),
        LEDGER_TENANTS_UPDATED,
    ),
}


def _triggers(table: str, function: str) -> list[str]:
    prefix = f"trg_{table}_account_classes"
    each = f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    return [
        f"CREATE TRIGGER {prefix}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {prefix}_update AFTER UPDATE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {prefix}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows {each}",
        f"CREATE TRIGGER {prefix}_truncate AFTER TRUNCATE ON {table} {each}",
    ]


HELPERS = ("account_classes_refresh(bigint[])", "account_classes_rebuild()")


def upgrade() -> None:
    for statement in TABLES_SQL:
        op.execute(statement)
    op.execute(REFRESH_SQL)
    op.execute(REBUILD_SQL)
    for helper in HELPERS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION public.{helper} FROM PUBLIC")
    # Backfill before the triggers exist, with the source tables held still.
    op.execute("LOCK TABLE tenants, subscriptions, ledger_subscriptions IN SHARE MODE")
    op.execute("SELECT account_classes_rebuild()")
    for table, (function, inserted, deleted, updated) in FOLLOWED.items():
        op.execute(_trigger_function_sql(function, inserted, deleted, updated))
        op.execute(f"REVOKE EXECUTE ON FUNCTION public.{function}() FROM PUBLIC")
        for statement in _triggers(table, function):
            op.execute(statement)
    for table in ("account_classes", "account_class_counts"):
        # Readable by both roles; written only by the trigger functions.
        op.execute(f"REVOKE ALL ON {table} FROM backoffice_admin, backoffice_reader")
        op.execute(f"GRANT SELECT ON {table} TO backoffice_reader, backoffice_admin")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    op.execute("ANALYZE account_classes")
    op.execute("ANALYZE account_class_counts")


def downgrade() -> None:
    for table, (function, *_) in FOLLOWED.items():
        for operation in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_account_classes_{operation} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for helper in HELPERS:
        op.execute(f"DROP FUNCTION IF EXISTS {helper}")
    op.execute("DROP TABLE IF EXISTS account_class_counts")
    op.execute("DROP TABLE IF EXISTS account_classes")
