"""The rows of soft-deleted accounts, counted by triggers (docs/rules.md R220-R224).

The billing events log and the invoices list hide the rows of soft-deleted
tenants. Their totals were 0006's counts less those rows, which were found by
joining the deleted tenants to billing_events / payment_transaction_rows: a
count that grows with the platform (a constant share of tenants is
soft-deleted). Two sharded count tables now hold them:

- deleted_account_event_day_counts: the billing events per UTC day and type
  (0006's billing_event_day_counts' keys) of tenants that exist and are
  soft-deleted (deleted_at IS NOT NULL);
- deleted_account_invoice_row_counts: the invoice-list rows per kind and
  status (0006's invoice_row_counts' projection) of those tenants.

Statement-level AFTER triggers keep them exact in the statement that writes:
- billing_events / payment_transaction_rows INSERT, UPDATE, DELETE add or
  remove the rows whose tenant is soft-deleted; TRUNCATE clears that table's
  counts. They first lock the rows' tenants FOR SHARE in id order (R222), which
  waits for a soft delete in flight (an UPDATE of deleted_at) and keeps the
  next one out until commit, and count in a later statement (READ COMMITTED
  takes a new snapshot per statement): a soft delete and an event written in
  two transactions are counted once, whichever commits first.
- tenants UPDATE adds the rows of a tenant whose deleted_at was set and
  removes those of one whose deleted_at was cleared; INSERT of a tenant
  already soft-deleted adds its existing rows; DELETE of a soft-deleted tenant
  removes them (billing_events has no foreign key: its rows stay, uncounted);
  TRUNCATE clears both tables.

Every key is spread over 16 rows (shard = backend pid mod 16, as in 0005 and
0006). Only the trigger functions (SECURITY DEFINER, pinned search_path,
EXECUTE revoked from PUBLIC) write them.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

HEADER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
SHARD = "(pg_backend_pid() % 16)::smallint"

TABLES_SQL = [
    """
    CREATE TABLE deleted_account_event_day_counts (
        day date NOT NULL,
        event_type text NOT NULL,
        shard smallint NOT NULL,
        events bigint NOT NULL,
        CONSTRAINT pk_deleted_account_event_day_counts PRIMARY KEY (day, event_type, shard)
    )
    """,
    """
    CREATE TABLE deleted_account_invoice_row_counts (
        row_kind text NOT NULL,
        row_status text NOT NULL,
        shard smallint NOT NULL,
        invoice_rows bigint NOT NULL,
        CONSTRAINT pk_deleted_account_invoice_row_counts PRIMARY KEY (row_kind, row_status, shard)
    )
    """,
]

# 0006's projections as they stood (a migration never imports project code):
# every transaction is an Invoice row with its invoice status, and may have a
# CreditNote or a Refund row, whose status is Refunded; an event counts on its UTC day.
INVOICE_ROWS = (
    "SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, {sign}1 AS delta FROM {rows}"
    " UNION ALL SELECT reversal_kind, 'Refunded', {sign}1 FROM {rows} WHERE reversal_kind IS NOT NULL"
)
EVENT_DAY = "(occurred_at AT TIME ZONE 'UTC')::date"
EVENT_DAYS = f"SELECT {EVENT_DAY} AS day, event_type, {{sign}}1 AS delta FROM {{rows}}"


class Counted:
    """A source table and the count table of its soft-deleted tenants' rows."""

    def __init__(self, source: str, counts: str, keys: str, count: str, moves: str, columns: str) -> None:
        self.source, self.counts, self.keys, self.count, self.moves = source, counts, keys, count, moves
        self.columns = columns  # what `moves` reads of a source row

    def upsert(self, moves: str) -> str:
        """Adds the signed rows of `moves` to this backend's shard, one upsert per key in key order."""
        return (
            f"INSERT INTO public.{self.counts} AS c ({self.keys}, shard, {self.count})"
            f" SELECT {self.keys}, {SHARD}, sum(delta) FROM ({moves}) AS moves"
            f" GROUP BY {self.keys} HAVING sum(delta) <> 0 ORDER BY {self.keys}"
            f" ON CONFLICT ({self.keys}, shard) DO UPDATE SET {self.count} = c.{self.count} + excluded.{self.count}"
        )

    def of_deleted_tenants(self, rows: str, sign: str) -> str:
        """The moves of the rows of `rows` (a transition table) whose tenant is soft-deleted."""
        deleted = (
            f"(SELECT {self.columns} FROM {rows} AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d"
            " WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows"
        )
        return self.moves.format(rows=deleted, sign=sign)

    def of_tenants(self, tenants: str, sign: str) -> str:
        """The moves of the stored rows of the tenants `tenants` (a query of ids), found by tenant."""
        rows = f"(SELECT {self.columns} FROM public.{self.source} AS r WHERE r.tenant_id IN ({tenants})) AS their_rows"
        return self.moves.format(rows=rows, sign=sign)

    @property
    def function(self) -> str:
        return f"{self.counts}_apply"


EVENTS = Counted(
    "billing_events",
    "deleted_account_event_day_counts",
    "day, event_type",
    "events",
    EVENT_DAYS,
    "r.occurred_at, r.event_type",
)
INVOICE_ROW_COUNTS = Counted(
    "payment_transaction_rows",
    "deleted_account_invoice_row_counts",
    "row_kind, row_status",
    "invoice_rows",
    INVOICE_ROWS,
    "r.invoice_status, r.reversal_kind",
)
COUNTED = (EVENTS, INVOICE_ROW_COUNTS)

