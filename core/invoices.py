"""Invoices: the platform-wide list (docs/rules.md R48) and an account's
payment history (docs/rules.md R49: one row per Stripe transaction, with its refund
and credit-note status on the row). The list pages over payment_transaction_rows,
the history reads the subscription's payment_transactions JSONB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.errors import NotFound
from core.listing import (
    as_utc,
    contains_check,
    normalized_search,
    parse_tenant_id,
    search_params,
    tenant_name_match,
)
from core.paging import Page, PageRequest
from core.stripe_links import invoice_url
from core.totals import Total, account_name_share, capped_count, search_total, settled_page, walk_is_shorter
from db.enums import PaymentTransactionStatus


class InvoiceRowKind(StrEnum):
    Invoice = "Invoice"
    CreditNote = "CreditNote"
    Refund = "Refund"


class InvoiceStatusFilter(StrEnum):
    """Paid/Failed/Pending pick invoice rows by outcome; Refunded the refund rows;
    HasCreditNote the credit-note rows (docs/rules.md R48)."""

    Paid = "Paid"
    Refunded = "Refunded"
    Failed = "Failed"
    Pending = "Pending"
    HasCreditNote = "HasCreditNote"


class InvoiceSort(StrEnum):
    date = "date"
    tenant_name = "tenant-name"
    total = "total"
    status = "status"


@dataclass(frozen=True)
class InvoiceRow:
    id: str  # the transaction id; with row_kind it is unique
    row_kind: InvoiceRowKind
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    date: datetime
    plan: str | None
    amount: Decimal  # gross, what the card paid
    amount_excluding_tax: Decimal
    tax_amount: Decimal
    currency: str
    status: PaymentTransactionStatus
    failure_reason: str | None
    invoice_url: str | None
    credit_note_url: str | None
    credit_noted_at: datetime | None
    refunded_at: datetime | None
    amount_from_credit: Decimal  # paid from the customer's credit balance: amount + VAT - total
    # The account's Stripe customer, and Stripe's invoice with its dashboard
    # page (docs/rules.md R120): None on transactions stored before the sync
    # kept the invoice's id (they get it on their account's next sync).
    stripe_customer_id: str | None = None
    stripe_invoice_id: str | None = None
    stripe_invoice_url: str | None = None

    @property
    def sign(self) -> int:
        """-1 on a refund or credit-note row: money going back to the customer."""
        return 1 if self.row_kind is InvoiceRowKind.Invoice else -1


# Projection 0.6, kept per transaction in payment_transaction_rows (migrations
# 0004, 0006): every transaction is an Invoice row with its original outcome
# (invoice_status: Refunded shows as Succeeded), plus a CreditNote or a Refund
# row (reversal_kind, dated reversed_at). The list pages over those columns
# and their indexes; nothing unpacks the JSON.
_REVERSAL_KINDS = (InvoiceRowKind.CreditNote, InvoiceRowKind.Refund)
INVOICE_STATUSES = tuple(s for s in PaymentTransactionStatus if s is not PaymentTransactionStatus.Refunded)
_FILTER_STATUS = {
    InvoiceStatusFilter.Paid: PaymentTransactionStatus.Succeeded,
    InvoiceStatusFilter.Failed: PaymentTransactionStatus.Failed,
    InvoiceStatusFilter.Pending: PaymentTransactionStatus.Pending,
}
_FILTER_KIND = {
    InvoiceStatusFilter.Refunded: InvoiceRowKind.Refund,
    InvoiceStatusFilter.HasCreditNote: InvoiceRowKind.CreditNote,
}
_KEY_COLUMNS = "p.subscription_id, p.position, p.tenant_id, p.transaction_id, p.amount"
_STATUS_NAMES = ", ".join(f"'{status}'" for status in PaymentTransactionStatus)
# Non-date sorts tie on the row date, newest first; the row key ends every order.
SORT_SQL = {
    InvoiceSort.date: "i.row_date {d}",
    InvoiceSort.tenant_name: "lower(t.name) {d}, i.row_date DESC",
    InvoiceSort.total: "i.amount {d}, i.row_date DESC",
    InvoiceSort.status: f"array_position(ARRAY[{_STATUS_NAMES}], i.row_status) {{d}}, i.row_date DESC",
}
_ROW_KEY = "i.tenant_id, i.transaction_id, i.row_kind"
_ROWS = "payment_transaction_rows p"
_FOUND_ROWS = "found p"  # a rare search's rows, collected account by account (list_invoices)


@dataclass(frozen=True)
class _Selection:
    """Which invoice statuses and which reversal kinds a view shows."""

    statuses: tuple[PaymentTransactionStatus, ...]
    kinds: tuple[InvoiceRowKind, ...]

    @classmethod
    def of(cls, filters: Sequence[InvoiceStatusFilter]) -> _Selection:
        if not filters:
            return cls(INVOICE_STATUSES, _REVERSAL_KINDS)
        return cls(
            tuple(s for s in INVOICE_STATUSES if any(_FILTER_STATUS.get(f) is s for f in filters)),
            tuple(k for k in _REVERSAL_KINDS if any(_FILTER_KIND.get(f) is k for f in filters)),
        )

    def groups(self) -> list[tuple[PaymentTransactionStatus, _Selection]]:
        """The rows of each status, in the status sort's order."""
        by_status = [(s, _Selection((s,), ())) for s in self.statuses]
        if self.kinds:
            by_status.append((PaymentTransactionStatus.Refunded, _Selection((), self.kinds)))
        return sorted(by_status, key=lambda group: list(PaymentTransactionStatus).index(group[0]))

    def rows_sql(self, source: str = _ROWS) -> str:
        return " UNION ALL ".join(self.branches(source))

    def branches(self, source: str = _ROWS) -> list[str]:
        """One branch per invoice status (each an index walk in date or total
        order), and one for the reversals."""
        branches = [
            f"SELECT {_KEY_COLUMNS}, 'Invoice' AS row_kind, p.date AS row_date, p.invoice_status AS row_status"
            f" FROM {source} WHERE p.invoice_status = '{status}'"
            for status in self.statuses
        ]
        if self.kinds:
            kinds = ", ".join(f"'{kind}'" for kind in self.kinds)
            branches.append(
                f"SELECT {_KEY_COLUMNS}, p.reversal_kind AS row_kind, p.reversed_at AS row_date, 'Refunded' AS row_status"
                f" FROM {source} WHERE p.reversal_kind IS NOT NULL AND p.reversal_kind IN ({kinds})"
            )
        return branches


