"""What the list pages need at platform scale (100,000 tenants, 3,000,000+
billing events): counts kept by triggers, and invoice rows that page from
payment_transaction_rows without unpacking any JSON.

- invoice_row_counts: the invoice-list rows (docs/rules.md R48) by kind and
  status, so a view's total is a sum of a few counters less the rows of
  deleted tenants.
- billing_event_day_counts: billing events per UTC day and type. A period's total adds the
  whole days inside it and counts only the two partial days at its ends.
- payment_transaction_rows gains the rest of a transaction's fields and its
  invoice-row projection (docs/rules.md R48): invoice_status (Refunded shows
  as Succeeded), reversal_kind (CreditNote or Refund, the second row a
  transaction may have) and reversed_at (that row's date).

Both count tables are written by statement-level triggers in the statement
that changes their source rows, one upsert per key, in key order, so they
are never stale and a bulk COPY costs one aggregate. Each key is spread over
16 rows (shard = backend pid mod 16, as in 0005) so that concurrent writers
never wait for one counter. Only the trigger functions (SECURITY DEFINER)
write them. (The users list total needs no table of its own: 0005's
live_user_days counts every live user on the day it was created.)

Revision ID: 0006
Revises: 0005
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The revenue rule (core.money.REVENUE_TRANSACTION_SQL) as it stood when this
# revision was written: a migration must not change when the live code does.
REVENUE_TRANSACTION_SQL = (
    "(t->>'Status' = 'Succeeded'"
    " AND (t->'CreditNoteUrl' IS NULL OR jsonb_typeof(t->'CreditNoteUrl') = 'null')"
    " AND (t->'RefundedAt' IS NULL OR jsonb_typeof(t->'RefundedAt') = 'null'))"
)

NEW_TRANSACTION_COLUMNS = {
    "tax_amount": "numeric(18, 2)",
    "failure_reason": "text",
    "invoice_url": "text",
    "credit_note_url": "text",
    "credit_noted_at": "timestamptz",
    "refunded_at": "timestamptz",
    "invoice_status": "text",
    "reversal_kind": "text",
    "reversed_at": "timestamptz",
}

# The columns of 0004 in table order, then NEW_TRANSACTION_COLUMNS in order.
ROWS_OF_SQL = f"""
CREATE OR REPLACE FUNCTION payment_transaction_rows_of(
    of_subscription_id text, of_tenant_id bigint, transactions jsonb
) RETURNS SETOF payment_transaction_rows
LANGUAGE sql STABLE
AS $$
    SELECT of_subscription_id, e.position::integer, of_tenant_id, t->>'Id', charged.at, t->>'Status',
           CASE WHEN jsonb_typeof(t->'Amount') = 'number' THEN (t->>'Amount')::numeric END,
           (t->>'AmountExcludingTax')::numeric, t->>'Currency', t->>'Plan',
           COALESCE({REVENUE_TRANSACTION_SQL}, false),
           CASE WHEN t->>'Status' IN ('Succeeded', 'Refunded') THEN (charged.at AT TIME ZONE 'UTC')::date END,
           (payment_transaction_timestamp(
                CASE WHEN t->>'CreditNoteUrl' IS NOT NULL
                     THEN COALESCE(t->>'CreditNotedAt', t->>'RefundedAt', t->>'Date')
                     ELSE t->>'RefundedAt' END
            ) AT TIME ZONE 'UTC')::date,
           CASE WHEN jsonb_typeof(t->'TaxAmount') = 'number' THEN (t->>'TaxAmount')::numeric END,
           t->>'FailureReason', t->>'InvoiceUrl', t->>'CreditNoteUrl',
           credit_noted.at, refunded.at,
           CASE WHEN t->>'Status' = 'Refunded' THEN 'Succeeded' ELSE t->>'Status' END,
           reversal.kind,
           CASE reversal.kind
                WHEN 'CreditNote' THEN COALESCE(credit_noted.at, refunded.at, charged.at)
                WHEN 'Refund' THEN COALESCE(refunded.at, charged.at) END
    FROM jsonb_array_elements(transactions) WITH ORDINALITY AS e(t, position)
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'Date') AS at) AS charged
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'CreditNotedAt') AS at) AS credit_noted
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'RefundedAt') AS at) AS refunded
    CROSS JOIN LATERAL (
        SELECT CASE WHEN e.t->>'CreditNoteUrl' IS NOT NULL THEN 'CreditNote'
                    WHEN e.t->>'Status' = 'Refunded' OR e.t->>'RefundedAt' IS NOT NULL THEN 'Refund' END AS kind
    ) AS reversal