# The tenants of the rows a statement wrote, locked in id order before anything
# is counted (docs/rules.md R222): FOR SHARE conflicts with the UPDATE of deleted_at.
LOCK_SQL = "PERFORM 1 FROM public.tenants WHERE id IN ({rows}) ORDER BY id FOR SHARE"


def _source_function_sql(counted: Counted) -> str:
    added = counted.of_deleted_tenants("new_rows", "")
    removed = counted.of_deleted_tenants("old_rows", "-")
    both = "SELECT tenant_id FROM new_rows UNION SELECT tenant_id FROM old_rows"
    return f"""
CREATE FUNCTION public.{counted.function}() RETURNS trigger
{HEADER}
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.{counted.counts};
    ELSIF TG_OP = 'INSERT' THEN
        {LOCK_SQL.format(rows="SELECT DISTINCT tenant_id FROM new_rows")};
        {counted.upsert(added)};
    ELSIF TG_OP = 'DELETE' THEN
        {LOCK_SQL.format(rows="SELECT DISTINCT tenant_id FROM old_rows")};
        {counted.upsert(removed)};
    ELSE
        {LOCK_SQL.format(rows=both)};
        {counted.upsert(f"{added} UNION ALL {removed}")};
    END IF;
    RETURN NULL;
END
$$
"""


# A tenant joins the soft-deleted ones when it is inserted or updated so, and
# leaves them when it is deleted or undeleted. An update matches old and new
# rows by id: a tenant stays counted when it was and still is soft-deleted.
SOFT_DELETED_NEW = "SELECT id FROM new_rows WHERE deleted_at IS NOT NULL"
SOFT_DELETED_OLD = "SELECT id FROM old_rows WHERE deleted_at IS NOT NULL"
BECAME_DELETED = f"{SOFT_DELETED_NEW} EXCEPT {SOFT_DELETED_OLD}"
CEASED_DELETED = f"{SOFT_DELETED_OLD} EXCEPT {SOFT_DELETED_NEW}"
TENANTS_FUNCTION = "deleted_account_counts_follow_tenants"


def _tenants_function_sql() -> str:
    steps = {
        "INSERT": [(SOFT_DELETED_NEW, "")],
        "DELETE": [(SOFT_DELETED_OLD, "-")],
        "UPDATE": [(BECAME_DELETED, ""), (CEASED_DELETED, "-")],
    }
    branches = []
    for operation, moves in steps.items():
        statements = []
        for counted in COUNTED:
            union = " UNION ALL ".join(counted.of_tenants(tenants, sign) for tenants, sign in moves)
            statements.append(f"{counted.upsert(union)};")
        branches.append(f"ELSIF TG_OP = '{operation}' THEN\n        " + "\n        ".join(statements))
    clear = "\n        ".join(f"DELETE FROM public.{counted.counts};" for counted in COUNTED)
    return f"""
CREATE FUNCTION public.{TENANTS_FUNCTION}() RETURNS trigger
{HEADER}
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        {clear}
    {(chr(10) + "    ").join(branches)}
    END IF;
    RETURN NULL;
END
$$
"""


def _triggers(table: str, name: str, function: str) -> list[str]:
    prefix = f"trg_{table}_{name}"
    each = f"FOR EACH STATEMENT EXECUTE FUNCTION public.{function}()"
    return [
        f"CREATE TRIGGER {prefix}_insert AFTER INSERT ON public.{table} REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {prefix}_update AFTER UPDATE ON public.{table}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {prefix}_delete AFTER DELETE ON public.{table} REFERENCING OLD TABLE AS old_rows {each}",
        f"CREATE TRIGGER {prefix}_truncate AFTER TRUNCATE ON public.{table} {each}",
    ]


# Trigger names stay under PostgreSQL's 63 characters.
TRIGGERS = [(counted.source, "deleted_counts", counted.function) for counted in COUNTED] + [
    ("tenants", "deleted_counts", TENANTS_FUNCTION)
]


def _backfill_sql(counted: Counted) -> str:
    """One set-based pass: the soft-deleted tenants' rows, found by tenant, on shard 0."""
    rows = counted.of_tenants("SELECT id FROM public.tenants WHERE deleted_at IS NOT NULL", "")
    return (
        f"INSERT INTO public.{counted.counts} ({counted.keys}, shard, {counted.count})"
        f" SELECT {counted.keys}, 0, sum(delta) FROM ({rows}) AS counted"
        f" GROUP BY {counted.keys} ORDER BY {counted.keys}"
    )


def upgrade() -> None:
    for statement in TABLES_SQL:
        op.execute(statement)
    # Backfill before the triggers exist, with the source tables held still.
    op.execute("LOCK TABLE tenants, billing_events, payment_transaction_rows IN SHARE MODE")
    for counted in COUNTED:
        op.execute(_backfill_sql(counted))
        op.execute(_source_function_sql(counted))
    op.execute(_tenants_function_sql())
    for table, name, function in TRIGGERS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION public.{function}() FROM PUBLIC")
        for statement in _triggers(table, name, function):
            op.execute(statement)
    for counted in COUNTED:
        # Readable by both roles; written only by the trigger functions.
        op.execute(f"REVOKE ALL ON {counted.counts} FROM backoffice_admin, backoffice_reader")
        op.execute(f"GRANT SELECT ON {counted.counts} TO backoffice_reader, backoffice_admin")
        op.execute(f"ANALYZE {counted.counts}")


def downgrade() -> None:
    for table, name, function in reversed(TRIGGERS):
        for operation in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{name}_{operation} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS public.{function}()")
    for counted in reversed(COUNTED):
        op.execute(f"DROP TABLE IF EXISTS {counted.counts}")