def list_invoices(
    conn: Connection,
    *,
    search: str | None = None,
    statuses: Sequence[InvoiceStatusFilter] = (),
    sort: InvoiceSort = InvoiceSort.date,
    descending: bool = True,
    page: PageRequest = PageRequest(),
    stripe_api_key: str | None = None,
    estimate_large_total: bool = False,
) -> Page[InvoiceRow]:
    """Invoice, credit-note and refund rows of every non-deleted tenant; the
    Stripe key sets the mode of the invoices' dashboard links (R120). With
    `estimate_large_total` (the console), a search matching more than a
    thousand rows gives a sampled estimate as its total (docs/rules.md R200)."""
    selection = _Selection.of(statuses)
    term = normalized_search(search)
    params: dict[str, Any] = {}
    counts: _Counts | None
    matching, found = "", ""
    share: Decimal | None = None
    if term:
        params.update(search_params(term))
        matching = f"t.deleted_at IS NULL AND {tenant_name_match(params)}"
        if estimate_large_total:
            total, share = page.once("total", lambda: _search_total(conn, selection, matching, params))
            counts = None
        else:
            counts = page.once("counts", lambda: _group_counts(conn, selection, matching, params))
            total = Total(sum(counts.values()))
        if walk_is_shorter(total.count, share, page.offset + page.page_size):
            # A common term is met early on each branch's walk: each walked row's
            # account name is read by its key, not a hash of every matching account (docs/rules.md R203).
            tenants = contains_check(params, [_TENANT_NAME])
        else:
            # A rare one's rows are collected account by account, then merged.
            found = f"SELECT p.* FROM tenants t JOIN payment_transaction_rows p ON p.tenant_id = t.id WHERE {matching}"
            tenants = "TRUE"
    else:
        tenants = "NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = i.tenant_id AND d.deleted_at IS NOT NULL)"
        counts = page.once("counts", lambda: _counted_groups(conn, selection))
        total = Total(sum(counts.values()))
    if page.offset >= total.count and not total.estimated:
        return Page([], total.count, page.page, page.page_size)
    if page.walk is not None:  # an export: the next keys of one pass in the sort's order (docs/rules.md R225)
        every_key = _every_key_sql(selection, tenants, sort, descending, found)
        keys = [tuple(key) for key in page.walk.next_keys(conn, every_key, params, page.page_size)]
    elif sort is InvoiceSort.status:
        keys = _keys_by_status(conn, selection, counts, tenants, params, descending, page, found)
    else:
        order = SORT_SQL[sort].format(d="DESC" if descending else "ASC")
        keys = _keys(conn, selection, tenants, params, order, page.offset, page.page_size, found)
    items = _rows_by_key(conn, keys, stripe_api_key)
    return settled_page(items, total, page, lambda: sum(_group_counts(conn, selection, matching, params).values()))