$$
"""

REBUILD_TRANSACTION_ROWS_SQL = [
    "LOCK TABLE subscriptions IN SHARE MODE",
    "DELETE FROM payment_transaction_rows",
    """
    INSERT INTO payment_transaction_rows
    SELECT r.* FROM subscriptions AS s
    CROSS JOIN LATERAL payment_transaction_rows_of(s.id, s.tenant_id, s.payment_transactions) AS r
    WHERE s.payment_transactions <> '[]'::jsonb
    """,
]

COUNT_TABLES_SQL = [
    """
    CREATE TABLE IF NOT EXISTS invoice_row_counts (
        row_kind text NOT NULL,
        row_status text NOT NULL,
        shard smallint NOT NULL,
        invoice_rows bigint NOT NULL,
        CONSTRAINT pk_invoice_row_counts PRIMARY KEY (row_kind, row_status, shard)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS billing_event_day_counts (
        day date NOT NULL,
        event_type text NOT NULL,
        shard smallint NOT NULL,
        events bigint NOT NULL,
        CONSTRAINT pk_billing_event_day_counts PRIMARY KEY (day, event_type, shard)
    )
    """,
]
COUNT_COLUMN = {"invoice_row_counts": "invoice_rows", "billing_event_day_counts": "events"}
SHARD = "(pg_backend_pid() % 16)::smallint"


def _count_function_sql(name: str, table: str, keys: str, moves: str) -> str:
    """A trigger function adding the signed rows of `moves` (a query over the
    transition table {rows}, giving the keys and a delta) to a sharded count."""
    count = COUNT_COLUMN[table]
    added = moves.format(rows="new_rows", sign="")
    removed = moves.format(rows="old_rows", sign="-")
    upsert = (
        f"INSERT INTO {table} AS c ({keys}, shard, {count})"
        f" SELECT {keys}, {SHARD}, sum(delta) FROM ({{moves}}) AS moves"
        f" GROUP BY {keys} HAVING sum(delta) <> 0 ORDER BY {keys}"
        f" ON CONFLICT ({keys}, shard) DO UPDATE SET {count} = c.{count} + excluded.{count}"
    )
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM {table};
    ELSIF TG_OP = 'INSERT' THEN
        {upsert.format(moves=added)};
    ELSIF TG_OP = 'DELETE' THEN
        {upsert.format(moves=removed)};
    ELSE
        {upsert.format(moves=f"{added} UNION ALL {removed}")};
    END IF;
    RETURN NULL;
END
$$
"""


# Every transaction is an Invoice row with its invoice status, and may have a
# CreditNote or a Refund row, whose status is Refunded.
INVOICE_ROWS = (
    "SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, {sign}1 AS delta FROM {rows}"
    " UNION ALL SELECT reversal_kind, 'Refunded', {sign}1 FROM {rows} WHERE reversal_kind IS NOT NULL"
)
EVENT_DAY = "(occurred_at AT TIME ZONE 'UTC')::date"
EVENT_DAYS = f"SELECT {EVENT_DAY} AS day, event_type, {{sign}}1 AS delta FROM {{rows}}"
COUNTED = {
    "payment_transaction_rows": (
        "invoice_row_counts_apply",
        "invoice_row_counts",
        "row_kind, row_status",
        INVOICE_ROWS,
    ),
    "billing_events": ("billing_event_day_counts_apply", "billing_event_day_counts", "day, event_type", EVENT_DAYS),
}


def _count_triggers(table: str, function: str) -> list[str]:
    prefix = f"trg_{table}_{function.removesuffix('_apply')}"
    each = f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    return [
        f"CREATE TRIGGER {prefix}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {prefix}_update AFTER UPDATE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {prefix}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows {each}",
        f"CREATE TRIGGER {prefix}_truncate AFTER TRUNCATE ON {table} {each}",
    ]


def _backfill_sql(table: str) -> list[str]:
    _, counts, keys, moves = COUNTED[table]
    rows = moves.format(rows=table, sign="")
    return [
        f"DELETE FROM {counts}",
        f"INSERT INTO {counts} ({keys}, shard, {COUNT_COLUMN[counts]})"
        f" SELECT {keys}, 0, sum(delta) FROM ({rows}) AS counted GROUP BY {keys}",
    ]


INDEXES = {
    # Invoices: one index walk per invoice status, merged in date or total
    # order (non-date sorts tie on the date, newest first; docs/rules.md R95).
    "ix_payment_transaction_rows_invoice_status_date": (
        "payment_transaction_rows (invoice_status, date DESC, tenant_id, transaction_id)"
    ),
    "ix_payment_transaction_rows_invoice_status_amount": (
        "payment_transaction_rows (invoice_status, amount, date DESC, tenant_id, transaction_id)"
    ),
    "ix_payment_transaction_rows_invoice_status_amount_desc": (
        "payment_transaction_rows (invoice_status, amount DESC, date DESC, tenant_id, transaction_id)"
    ),
    # Invoices: the credit-note and refund rows (few), sorted outright.
    "ix_payment_transaction_rows_reversals": (
        "payment_transaction_rows (reversed_at DESC, tenant_id, transaction_id)"
        " INCLUDE (reversal_kind, amount) WHERE reversal_kind IS NOT NULL"
    ),
    # Invoices by tenant: a name search, the tenant-name sort, deleted tenants.
    "ix_payment_transaction_rows_tenant_id": "payment_transaction_rows (tenant_id)",
    # Billing events of some tenants (a search, deleted tenants) counted by
    # type without visiting the table.
    "ix_billing_events_tenant_id_occurred_at_type": ("billing_events (tenant_id, occurred_at) INCLUDE (event_type)"),
}


def _revision_0004():
    path = Path(__file__).with_name("0004_dashboard_indexes.py")
    spec = importlib.util.spec_from_file_location("revision_0004", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    for column, type_ in NEW_TRANSACTION_COLUMNS.items():
        op.execute(f"ALTER TABLE payment_transaction_rows ADD COLUMN IF NOT EXISTS {column} {type_}")
    op.execute(ROWS_OF_SQL)
    for statement in REBUILD_TRANSACTION_ROWS_SQL:
        op.execute(statement)
    for statement in COUNT_TABLES_SQL:
        op.execute(statement)
    # Backfill before the triggers exist: the migration holds the tables' locks.
    op.execute("LOCK TABLE payment_transaction_rows, billing_events IN SHARE MODE")
    for table, (function, counts, keys, moves) in COUNTED.items():
        op.execute(_count_function_sql(function, counts, keys, moves))
        for statement in _backfill_sql(table):
            op.execute(statement)
        for statement in _count_triggers(table, function):
            op.execute(statement)
    for table in COUNT_COLUMN:
        # Readable by both roles; written only by the trigger functions.
        op.execute(f"REVOKE ALL ON {table} FROM backoffice_admin, backoffice_reader")
        op.execute(f"GRANT SELECT ON {table} TO backoffice_reader, backoffice_admin")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in reversed(list(INDEXES)):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for table, (function, *_) in COUNTED.items():
        prefix = f"trg_{table}_{function.removesuffix('_apply')}"
        for operation in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {prefix}_{operation} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for table in COUNT_COLUMN:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    for column in reversed(list(NEW_TRANSACTION_COLUMNS)):
        op.execute(f"ALTER TABLE payment_transaction_rows DROP COLUMN IF EXISTS {column}")
    op.execute(_revision_0004().ROWS_OF_SQL)
