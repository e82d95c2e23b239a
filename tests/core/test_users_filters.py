"""The users list's role and activity filters (docs/rules.md R110, R111):
each alone, together, with the search, with both page strategies, and the
exact or estimated total the list already gives; the account's Users tab
filters by role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection

from core import users
from core.account_users import tenant_users
from core.paging import PageRequest
from core.users import UserActivity, UserRow, list_users
from db.enums import UserRole
from tests import factories as f

NOW = f.NOW
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# email: (role, last seen)
PEOPLE = {
    "owner.now@acme.test": ("Owner", NOW - HOUR),
    "admin.day@acme.test": ("Admin", NOW - 23 * HOUR),
    "member.edge@acme.test": ("Member", NOW - 24 * HOUR),  # exactly 24 hours: still active within 24h
    "member.week@acme.test": ("Member", NOW - 6 * DAY),
    "owner.month@bravo.test": ("Owner", NOW - 29 * DAY),
    "admin.old@bravo.test": ("Admin", NOW - 31 * DAY),
    "member.never@bravo.test": ("Member", None),
}


@pytest.fixture(params=["sorted", "walked"])
def people(request: pytest.FixtureRequest, conn: Connection, monkeypatch: pytest.MonkeyPatch) -> Connection:
    if request.param == "walked":
        monkeypatch.setattr(users, "SORT_MATCHES_UP_TO", -1)
        monkeypatch.setattr(users, "SORT_MATCHES_BELOW_SHARE", 0)
    acme, bravo = f.tenant(conn, name="Acme").id, f.tenant(conn, name="Bravo").id
    for email, (role, seen) in PEOPLE.items():
        f.user(conn, acme if "acme" in email else bravo, email=email, role=role, last_seen_at=seen)
    # Never listed: a deleted user and a user of a deleted account, both seen just now.
    f.user(conn, acme, email="gone@acme.test", role="Owner", last_seen_at=NOW, deleted_at=NOW - DAY)
    f.user(conn, f.tenant(conn, name="Gone", deleted_at=NOW - DAY).id, email="ghost@gone.test", last_seen_at=NOW)
    return conn


def emails(page: users.Page[UserRow]) -> list[str]:
    return [row.email for row in page.items]


def listed(conn: Connection, **filters: object) -> list[str]:
    page = list_users(conn, now=NOW, page=PageRequest(1, 100), **filters)  # type: ignore[arg-type]
    assert page.total == len(page.items) and not page.total_is_estimate
    return emails(page)


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        (UserActivity.active_24h, ["owner.now@acme.test", "admin.day@acme.test", "member.edge@acme.test"]),
        (
            UserActivity.active_7d,
            ["owner.now@acme.test", "admin.day@acme.test", "member.edge@acme.test", "member.week@acme.test"],
        ),
        (
            UserActivity.active_30d,
            [
                "owner.now@acme.test",
                "admin.day@acme.test",
                "member.edge@acme.test",
                "member.week@acme.test",
                "owner.month@bravo.test",
            ],
        ),
        (UserActivity.inactive, ["admin.old@bravo.test", "member.never@bravo.test"]),
    ],
)
def test_activity_is_relative_to_the_clock_and_counted_exactly(
    people: Connection, activity: UserActivity, expected: list[str]
) -> None:
    assert listed(people, activity=activity) == expected
    # The summary's count is exact whatever the console asks for.
    page = list_users(people, activity=activity, now=NOW, estimate_large_total=True)
    assert (page.total, page.total_is_estimate) == (len(expected), False)


def test_inactive_and_active_within_30_days_split_everyone(people: Connection) -> None:
    active = listed(people, activity=UserActivity.active_30d)
    inactive = listed(people, activity=UserActivity.inactive)
    assert sorted(active + inactive) == sorted(PEOPLE)


def test_the_activity_follows_the_clock_given(people: Connection) -> None:
    later = list_users(people, activity=UserActivity.active_24h, now=NOW + 2 * HOUR)
    assert emails(later) == ["owner.now@acme.test"]


def test_roles_are_a_multi_select(people: Connection) -> None:
    assert listed(people, roles=[UserRole.Owner]) == ["owner.now@acme.test", "owner.month@bravo.test"]
    assert listed(people, roles=[UserRole.Admin, UserRole.Owner]) == [
        "owner.now@acme.test",
        "admin.day@acme.test",
        "owner.month@bravo.test",
        "admin.old@bravo.test",
    ]
    assert listed(people, roles=list(UserRole)) == listed(people)


def test_roles_and_activity_combine(people: Connection) -> None:
    assert listed(people, roles=[UserRole.Member], activity=UserActivity.active_7d) == [
        "member.edge@acme.test",
        "member.week@acme.test",
    ]
    assert listed(people, roles=[UserRole.Admin], activity=UserActivity.inactive) == ["admin.old@bravo.test"]
    assert listed(people, roles=[UserRole.Owner], activity=UserActivity.inactive) == []


def test_filters_combine_with_the_search(people: Connection) -> None:
    # By the person's own fields, and by the account's name.
    assert listed(people, search="member", activity=UserActivity.active_30d) == [
        "member.edge@acme.test",
        "member.week@acme.test",
    ]
    assert listed(people, search="bravo", roles=[UserRole.Owner, UserRole.Member]) == [
        "owner.month@bravo.test",
        "member.never@bravo.test",
    ]
    assert listed(people, search="acme", roles=[UserRole.Owner], activity=UserActivity.active_24h) == [
        "owner.now@acme.test"
    ]
    # A search below the minimum lists everybody the filters keep.
    assert listed(people, search="b", roles=[UserRole.Admin]) == ["admin.day@acme.test", "admin.old@bravo.test"]


def test_paging_a_filter(people: Connection) -> None:
    pages = [
        list_users(people, activity=UserActivity.active_30d, now=NOW, page=PageRequest(number, 2))
        for number in (1, 2, 3)
    ]
    assert [page.total for page in pages] == [5, 5, 5]
    assert sum((emails(page) for page in pages), []) == listed(people, activity=UserActivity.active_30d)
    past = list_users(people, roles=[UserRole.Owner], now=NOW, page=PageRequest(5, 2))
    assert (past.items, past.total) == ([], 2)


def test_an_activity_filter_needs_the_clock(people: Connection) -> None:
    with pytest.raises(ValueError, match="clock"):
        list_users(people, activity=UserActivity.inactive)


@pytest.fixture
def many_members(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> Connection:
    """Twenty members and two owners; estimates start above five (the sample
    is the whole small table, so exact)."""
    monkeypatch.setattr(users, "EXACT_UP_TO", 5)
    acme = f.tenant(conn, name="Acme").id
    for n in range(20):
        f.user(conn, acme, email=f"m{n:02d}@acme.test", last_seen_at=NOW - n * HOUR)
    for n in range(2):
        f.user(conn, acme, email=f"o{n}@acme.test", role="Owner", last_seen_at=NOW - 40 * DAY)
    return conn


def test_a_large_role_filter_is_estimated_in_the_console_and_exact_at_the_end(many_members: Connection) -> None:
    first = list_users(
        many_members, roles=[UserRole.Member], now=NOW, page=PageRequest(1, 10), estimate_large_total=True
    )
    assert (first.total, first.total_is_estimate, emails(first)[0]) == (20, True, "m00@acme.test")
    last = list_users(
        many_members, roles=[UserRole.Member], now=NOW, page=PageRequest(2, 15), estimate_large_total=True
    )
    assert (last.total, last.total_is_estimate, len(last.items)) == (20, False, 5)
    past = list_users(
        many_members, roles=[UserRole.Member], now=NOW, page=PageRequest(9, 10), estimate_large_total=True
    )
    assert (past.items, past.total, past.total_is_estimate) == ([], 20, False)
    few = list_users(many_members, roles=[UserRole.Owner], now=NOW, estimate_large_total=True)
    assert (few.total, few.total_is_estimate) == (2, False)
    exact = list_users(many_members, roles=[UserRole.Member], now=NOW, page=PageRequest(1, 10))
    assert (exact.total, exact.total_is_estimate) == (20, False)


def test_a_large_filtered_search_is_estimated_too(many_members: Connection) -> None:
    page = list_users(
        many_members,
        search="acme",
        roles=[UserRole.Member],
        activity=UserActivity.active_24h,
        now=NOW,
        page=PageRequest(1, 10),
        estimate_large_total=True,
    )
    # Every member was seen within 24 hours; the owners were not.
    assert (page.total, page.total_is_estimate) == (20, True)


def test_the_account_users_tab_filters_by_role(conn: Connection) -> None:
    tab = f.tenant(conn, name="Tab")
    for n, role in enumerate(("Owner", "Admin", "Member", "Member")):
        f.user(conn, tab.id, email=f"{role.lower()}{n}@tab.test", role=role)
    f.user(conn, f.tenant(conn, name="Elsewhere").id, email="member@elsewhere.test")
    members = tenant_users(conn, tab.id, roles=[UserRole.Member])
    assert (members.total, {u.email for u in members.items}) == (2, {"member2@tab.test", "member3@tab.test"})
    staff = tenant_users(conn, tab.id, roles=[UserRole.Owner, UserRole.Admin], search="tab.test")
    assert {u.role for u in staff.items} == {UserRole.Owner, UserRole.Admin} and staff.total == 2
    assert tenant_users(conn, tab.id, roles=[UserRole.Owner], search="admin").total == 0
