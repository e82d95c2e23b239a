"""Users: the users list and one user's detail (docs/rules.md R86, R94), with
the two-character search minimum (R94). The
list runs with both page strategies (few matches sorted, or the recency walk)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, insert

from core import users
from core.accounts import AccountStatus, PlannedChange
from core.errors import NotFound
from core.paging import PageRequest
from core.users import UserStatus, list_users, user_detail
from db.enums import SubscriptionPlan, UserRole
from db.models import Tenant, User
from tests import factories as f

NOW = f.NOW
DAY = timedelta(days=1)


@pytest.fixture(params=["sorted", "walked"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "walked":
        monkeypatch.setattr(users, "SORT_MATCHES_UP_TO", -1)
        monkeypatch.setattr(users, "SORT_MATCHES_BELOW_SHARE", 0)
    return request.param


def emails(page: users.Page[users.UserRow]) -> list[str]:
    return [row.email for row in page.items]


def test_search_by_email_shows_the_account(conn: Connection, strategy: str) -> None:
    f.user(conn, f.tenant(conn, name="Acme Corp").id, email="alice.unique@example.com")
    f.user(conn, f.tenant(conn, name="Beta").id, email="bob@example.com")
    page = list_users(conn, search="alice.unique")
    assert page.total == 1 and page.items[0].tenant_name == "Acme Corp"


def test_search_by_full_name(conn: Connection, strategy: str) -> None:
    acme = f.tenant(conn, name="Acme")
    f.user(conn, acme.id, email="a@example.com", first_name="Alice", last_name="Wonderland")
    f.user(conn, acme.id, email="b@example.com", first_name="Bob", last_name="Builder")
    assert emails(list_users(conn, search="alice wonderland")) == ["a@example.com"]
    assert emails(list_users(conn, search="BUILD")) == ["b@example.com"]


def test_search_by_account_name(conn: Connection, strategy: str) -> None:
    cynical = f.tenant(conn, name="Cynical Solutions")
    f.user(conn, cynical.id, email="one@cynical.io", last_seen_at=NOW - DAY)
    f.user(conn, cynical.id, email="two@cynical.io", last_seen_at=NOW - 2 * DAY)
    f.user(conn, f.tenant(conn, name="Other Co").id, email="three@other.io")
    page = list_users(conn, search="cynical")
    assert page.total == 2 and {row.tenant_name for row in page.items} == {"Cynical Solutions"}
    assert emails(page) == ["one@cynical.io", "two@cynical.io"]


def test_a_user_matching_twice_is_listed_once(conn: Connection, strategy: str) -> None:
    acme = f.tenant(conn, name="Acme")
    f.user(conn, acme.id, email="boss@acme.com", first_name="Acme", last_name="Boss")
    page = list_users(conn, search="acme")
    assert (page.total, emails(page)) == (1, ["boss@acme.com"])


def test_most_recently_seen_first_and_never_seen_last(conn: Connection, strategy: str) -> None:
    listing = f.tenant(conn, name="Listing")
    for name, seen in [("never", None), ("last", NOW - 3 * DAY), ("middle", NOW - 2 * DAY), ("first", NOW - DAY)]:
        f.user(conn, listing.id, email=f"{name}@listing.com", last_seen_at=seen)
    expected = ["first@listing.com", "middle@listing.com", "last@listing.com", "never@listing.com"]
    assert emails(list_users(conn)) == expected
    assert emails(list_users(conn, search="listing")) == expected


def test_paging_a_search(conn: Connection, strategy: str) -> None:
    pageable = f.tenant(conn, name="Pageable LLC")
    for n in range(30):
        f.user(conn, pageable.id, email=f"user{n:02d}@pageable.com", last_seen_at=NOW - n * timedelta(minutes=1))
    page = list_users(conn, search="pageable", page=PageRequest(3, 10))
    assert (page.total, page.total_pages, len(page.items)) == (30, 3, 10)
    assert emails(page)[0] == "user20@pageable.com"
    past_end = list_users(conn, search="pageable", page=PageRequest(4, 10))
    assert (past_end.items, past_end.total) == ([], 30)


def test_account_plan_planned_change_and_has_ever_subscribed(conn: Connection) -> None:
    conn.execute(insert(Tenant).values(id=42, created_at=NOW, name="Bare", state="Active", plan="Basis"))
    f.user(conn, 42, email="bare@example.com")
    paying = f.tenant(conn, name="Paying", plan="Standard", payment_transactions=[f.payment_transaction()])
    f.user(conn, paying.id, email="paying@example.com")
    refunded = f.tenant(conn, name="Refunded", payment_transactions=[f.payment_transaction(status="Refunded")])
    f.user(conn, refunded.id, email="refunded@example.com", first_name="Ref")
    rows = {row.email: row for row in list_users(conn).items}
    bare, paid, ref = rows["bare@example.com"], rows["paying@example.com"], rows["refunded@example.com"]
    assert (bare.tenant_plan, bare.tenant_planned_change, bare.tenant_has_ever_subscribed) == (
        SubscriptionPlan.Basis,
        None,
        False,
    )
    assert (paid.tenant_plan, paid.tenant_planned_change, paid.tenant_has_ever_subscribed) == (
        SubscriptionPlan.Standard,
        None,
        True,
    )
    assert ref.tenant_has_ever_subscribed  # one rule everywhere: a refunded payment counts


def test_a_search_shorter_than_two_characters_lists_everybody(conn: Connection, strategy: str) -> None:
    acme = f.tenant(conn, name="Acme")
    f.user(conn, acme.id, email="zed@example.com", first_name="Zed", last_name=None)
    f.user(conn, acme.id, email="amy@example.com", first_name="Amy", last_name=None)
    assert list_users(conn, search="q").total == 2
    assert list_users(conn, search="  ").total == 2
    assert list_users(conn, search="ze").total == 1


def test_search_treats_wildcards_as_text(conn: Connection, strategy: str) -> None:
    acme = f.tenant(conn, name="Acme")
    f.user(conn, acme.id, email="under_score@example.com")
    f.user(conn, acme.id, email="underXscore@example.com")
    assert emails(list_users(conn, search="r_s")) == ["under_score@example.com"]


def test_deleted_users_and_users_of_deleted_accounts_are_not_listed(conn: Connection, strategy: str) -> None:
    acme = f.tenant(conn, name="Acme")
    f.user(conn, acme.id, email="here@acme.com")
    f.user(conn, acme.id, email="gone@acme.com", deleted_at=NOW)
    gone = f.tenant(conn, name="Gone Inc", deleted_at=NOW)
    f.user(conn, gone.id, email="orphan@gone.com")
    assert emails(list_users(conn)) == ["here@acme.com"]
    assert list_users(conn).total == 1
    assert list_users(conn, search="gone").total == 0


def test_row_shape(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    user_id = f.user(
        conn, acme.id, email="pending@acme.com", role="Admin", first_name="Pen", last_name="Ding", email_confirmed=False
    )
    [row] = list_users(conn).items
    assert (row.id, row.display_name, row.role, row.status, row.tenant_id) == (
        user_id,
        "Pen Ding",
        UserRole.Admin,
        UserStatus.Pending,
        str(acme.id),
    )


def tenant1(conn: Connection) -> tuple[f.TenantRef, str]:
    ref = f.tenant(conn, name="Tenant One", created_at=NOW)
    owner = f.user(conn, ref.id, email="owner@tenant-1.com", role="Owner", last_seen_at=None)
    f.user(conn, ref.id, email="member1@tenant-1.com", last_seen_at=None)
    return ref, owner


def test_user_detail(conn: Connection) -> None:
    ref, owner = tenant1(conn)
    detail = user_detail(conn, owner, NOW)
    assert (detail.id, detail.email, detail.role, detail.tenant_id, detail.tenant_name) == (
        owner,
        "owner@tenant-1.com",
        UserRole.Owner,
        str(ref.id),
        "Tenant One",
    )
    assert [m.tenant_name for m in detail.memberships] == ["Tenant One"]


def test_memberships_share_the_email(conn: Connection) -> None:
    ref, _ = tenant1(conn)
    member = f.user(conn, ref.id, email="shared@example.com", role="Member")
    other = f.tenant(conn, name="Other Tenant")
    f.user(conn, other.id, email="shared@example.com", role="Owner")
    gone = f.tenant(conn, name="Gone", deleted_at=NOW)
    f.user(conn, gone.id, email="shared@example.com")
    detail = user_detail(conn, member, NOW)
    assert sorted((m.tenant_name, m.role) for m in detail.memberships) == [
        ("Other Tenant", UserRole.Owner),
        ("Tenant One", UserRole.Member),
    ]
    assert [m.user_id for m in detail.memberships] == sorted(m.user_id for m in detail.memberships)
    for m in detail.memberships:
        assert (m.plan, m.planned_change, m.has_ever_subscribed, m.status) == (
            SubscriptionPlan.Basis,
            None,
            False,
            AccountStatus.Free,
        )
        assert (m.monthly_recurring_revenue, m.scheduled_price_amount, m.renewal_date, m.currency) == (
            None,
            None,
            None,
            None,
        )
        assert (m.country, m.tenant_logo_url) == (None, None)
    assert detail.tiles.memberships == 2


def test_membership_mrr_contribution(conn: Connection) -> None:
    paying = f.tenant(
        conn, name="Paying", plan="Premium", scheduled_plan="Standard", scheduled_price_amount=Decimal("149")
    )
    user_id = f.user(conn, paying.id, email="pay@example.com")
    [m] = user_detail(conn, user_id, NOW).memberships
    assert (m.monthly_recurring_revenue, m.forward_monthly_recurring_revenue, m.mrr_changes_at_renewal) == (
        Decimal("299.00"),
        Decimal("149.00"),
        True,
    )
    assert (m.planned_change, m.status, m.renewal_date) == (
        PlannedChange.ScheduledPlanChange,
        AccountStatus.Downgrading,
        NOW + timedelta(days=20),
    )


def test_unknown_or_deleted_user_is_not_found(conn: Connection) -> None:
    with pytest.raises(NotFound, match="user usr_nobody not found"):
        user_detail(conn, "usr_nobody", NOW)
    ref = f.tenant(conn, name="Acme")
    gone = f.user(conn, ref.id, deleted_at=NOW)
    with pytest.raises(NotFound):
        user_detail(conn, gone, NOW)


def test_tiles_count_live_sessions_and_recent_successful_logins(conn: Connection) -> None:
    ref, owner = tenant1(conn)
    other = f.tenant(conn, name="Other")
    twin = f.user(conn, other.id, email="owner@tenant-1.com")
    f.session(conn, ref.id, owner, created_at=NOW - DAY)
    f.session(conn, other.id, twin, created_at=NOW - 2 * DAY)
    f.session(conn, ref.id, owner, created_at=NOW - DAY, revoked_at=NOW - timedelta(hours=1))
    f.session(conn, ref.id, owner, created_at=NOW - timedelta(days=91))
    f.email_login(conn, "owner@tenant-1.com", created_at=NOW - DAY)
    f.email_login(conn, "owner@tenant-1.com", created_at=NOW - DAY, completed=False, retry_count=3)
    f.email_login(conn, "owner@tenant-1.com", created_at=NOW - 31 * DAY)
    f.external_login(conn, "owner@tenant-1.com", created_at=NOW - 2 * DAY)
    f.external_login(conn, "owner@tenant-1.com", created_at=NOW - 2 * DAY, result="IdentityProviderError")
    tiles = user_detail(conn, owner, NOW).tiles
    assert (tiles.memberships, tiles.active_sessions, tiles.logins_last_30_days) == (2, 2, 2)


def test_user_row_without_names_shows_the_email(conn: Connection) -> None:
    ref = f.tenant(conn, name="Acme")
    conn.execute(
        insert(User).values(
            tenant_id=ref.id,
            id="usr_NONAME",
            created_at=NOW,
            email="noname@acme.com",
            email_confirmed=True,
            role="Member",
            locale="",
        )
    )
    assert user_detail(conn, "usr_NONAME", NOW).display_name == "noname@acme.com"
