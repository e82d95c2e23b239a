"""Whatever text reaches a search or an id argument, the command line answers
with the contract: exit 0, 1 or 2; on failure one `error:` line or typer's
usage block; never a traceback, a driver's name or a Python exception."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_run import run_cli

# Stripe configured but unreachable, so `sync` and `stripe replay-archive`
# answer for the tenant (exit 1 or 2) rather than for the configuration (4).
STRIPE = {"STRIPE_API_KEY": "sk_test_unused", "STRIPE_API_BASE": "http://127.0.0.1:9"}

ARGUMENTS = [
    ["accounts", "list", "--search"],
    ["users", "list", "--search"],
    ["billing-events", "--search"],
    ["invoices", "--search"],
    ["accounts", "show", "--"],
    ["users", "show", "--"],
    ["sync", "--"],
    ["drift", "ack", "--"],
    ["stripe", "replay-archive", "--"],
]

DRIVERS = re.compile(r"Traceback|psycopg|sqlalchemy|DataError", re.IGNORECASE)
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception|Warning)\b")  # a Python exception's class name

# Surrogates cannot be in argv; everything else can (NUL only in-process).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
numbers = st.integers(min_value=-(10**30), max_value=10**30).map(str)
digits = st.text(st.sampled_from("0123456789²³¹٣٠١２９߀০"), min_size=1, max_size=30)
tricky = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\n",
        "\x1b[2J",
        "1.0",
        "+1",
        " 1",
        "1e1",
        "0x10",
        "1_0",
        "-0",
        "٣",
        "²",
        "9223372036854775807",
        "9223372036854775808",
        "9" * 5000,
        "x" * 20000,
        "%",
        "_",
        "\\",
        "'",
        '"',
        ";--",
    ]
)
values = st.one_of(any_text, numbers, digits, tricky)


def escaped(value: str) -> str:
    """How an error line echoes what was typed: control characters escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "argument", ARGUMENTS, ids=lambda argument: " ".join(part for part in argument if part != "--")
)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(value=values)
def test_any_text_gets_an_answer_of_the_contract(database_url: str, argument: list[str], value: str) -> None:
    run = run_cli("--database-url", database_url, *argument, value, env=STRIPE)
    assert run.code in (0, 1, 2), run
    # What the operator typed may be echoed back, escaped: it is no leak.
    shown = (run.out + run.err).replace(escaped(value), "").replace(value, "")
    assert not DRIVERS.search(shown) and not EXCEPTION_NAME.search(shown), run
    if run.code == 0:
        return
    if run.code == 1:
        assert run.out == "" and len(run.err.splitlines()) == 1 and run.err.startswith("error: "), run
    else:
        assert run.err.startswith("Usage: ") and "\nError: " in run.err, run
