"""One invoice, over the list it was opened from: its lines (the plan, VAT,
the total, credit applied, what was paid, and refunds and credit notes as
negative lines), its status, and its PDF and credit note as terminal
hyperlinks. Enter on a row of the invoices list or of an account's Invoices
tab opens it; escape closes it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from console.app_access import backoffice
from console.formatting import moment, money, short_date
from console.i18n import t
from console.operator_errors import operator_message
from console.widgets.badges import payment_status_badge, plan_label, stripe_link
from core.invoices import InvoiceDetail, InvoiceLine, InvoiceLineKind, invoice_detail
from core.stripe_links import customer_url

# Lines that sum up the ones above them are bold.
_TOTALS = (InvoiceLineKind.Total, InvoiceLineKind.Paid)


def invoice_body(invoice: InvoiceDetail, stripe_api_key: str | None = None) -> RenderableType:
    """The status and Stripe's invoice id, the lines with their amounts, the
    documents, and the account's Stripe customer; the Stripe ids link to their
    dashboard pages (R120)."""
    lines = Table.grid(padding=(0, 2))
    lines.add_column()
    lines.add_column(justify="right")
    for line in invoice.lines:
        lines.add_row(_line_label(invoice, line), _line_amount(invoice, line))
    status = payment_status_badge(invoice.status, failure_reason=invoice.failure_reason)
    heading = Text.assemble((t("invoice.status"), "dim"), " ", status)
    if invoice.stripe_invoice_id:
        link = stripe_link(invoice.stripe_invoice_id, invoice.stripe_invoice_url)
        heading.append_text(Text.assemble("\n", (f"{t('invoice.stripe_invoice')} ", "dim"), link))
    parts: list[RenderableType] = [heading, Text(""), lines, Text(""), documents(invoice)]
    if invoice.stripe_customer_id:
        link = stripe_link(invoice.stripe_customer_id, customer_url(invoice.stripe_customer_id, stripe_api_key))
        parts.append(Text.assemble((f"{t('account.stripe_customer')} ", "dim"), link))
    return Group(*parts)


def documents(invoice: InvoiceDetail) -> Text:
    """The PDFs as terminal hyperlinks (a click opens them where the terminal
    can), their addresses shown too, to copy where it cannot."""
    text = Text()
    for key, url in (("invoice.pdf", invoice.invoice_url), ("invoice.credit_note_pdf", invoice.credit_note_url)):
        if url:
            if text:
                text.append("\n")
            text.append(t(key), style=Style(link=url, underline=True, bold=True))
            text.append(f"  {url}", style="dim")
    return text or Text(t("invoice.no_documents"), style="dim")


def _line_label(invoice: InvoiceDetail, line: InvoiceLine) -> Text:
    label = t(f"invoice.line.{line.kind}", plan=plan_label(invoice.plan))
    if line.at is not None:
        label += f" · {short_date(line.at)}"
    return Text(label, style="bold" if line.kind in _TOTALS else "")


def _line_amount(invoice: InvoiceDetail, line: InvoiceLine) -> Text:
    style = "red" if line.amount < 0 else "bold" if line.kind in _TOTALS else ""
    return Text(money(line.amount, invoice.currency), style=style)


class InvoiceScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, tenant_id: str, invoice_id: str) -> None:
        super().__init__(classes="backoffice-dialog")
        self.tenant_id = tenant_id
        self.invoice_id = invoice_id
        self.invoice: InvoiceDetail | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="invoice-dialog", classes="dialog -info"):
            yield Static(t("list.loading"), id="invoice-title", classes="dialog-title")
            yield Static("", id="invoice-body", classes="dialog-body")
            yield Static(t("invoice.close_hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="invoice")
    def _load(self) -> None:
        worker = get_current_worker()
        try:
            with backoffice(self).read_only() as conn:
                api_key = backoffice(self).settings.stripe_api_key
                invoice = invoice_detail(conn, self.tenant_id, self.invoice_id, stripe_api_key=api_key)
        except Exception as error:  # shown in the dialog
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, operator_message(error))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, invoice)

    def _show(self, invoice: InvoiceDetail) -> None:
        self.invoice = invoice
        title = t("invoice.title", name=invoice.tenant_name, date=moment(invoice.date))
        self.query_one("#invoice-title", Static).update(Text(title, style="bold"))
        self.query_one("#invoice-body", Static).update(invoice_body(invoice, backoffice(self).settings.stripe_api_key))

    def _failed(self, error: str) -> None:
        self.query_one("#invoice-body", Static).update(Text(t("list.error", error=error), style="red"))

    def action_close(self) -> None:
        self.dismiss(None)