# A walked row's live account's name (NULL for a deleted account's row).
_TENANT_NAME = "(SELECT lower(t.name) FROM tenants t WHERE t.id = i.tenant_id AND t.deleted_at IS NULL)"


def _search_total(
    conn: Connection, selection: _Selection, matching: str, params: dict[str, Any]
) -> tuple[Total, Decimal]:
    """The matching rows counted when a sample says they are few; else the
    live rows of the view (kept per status, _counted_groups) times the share of
    accounts whose name matches in a sample of them (core/totals.py
    search_total). Also that share, which chooses the page's plan."""
    share = account_name_share(conn, params)

    def expected() -> Decimal:
        # The live accounts' rows, from the kept counts (docs/rules.md R223).
        return share * sum(_counted_groups(conn, selection).values()) if share else Decimal(0)

    return search_total(conn, [_group_rows_sql(selection, matching)], params, expected), share


_Counts = dict[PaymentTransactionStatus, int]


def _counted_groups(conn: Connection, selection: _Selection) -> _Counts:
    """Rows per status from invoice_row_counts (migration 0006, kept by a
    trigger), less the rows of soft-deleted tenants, kept by kind and status
    in deleted_account_invoice_row_counts (migration 0015; docs/rules.md R223):
    a few counters each, however many accounts were deleted."""
    counts = _stored_counts(conn, selection, "invoice_row_counts")
    deleted = _stored_counts(conn, selection, "deleted_account_invoice_row_counts")
    return {
        status: counts[status] - deleted.get(status, 0) for status in counts if counts[status] > deleted.get(status, 0)
    }


# The kept counts of invoice rows: every tenant's (0006), soft-deleted tenants' (0015).
_COUNT_TABLES = ("invoice_row_counts", "deleted_account_invoice_row_counts")


def _stored_counts(conn: Connection, selection: _Selection, table: str) -> _Counts:
    """Rows per status as a count table (one of _COUNT_TABLES) keeps them."""
    if table not in _COUNT_TABLES:
        raise ValueError(f"not an invoice row count table: {table}")
    kinds = [InvoiceRowKind.Invoice.value] if selection.statuses else []
    kinds += [kind.value for kind in selection.kinds]
    wanted = [status.value for status in selection.statuses] + [PaymentTransactionStatus.Refunded.value]
    rows = conn.execute(
        text(
            f"SELECT row_status, sum(invoice_rows)::bigint FROM {table}"
            " WHERE row_kind = ANY(:kinds) AND row_status = ANY(:statuses) GROUP BY row_status"
        ),
        {"kinds": kinds, "statuses": wanted},
    ).all()
    return {PaymentTransactionStatus(status): count for status, count in rows}


def _group_counts(conn: Connection, selection: _Selection, tenants: str, params: dict[str, Any]) -> _Counts:
    """Rows per status of the tenants the condition keeps (`t`), found by
    tenant: each transaction gives its invoice row and its reversal row."""
    rows = conn.execute(
        text(f"SELECT r.row_status, count(*) FROM ({_group_rows_sql(selection, tenants)}) r GROUP BY r.row_status"),
        params,
    ).all()
    return {PaymentTransactionStatus(status): count for status, count in rows}


