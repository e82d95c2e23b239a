"""`--csv` and `--all` of every list and report command (docs/rules.md R140,
R141, R142): a header of stable columns, money as plain two-place decimals,
RFC 4180 quoting, UTF-8, every page streamed, and the usage errors."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from console.cli import export as cli_export
from core import accounts as accounts_module
from core import dashboard, export
from core.accounts import AccountRow
from core.audit import Action, ActionPath, ActionRow, record_action
from core.banners import Banners
from core.billing_events import BillingEventRow
from core.clock import utcnow
from core.dashboard.movements import MrrMovements
from core.invoices import InvoiceRow
from core.paging import PageRequest
from core.users import UserRow
from tests import factories as f
from tests.cli_run import run_cli_captured
from tests.conftest import _libpq

AWKWARD = 'Smith, "Junior" & Co'
NON_ASCII = "Ærø Købmand ÅS"
PLAIN = [f"Plain {index:02d}" for index in range(7)]


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, template_url: str) -> Iterator[dict[str, Any]]:
    """One database for the module (the commands only read), around the real clock."""
    name = f"t_export_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"')
    url = make_url(template_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        awkward = f.tenant(
            conn,
            name=AWKWARD,
            plan="Standard",
            created_at=now - timedelta(days=40),
            payment_transactions=[
                f.payment_transaction(
                    amount_excluding_tax="1234.50", tax="308.63", date=now - timedelta(days=9), StripeInvoiceId="in_1X"
                )
            ],
        )
        f.user(conn, awkward.id, email="owner@smith.example", role="Owner", first_name="Zoë", last_name="Smith, Sr.")
        f.billing_event(
            conn,
            awkward,
            "SubscriptionCreated",
            occurred_at=now - timedelta(days=3),
            to_plan="Standard",
            previous_amount="0",
            new_amount="1234.5",
        )
        other = f.tenant(conn, name=NON_ASCII, plan="Premium", created_at=now - timedelta(days=20))
        f.user(conn, other.id, email="anne@koebmand.example", first_name="Ånne", last_name="Ørsted")
        for plain in PLAIN:
            f.tenant(conn, name=plain, created_at=now - timedelta(days=5))
        record_action(
            conn,
            operator="ops",
            path=ActionPath.cli,
            action=Action.sync,
            tenant_id=awkward.id,
            details={"note": 'said "hi", twice'},
        )
    engine.dispose()
    yield {"url": url, "awkward": str(awkward.id), "other": str(other.id)}
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    return run_cli_captured(["--database-url", seeded["url"], *args], monkeypatch, capsys)


def rows_of(output: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows, parsed as RFC 4180 CSV."""
    lines = list(csv.reader(io.StringIO(output, newline="")))
    header = lines[0]
    return header, [dict(zip(header, line, strict=True)) for line in lines[1:]]


LISTS = [
    (["accounts", "list"], AccountRow),
    (["users", "list"], UserRow),
    (["billing-events"], BillingEventRow),
    (["invoices"], InvoiceRow),
    (["audit"], ActionRow),
]


@pytest.mark.parametrize(("command", "row_type"), LISTS, ids=lambda value: getattr(value, "__name__", None))
def test_every_list_prints_csv_with_its_columns(
    seeded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    row_type: type,
) -> None:
    code, out, err = cli(seeded, monkeypatch, capsys, *command, "--csv")
    assert code == 0, err
    header, rows = rows_of(out)
    assert tuple(header) == export.columns(row_type)
    assert rows, out
    assert out.endswith("\r\n")  # RFC 4180 line ends


