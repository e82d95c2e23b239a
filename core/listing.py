"""Small pieces every read-model list shares: search patterns, ids, UTC times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import overload

from core.errors import NotFound

BIGINT_MAX = 2**63 - 1


def normalized_search(search: str | None) -> str:
    """Trimmed and lower-cased, as every search compares it (docs/rules.md R93)."""
    return (search or "").strip().lower()


def contains_pattern(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, with LIKE's wildcards escaped
    (PostgreSQL's default escape character is the backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# pg_trgm finds nothing shorter than three characters: a two-character term is
# looked up in the search_bigrams() indexes of migration 0007 instead.
BIGRAM_LENGTH = 2
BIGRAM_SEPARATOR = "\x1f"  # search_bigrams() drops it from the text it splits


def search_params(term: str) -> dict[str, str]:
    """The bind parameters `contains_match` reads, for a normalized term."""
    params = {"pattern": contains_pattern(term)}
    if len(term) == BIGRAM_LENGTH and BIGRAM_SEPARATOR not in term:
        params["bigram"] = term
    return params


def contains_check(params: dict[str, str], fields: Sequence[str]) -> str:
    """SQL true where one of `fields` contains the term, with no index in
    mind: strpos for a two-character term (see contains_match), else LIKE."""
    if "bigram" in params:
        return "(" + " OR ".join(f"strpos({field}, :bigram) > 0" for field in fields) + ")"
    return "(" + " OR ".join(f"{field} LIKE :pattern" for field in fields) + ")"


def contains_match(params: dict[str, str], fields: Sequence[str], indexed_text: str) -> str:
    """SQL keeping the rows where one of `fields` contains the term. A
    two-character term is found through the bigram index of `indexed_text`
    and checked with strpos, not LIKE, which would also draw in the trigram
    index (a read of all its entries for so short a pattern)."""
    if "bigram" not in params:
        return contains_check(params, fields)
    # The check first: under NOT, the bigrams are only computed for rows that match.
    return f"({contains_check(params, fields)} AND search_bigrams({indexed_text}) @> ARRAY[CAST(:bigram AS text)])"


def tenant_name_match(params: dict[str, str], alias: str = "t") -> str:
    """The account-name search of every list."""
    name = f"lower({alias}.name)"
    return contains_match(params, [name], name)


def search_tenant_id(term: str) -> int | None:
    """The tenant id a search term names exactly, if it is one: plain ASCII
    digits (isdigit() alone takes "²", which int() refuses) within bigint."""
    if not (term.isascii() and term.isdigit()) or len(term.lstrip("0")) > len(str(BIGINT_MAX)):
        return None
    value = int(term)
    return value if value <= BIGINT_MAX else None


def parse_tenant_id(tenant_id: int | str) -> int:
    """A tenant id from the command line or a row; anything else is not found."""
    value = search_tenant_id(str(tenant_id).strip())
    if value is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return value


@overload
def as_utc(value: datetime) -> datetime: ...


@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """Timestamps leave the read model in UTC whatever the session time zone is."""
    return value.astimezone(UTC) if value is not None else None


def percent(part: int, whole: int) -> int | None:
    """Whole percent, banker's rounding (docs/rules.md R85); None when whole is 0."""
    if not whole:
        return None
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def display_name(first_name: str | None, last_name: str | None, email: str) -> str:
    """ "First Last" when both are known, else whichever is, else the e-mail."""
    name = " ".join(part for part in (first_name, last_name) if part)
    return name or email
