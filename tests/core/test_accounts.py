"""The accounts list: rows with plan, price, status and owner, search, filters,
sorts and paging (docs/rules.md R36, R73, R93, R95, R96) plus the sort, filter
and paging edges. Every test runs with both page strategies: the
few matches sorted outright, and the walk over the sort's index."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, insert, text

from core import accounts
from core.accounts import AccountSort, AccountStatus, PlannedChange, list_accounts
from core.paging import PageRequest
from db.enums import SubscriptionPlan
from db.models import Tenant
from tests import factories as f

NOW = f.NOW


@pytest.fixture(autouse=True, params=["sorted", "walked"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "walked":
        monkeypatch.setattr(accounts, "SORT_MATCHES_UP_TO", -1)
        monkeypatch.setattr(accounts, "SORT_MATCHES_BELOW_SHARE", 0)
    return request.param


def names(page: accounts.Page[accounts.AccountRow]) -> list[str]:
    return [row.name for row in page.items]


def tenant1(conn: Connection) -> f.TenantRef:
    """Tenant1, the seed tenant: Basis, empty name, an owner and a member."""
    ref = f.tenant(conn, name="", created_at=NOW)
    f.user(conn, ref.id, email="owner@tenant-1.com", role="Owner", last_seen_at=None, created_at=NOW)
    f.user(conn, ref.id, email="member1@tenant-1.com", last_seen_at=None, created_at=NOW)
    return ref


def billing_address(country: str | None) -> dict[str, object]:
    return {"Name": None, "Email": None, "TaxId": None, "Address": {"Country": country} if country else None}


@pytest.fixture
def acme_beta_cyrus(conn: Connection) -> dict[str, f.TenantRef]:
    """GetTenantsTests fixtures (minutes ago): Acme, Beta, Cyrus, and Tenant1."""
    refs = {"Tenant1": tenant1(conn)}
    refs["Acme Corp"] = f.tenant(
        conn,
        name="Acme Corp",
        plan="Standard",
        created_at=NOW - timedelta(minutes=30),
        current_price_amount=Decimal("49.99"),
        current_price_currency="DKK",
        billing_info=billing_address("US"),
    )
    refs["Beta Industries"] = f.tenant(
        conn,
        name="Beta Industries",
        plan="Premium",
        created_at=NOW - timedelta(minutes=20),
        current_price_amount=Decimal("199.00"),
        current_price_currency="EUR",
        billing_info=billing_address("DE"),
        cancel_at_period_end=True,
    )
    refs["Cyrus Co"] = f.tenant(
        conn, name="Cyrus Co", created_at=NOW - timedelta(minutes=10), scheduled_plan="Standard"
    )
    return refs


def test_no_input_lists_every_account_with_its_plan_price_and_planned_change(
    conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]
) -> None:
    page = list_accounts(conn)
    assert page.total == 4
    beta = next(row for row in page.items if row.name == "Beta Industries")
    assert (beta.plan, beta.monthly_recurring_revenue, beta.currency, beta.country) == (
        SubscriptionPlan.Premium,
        Decimal("199.00"),
        "EUR",
        "DE",
    )
    assert beta.planned_change is PlannedChange.Cancellation
    assert beta.id == str(acme_beta_cyrus["Beta Industries"].id)
    cyrus = next(row for row in page.items if row.name == "Cyrus Co")
    assert cyrus.planned_change is PlannedChange.ScheduledPlanChange
    assert cyrus.monthly_recurring_revenue is None


def test_search_matches_part_of_the_name_or_the_exact_id(
    conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]
) -> None:
    assert names(list_accounts(conn, search="acme")) == ["Acme Corp"]
    assert names(list_accounts(conn, search=f"  {acme_beta_cyrus['Acme Corp'].id} ")) == ["Acme Corp"]
    assert list_accounts(conn, search=str(acme_beta_cyrus["Acme Corp"].id)[:-2]).total == 0


def test_search_treats_like_wildcards_as_text(conn: Connection) -> None:
    f.tenant(conn, name="100% Growth")
    f.tenant(conn, name="Plain")
    assert names(list_accounts(conn, search="%")) == ["100% Growth"]
    assert list_accounts(conn, search="_").total == 0


def test_plan_filter(conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]) -> None:
    assert names(list_accounts(conn, plans=[SubscriptionPlan.Premium])) == ["Beta Industries"]
    both = list_accounts(conn, plans=[SubscriptionPlan.Standard, SubscriptionPlan.Premium])
    assert names(both) == ["Acme Corp", "Beta Industries"]


def test_mrr_sort_descending(conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]) -> None:
    order = names(list_accounts(conn, sort=AccountSort.mrr, descending=True))
    assert order.index("Beta Industries") < order.index("Acme Corp") < order.index("Cyrus Co")


def test_created_at_sort_ascending(conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]) -> None:
    assert names(list_accounts(conn, sort=AccountSort.created_at)) == ["Acme Corp", "Beta Industries", "Cyrus Co", ""]


def test_a_page_past_the_end_is_empty_with_the_total(conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]) -> None:
    page = list_accounts(conn, page=PageRequest(5, 25))
    assert (page.items, page.total, page.page) == ([], 4, 5)


def test_paging_by_name(conn: Connection, acme_beta_cyrus: dict[str, f.TenantRef]) -> None:
    first = list_accounts(conn, sort=AccountSort.name, page=PageRequest(1, 2))
    second = list_accounts(conn, sort=AccountSort.name, page=PageRequest(2, 2))
    assert (first.total, first.total_pages, len(first.items)) == (4, 2, 2)
    assert names(first) + names(second) == ["", "Acme Corp", "Beta Industries", "Cyrus Co"]


@pytest.fixture
def every_status(conn: Connection) -> None:
    """The status scenarios: one account per status (and Tenant1, Free)."""
    tenant1(conn)
    f.tenant(conn, name="Acme Corp", plan="Standard")
    f.tenant(conn, name="Beta Industries", plan="Premium", cancel_at_period_end=True)
    f.tenant(conn, name="Cyrus Co", plan="Standard", scheduled_plan="Basis", scheduled_price_amount=Decimal("0"))
    f.tenant(conn, name="Delta Ltd", payment_transactions=[f.payment_transaction()])
    f.tenant(conn, name="Epsilon Inc")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([AccountStatus.Active], ["Acme Corp"]),
        ([AccountStatus.Downgrading], ["Cyrus Co"]),
        ([AccountStatus.Canceling], ["Beta Industries"]),
        ([AccountStatus.Canceled], ["Delta Ltd"]),
        ([AccountStatus.Free], ["", "Epsilon Inc"]),
        ([AccountStatus.Active, AccountStatus.Canceling], ["Acme Corp", "Beta Industries"]),
    ],
)
def test_status_filter(
    conn: Connection, every_status: None, statuses: list[AccountStatus], expected: list[str]
) -> None:
    page = list_accounts(conn, statuses=statuses)
    assert names(page) == expected
    assert all(row.status in statuses for row in page.items)


def test_free_accounts_are_basis_and_never_paid(conn: Connection, every_status: None) -> None:
    rows = list_accounts(conn, statuses=[AccountStatus.Free]).items
    assert rows and all(row.plan is SubscriptionPlan.Basis and not row.has_ever_subscribed for row in rows)


def test_a_refunded_payment_counts_as_having_subscribed(conn: Connection) -> None:
    f.tenant(conn, name="Refunded", payment_transactions=[f.payment_transaction(status="Refunded")])
    f.tenant(conn, name="Failed only", payment_transactions=[f.payment_transaction(status="Failed")])
    rows = {row.name: row for row in list_accounts(conn).items}
    assert (rows["Refunded"].status, rows["Refunded"].has_ever_subscribed) == (AccountStatus.Canceled, True)
    assert (rows["Failed only"].status, rows["Failed only"].has_ever_subscribed) == (AccountStatus.Free, False)


@pytest.mark.parametrize("descending", [False, True])
def test_status_sort_uses_the_status_order(conn: Connection, every_status: None, descending: bool) -> None:
    statuses = [row.status for row in list_accounts(conn, sort=AccountSort.status, descending=descending).items]
    expected = [
        AccountStatus.Active,
        AccountStatus.Downgrading,
        AccountStatus.Canceling,
        AccountStatus.Canceled,
        AccountStatus.Free,
        AccountStatus.Free,
    ]
    assert statuses == (expected[::-1] if descending else expected)


def test_status_sort_pages_through_every_branch(conn: Connection, every_status: None) -> None:
    pages = [list_accounts(conn, sort=AccountSort.status, page=PageRequest(n, 2)) for n in (1, 2, 3, 4)]
    assert [len(p.items) for p in pages] == [2, 2, 2, 0]
    seen = [row.name for p in pages for row in p.items]
    assert sorted(seen) == sorted(["", "Acme Corp", "Beta Industries", "Cyrus Co", "Delta Ltd", "Epsilon Inc"])


def test_status_sort_with_a_status_filter(conn: Connection, every_status: None) -> None:
    page = list_accounts(
        conn, statuses=[AccountStatus.Free, AccountStatus.Active], sort=AccountSort.status, descending=True
    )
    assert [row.status for row in page.items] == [AccountStatus.Free, AccountStatus.Free, AccountStatus.Active]


def test_name_sort_ignores_case_and_breaks_ties_by_id(conn: Connection) -> None:
    first = f.tenant(conn, name="beta", created_at=NOW - timedelta(days=3))
    second = f.tenant(conn, name="Beta", created_at=NOW - timedelta(days=2))
    f.tenant(conn, name="alpha")
    f.tenant(conn, name="Gamma")
    ascending = list_accounts(conn)
    assert [row.name for row in ascending.items] == ["alpha", "beta", "Beta", "Gamma"]
    assert [row.id for row in ascending.items[1:3]] == [str(first.id), str(second.id)]
    descending = list_accounts(conn, descending=True)
    assert [row.id for row in descending.items] == [row.id for row in ascending.items][::-1]


def test_plan_sort_orders_by_tier(conn: Connection) -> None:
    f.tenant(conn, name="P", plan="Premium")
    f.tenant(conn, name="B")
    f.tenant(conn, name="S", plan="Standard")
    assert names(list_accounts(conn, sort=AccountSort.plan)) == ["B", "S", "P"]
    assert names(list_accounts(conn, sort=AccountSort.plan, descending=True)) == ["P", "S", "B"]


@pytest.mark.parametrize("descending", [False, True])
def test_renewal_sort_puts_accounts_without_a_renewal_last(conn: Connection, descending: bool) -> None:
    f.tenant(conn, name="none")
    f.tenant(conn, name="soon", plan="Standard", current_period_end=NOW + timedelta(days=1))
    f.tenant(conn, name="later", plan="Standard", current_period_end=NOW + timedelta(days=9))
    order = names(list_accounts(conn, sort=AccountSort.renewal_date, descending=descending))
    assert order == (["later", "soon", "none"] if descending else ["soon", "later", "none"])


def test_country_sort_treats_no_country_as_empty(conn: Connection) -> None:
    f.tenant(conn, name="Danish", billing_info=billing_address("DK"))
    f.tenant(conn, name="Nowhere")
    f.tenant(conn, name="German", billing_info=billing_address("DE"))
    assert names(list_accounts(conn, sort=AccountSort.country)) == ["Nowhere", "German", "Danish"]


def test_modified_at_sort_falls_back_to_created_at(conn: Connection) -> None:
    f.tenant(conn, name="old", created_at=NOW - timedelta(days=9))
    touched = f.tenant(conn, name="touched", created_at=NOW - timedelta(days=20))
    f.tenant(conn, name="new", created_at=NOW - timedelta(days=1))
    conn.execute(text("UPDATE tenants SET modified_at = :at WHERE id = :id"), {"at": NOW, "id": touched.id})
    assert names(list_accounts(conn, sort=AccountSort.modified_at, descending=True)) == ["touched", "new", "old"]


@pytest.mark.parametrize("sort", [AccountSort.mrr, AccountSort.renewal_date, AccountSort.country])
@pytest.mark.parametrize("descending", [False, True])
def test_an_account_without_a_subscription_row_comes_last(
    conn: Connection, sort: AccountSort, descending: bool
) -> None:
    f.tenant(conn, name="subscribed", plan="Standard")
    f.tenant(conn, name="free")
    conn.execute(insert(Tenant).values(id=7, created_at=NOW, name="orphan", state="Active", plan="Basis"))
    whole = list_accounts(conn, sort=sort, descending=descending)
    assert whole.total == 3 and names(whole)[-1] == "orphan"
    last_page = list_accounts(conn, sort=sort, descending=descending, page=PageRequest(3, 1))
    assert names(last_page) == ["orphan"]
    assert names(list_accounts(conn, sort=sort, page=PageRequest(2, 2))) == ["orphan"]


def test_soft_deleted_accounts_are_not_listed(conn: Connection) -> None:
    f.tenant(conn, name="Gone", deleted_at=NOW - timedelta(days=1))
    f.tenant(conn, name="Here")
    assert names(list_accounts(conn)) == ["Here"]
    assert list_accounts(conn, search="gone").total == 0


def test_unsynced_and_drift_filters(conn: Connection) -> None:
    synced = f.tenant(conn, name="synced", plan="Standard")
    f.billing_event(conn, synced, "SubscriptionCreated", occurred_at=NOW - timedelta(days=3), new_amount="149")
    f.tenant(conn, name="unsynced", plan="Standard")
    f.tenant(conn, name="free")
    f.tenant(conn, name="drifting", plan="Premium", has_drift_detected=True)
    assert names(list_accounts(conn, unsynced=True)) == ["drifting", "unsynced"]
    assert names(list_accounts(conn, drift_detected=True)) == ["drifting"]


def test_row_mrr_display_rule(conn: Connection) -> None:
    f.tenant(conn, name="canceling", plan="Standard", cancel_at_period_end=True)
    f.tenant(conn, name="downgrading", plan="Premium", scheduled_plan="Standard", scheduled_price_amount=Decimal("149"))
    f.tenant(conn, name="no scheduled price", plan="Premium", scheduled_plan="Standard")
    f.tenant(conn, name="steady", plan="Standard")
    f.tenant(conn, name="free")
    rows = {row.name: row for row in list_accounts(conn).items}
    shown = {
        name: (row.monthly_recurring_revenue, row.forward_monthly_recurring_revenue, row.mrr_changes_at_renewal)
        for name, row in rows.items()
    }
    assert shown == {
        "canceling": (Decimal("149.00"), Decimal("0"), True),
        "downgrading": (Decimal("299.00"), Decimal("149.00"), True),
        "no scheduled price": (Decimal("299.00"), Decimal("299.00"), False),
        "steady": (Decimal("149.00"), Decimal("149.00"), False),
        "free": (None, None, False),
    }
    assert rows["downgrading"].status is AccountStatus.Downgrading


def test_owner_is_the_earliest_owner(conn: Connection) -> None:
    ref = f.tenant(conn, name="Acme")
    f.user(conn, ref.id, email="member@acme.com", role="Member", created_at=NOW - timedelta(days=50))
    f.user(conn, ref.id, email="second@acme.com", role="Owner", created_at=NOW - timedelta(days=10))
    f.user(
        conn,
        ref.id,
        email="first@acme.com",
        role="Owner",
        first_name="Ada",
        last_name=None,
        created_at=NOW - timedelta(days=20),
    )
    f.user(conn, ref.id, email="gone@acme.com", role="Owner", created_at=NOW - timedelta(days=90), deleted_at=NOW)
    owner = list_accounts(conn).items[0].owner
    assert owner is not None and (owner.email, owner.display_name) == ("first@acme.com", "Ada")


def test_account_ids_page_gives_the_order_without_the_columns(conn: Connection, every_status: None) -> None:
    ids = accounts.account_ids_page(conn, accounts.AccountFilter(), sort=AccountSort.name, page=PageRequest(1, 3))
    assert [str(i) for i in ids] == [row.id for row in list_accounts(conn, page=PageRequest(1, 3)).items]


def test_account_ids_page_takes_the_search_as_typed(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme Corp")
    f.tenant(conn, name="Bravo")
    ids = accounts.account_ids_page(conn, accounts.AccountFilter(search="  ACME "))
    assert ids == [acme.id]