def _group_rows_sql(selection: _Selection, tenants: str) -> str:
    """The rows (with their row_status) of the tenants the condition keeps
    (`t`), found by tenant: each transaction gives its invoice row and its
    reversal row."""
    statuses = ", ".join(f"'{status.value}'" for status in selection.statuses) or "NULL"
    kinds = ", ".join(f"'{kind.value}'" for kind in selection.kinds) or "NULL"
    return (
        "SELECT r.row_status FROM tenants t"
        " JOIN payment_transaction_rows p ON p.tenant_id = t.id"
        " CROSS JOIN LATERAL (VALUES ('Invoice', p.invoice_status), (p.reversal_kind, 'Refunded'))"
        "  AS r(row_kind, row_status)"
        f" WHERE {tenants} AND ((r.row_kind = 'Invoice' AND r.row_status IN ({statuses}))"
        f"  OR r.row_kind IN ({kinds}))"
    )


_Key = tuple[str, int, str, datetime, str]  # subscription, position, row kind, row date, row status


def _keys(
    conn: Connection,
    selection: _Selection,
    tenants: str,
    params: dict[str, Any],
    order: str,
    offset: int,
    limit: int,
    found: str = "",
) -> list[_Key]:
    """Each branch walks its own index to the rows the page can reach, then the
    few rows found are merged: one plan that the planner cannot misjudge.
    With `found` (the SQL of a rare search's rows), the branches read those."""
    # Only the tenant-name sort reads the tenant; the others walk the rows' own indexes.
    tenant = " JOIN tenants t ON t.id = i.tenant_id" if "t.name" in order else ""
    ordered = f"ORDER BY {order}, {_ROW_KEY}"
    reached = " UNION ALL ".join(
        f"(SELECT i.* FROM ({branch}) i{tenant} WHERE {tenants} {ordered} LIMIT :reach)"
        for branch in selection.branches(_FOUND_ROWS if found else _ROWS)
    )
    collected = f"WITH found AS MATERIALIZED ({found}) " if found else ""
    rows = conn.execute(
        text(
            f"{collected}SELECT i.subscription_id, i.position, i.row_kind, i.row_date, i.row_status"
            f" FROM ({reached}) i{tenant} {ordered} LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset, "reach": offset + limit},
    ).all()
    return [tuple(row) for row in rows]


def _every_key_sql(selection: _Selection, tenants: str, sort: InvoiceSort, descending: bool, found: str = "") -> str:
    """Every row's key in the sort's order: the order `_keys` and
    `_keys_by_status` page through, the status sort's groups one after the
    other (`g`), each newest first."""
    if sort is InvoiceSort.status:
        groups = [group for _, group in selection.groups()]
        groups, order = (groups[::-1] if descending else groups), "i.row_date DESC"
    else:
        groups, order = [selection], SORT_SQL[sort].format(d="DESC" if descending else "ASC")
    source = _FOUND_ROWS if found else _ROWS
    rows = " UNION ALL ".join(
        f"SELECT {g} AS g, i.* FROM ({group.rows_sql(source)}) i WHERE {tenants}" for g, group in enumerate(groups)
    )
    tenant = " JOIN tenants t ON t.id = i.tenant_id" if "t.name" in order else ""
    collected = f"WITH found AS MATERIALIZED ({found}) " if found else ""
    return (
        f"{collected}SELECT i.subscription_id, i.position, i.row_kind, i.row_date, i.row_status"
        f" FROM ({rows}) i{tenant} ORDER BY i.g, {order}, {_ROW_KEY}"
    )


def _keys_by_status(
    conn: Connection,
    selection: _Selection,
    counts: _Counts | None,
    tenants: str,
    params: dict[str, Any],
    descending: bool,
    page: PageRequest,
    found: str = "",
) -> list[_Key]:
    """The status sort is the statuses one after the other, each newest first:
    skip whole statuses by their counts, then walk the ones the page reaches.
    Without counts (an estimated total) a status is counted only as far as
    the page's offset, which is all the skip needs."""
    groups = selection.groups()
    offset, wanted, keys = page.offset, page.page_size, []
    for status, group in reversed(groups) if descending else groups:
        if counts is not None:
            count = counts.get(status, 0)
        elif offset:
            collected = f"WITH found AS MATERIALIZED ({found}) " if found else ""
            group_rows = group.rows_sql(_FOUND_ROWS if found else _ROWS)
            reached = capped_count(conn, f"{collected}SELECT 1 FROM ({group_rows}) i WHERE {tenants}", params, offset)
            count = offset + 1 if reached is None else reached
        else:
            count = 1  # nothing to skip: the walk finds what there is
        if offset >= count:
            offset -= count
            continue
        walked = _keys(conn, group, tenants, params, "i.row_date DESC", offset, wanted, found)
        keys += walked
        wanted -= len(walked)
        offset = 0
        if not wanted:
            break
    return keys


# The credit balance an invoice used is kept on its transaction only (R40:
# AmountFromCredit); a page reads it for its own rows.
_FROM_CREDIT_SQL = "COALESCE((s.payment_transactions -> (p.position - 1) ->> 'AmountFromCredit')::numeric(18, 2), 0)"


def _rows_by_key(conn: Connection, keys: list[_Key], stripe_api_key: str | None) -> list[InvoiceRow]:
    if not keys:
        return []
    rows = conn.execute(
        text(
            "SELECT p.transaction_id AS id, k.row_kind, k.row_date, k.row_status, p.tenant_id,"
            " COALESCE(t.name, '') AS tenant_name, t.logo->>'Url' AS tenant_logo_url, p.plan, p.amount,"
            " p.amount_excluding_tax, p.tax_amount, p.currency, p.failure_reason, p.invoice_url,"
            " p.credit_note_url, p.credit_noted_at, p.refunded_at,"
            f" {_FROM_CREDIT_SQL} AS amount_from_credit, s.stripe_customer_id,"
            " s.payment_transactions -> (p.position - 1) ->> 'StripeInvoiceId' AS stripe_invoice_id"
            " FROM unnest(CAST(:subscriptions AS text[]), CAST(:positions AS integer[]), CAST(:kinds AS text[]),"
            "  CAST(:dates AS timestamptz[]), CAST(:statuses AS text[])) WITH ORDINALITY"
            "  AS k(subscription_id, position, row_kind, row_date, row_status, n)"
            " JOIN payment_transaction_rows p ON p.subscription_id = k.subscription_id AND p.position = k.position"
            " JOIN subscriptions s ON s.id = p.subscription_id"
            " LEFT JOIN tenants t ON t.id = p.tenant_id ORDER BY k.n"
        ),
        {
            "subscriptions": [key[0] for key in keys],
            "positions": [key[1] for key in keys],
            "kinds": [key[2] for key in keys],
            "dates": [key[3] for key in keys],
            "statuses": [key[4] for key in keys],
        },
    ).mappings()
    return [_invoice_row(row, stripe_api_key) for row in rows]


def _invoice_row(row: Any, stripe_api_key: str | None) -> InvoiceRow:
    return InvoiceRow(
        id=row["id"],
        row_kind=InvoiceRowKind(row["row_kind"]),
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_logo_url=row["tenant_logo_url"],
        date=as_utc(row["row_date"]),
        plan=row["plan"],
        amount=row["amount"],
        amount_excluding_tax=row["amount_excluding_tax"],
        tax_amount=row["tax_amount"],
        currency=row["currency"],
        status=PaymentTransactionStatus(row["row_status"]),
        failure_reason=row["failure_reason"],
        invoice_url=row["invoice_url"],
        credit_note_url=row["credit_note_url"],
        credit_noted_at=as_utc(row["credit_noted_at"]),
        refunded_at=as_utc(row["refunded_at"]),
        amount_from_credit=row["amount_from_credit"],
        stripe_customer_id=row["stripe_customer_id"],
        stripe_invoice_id=row["stripe_invoice_id"],
        stripe_invoice_url=invoice_url(row["stripe_invoice_id"], stripe_api_key),
    )


# -- one invoice ------------------------------------------------------------------


class InvoiceLineKind(StrEnum):
    """The lines of an invoice's detail, in their order."""

    Plan = "Plan"  # the subscription, excluding VAT
    Vat = "Vat"
    Total = "Total"  # the invoice total, VAT included
    CreditApplied = "CreditApplied"  # paid from the customer's credit balance
    Paid = "Paid"  # what the card paid
    Refund = "Refund"
    CreditNote = "CreditNote"


@dataclass(frozen=True)
class InvoiceLine:
    kind: InvoiceLineKind
    amount: Decimal  # negative for what went back to the customer
    at: datetime | None = None  # a refund's or credit note's date


@dataclass(frozen=True)
class InvoiceDetail:
    id: str
    tenant_id: str
    tenant_name: str
    date: datetime
    plan: str | None
    status: PaymentTransactionStatus
    currency: str
    failure_reason: str | None
    lines: tuple[InvoiceLine, ...]
    invoice_url: str | None  # the invoice PDF
    credit_note_url: str | None  # the credit note PDF
    # The account's Stripe customer and Stripe's invoice with its dashboard
    # page (docs/rules.md R120); no invoice id on older transactions.
    stripe_customer_id: str | None = None
    stripe_invoice_id: str | None = None
    stripe_invoice_url: str | None = None


_INVOICE_SQL = """
    SELECT t.id AS tenant_id, t.name AS tenant_name, s.stripe_customer_id,
           tx->>'Id' AS id, (tx->>'Date')::timestamptz AS date,
           tx->>'Plan' AS plan, tx->>'Status' AS status, tx->>'Currency' AS currency,
           tx->>'FailureReason' AS failure_reason, tx->>'InvoiceUrl' AS invoice_url,
           tx->>'CreditNoteUrl' AS credit_note_url, tx->>'StripeInvoiceId' AS stripe_invoice_id,
           (tx->>'AmountExcludingTax')::numeric(18, 2) AS amount_excluding_tax,
           (tx->>'TaxAmount')::numeric(18, 2) AS tax_amount, (tx->>'Amount')::numeric(18, 2) AS amount,
           COALESCE((tx->>'InvoiceTotal')::numeric(18, 2),
                    (tx->>'AmountExcludingTax')::numeric(18, 2) + (tx->>'TaxAmount')::numeric(18, 2)) AS total,
           COALESCE((tx->>'AmountFromCredit')::numeric(18, 2), 0) AS from_credit,
           (tx->>'RefundedAt')::timestamptz AS refunded_at, (tx->>'CreditNotedAt')::timestamptz AS credit_noted_at
    FROM tenants t JOIN subscriptions s ON s.tenant_id = t.id
    CROSS JOIN LATERAL jsonb_array_elements(s.payment_transactions) AS tx
    WHERE t.id = :tenant AND t.deleted_at IS NULL AND tx->>'Id' = :id
"""


def invoice_detail(
    conn: Connection, tenant_id: int | str, invoice_id: str, *, stripe_api_key: str | None = None
) -> InvoiceDetail:
    """One transaction of an account as an invoice: its lines (the plan, VAT,
    the total, credit applied, paid, and what went back), its status, its
    documents and its Stripe dashboard link (in the key's mode, R120). Refunds
    and credit notes are negative lines."""
    row = conn.execute(text(_INVOICE_SQL), {"tenant": parse_tenant_id(tenant_id), "id": invoice_id}).mappings().first()
    if row is None:
        raise NotFound(f"invoice {invoice_id} of tenant {tenant_id} not found")
    status = PaymentTransactionStatus(row["status"])
    lines = [
        InvoiceLine(InvoiceLineKind.Plan, row["amount_excluding_tax"]),
        InvoiceLine(InvoiceLineKind.Vat, row["tax_amount"]),
        InvoiceLine(InvoiceLineKind.Total, row["total"]),
    ]
    if row["from_credit"]:
        lines.append(InvoiceLine(InvoiceLineKind.CreditApplied, -row["from_credit"]))
    lines.append(InvoiceLine(InvoiceLineKind.Paid, row["amount"]))
    # The same reversal the invoices list shows (R48): a credit note, else a refund.
    if row["credit_note_url"] is not None or row["credit_noted_at"] is not None:
        at = row["credit_noted_at"] or row["refunded_at"] or row["date"]
        lines.append(InvoiceLine(InvoiceLineKind.CreditNote, -row["amount"], as_utc(at)))
    elif status is PaymentTransactionStatus.Refunded or row["refunded_at"] is not None:
        lines.append(InvoiceLine(InvoiceLineKind.Refund, -row["amount"], as_utc(row["refunded_at"] or row["date"])))
    return InvoiceDetail(
        id=row["id"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        date=as_utc(row["date"]),
        plan=row["plan"],
        status=status,
        currency=row["currency"],
        failure_reason=row["failure_reason"],
        lines=tuple(lines),
        invoice_url=row["invoice_url"],
        credit_note_url=row["credit_note_url"],
        stripe_customer_id=row["stripe_customer_id"],
        stripe_invoice_id=row["stripe_invoice_id"],
        stripe_invoice_url=invoice_url(row["stripe_invoice_id"], stripe_api_key),
    )
