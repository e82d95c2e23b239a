"""Who a demo tenant is: company name, web domain, country, owner and the
billing details it gives Stripe."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any

from demo import words
from demo.words import Country

_TRANSLITERATION = str.maketrans(
    {
        "æ": "ae",
        "ø": "oe",
        "å": "aa",
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "é": "e",
        "è": "e",
        "ç": "c",
        "í": "i",
        "á": "a",
        "ó": "o",
        "ñ": "n",
        "&": "-",
    }
)
_NOT_SLUG = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
_COUNTRY_WEIGHTS = list(accumulate(country.weight for country in words.COUNTRIES))


@dataclass(slots=True)
class Person:
    first_name: str
    last_name: str
    email: str


@dataclass(slots=True)
class TenantProfile:
    """What the users phase needs to know about a tenant generated earlier."""

    index: int
    seed: int
    id: int
    created_at: datetime
    name: str
    domain: str
    country: Country
    owner: Person
    deleted_at: datetime | None = None


def slug(text: str) -> str:
    lowered = text.lower().translate(_TRANSLITERATION)
    return _HYPHENS.sub("-", _NOT_SLUG.sub("", lowered.replace(" ", "-"))).strip("-")


def email_local_part(first_name: str, last_name: str, style: int) -> str:
    first = slug(first_name).replace("-", "")
    last = slug(last_name).replace("-", "")
    return (f"{first}.{last}", f"{first}", f"{first[0]}{last}", f"{first}{last[0]}")[style]


def choose_country(rng: random.Random) -> Country:
    return rng.choices(words.COUNTRIES, cum_weights=_COUNTRY_WEIGHTS)[0]


def person_name(rng: random.Random, country: Country) -> tuple[str, str]:
    if rng.random() < 0.12:
        return rng.choice(words.INTERNATIONAL_FIRST), rng.choice(words.INTERNATIONAL_LAST)
    return rng.choice(country.first_names), rng.choice(country.last_names)


def company_name(rng: random.Random, country: Country) -> tuple[str, str]:
    """(legal name, the part a domain is made of)."""
    danish = country.code == "DK"
    name_words = words.DANISH_NAME_WORDS if danish and rng.random() < 0.6 else words.INTERNATIONAL_NAME_WORDS
    trades = words.DANISH_TRADES if danish and rng.random() < 0.65 else words.INTERNATIONAL_TRADES
    style = rng.random()
    if style < 0.55:
        base = f"{rng.choice(name_words)} {rng.choice(trades)}"
    elif style < 0.75:
        base = f"{rng.choice(country.last_names)} {rng.choice(trades)}"
    elif style < 0.85:
        partner = "Sønner" if danish and rng.random() < 0.4 else rng.choice(country.last_names)
        base = f"{rng.choice(country.last_names)} & {partner}"
    else:
        base = rng.choice(name_words)
    return f"{base} {rng.choice(country.company_forms)}", base


class DomainRegistry:
    """Hands out unique company domains, so emails never collide across tenants."""

    def __init__(self, taken: dict[str, int] | None = None) -> None:
        self._taken: dict[str, int] = dict(taken or {})

    def claim(self, base: str, tld: str) -> str:
        stem = slug(base) or "company"
        candidate = f"{stem}.{tld}"
        seen = self._taken.get(candidate, 0)
        self._taken[candidate] = seen + 1
        return candidate if seen == 0 else f"{stem}{seen + 1}.{tld}"

    def snapshot(self) -> DomainRegistry:
        """A registry that goes on from here: what a process generating the
        tenants after this point needs to claim the same domains."""
        return DomainRegistry(self._taken)


def tax_id(rng: random.Random, country: Country) -> str | None:
    if not country.tax_id_format:
        return None
    return "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in country.tax_id_format)


def billing_address(rng: random.Random, country: Country) -> dict[str, str | None]:
    postal_code, city = rng.choice(country.cities)
    line2 = None
    if rng.random() < 0.25:
        line2 = (
            rng.choice(("1. sal", "2. th.", "st. tv.", "3. sal"))
            if country.code == "DK"
            else rng.choice(("Suite 200", "Floor 3", "Unit 4B"))
        )
    return {
        "Line1": f"{rng.choice(country.streets)} {rng.randrange(1, 180)}",
        "Line2": line2,
        "PostalCode": postal_code,
        "City": city,
        "State": words.US_STATES.get(city) if country.code == "US" else None,
        "Country": country.code,
    }


def billing_info(rng: random.Random, name: str, domain: str, owner: Person, country: Country) -> dict[str, Any]:
    """A customer's billing_info object in the stored shape (docs/rules.md R66)."""
    email_choice = rng.random()
    if email_choice < 0.45:
        email = owner.email
    elif email_choice < 0.75:
        email = f"{'faktura' if country.code == 'DK' else 'billing'}@{domain}"
    else:
        email = f"{'regnskab' if country.code == 'DK' else 'accounts'}@{domain}"
    return {
        "Name": name,
        "Address": billing_address(rng, country),
        "Email": email,
        "TaxId": tax_id(rng, country) if rng.random() < 0.85 else None,
    }
