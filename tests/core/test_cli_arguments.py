"""What the command line makes of what an operator types: a search is any
text, an id is a positive 64-bit whole number (a usage error otherwise, "not
found" when plausible but absent), numbers are plain digits, and text that
reaches SQL holds no NUL. Run in-process through console.cli.main."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from tests import factories as f
from tests.cli_run import Run, one_error_line, run_cli
from tests.conftest import _libpq
from tests.databases import cloned_database

# Stripe configured but unreachable: commands that need it get past the
# configuration check, and none gets as far as calling it.
STRIPE = {"STRIPE_API_KEY": "sk_test_unused", "STRIPE_API_BASE": "http://127.0.0.1:9"}
SEARCHES = [["accounts", "list"], ["users", "list"], ["billing-events"], ["invoices"]]
TENANT_ID_COMMANDS = [["accounts", "show"], ["sync"], ["drift", "ack"], ["stripe", "replay-archive"]]


@pytest.fixture(scope="module")
def url(pg_server_url: str, template_url: str) -> Iterator[str]:
    """One account with one user, for the module (the commands here only read)."""
    with cloned_database(pg_server_url, template_url) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            acme = f.tenant(conn, name="Acme ²", plan="Standard")
            f.user(conn, acme.id, email="owner@acme.com", role="Owner")
        engine.dispose()
        yield url


def cli(url: str, *args: str, env: dict[str, str] | None = None) -> Run:
    return run_cli("--database-url", url, *args, env=env)


def usage_error(run: Run, message: str) -> None:
    assert run.code == 2, run
    assert run.err.startswith("Usage: ") and message in run.err and run.out == "", run


@pytest.mark.parametrize(
    "term", ["²", "٣", "１２", "-1", "0", "99999999999999999999999", "9" * 5000, "a\x01b", "%_\\", "'; --"]
)
@pytest.mark.parametrize("command", SEARCHES)
def test_a_search_is_any_text(url: str, command: list[str], term: str) -> None:
    run = cli(url, *command, "--search", term, "--json")
    assert run.code == 0, run
    assert set(json.loads(run.out)) >= {"items", "total"}


def test_a_search_for_unicode_digits_finds_the_name_not_an_id(url: str) -> None:
    run = cli(url, "accounts", "list", "--search", "²", "--json")
    assert [row["name"] for row in json.loads(run.out)["items"]] == ["Acme ²"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("²", "TENANT_ID must be a whole number"),
        ("٣", "TENANT_ID must be a whole number"),
        ("1.0", "TENANT_ID must be a whole number"),
        ("+1", "TENANT_ID must be a whole number"),
        (" 1", "TENANT_ID must be a whole number"),
        ("0x10", "TENANT_ID must be a whole number"),
        ("acme", "TENANT_ID must be a whole number"),
        ("-1", "TENANT_ID must be a whole number"),
        ("", "TENANT_ID must be a whole number"),
        ("0", "TENANT_ID must be between 1 and 9223372036854775807"),
        ("9223372036854775808", "TENANT_ID must be between 1 and 9223372036854775807"),
        ("99999999999999999999999", "TENANT_ID must be between 1 and 9223372036854775807"),
        ("9" * 5000, "TENANT_ID must be between 1 and 9223372036854775807"),
    ],
)
@pytest.mark.parametrize("command", TENANT_ID_COMMANDS)
def test_a_tenant_id_that_is_no_positive_64_bit_number_is_a_usage_error(
    url: str, command: list[str], value: str, message: str
) -> None:
    usage_error(cli(url, *command, "--", value, env=STRIPE), message)


@pytest.mark.parametrize("command", TENANT_ID_COMMANDS)
def test_a_plausible_tenant_id_that_is_absent_is_not_found(url: str, command: list[str]) -> None:
    assert (
        one_error_line(cli(url, *command, "9223372036854775807", env=STRIPE))
        == "error: tenant 9223372036854775807 not found"
    )


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("usr_nobody", "error: user usr_nobody not found"),
        ("²", "error: user ² not found"),
        ("a\nb\x1b[2J", "error: user a\\nb\\x1b[2J not found"),  # one line, no terminal codes
    ],
)
def test_an_absent_user_is_one_line(url: str, value: str, line: str) -> None:
    run = cli(url, "users", "show", value)
    assert run.code == 1 and one_error_line(run) == line


def test_an_empty_user_id_is_a_usage_error(url: str) -> None:
    usage_error(cli(url, "users", "show", " "), "must not be empty")


@pytest.mark.parametrize(
    "args",
    [
        *([*command, "--search", "a\x00b"] for command in SEARCHES),
        ["users", "show", "usr_\x00"],
        ["--operator", "al\x00ice", "banners"],
    ],
)
def test_text_with_a_nul_is_a_usage_error(url: str, args: list[str]) -> None:
    # The flag before the command belongs to the root: put the URL first.
    usage_error(cli(url, *args), "must not contain a NUL character")


@pytest.mark.parametrize("value", ["7.0", "07", " 7", "+7", "7 ", "٧", "1e1", "14"])
@pytest.mark.parametrize("command", [["report", "kpis"], ["report", "trends"], ["billing-events"]])
def test_a_period_is_exactly_7_30_or_90(url: str, command: list[str], value: str) -> None:
    usage_error(cli(url, *command, "--period", value), "period must be 7, 30 or 90")


@pytest.mark.parametrize("value", ["1.0", "+1", " 1", "1 ", "1e1", "0x10", "1_0", "١", "-1", ""])
@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["accounts", "list", "--page"], "page"),
        (["users", "list", "--page-size"], "page size"),
        (["invoices", "--page"], "page"),
        (["report", "recent-signups", "--limit"], "limit"),
        (["demo", "seed", "--tenants"], "tenants"),
        (["stripe", "webhook", "--port"], "port"),
    ],
)
def test_numbers_are_plain_digits(url: str, args: list[str], name: str, value: str) -> None:
    usage_error(cli(url, *args, value), f"{name} must be a whole number")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accounts", "list", "--page", "0"], "page must be between 1 and"),
        (["accounts", "list", "--page", "99999999999999999999"], "page must be between 1 and 92233720368547758"),
        (["accounts", "list", "--page-size", "101"], "page size must be between 1 and 100"),
        (["report", "recent-payments", "--limit", "51"], "limit must be between 1 and 50"),
        (["demo", "seed", "--history-days", "89"], "history days must be between 90 and 3650"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(url: str, args: list[str], message: str) -> None:
    usage_error(cli(url, *args), message)


@pytest.mark.parametrize("command", SEARCHES)
def test_the_last_page_whose_offset_fits_is_empty(url: str, command: list[str]) -> None:
    run = cli(url, *command, "--page", "92233720368547758", "--page-size", "100", "--json")
    assert run.code == 0, run
    assert json.loads(run.out)["items"] == []


def test_plain_digits_still_work(url: str) -> None:
    assert cli(url, "report", "kpis", "--period", "7", "--json").code == 0
    assert json.loads(cli(url, "accounts", "list", "--page", "01", "--page-size", "5", "--json").out)["page_size"] == 5


def test_the_webhook_listens_on_a_named_host_only(url: str) -> None:
    # An empty host would listen on every interface.
    usage_error(cli(url, "stripe", "webhook", "--host", "", "--port", "0"), "must not be empty")


def test_arguments_are_checked_before_anything_is_read() -> None:
    """A usage error needs no database: the URL is never opened."""
    run = run_cli("--database-url", "postgresql://nobody@/none?host=/nonexistent", "accounts", "show", "²")
    usage_error(run, "TENANT_ID must be a whole number")