def test_accounts_csv_cells(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    code, out, err = cli(seeded, monkeypatch, capsys, "accounts", "list", "--csv", "--page-size", "100")
    assert code == 0, err
    header, rows = rows_of(out)
    by_name = {row["name"]: row for row in rows}
    awkward = by_name[AWKWARD]  # the comma and the quotes survive the quoting
    assert f'"{AWKWARD.replace(chr(34), chr(34) * 2)}"' in out
    assert awkward["id"] == seeded["awkward"]
    assert (awkward["monthly_recurring_revenue"], awkward["currency"], awkward["plan"]) == ("149.00", "DKK", "Standard")
    assert awkward["owner.email"] == "owner@smith.example"
    assert awkward["owner.display_name"] == "Zoë Smith, Sr."
    assert awkward["created_at"].endswith("+00:00")
    assert by_name[NON_ASCII]["id"] == seeded["other"]
    assert by_name["Plain 00"]["owner.email"] == ""  # no owner: every owner column empty
    assert by_name["Plain 00"]["monthly_recurring_revenue"] == ""


def test_invoices_csv_money_is_a_plain_decimal(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, out, err = cli(seeded, monkeypatch, capsys, "invoices", "--csv")
    assert code == 0, err
    _, rows = rows_of(out)
    (invoice,) = rows
    assert (invoice["amount_excluding_tax"], invoice["tax_amount"], invoice["amount"]) == (
        "1234.50",
        "308.63",
        "1543.13",
    )
    assert invoice["currency"] == "DKK" and invoice["tenant_name"] == AWKWARD
    assert (invoice["stripe_invoice_id"], invoice["stripe_invoice_url"]) == (
        "in_1X",
        "https://dashboard.stripe.com/invoices/in_1X",
    )


def test_invoices_json_links_the_stripe_invoice_in_the_keys_mode(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """R120: a test key's link goes to the test dashboard."""
    args = ["--database-url", seeded["url"], "invoices", "--json"]
    code, out, err = run_cli_captured(args, monkeypatch, capsys, STRIPE_API_KEY="sk_test_dummy")
    assert code == 0, err
    (item,) = json.loads(out)["items"]
    assert (item["stripe_invoice_id"], item["stripe_invoice_url"]) == (
        "in_1X",
        "https://dashboard.stripe.com/test/invoices/in_1X",
    )


def test_users_billing_events_and_audit_csv(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _, out, _ = cli(seeded, monkeypatch, capsys, "users", "list", "--csv")
    _, users = rows_of(out)
    assert {(u["display_name"], u["tenant_name"]) for u in users} == {
        ("Zoë Smith, Sr.", AWKWARD),
        ("Ånne Ørsted", NON_ASCII),
    }
    _, out, _ = cli(seeded, monkeypatch, capsys, "billing-events", "--csv")
    _, events = rows_of(out)
    assert [(e["event_type"], e["new_amount"], e["amount_delta"], e["currency"]) for e in events] == [
        ("SubscriptionCreated", "1234.50", "1234.50", "DKK")
    ]
    _, out, _ = cli(seeded, monkeypatch, capsys, "audit", "--csv")
    _, actions = rows_of(out)
    assert [(a["action"], a["tenant_id"], a["tenant_name"]) for a in actions] == [("sync", seeded["awkward"], AWKWARD)]
    assert json.loads(actions[0]["details"]) == {"note": 'said "hi", twice'}


def test_all_streams_every_page(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    pages: list[PageRequest] = []
    real = accounts_module.list_accounts

    def counted(conn: Any, **kwargs: Any) -> Any:
        pages.append(kwargs["page"])
        return real(conn, **kwargs)

    monkeypatch.setattr(accounts_module, "list_accounts", counted)
    code, out, err = cli(seeded, monkeypatch, capsys, "accounts", "list", "--all", "--csv", "--page-size", "2")
    assert code == 0, err
    header, rows = rows_of(out)
    assert header.count("id") == 1 and len(rows) == 9  # one header for the whole list
    assert sorted(row["name"] for row in rows) == sorted([AWKWARD, NON_ASCII, *PLAIN])
    assert len({row["id"] for row in rows}) == 9
    assert [request.page for request in pages] == [
        1,
        2,
        3,
        4,
        5,
    ]  # 2+2+2+2+1: read page by page, stopped at the short one


def test_all_with_json_is_one_array(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    code, out, err = cli(seeded, monkeypatch, capsys, "accounts", "list", "--all", "--json", "--page-size", "4")
    assert code == 0, err
    items = json.loads(out)
    assert isinstance(items, list) and len(items) == 9
    one_page = json.loads(cli(seeded, monkeypatch, capsys, "accounts", "list", "--json", "--page-size", "100")[1])
    assert items == one_page["items"]  # the same shape, element for element
    code, out, _ = cli(seeded, monkeypatch, capsys, "invoices", "--all", "--json", "--search", "nobody")
    assert (code, json.loads(out)) == (0, [])


def test_csv_and_json_columns_agree(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """A CSV column is a JSON key (nested ones joined by a dot) with the same value."""
    _, out, _ = cli(seeded, monkeypatch, capsys, "invoices", "--json")
    (item,) = json.loads(out)["items"]
    _, out, _ = cli(seeded, monkeypatch, capsys, "invoices", "--csv")
    header, (row,) = rows_of(out)
    assert header == list(item)
    assert Decimal(row["amount"]) == Decimal(str(item["amount"]))
    assert row["date"] == item["date"] and row["id"] == item["id"]


@pytest.mark.parametrize(
    "report",
    [
        ["report", "kpis"],
        ["report", "mrr-trend", "--period", "7"],
        ["report", "revenue-trend", "--period", "7"],
        ["report", "trends", "--period", "7"],
        ["report", "plan-distribution"],
        ["report", "recent-signups"],
        ["report", "recent-stripe-events"],
        ["report", "recent-payments"],
        ["report", "recent-logins"],
        ["report", "mrr-movements", "--period", "7"],
        ["banners"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_every_report_prints_csv(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any, report: list[str]
) -> None:
    code, out, err = cli(seeded, monkeypatch, capsys, *report, "--csv")
    assert code == 0, err
    header, rows = rows_of(out)
    assert header and len(set(header)) == len(header)
    name = report[1] if report[0] == "report" else report[0]
    if name in ("mrr-trend", "revenue-trend", "trends"):
        assert len(rows) == 7 and rows[0]["date"] < rows[-1]["date"]
        assert rows[0]["prior_date"] < rows[0]["date"]
    if name == "kpis":
        (kpis,) = rows
        assert kpis["total_tenants"] == "9" and kpis["currency"] == "DKK"
        assert Decimal(kpis["total_revenue"]) == Decimal("1234.50")
    if name == "banners":
        (banners,) = rows
        assert banners["mrr_consistency.currency"] == "DKK"
        assert banners["mrr_consistency.consistent"] in ("true", "false")
    if name == "mrr-movements":
        (movements,) = rows
        assert movements["currency"] == "DKK" and Decimal(movements["end_monthly_recurring_revenue"]) >= 0
    if name == "plan-distribution":
        assert {row["plan"]: row["count"] for row in rows} == {"Basis": "7", "Standard": "1", "Premium": "1"}
    if name == "recent-payments":
        assert [(row["amount"], row["currency"], row["tenant_name"]) for row in rows] == [("1543.13", "DKK", AWKWARD)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accounts", "list", "--csv", "--json"], "exclude each other"),
        (["users", "list", "--json", "--csv"], "exclude each other"),
        (["report", "kpis", "--csv", "--json"], "exclude each other"),
        (["report", "recent-logins", "--csv", "--json"], "exclude each other"),
        (["audit", "--csv", "--json"], "exclude each other"),
        (["banners", "--csv", "--json"], "exclude each other"),
        (["report", "mrr-movements", "--json", "--csv"], "exclude each other"),
        (["invoices", "--all"], "--csv or --json"),
        (["billing-events", "--all", "--csv", "--page", "2"], "leave out --page"),
        (["accounts", "list", "--all", "--csv", "--page-size", "0"], "page size"),
    ],
)
def test_usage_errors(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any, args: list[str], message: str
) -> None:
    code, out, err = cli(seeded, monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert message in err


def test_non_ascii_is_utf8_on_the_wire(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """An ASCII-only terminal does not mangle a name: stdout is switched to UTF-8."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", newline="")
    monkeypatch.setattr("sys.stdout", stream)
    from console.cli import main

    monkeypatch.setattr("sys.argv", ["backoffice", "--database-url", seeded["url"], "accounts", "list", "--csv"])
    with pytest.raises(SystemExit) as exit_:
        main()
    stream.flush()
    assert exit_.value.code in (0, None)
    assert NON_ASCII.encode("utf-8") in raw.getvalue()


README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED = {
    "accounts list": AccountRow,
    "users list": UserRow,
    "billing-events": BillingEventRow,
    "invoices": InvoiceRow,
    "audit": ActionRow,
    "report kpis": dashboard.Kpis,
    "report mrr-trend": cli_export.MrrTrendRow,
    "report revenue-trend": cli_export.RevenueTrendRow,
    "report trends": cli_export.TrendsRow,
    "report plan-distribution": dashboard.PlanShare,
    "report recent-signups": dashboard.RecentSignup,
    "report recent-stripe-events": dashboard.RecentBillingEvent,
    "report recent-payments": dashboard.RecentPayment,
    "report recent-logins": dashboard.RecentLogin,
    "report mrr-movements": MrrMovements,
    "banners": Banners,
}


def test_the_readme_documents_every_column_in_order() -> None:
    """Stable columns (docs/rules.md R140): the README's are the first columns,
    in order; a column may only be added after them."""
    table = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\| `([a-z -]+)` \| (`.*`) \|", line)
        if match and match.group(1) in DOCUMENTED:
            table[match.group(1)] = re.findall(r"`([^`]+)`", match.group(2))
    assert set(table) == set(DOCUMENTED)
    for command, row_type in DOCUMENTED.items():
        columns = export.columns(row_type)
        assert tuple(table[command]) == columns[: len(table[command])], command


def test_a_reader_that_stops_ends_the_export_quietly(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`backoffice accounts list --all --csv | head -1`: exit 0, no error line."""

    class ClosedAfterOneLine(io.StringIO):
        encoding = "utf-8"

        def write(self, text: str) -> int:
            if self.getvalue():
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(text)

    closed = ClosedAfterOneLine()
    monkeypatch.setattr("sys.stdout", closed)
    from console.cli import main

    monkeypatch.setattr(
        "sys.argv",
        ["backoffice", "--database-url", seeded["url"], "accounts", "list", "--all", "--csv", "--page-size", "2"],
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    assert closed.getvalue().startswith("id,name,")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("command", "row_type"), LISTS, ids=lambda value: getattr(value, "__name__", None))
def test_all_in_pages_of_one_row_is_the_whole_list(
    seeded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    row_type: type,
) -> None:
    """Every list streamed one row a page gives the rows of one big page, in order, once."""
    _, whole, _ = cli(seeded, monkeypatch, capsys, *command, "--csv", "--page-size", "100")
    code, streamed, err = cli(seeded, monkeypatch, capsys, *command, "--all", "--csv", "--page-size", "1")
    assert code == 0, err
    assert streamed == whole
    assert rows_of(streamed)[1]
